// What the bench asks of a broker besides the real clients: whether it answers, auto-created topics up
// front, and the first accepted produce at start-up. All go through the tests' raw client (on our protocol
// codecs, imported as source: tsx runs the bench), so the same code talks to both brokers.
import { ApiKey, createCreatePartitionsRequest } from "@tskafka/protocol";
import { RawClient } from "../../broker/test/clients/raw-client.js";

const CLIENT_ID = "tskafka-bench";

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** One ApiVersions exchange with the broker on `port` (throws when it cannot connect or answer). */
export async function askApiVersions(port: number): Promise<void> {
  const client = await RawClient.connect(port, {
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 5_000,
    clientId: CLIENT_ID,
  });
  try {
    await client.servedApis();
  } finally {
    client.close();
  }
}

/**
 * Auto-creates `topics` (the broker's num.partitions decides their size) and waits until every
 * partition of each has a leader, so that no measured run pays for topic creation.
 */
export async function ensureTopics(
  port: number,
  topics: readonly string[],
  partitions: number,
  timeoutMs = 60_000,
): Promise<void> {
  const client = await RawClient.connect(port, {
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 5_000,
    clientId: CLIENT_ID,
  });
  const deadline = Date.now() + timeoutMs;
  let last = "";
  try {
    while (Date.now() < deadline) {
      const res = await client.metadata(topics);
      const ready = res.topics.filter(
        (t) =>
          t.errorCode === 0 &&
          t.partitions.length === partitions &&
          t.partitions.every((p) => p.errorCode === 0 && p.leaderId >= 0),
      );
      if (ready.length === topics.length) return;
      last = res.topics.map((t) => `${t.name}:${t.errorCode}/${t.partitions.length}`).join(" ");
      await delay(100);
    }
  } finally {
    client.close();
  }
  throw new Error(`topics not ready with ${partitions} partitions after ${timeoutMs} ms: ${last}`);
}

/** Grows `topic` to `count` partitions (CreatePartitions v3) and waits for their leaders. */
export async function growTopic(port: number, topic: string, count: number): Promise<void> {
  const client = await RawClient.connect(port, {
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 30_000,
    clientId: CLIENT_ID,
  });
  try {
    const res = await client.request(
      ApiKey.CreatePartitions,
      3,
      createCreatePartitionsRequest({
        topics: [{ name: topic, count, assignments: null }],
        timeoutMs: 30_000,
        validateOnly: false,
      }),
    );
    const r = res.results[0]!;
    if (r.errorCode !== 0)
      throw new Error(`CreatePartitions ${topic} to ${count}: error ${r.errorCode} ${r.errorMessage ?? ""}`);
  } finally {
    client.close();
  }
  await ensureTopics(port, [topic], count);
}

/**
 * From now until a produce to `topic` is accepted: connect (retrying refused connections every
 * 5 ms), ask for the topic with auto-creation, produce one record with acks=1; repeat until acked.
 * Returns the ms elapsed since `sinceMs` (a Date.now() taken just before the broker was spawned).
 */
export async function firstProduceMs(
  port: number,
  topic: string,
  sinceMs: number,
  timeoutMs = 120_000,
): Promise<number> {
  const deadline = sinceMs + timeoutMs;
  let client: RawClient | undefined;
  let last = "no attempt";
  while (Date.now() < deadline) {
    try {
      client ??= await RawClient.connect(port, {
        connectTimeoutMs: 1_000,
        requestTimeoutMs: 2_000,
        clientId: CLIENT_ID,
      });
      await client.metadata([topic]);
      const { errorCode } = await client.produce(topic, 0, [{ value: "start-up probe" }], 1);
      if (errorCode === 0) {
        const elapsed = Date.now() - sinceMs;
        client.close();
        return elapsed;
      }
      last = `produce error ${errorCode}`;
      await delay(5);
    } catch (err) {
      last = (err as Error).message;
      client?.close();
      client = undefined;
      await delay(5);
    }
  }
  client?.close();
  throw new Error(`no produce accepted within ${timeoutMs} ms (${last})`);
}

/**
 * Produces one record to each partition of `topics` until every one is accepted: Kafka may name a leader
 * in Metadata a moment before that leader takes produces (NOT_LEADER_OR_FOLLOWER), and a measured run
 * should not pay for that either.
 */
export async function primePartitions(
  port: number,
  topics: readonly string[],
  partitions: number,
  timeoutMs = 120_000,
): Promise<void> {
  const client = await RawClient.connect(port, {
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 10_000,
    clientId: CLIENT_ID,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (const topic of topics) {
      for (let p = 0; p < partitions; p++) {
        for (;;) {
          const { errorCode } = await client.produce(topic, p, [{ value: "prime" }], 1);
          if (errorCode === 0) break;
          if (Date.now() > deadline) throw new Error(`${topic}-${p} still answers error ${errorCode}`);
          await delay(50);
        }
      }
    }
  } finally {
    client.close();
  }
}
