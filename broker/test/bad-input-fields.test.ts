import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rename } from "node:fs/promises";
import {
  ApiKey,
  buildRecordBatch,
  createDeleteRecordsRequest,
  createDescribeLogDirsRequest,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createListOffsetsRequest,
  createProduceRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { startBroker, type BrokerProcess } from "./harness.js";
import { RawClient } from "./clients/raw-client.js";

/**
 * Well-formed requests with values no client should send: negative and huge byte limits, counts,
 * offsets, timestamps and timeouts. Each is answered as Apache Kafka 4.4 answers it (the expected codes
 * were taken from a real 4.4 broker), on the same connection, which goes on working; and a request whose
 * handler fails inside gets UNKNOWN_SERVER_ERROR instead of a closed connection.
 */

const TOPIC = "fields";
const UNKNOWN_SERVER_ERROR = -1;
const OFFSET_OUT_OF_RANGE = 1;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const INVALID_REQUIRED_ACKS = 21;
const UNSUPPORTED_VERSION = 35;
const INT32_MAX = 0x7fffffff;

describe("bad request fields", { timeout: 60_000 }, () => {
  let broker: BrokerProcess;
  let client: RawClient;
  let topicId = ZERO_UUID;
  before(async () => {
    broker = await startBroker({ properties: { "num.partitions": 1 } });
    client = await RawClient.connect(broker.port, { requestTimeoutMs: 5000 });
    topicId = (await client.metadata([TOPIC])).topics[0]!.topicId;
    assert.equal((await client.produce(TOPIC, 0, [{ value: Buffer.alloc(100, 1) }])).errorCode, 0);
  });
  after(async () => {
    client?.close();
    await broker?.cleanup();
  });

  async function fetch(
    version: number,
    f: {
      maxBytes?: number;
      partitionMaxBytes?: number;
      minBytes?: number;
      maxWaitMs?: number;
      offset?: bigint;
      partition?: number;
    },
  ) {
    const res = await client.request(
      ApiKey.Fetch,
      version,
      createFetchRequest({
        replicaId: -1,
        maxWaitMs: f.maxWaitMs ?? 0,
        minBytes: f.minBytes ?? 0,
        maxBytes: f.maxBytes ?? 1 << 20,
        topics: [
          createFetchRequestFetchTopic({
            topic: TOPIC,
            topicId,
            partitions: [
              createFetchRequestFetchPartition({
                partition: f.partition ?? 0,
                fetchOffset: f.offset ?? 0n,
                partitionMaxBytes: f.partitionMaxBytes ?? 1 << 20,
              }),
            ],
          }),
        ],
      }),
    );
    assert.equal(res.errorCode, 0);
    return res.responses[0]!.partitions[0]!;
  }

  test("Fetch: negative byte limits are UNKNOWN_SERVER_ERROR per partition, others are served", async () => {
    for (const v of [4, 11, 12, 17]) {
      for (const f of [
        { maxBytes: -1 },
        { partitionMaxBytes: -1 },
        { partitionMaxBytes: -100_000 },
        { maxBytes: -100_000, partitionMaxBytes: -100_000 },
        { maxBytes: -INT32_MAX - 1, partitionMaxBytes: -INT32_MAX - 1 },
      ]) {
        const p = await fetch(v, f);
        assert.equal(p.errorCode, UNKNOWN_SERVER_ERROR, `v${v} ${JSON.stringify(f)}`);
        assert.equal(p.highWatermark, -1n);
      }
      for (const f of [
        { maxBytes: INT32_MAX, partitionMaxBytes: INT32_MAX },
        { partitionMaxBytes: 0 },
        { maxBytes: 0 },
        { minBytes: -5, maxWaitMs: -5 },
        { minBytes: INT32_MAX, maxWaitMs: 100 },
        { minBytes: -INT32_MAX - 1, maxWaitMs: -INT32_MAX - 1 },
      ]) {
        const p = await fetch(v, f);
        assert.equal(p.errorCode, 0, `v${v} ${JSON.stringify(f)}`);
        assert.equal(p.highWatermark, 1n);
        assert.ok((p.records?.length ?? 0) > 0, `v${v} ${JSON.stringify(f)}: one batch at least`);
      }
      assert.equal((await fetch(v, { offset: -5n })).errorCode, OFFSET_OUT_OF_RANGE);
      assert.equal((await fetch(v, { offset: 1n << 62n })).errorCode, OFFSET_OUT_OF_RANGE);
      assert.equal((await fetch(v, { partition: -1 })).errorCode, UNKNOWN_TOPIC_OR_PARTITION);
    }
  });

  test("ListOffsets: special timestamps before their version and meaningless ones are UNSUPPORTED_VERSION", async () => {
    const expected: Record<number, readonly number[]> = {
      // errors for -1 .. -7 and -100, as Apache Kafka 4.4 answers them
      1: [0, 0, 35, 35, 35, 35, 35, 35],
      5: [0, 0, 35, 35, 35, 35, 35, 35],
      7: [0, 0, 0, 35, 35, 35, 35, 35],
      8: [0, 0, 0, 0, 35, 35, 35, 35],
      9: [0, 0, 0, 0, 0, 35, 35, 35],
      11: [0, 0, 0, 0, 0, 0, 35, 35],
    };
    for (const [v, codes] of Object.entries(expected)) {
      const got: number[] = [];
      for (const ts of [-1n, -2n, -3n, -4n, -5n, -6n, -7n, -100n]) {
        const res = await client.request(
          ApiKey.ListOffsets,
          Number(v),
          createListOffsetsRequest({
            replicaId: -1,
            timeoutMs: -1,
            topics: [
              {
                name: TOPIC,
                partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: ts, maxNumOffsets: 1 }],
              },
            ],
          }),
        );
        got.push(res.topics[0]!.partitions[0]!.errorCode);
      }
      assert.deepEqual(got, codes, `v${v}`);
    }
    assert.equal(UNSUPPORTED_VERSION, 35);
    const res = await client.request(
      ApiKey.ListOffsets,
      5,
      createListOffsetsRequest({
        replicaId: -1,
        topics: [
          {
            name: TOPIC,
            partitions: [{ partitionIndex: -1, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }],
          },
        ],
      }),
    );
    assert.equal(res.topics[0]!.partitions[0]!.errorCode, UNKNOWN_TOPIC_OR_PARTITION);
  });

  test("DeleteRecords, Produce and DescribeLogDirs with out-of-range fields", async () => {
    for (const [partitionIndex, offset, code] of [
      [0, -5n, OFFSET_OUT_OF_RANGE],
      [0, 1n << 62n, OFFSET_OUT_OF_RANGE],
      [-1, 0n, UNKNOWN_TOPIC_OR_PARTITION],
    ] as const) {
      const res = await client.request(
        ApiKey.DeleteRecords,
        2,
        createDeleteRecordsRequest({
          timeoutMs: -1,
          topics: [{ name: TOPIC, partitions: [{ partitionIndex, offset }] }],
        }),
      );
      const p = res.topics[0]!.partitions[0]!;
      assert.deepEqual([p.errorCode, p.lowWatermark], [code, -1n], `${partitionIndex} ${offset}`);
    }
    for (const [acks, timeoutMs, index, code] of [
      [-1, -1, 0, 0],
      [-1, INT32_MAX, 0, 0],
      [5, 100, 0, INVALID_REQUIRED_ACKS],
      [-1, 100, -1, UNKNOWN_TOPIC_OR_PARTITION],
    ] as const) {
      const res = await client.request(
        ApiKey.Produce,
        9,
        createProduceRequest({
          acks,
          timeoutMs,
          topicData: [
            {
              name: TOPIC,
              topicId: ZERO_UUID,
              partitionData: [{ index, records: buildRecordBatch([{ value: Buffer.from("x") }]) }],
            },
          ],
        }),
      );
      assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, code, `acks ${acks} timeout ${timeoutMs}`);
    }
    const dirs = await client.request(
      ApiKey.DescribeLogDirs,
      4,
      createDescribeLogDirsRequest({ topics: [{ topic: TOPIC, partitions: [-1, 0, 99] }] }),
    );
    assert.equal(dirs.errorCode, 0);
    assert.deepEqual(
      dirs.results[0]!.topics.map((t) => t.partitions.map((p) => p.partitionIndex)),
      [[0]],
    );
  });

  test("a handler that fails inside answers UNKNOWN_SERVER_ERROR and the connection goes on", async () => {
    // With its data directory moved away, DescribeLogDirs cannot look at the volume: an internal error.
    const away = `${broker.dataDir}.away`;
    await rename(broker.dataDir, away);
    try {
      const res = await client.request(ApiKey.DescribeLogDirs, 4, createDescribeLogDirsRequest({ topics: null }));
      assert.equal(res.errorCode, UNKNOWN_SERVER_ERROR);
    } finally {
      await rename(away, broker.dataDir);
    }
    assert.match(broker.output(), /api 35 v4 from .* failed/);
    const res = await client.request(ApiKey.DescribeLogDirs, 4, createDescribeLogDirsRequest({ topics: null }));
    assert.equal(res.errorCode, 0);
  });

  test("after all of it the connection and the process are fine", async () => {
    assert.equal(broker.process.exitCode, null);
    assert.equal((await client.produce(TOPIC, 0, [{ value: Buffer.from("after") }])).errorCode, 0);
    const records = await client.fetchAll(TOPIC, 0);
    assert.equal(records.at(-1)?.record.value?.toString(), "after");
    assert.doesNotMatch(broker.output(), /closing connection/);
  });
});
