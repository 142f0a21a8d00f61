import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ApiKey,
  createAddOffsetsToTxnRequest,
  createCreateTopicsRequest,
  createEndTxnRequest,
  createInitProducerIdRequest,
  createMetadataRequest,
  createOffsetFetchRequest,
  createTxnOffsetCommitRequest,
  type TxnOffsetCommitRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { RawClient } from "./clients/raw-client.js";
import { startBroker, type BrokerProcess } from "./harness.js";
import { tempDir, type TempDir } from "./temp.js";

/**
 * TxnOffsetCommit (v0-6) at the wire, with transactions of both generations: v1 (AddOffsetsToTxn, then
 * TxnOffsetCommit v0-4, EndTxn v4) and v2 (TxnOffsetCommit v5-6 adds the offsets partition itself, EndTxn
 * v5). Offsets committed in a transaction are invisible to OffsetFetch, OffsetFetch with requireStable
 * (v7+) answers UNSTABLE_OFFSET_COMMIT for their partitions, both hold across a restart on the same data
 * directory, and the transaction's end makes them committed offsets (COMMIT) or drops them (ABORT).
 */

const E = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  ILLEGAL_GENERATION: 22,
  INVALID_GROUP_ID: 24,
  INVALID_PRODUCER_ID_MAPPING: 49,
  GROUP_ID_NOT_FOUND: 69,
  UNSTABLE_OFFSET_COMMIT: 88,
  UNKNOWN_TOPIC_ID: 100,
};
const PROPS = { "offsets.topic.num.partitions": 2, "group.initial.rebalance.delay.ms": 0 };
const TIMEOUT_MS = 120_000;

interface Producer {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
}

let dir: TempDir;
let broker: BrokerProcess;
let c: RawClient;
let topicId = "";
/** Transactions v1 and v2. */
let tv1: Producer;
let tv2: Producer;

async function initProducer(transactionalId: string, version: number): Promise<Producer> {
  const r = await c.request(
    ApiKey.InitProducerId,
    version,
    createInitProducerIdRequest({ transactionalId, transactionTimeoutMs: TIMEOUT_MS }),
  );
  assert.equal(r.errorCode, E.NONE, `InitProducerId ${transactionalId}`);
  return { transactionalId, producerId: r.producerId, producerEpoch: r.producerEpoch };
}

before(async () => {
  dir = await tempDir("tskafka-txn-offsets-");
  broker = await startBroker({ dataDir: dir.dir, properties: PROPS });
  c = await RawClient.connect(broker.port, { requestTimeoutMs: 30_000 });
  const created = await c.request(
    ApiKey.CreateTopics,
    5,
    createCreateTopicsRequest({
      topics: [{ name: "tx-t", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    }),
  );
  assert.equal(created.topics[0]!.errorCode, E.NONE);
  const meta = await c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: null }));
  topicId = meta.topics.find((t) => t.name === "tx-t")!.topicId;
  tv1 = await initProducer("tx-v1", 4);
  tv2 = await initProducer("tx-v2", 5);
});

after(async () => {
  c?.close();
  await broker?.cleanup();
  await dir?.cleanup();
});

function commitRequest(
  v: number,
  p: Producer,
  groupId: string,
  offsets: bigint[],
  more: Partial<TxnOffsetCommitRequest> = {},
) {
  return createTxnOffsetCommitRequest({
    ...p,
    groupId,
    topics: [
      {
        name: v >= 6 ? "" : "tx-t",
        topicId: v >= 6 ? topicId : ZERO_UUID,
        partitions: offsets.map((committedOffset, partitionIndex) => ({
          partitionIndex,
          committedOffset,
          committedLeaderEpoch: v >= 2 ? 3 : -1,
          committedMetadata: `v${v}`,
        })),
      },
    ],
    ...more,
  });
}

async function txnCommit(
  v: number,
  p: Producer,
  groupId: string,
  offsets: bigint[],
  more: Partial<TxnOffsetCommitRequest> = {},
) {
  const r = await c.request(ApiKey.TxnOffsetCommit, v, commitRequest(v, p, groupId, offsets, more));
  return r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
}

async function addOffsets(p: Producer, groupId: string): Promise<void> {
  const r = await c.request(ApiKey.AddOffsetsToTxn, 3, createAddOffsetsToTxnRequest({ ...p, groupId }));
  assert.equal(r.errorCode, E.NONE, `AddOffsetsToTxn ${groupId}`);
}

async function endTxn(p: Producer, version: number, committed: boolean): Promise<void> {
  const r = await c.request(ApiKey.EndTxn, version, createEndTxnRequest({ ...p, committed }));
  assert.equal(r.errorCode, E.NONE, `EndTxn ${p.transactionalId}`);
  if (version >= 5) p.producerEpoch = r.producerEpoch;
}

/** OffsetFetch v6 (no requireStable) or v7 (requireStable): [offset, error] of partitions 0 and 1. */
async function fetchV7(groupId: string, requireStable: boolean) {
  const r = await c.request(
    ApiKey.OffsetFetch,
    requireStable ? 7 : 6,
    createOffsetFetchRequest({ groupId, topics: [{ name: "tx-t", partitionIndexes: [0, 1] }], requireStable }),
  );
  assert.equal(r.errorCode, E.NONE, "no group-level error");
  return r.topics[0]!.partitions.map((p) => [p.committedOffset, p.errorCode]);
}

/** OffsetFetch v8 with requireStable, groups asked together: per group, [offset, error] of each partition. */
async function fetchV8(groupIds: string[]) {
  const r = await c.request(
    ApiKey.OffsetFetch,
    8,
    createOffsetFetchRequest({
      requireStable: true,
      groups: groupIds.map((groupId) => ({
        groupId,
        memberId: null,
        memberEpoch: -1,
        topics: [{ name: "tx-t", topicId: ZERO_UUID, partitionIndexes: [0, 1] }],
      })),
    }),
  );
  return r.groups.map((g) => {
    assert.equal(g.errorCode, E.NONE);
    return g.topics[0]!.partitions.map((p) => [p.committedOffset, p.errorCode]);
  });
}

/** OffsetFetch with requireStable until the markers are written (EndTxn answers before them). */
async function stableOffsets(groupId: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const got = await fetchV7(groupId, true);
    if (got.every(([, error]) => error !== E.UNSTABLE_OFFSET_COMMIT) || Date.now() > deadline) return got;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Version, producer, group: transactions v1 name their groups with AddOffsetsToTxn first. */
const COMMITS = [
  [0, "v1", "txg-v0"],
  [2, "v1", "txg-v2"],
  [3, "v1", "txg-v3"],
  [4, "v1", "txg-v4"],
  [5, "v2", "txg-v5"],
  [6, "v2", "txg-v6"],
] as const;
const GROUPS = COMMITS.map(([, , g]) => g);
const STAGED = [
  [-1n, E.NONE],
  [-1n, E.NONE],
];
const UNSTABLE = [
  [-1n, E.UNSTABLE_OFFSET_COMMIT],
  [-1n, E.UNSTABLE_OFFSET_COMMIT],
];

test("transactional offsets of every version are staged: invisible, UNSTABLE_OFFSET_COMMIT when stable ones are required", async () => {
  for (const [v, gen, groupId] of COMMITS) {
    const p = gen === "v1" ? tv1 : tv2;
    if (gen === "v1") await addOffsets(p, groupId);
    assert.deepEqual(await txnCommit(v, p, groupId, [5n, 6n]), [E.NONE, E.NONE], `v${v}`);
  }
  for (const g of GROUPS) {
    assert.deepEqual(await fetchV7(g, false), STAGED, `${g}: invisible`);
    assert.deepEqual(await fetchV7(g, true), UNSTABLE, `${g}: unstable`);
  }
  assert.deepEqual(await fetchV8([...GROUPS, "txg-none"]), [...GROUPS.map(() => UNSTABLE), STAGED]);
  const all = await c.request(
    ApiKey.OffsetFetch,
    7,
    createOffsetFetchRequest({ groupId: "txg-v3", topics: null, requireStable: true }),
  );
  assert.deepEqual(all.topics, [], "fetching all partitions lists committed offsets only");
});

test("TxnOffsetCommit's errors at the wire", async () => {
  assert.deepEqual(await txnCommit(3, tv1, "", [1n]), [E.INVALID_GROUP_ID]);
  const member = { generationIdOrMemberEpoch: 2, memberId: "m" };
  assert.deepEqual(await txnCommit(3, tv1, "txg-gen", [1n], member), [E.ILLEGAL_GENERATION]);
  assert.deepEqual(await txnCommit(6, tv2, "txg-gen", [1n], member), [E.GROUP_ID_NOT_FOUND]);
  const unknown = commitRequest(3, tv1, "txg-x", [1n]);
  unknown.topics[0]!.name = "no-such-topic";
  const r = await c.request(ApiKey.TxnOffsetCommit, 3, unknown);
  assert.deepEqual(
    r.topics.map((t) => [t.name, t.partitions[0]!.errorCode]),
    [["no-such-topic", E.UNKNOWN_TOPIC_OR_PARTITION]],
  );
  const unknownId = commitRequest(6, tv2, "txg-x", [1n]);
  unknownId.topics[0]!.topicId = "AAAAAAAAAAAAAAAAAAAAAQ";
  const r6 = await c.request(ApiKey.TxnOffsetCommit, 6, unknownId);
  assert.deepEqual(
    r6.topics.map((t) => [t.topicId, t.partitions[0]!.errorCode]),
    [["AAAAAAAAAAAAAAAAAAAAAQ", E.UNKNOWN_TOPIC_ID]],
  );
  // A producer the transaction coordinator does not know (Kafka verifies the transaction too).
  const stranger = { transactionalId: "tx-none", producerId: tv1.producerId, producerEpoch: 0 };
  assert.deepEqual(await txnCommit(5, stranger, "txg-x", [1n]), [E.INVALID_PRODUCER_ID_MAPPING]);
});

test("after a restart the offsets are still staged; EndTxn commits or aborts them", async () => {
  c.close();
  assert.equal(await broker.stop(), 0);
  await broker.cleanup();
  broker = await startBroker({ dataDir: dir.dir, properties: PROPS });
  c = await RawClient.connect(broker.port, { requestTimeoutMs: 30_000 });
  for (const g of GROUPS) {
    assert.deepEqual(await fetchV7(g, false), STAGED, `${g}: still invisible`);
    assert.deepEqual(await fetchV7(g, true), UNSTABLE, `${g}: still unstable`);
  }
  // The producers go on with their transactions after the restart.
  assert.deepEqual(await txnCommit(3, tv1, "txg-v3", [7n, 8n]), [E.NONE, E.NONE]);
  assert.deepEqual(await txnCommit(5, tv2, "txg-v5", [9n, 10n]), [E.NONE, E.NONE]);
  await endTxn(tv1, 4, true);
  await endTxn(tv2, 5, true);
  for (const g of GROUPS) {
    const want = g === "txg-v3" ? [7n, 8n] : g === "txg-v5" ? [9n, 10n] : [5n, 6n];
    assert.deepEqual(
      await stableOffsets(g),
      want.map((o) => [o, E.NONE]),
      `${g} committed`,
    );
  }

  // An aborted transaction leaves nothing behind.
  await addOffsets(tv1, "txg-abort");
  assert.deepEqual(await txnCommit(3, tv1, "txg-abort", [1n, 2n]), [E.NONE, E.NONE]);
  assert.deepEqual(await txnCommit(5, tv2, "txg-v5", [11n, 12n]), [E.NONE, E.NONE]);
  await endTxn(tv1, 4, false);
  await endTxn(tv2, 5, false);
  assert.deepEqual(await stableOffsets("txg-abort"), STAGED);
  assert.deepEqual(await stableOffsets("txg-v5"), [
    [9n, E.NONE],
    [10n, E.NONE],
  ]);
});
