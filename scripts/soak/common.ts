/** What the soak's workers share: the seeded choices, the violation list, the stop flag and client set-up. */
import { Kafka, logLevel } from "kafkajs";

/** mulberry32: a small seeded generator, enough to replay a run's choices. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

let generator: () => number = Math.random;
export function seedRandom(seed: number): void {
  generator = rng(seed);
}
export const random = (): number => generator();
export const between = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const say = (line: string): void => console.log(`soak: ${line}`);

export const violations: string[] = [];
export const violation = (what: string): void => {
  if (violations.length < 200) violations.push(what);
};

/** Set when the run is over: every worker's loop ends and disconnects. */
export const run = { stopping: false, port: 0 };

export function kafka(clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [`127.0.0.1:${run.port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 15000,
    retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

export interface Read {
  offset: number;
  key: string;
  value: string;
}

/** Every record of `topic` from offset 0, by partition (a fresh group, so nothing committed before). */
export async function readAll(topic: string, partitions: number, readCommitted: boolean): Promise<Read[][]> {
  const k = kafka("soak-check");
  const admin = k.admin();
  await admin.connect();
  const high = new Map<number, number>();
  for (const p of await admin.fetchTopicOffsets(topic)) high.set(p.partition, Number(p.high));
  await admin.disconnect();
  const got: Read[][] = Array.from({ length: partitions }, () => []);
  const consumer = k.consumer({
    groupId: `soak-check-${topic}-${readCommitted ? "rc" : "ru"}`,
    readUncommitted: !readCommitted,
    maxWaitTimeInMs: 300,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let last = Date.now();
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      got[partition]!.push({
        offset: Number(message.offset),
        key: message.key?.toString() ?? "",
        value: message.value?.toString() ?? "",
      });
      last = Date.now();
    },
  });
  // Done when every partition reached its high watermark (read_uncommitted, no control records), else
  // after 5 s without a record (markers end a read_committed partition below its high watermark;
  // compaction leaves the last offsets' records out).
  const done = (): boolean =>
    got.every((rs, p) => (rs.at(-1)?.offset ?? -1) + 1 >= (high.get(p) ?? 0)) || Date.now() - last > 5000;
  const deadline = Date.now() + 90_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`reading ${topic} back did not finish in 90 s`);
    await sleep(100);
  }
  await consumer.disconnect();
  return got;
}
