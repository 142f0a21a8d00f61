import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ApiKey,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createFetchRequestForgottenTopic,
  decodeRecordBatches,
  type FetchResponse,
} from "@tskafka/protocol";
import { startBroker, type BrokerProcess } from "./harness.js";
import { RawClient } from "./clients/raw-client.js";

/** Incremental fetch sessions (KIP-227), asserted on raw Fetch exchanges. */

const TOPIC = "sessions";

interface Part {
  partition: number;
  fetchOffset: bigint;
}

function fetchRequest(
  sessionId: number,
  sessionEpoch: number,
  parts: Part[],
  forget: number[] = [],
  opts: { topicId?: string; maxWaitMs?: number; minBytes?: number } = {},
) {
  return createFetchRequest({
    replicaId: -1,
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 0,
    maxBytes: 1 << 20,
    sessionId,
    sessionEpoch,
    topics:
      parts.length === 0
        ? []
        : [
            createFetchRequestFetchTopic({
              ...(opts.topicId !== undefined ? { topicId: opts.topicId } : { topic: TOPIC }),
              partitions: parts.map((p) =>
                createFetchRequestFetchPartition({
                  partition: p.partition,
                  fetchOffset: p.fetchOffset,
                  partitionMaxBytes: 1 << 20,
                }),
              ),
            }),
          ],
    forgottenTopicsData:
      forget.length === 0
        ? []
        : [
            createFetchRequestForgottenTopic({
              ...(opts.topicId !== undefined ? { topicId: opts.topicId } : { topic: TOPIC }),
              partitions: forget,
            }),
          ],
  });
}

/** partition -> [high watermark, values of the records returned]. */
function summary(res: FetchResponse): Map<number, [bigint, string[]]> {
  const out = new Map<number, [bigint, string[]]>();
  for (const t of res.responses) {
    for (const p of t.partitions) {
      assert.equal(p.errorCode, 0);
      const values = decodeRecordBatches(p.records ?? Buffer.alloc(0)).flatMap((b) =>
        b.records.map((r) => r.value!.toString()),
      );
      out.set(p.partitionIndex, [p.highWatermark, values]);
    }
  }
  return out;
}

describe("fetch sessions (KIP-227)", { timeout: 30_000 }, () => {
  let broker: BrokerProcess;
  let client: RawClient;
  before(async () => {
    broker = await startBroker({ properties: { "num.partitions": 3 } });
    client = await RawClient.connect(broker.port);
    await client.metadata([TOPIC]);
  });
  after(async () => {
    client?.close();
    await broker?.stop();
    await broker?.cleanup();
  });

  const fetch = (version: number, req: ReturnType<typeof fetchRequest>) => client.request(ApiKey.Fetch, version, req);

  test("create, incremental updates, forget, errors and close (Fetch v11, by name)", { timeout: 15_000 }, async () => {
    await client.produce(TOPIC, 0, [{ value: "p0-a" }]);
    const all = [0, 1, 2].map((partition) => ({ partition, fetchOffset: 0n }));
    const created = await fetch(11, fetchRequest(0, 0, all));
    assert.equal(created.errorCode, 0);
    assert.notEqual(created.sessionId, 0, "a session was created");
    const id = created.sessionId;
    assert.deepEqual(
      summary(created),
      new Map([
        [0, [1n, ["p0-a"]]],
        [1, [0n, []]],
        [2, [0n, []]],
      ]),
    );

    // Epoch 1, nothing named: partition 0 still has data at the cached offset 0; the others have no news.
    let res = await fetch(11, fetchRequest(id, 1, []));
    assert.equal(res.sessionId, id);
    assert.deepEqual(summary(res), new Map([[0, [1n, ["p0-a"]]]]));

    // Move partition 0 past its data: nothing has news now.
    res = await fetch(11, fetchRequest(id, 2, [{ partition: 0, fetchOffset: 1n }]));
    assert.deepEqual(summary(res), new Map());

    // New data on partition 1 only.
    await client.produce(TOPIC, 1, [{ value: "p1-a" }, { value: "p1-b" }]);
    res = await fetch(11, fetchRequest(id, 3, []));
    assert.deepEqual(summary(res), new Map([[1, [2n, ["p1-a", "p1-b"]]]]));
    res = await fetch(11, fetchRequest(id, 4, [{ partition: 1, fetchOffset: 2n }]));
    assert.deepEqual(summary(res), new Map());

    // Forget partition 2: its data is no longer answered.
    res = await fetch(11, fetchRequest(id, 5, [], [2]));
    assert.deepEqual(summary(res), new Map());
    await client.produce(TOPIC, 2, [{ value: "p2-a" }]);
    res = await fetch(11, fetchRequest(id, 6, []));
    assert.deepEqual(summary(res), new Map());
    // ...until it is added again.
    res = await fetch(11, fetchRequest(id, 7, [{ partition: 2, fetchOffset: 0n }]));
    assert.deepEqual(summary(res), new Map([[2, [1n, ["p2-a"]]]]));

    // A long poll in a session is woken by an append to one of its partitions.
    res = await fetch(11, fetchRequest(id, 8, [{ partition: 2, fetchOffset: 1n }]));
    const started = Date.now();
    const polled = fetch(11, fetchRequest(id, 9, [], [], { maxWaitMs: 5000, minBytes: 1 }));
    // Requests on one connection are served in order, so the append comes on another one.
    await new Promise((r) => setTimeout(r, 150));
    const other = await RawClient.connect(broker.port);
    await other.produce(TOPIC, 0, [{ value: "p0-b" }]);
    other.close();
    res = await polled;
    assert.ok(Date.now() - started < 4000, "woken by the append");
    assert.deepEqual(summary(res).get(0)?.[1], ["p0-b"]);

    // Wrong epoch, unknown session.
    res = await fetch(11, fetchRequest(id, 42, []));
    assert.equal(res.errorCode, 71, "INVALID_FETCH_SESSION_EPOCH");
    assert.deepEqual(res.responses, []);
    res = await fetch(11, fetchRequest(id ^ 0x55555, 1, []));
    assert.equal(res.errorCode, 70, "FETCH_SESSION_ID_NOT_FOUND");

    // Epoch -1 closes the session and is answered as a sessionless full fetch.
    res = await fetch(11, fetchRequest(id, -1, [{ partition: 1, fetchOffset: 0n }]));
    assert.equal(res.errorCode, 0);
    assert.equal(res.sessionId, 0);
    assert.deepEqual(summary(res), new Map([[1, [2n, ["p1-a", "p1-b"]]]]));
    res = await fetch(11, fetchRequest(id, 10, []));
    assert.equal(res.errorCode, 70, "closed");
  });

  test("sessions by topic id (Fetch v16)", { timeout: 10_000 }, async () => {
    const md = await client.metadata([TOPIC]);
    const topicId = md.topics[0]!.topicId;
    const created = await fetch(
      16,
      fetchRequest(
        0,
        0,
        [
          { partition: 1, fetchOffset: 0n },
          { partition: 2, fetchOffset: 1n },
        ],
        [],
        { topicId },
      ),
    );
    assert.notEqual(created.sessionId, 0);
    assert.equal(created.responses[0]!.topicId, topicId);
    assert.deepEqual(
      summary(created),
      new Map([
        [1, [2n, ["p1-a", "p1-b"]]],
        [2, [1n, []]],
      ]),
    );
    let res = await fetch(
      16,
      fetchRequest(created.sessionId, 1, [{ partition: 1, fetchOffset: 2n }], [2], { topicId }),
    );
    assert.deepEqual(summary(res), new Map());
    await client.produce(TOPIC, 2, [{ value: "p2-b" }]);
    await client.produce(TOPIC, 1, [{ value: "p1-c" }]);
    res = await fetch(16, fetchRequest(created.sessionId, 2, [], [], { topicId }));
    assert.deepEqual(summary(res), new Map([[1, [3n, ["p1-c"]]]]), "partition 2 was forgotten");
  });

  test(
    "a fetch does not wait out MaxWaitMs while its client holds records of partitions it left out",
    { timeout: 15_000 },
    async () => {
      // As Java's consumer does: one fetch per broker at a time, leaving out the partitions whose
      // records it is still reading. Waiting 5 s there would hold back those partitions.
      await client.produce(TOPIC, 0, [{ value: "held-1" }, { value: "held-2" }]);
      const hw = await Promise.all([0, 1, 2].map((p) => client.highWatermark(TOPIC, p)));
      const created = await fetch(
        11,
        fetchRequest(0, 0, [
          { partition: 0, fetchOffset: hw[0]! - 2n },
          { partition: 1, fetchOffset: hw[1]! },
          { partition: 2, fetchOffset: hw[2]! },
        ]),
      );
      assert.deepEqual(summary(created).get(0)?.[1], ["held-1", "held-2"]);
      const id = created.sessionId;
      const timed = async (epoch: number, parts: Part[], forget: number[], maxWaitMs: number) => {
        const started = Date.now();
        const res = await fetch(11, fetchRequest(id, epoch, parts, forget, { maxWaitMs, minBytes: 1 }));
        assert.equal(res.errorCode, 0);
        // A partition added again is answered (its offsets, no records), as Kafka does.
        for (const [, values] of summary(res).values()) assert.deepEqual(values, []);
        return Date.now() - started;
      };
      // Partition 0 left out with records in hand: answered without waiting 5 s, three times.
      for (let epoch = 1; epoch <= 3; epoch++) {
        const held = await timed(epoch, [], epoch === 1 ? [0] : [], 5000);
        assert.ok(held < 2500, `epoch ${epoch} answered after ${held} ms`);
      }
      // A client that keeps fetching while it holds those records (paused) then waits again (1 s here).
      const spent = await timed(4, [], [], 1000);
      assert.ok(spent >= 900, `answered after ${spent} ms`);
      // Back, read to its end: nothing is held, so the fetch waits.
      const drained = await timed(5, [{ partition: 0, fetchOffset: hw[0]! }], [], 1000);
      assert.ok(drained >= 900, `answered after ${drained} ms`);
      // Leaving out a partition the client had no records of holds nothing either.
      const idle = await timed(6, [], [1], 1000);
      assert.ok(idle >= 900, `answered after ${idle} ms`);
    },
  );

  test("the cache is bounded: the least recently used session is evicted", { timeout: 10_000 }, async () => {
    const first = await fetch(11, fetchRequest(0, 0, [{ partition: 0, fetchOffset: 0n }]));
    const keep = await fetch(11, fetchRequest(0, 0, [{ partition: 0, fetchOffset: 0n }]));
    for (let i = 0; i < 1000; i++) {
      // Keep one session in use while many newer ones arrive.
      if (i === 500) assert.equal((await fetch(11, fetchRequest(keep.sessionId, 1, []))).errorCode, 0);
      await fetch(11, fetchRequest(0, 0, [{ partition: 0, fetchOffset: 0n }]));
    }
    assert.equal((await fetch(11, fetchRequest(first.sessionId, 1, []))).errorCode, 70, "evicted");
    assert.equal((await fetch(11, fetchRequest(keep.sessionId, 2, []))).errorCode, 0, "recently used, kept");
  });
});
