import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ApiKey,
  buildRecordBatch,
  createAddOffsetsToTxnRequest,
  createAddPartitionsToTxnRequest,
  createApiVersionsRequest,
  createCreateTopicsRequest,
  createDescribeTransactionsRequest,
  createEndTxnRequest,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createFindCoordinatorRequest,
  createInitProducerIdRequest,
  createListTransactionsRequest,
  createMetadataRequest,
  createProduceRequest,
  createUpdateFeaturesRequest,
  createWriteTxnMarkersRequest,
  decodeRecordBatches,
  isControlBatch,
  readControlRecordKey,
  ZERO_UUID,
} from "@tskafka/protocol";
import { offsetsPartitionFor } from "../src/group/java-hash.js";
import { PartitionSet, TxnState } from "../src/txn/state.js";
import { encodeKey, encodeValue } from "../src/txn/state-topic.js";
import { RawClient } from "./clients/raw-client.js";
import { skipUnless } from "./harness.js";
import { haveTarget, startTxnTarget, TARGET_KIND, TARGET_REQUIREMENT, type TxnTarget } from "./clients/txn-target.js";

/**
 * The transaction coordinator at the wire, with exact versions and the generated codecs: FindCoordinator
 * for transactions, InitProducerId with a transactional id (timeouts, KIP-360, fencing), transactions v1
 * (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn v0-4, the Produce-side check of each version) and v2
 * (Produce v12 adds the partition, EndTxn v5 bumps the epoch), the markers written, the timeout abort, a
 * restart in the middle of a transaction, DescribeTransactions, ListTransactions, WriteTxnMarkers and
 * the transaction.version feature. With TSKAFKA_TXN_TARGET=kafka the same tests run against Apache Kafka
 * 4.4 (clients/txn-target.ts), which is how their expectations were checked.
 */

const E = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  NOT_ENOUGH_REPLICAS: 19,
  UNSUPPORTED_VERSION: 35,
  INVALID_REQUEST: 42,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  OPERATION_NOT_ATTEMPTED: 55,
  PRODUCER_FENCED: 90,
  TRANSACTIONAL_ID_NOT_FOUND: 105,
  TRANSACTION_ABORTABLE: 120,
  INVALID_REGULAR_EXPRESSION: 128,
};
const TOPIC = "txn-t";

let target: TxnTarget | undefined;
let port = 0;
let c: RawClient;
const skip = skipUnless(haveTarget(), TARGET_REQUIREMENT);

const PROPERTIES = {
  "transaction.state.log.num.partitions": 4,
  "offsets.topic.num.partitions": 4,
  "transaction.max.timeout.ms": 60_000,
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": 200,
  "group.initial.rebalance.delay.ms": 0,
  "transaction.state.log.replication.factor": 1,
  "transaction.state.log.min.isr": 1,
  "offsets.topic.replication.factor": 1,
};

const portOf = (t: TxnTarget): number => Number(t.bootstrap.split(":").at(-1));

/** Errors of a coordinator still starting (Kafka loads its partitions after a start): asked again. */
const STARTING = new Set([14, 15, 16]);

async function whenReady<T extends { errorCode: number }>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    const r = await f();
    if (!STARTING.has(r.errorCode) || i >= 300) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** FindCoordinator for a transactional id, until the coordinator is there (Kafka: once its topic is led). */
function findCoordinator(client: RawClient, key = "tx-any") {
  return whenReady(() => client.request(ApiKey.FindCoordinator, 3, createFindCoordinatorRequest({ key, keyType: 1 })));
}

async function createTopic(client: RawClient, name: string, partitions: number): Promise<void> {
  const created = await client.request(
    ApiKey.CreateTopics,
    5,
    createCreateTopicsRequest({
      topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    }),
  );
  assert.equal(created.topics[0]!.errorCode, E.NONE);
}

before(async () => {
  if (skip !== undefined) return;
  target = await startTxnTarget(PROPERTIES);
  port = portOf(target);
  c = await RawClient.connect(port, { requestTimeoutMs: 30_000 });
  await createTopic(c, TOPIC, 4);
  assert.equal((await findCoordinator(c)).errorCode, E.NONE);
});

after(async () => {
  if (process.env.TXN_DEBUG !== undefined && target !== undefined) console.log(target.logTail(30_000));
  c?.close();
  await target?.cleanup();
});

// --- requests ---

function init(
  id: string | null,
  timeoutMs = 30_000,
  version = 4,
  expected?: { pid: bigint; epoch: number },
  client = c,
) {
  return whenReady(() =>
    client.request(
      ApiKey.InitProducerId,
      version,
      createInitProducerIdRequest({
        transactionalId: id,
        transactionTimeoutMs: timeoutMs,
        producerId: expected?.pid ?? -1n,
        producerEpoch: expected?.epoch ?? -1,
      }),
    ),
  );
}

/** AddPartitionsToTxn v0-3 (a producer's); the error of each partition, in request order. */
async function addPartitions(
  id: string,
  pid: bigint,
  epoch: number,
  partitions: number[],
  version = 3,
  topic = TOPIC,
  client = c,
): Promise<number[]> {
  for (let i = 0; ; i++) {
    const res = await client.request(
      ApiKey.AddPartitionsToTxn,
      version,
      createAddPartitionsToTxnRequest({
        v3AndBelowTransactionalId: id,
        v3AndBelowProducerId: pid,
        v3AndBelowProducerEpoch: epoch,
        v3AndBelowTopics: [{ name: topic, partitions }],
      }),
    );
    const byIndex = new Map(
      res.resultsByTopicV3AndBelow[0]!.resultsByPartition.map((p) => [p.partitionIndex, p.partitionErrorCode]),
    );
    const codes = partitions.map((p) => byIndex.get(p)!);
    if (!codes.some((code) => STARTING.has(code)) || i >= 300) return codes;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** One transactional batch to one partition; the partition's answer. */
async function produceTxn(
  id: string | null,
  pid: bigint,
  epoch: number,
  partition: number,
  seq: number,
  version = 9,
  client = c,
) {
  const records = buildRecordBatch([{ key: `k${seq}`, value: `v${seq}` }], {
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    transactional: true,
  });
  const res = await client.request(
    ApiKey.Produce,
    version,
    createProduceRequest({
      transactionalId: id,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: TOPIC, topicId: ZERO_UUID, partitionData: [{ index: partition, records }] }],
    }),
  );
  return res.responses[0]!.partitionResponses[0]!;
}

function endTxn(id: string, pid: bigint, epoch: number, committed: boolean, version = 3, client = c) {
  return client.request(
    ApiKey.EndTxn,
    version,
    createEndTxnRequest({ transactionalId: id, producerId: pid, producerEpoch: epoch, committed }),
  );
}

async function describe(id: string, client = c) {
  return whenReady(async () => {
    const res = await client.request(
      ApiKey.DescribeTransactions,
      0,
      createDescribeTransactionsRequest({ transactionalIds: [id] }),
    );
    return res.transactionStates[0]!;
  });
}

async function waitState(id: string, state: string, client = c): Promise<void> {
  let last = "";
  for (let i = 0; i < 150; i++) {
    last = (await describe(id, client)).transactionState;
    if (last === state) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${id} is ${last}, not ${state}`);
}

/** The batches of a partition: control ones with their marker type (0 abort, 1 commit). */
async function batches(partition: number, topic = TOPIC, client = c) {
  const res = await client.request(
    ApiKey.Fetch,
    11,
    createFetchRequest({
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [
        createFetchRequestFetchTopic({
          topic,
          partitions: [createFetchRequestFetchPartition({ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 })],
        }),
      ],
    }),
  );
  const p = res.responses[0]!.partitions[0]!;
  assert.equal(p.errorCode, E.NONE);
  return decodeRecordBatches(p.records ?? Buffer.alloc(0)).map((b) => ({
    offset: b.baseOffset,
    producerId: b.producerId,
    producerEpoch: b.producerEpoch,
    marker: isControlBatch(b) ? readControlRecordKey(b.records[0]!.key).type : null,
  }));
}

async function retryWhileConcurrent<T extends { errorCode: number }>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    const r = await f();
    if (r.errorCode !== E.CONCURRENT_TRANSACTIONS || i >= 100) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

// --- tests ---

test("FindCoordinator key type 1: this node, __transaction_state created on first use", { skip }, async () => {
  const v3 = await findCoordinator(c, "tx-a");
  assert.equal(v3.errorCode, E.NONE);
  assert.equal(v3.port, port);
  const v4 = await c.request(
    ApiKey.FindCoordinator,
    4,
    createFindCoordinatorRequest({ keyType: 1, coordinatorKeys: ["tx-a", "tx-b"] }),
  );
  assert.deepEqual(
    v4.coordinators.map((x) => [x.key, x.errorCode, x.port]),
    [
      ["tx-a", E.NONE, port],
      ["tx-b", E.NONE, port],
    ],
  );
  const meta = await c.request(
    ApiKey.Metadata,
    12,
    createMetadataRequest({ topics: [{ name: "__transaction_state", topicId: ZERO_UUID }] }),
  );
  assert.equal(meta.topics[0]!.errorCode, E.NONE);
  assert.equal(meta.topics[0]!.isInternal, true);
  assert.equal(meta.topics[0]!.partitions.length, 4);
});

test("InitProducerId: timeouts, a new id, epoch bumps, KIP-360 and its fencing per version", { skip }, async () => {
  assert.equal((await init("tx-init", 0)).errorCode, E.INVALID_TRANSACTION_TIMEOUT);
  assert.equal((await init("tx-init", 60_001)).errorCode, E.INVALID_TRANSACTION_TIMEOUT);
  assert.equal((await init("")).errorCode, E.INVALID_REQUEST);
  const first = await init("tx-init");
  assert.equal(first.errorCode, E.NONE);
  assert.equal(first.producerEpoch, 0);
  const second = await init("tx-init");
  assert.deepEqual([second.errorCode, second.producerId, second.producerEpoch], [E.NONE, first.producerId, 1]);
  // KIP-360: the current producer names itself and gets the next epoch; a retry of that gets it again.
  const bumped = await init("tx-init", 30_000, 4, { pid: first.producerId, epoch: 1 });
  assert.deepEqual([bumped.errorCode, bumped.producerEpoch], [E.NONE, 2]);
  const retried = await init("tx-init", 30_000, 4, { pid: first.producerId, epoch: 1 });
  assert.deepEqual([retried.errorCode, retried.producerEpoch], [E.NONE, 2]);
  // An older epoch is fenced: PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH before (KIP-588).
  assert.equal((await init("tx-init", 30_000, 4, { pid: first.producerId, epoch: 0 })).errorCode, E.PRODUCER_FENCED);
  assert.equal(
    (await init("tx-init", 30_000, 3, { pid: first.producerId, epoch: 0 })).errorCode,
    E.INVALID_PRODUCER_EPOCH,
  );
  assert.equal((await init("tx-init", 30_000, 4, { pid: 123456n, epoch: 3 })).errorCode, E.PRODUCER_FENCED);
  // Without a transactional id: idempotent, a new producer id each time.
  const idempotent = await init(null);
  assert.deepEqual([idempotent.errorCode, idempotent.producerEpoch], [E.NONE, 0]);
  assert.notEqual(idempotent.producerId, first.producerId);
});

test("transactions v1: add, produce (each version's check), commit with markers, retries", { skip }, async () => {
  const id = "tx-v1";
  const { producerId: pid, producerEpoch: epoch } = await init(id);
  assert.deepEqual(await addPartitions(id, pid, epoch, [0, 1]), [E.NONE, E.NONE]);
  assert.deepEqual(await addPartitions(id, pid, epoch, [0, 99]), [
    E.OPERATION_NOT_ATTEMPTED,
    E.UNKNOWN_TOPIC_OR_PARTITION,
  ]);
  assert.deepEqual(await addPartitions(id, pid + 1n, epoch, [2]), [E.INVALID_PRODUCER_ID_MAPPING]);
  assert.equal((await produceTxn(id, pid, epoch, 0, 0)).errorCode, E.NONE);
  assert.equal((await produceTxn(id, pid, epoch, 1, 0)).errorCode, E.NONE);
  // Partition 2 was never added: v0-10 INVALID_TXN_STATE with Kafka's message, v11 TRANSACTION_ABORTABLE.
  const v9 = await produceTxn(id, pid, epoch, 2, 0, 9);
  assert.deepEqual(
    [v9.errorCode, v9.errorMessage, v9.baseOffset],
    [E.INVALID_TXN_STATE, "Partition was not added to the transaction", -1n],
  );
  assert.equal((await produceTxn(id, pid, epoch, 2, 0, 11)).errorCode, E.TRANSACTION_ABORTABLE);
  assert.equal((await produceTxn(null, pid, epoch, 0, 1)).errorCode, E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const ongoing = await describe(id);
  assert.equal(ongoing.transactionState, "Ongoing");
  assert.deepEqual(ongoing.topics, [{ topic: TOPIC, partitions: [0, 1] }]);
  assert.ok(ongoing.transactionStartTimeMs > 0n);
  assert.equal((await endTxn(id, pid, epoch, true)).errorCode, E.NONE);
  await waitState(id, "CompleteCommit");
  for (const p of [0, 1]) {
    const last = (await batches(p)).at(-1)!;
    assert.deepEqual([last.marker, last.producerId, last.producerEpoch], [1, pid, epoch]);
  }
  // A retried commit is fine; an abort now is INVALID_TXN_STATE; an end with nothing ongoing too.
  assert.equal((await endTxn(id, pid, epoch, true)).errorCode, E.NONE);
  assert.equal((await endTxn(id, pid, epoch, false)).errorCode, E.INVALID_TXN_STATE);
  assert.equal((await endTxn(id, pid + 7n, epoch, true)).errorCode, E.INVALID_PRODUCER_ID_MAPPING);
  // The next transaction of the same producer, aborted.
  assert.deepEqual(await addPartitions(id, pid, epoch, [3]), [E.NONE]);
  assert.equal((await produceTxn(id, pid, epoch, 3, 0)).errorCode, E.NONE);
  assert.equal((await endTxn(id, pid, epoch, false, 0)).errorCode, E.NONE);
  await waitState(id, "CompleteAbort");
  assert.equal((await batches(3)).at(-1)!.marker, 0);
});

test(
  "fencing: a second InitProducerId aborts the ongoing transaction and fences the first producer",
  { skip },
  async () => {
    const id = "tx-fence";
    const a = await init(id);
    assert.deepEqual(await addPartitions(id, a.producerId, a.producerEpoch, [0]), [E.NONE]);
    assert.equal((await produceTxn(id, a.producerId, a.producerEpoch, 0, 0)).errorCode, E.NONE);
    const first = await init(id);
    assert.equal(first.errorCode, E.CONCURRENT_TRANSACTIONS, "the ongoing transaction is aborted first");
    const b = await retryWhileConcurrent(() => init(id));
    assert.equal(b.errorCode, E.NONE);
    assert.equal(b.producerId, a.producerId);
    // The fence bumps the epoch (the abort is written with it), the InitProducerId that follows once more.
    assert.equal(b.producerEpoch, a.producerEpoch + 2);
    const abort = (await batches(0)).at(-1)!;
    assert.deepEqual([abort.marker, abort.producerEpoch], [0, a.producerEpoch + 1]);
    // The first producer is fenced, with each version's code.
    assert.deepEqual(await addPartitions(id, a.producerId, a.producerEpoch, [1], 3), [E.PRODUCER_FENCED]);
    assert.deepEqual(await addPartitions(id, a.producerId, a.producerEpoch, [1], 1), [E.INVALID_PRODUCER_EPOCH]);
    assert.equal((await endTxn(id, a.producerId, a.producerEpoch, true, 3)).errorCode, E.PRODUCER_FENCED);
    assert.equal((await endTxn(id, a.producerId, a.producerEpoch, true, 1)).errorCode, E.INVALID_PRODUCER_EPOCH);
    assert.equal((await produceTxn(id, a.producerId, a.producerEpoch, 0, 1)).errorCode, E.INVALID_PRODUCER_EPOCH);
  },
);

test("transactions v2: Produce v12 adds the partition, EndTxn v5 bumps the epoch at every end", { skip }, async () => {
  const id = "tx-v2";
  const { producerId: pid, producerEpoch: e0 } = await init(id, 30_000, 5);
  const p12 = await produceTxn(id, pid, e0, 2, 0, 12);
  assert.equal(p12.errorCode, E.NONE);
  assert.deepEqual((await describe(id)).topics, [{ topic: TOPIC, partitions: [2] }]);
  const committed = await endTxn(id, pid, e0, true, 5);
  assert.deepEqual([committed.errorCode, committed.producerId, committed.producerEpoch], [E.NONE, pid, e0 + 1]);
  await waitState(id, "CompleteCommit");
  const marker = (await batches(2)).at(-1)!;
  assert.deepEqual([marker.marker, marker.producerEpoch], [1, e0 + 1]);
  // A retry of that commit (the old epoch) answers the new epoch again; an abort with it is refused.
  const retry = await endTxn(id, pid, e0, true, 5);
  assert.deepEqual([retry.errorCode, retry.producerEpoch], [E.NONE, e0 + 1]);
  assert.equal((await endTxn(id, pid, e0, false, 5)).errorCode, E.INVALID_TXN_STATE);
  // The next transaction with the bumped epoch, aborted; an abort with nothing ongoing bumps again.
  assert.equal((await produceTxn(id, pid, e0 + 1, 2, 0, 12)).errorCode, E.NONE);
  const aborted = await endTxn(id, pid, e0 + 1, false, 5);
  assert.deepEqual([aborted.errorCode, aborted.producerEpoch], [E.NONE, e0 + 2]);
  await waitState(id, "CompleteAbort");
  const empty = await endTxn(id, pid, e0 + 2, false, 5);
  assert.deepEqual([empty.errorCode, empty.producerEpoch], [E.NONE, e0 + 3]);
  await waitState(id, "CompleteAbort");
  assert.equal((await endTxn(id, pid, e0 + 3, true, 5)).errorCode, E.INVALID_TXN_STATE);
  // Produce v11 of a v2 producer is verified, not added.
  assert.equal((await produceTxn(id, pid, e0 + 3, 1, 0, 11)).errorCode, E.TRANSACTION_ABORTABLE);
});

test(
  "a transaction past its timeout is aborted with a bumped epoch, fencing its producer",
  { timeout: 30_000, skip },
  async () => {
    const id = "tx-timeout";
    const { producerId: pid, producerEpoch: epoch } = await init(id, 1000);
    assert.deepEqual(await addPartitions(id, pid, epoch, [1]), [E.NONE]);
    assert.equal((await produceTxn(id, pid, epoch, 1, 0)).errorCode, E.NONE);
    await waitState(id, "CompleteAbort");
    const d = await describe(id);
    assert.equal(d.producerEpoch, epoch + 1);
    const abort = (await batches(1)).at(-1)!;
    assert.deepEqual([abort.marker, abort.producerEpoch], [0, epoch + 1]);
    assert.equal((await endTxn(id, pid, epoch, true, 3)).errorCode, E.PRODUCER_FENCED);
    assert.equal((await endTxn(id, pid, epoch, true, 0)).errorCode, E.INVALID_PRODUCER_EPOCH);
  },
);

test("AddOffsetsToTxn adds the group's __consumer_offsets partition; its commit completes", { skip }, async () => {
  const id = "tx-offsets";
  const { producerId: pid, producerEpoch: epoch } = await init(id);
  const res = await c.request(
    ApiKey.AddOffsetsToTxn,
    3,
    createAddOffsetsToTxnRequest({ transactionalId: id, producerId: pid, producerEpoch: epoch, groupId: "g1" }),
  );
  assert.equal(res.errorCode, E.NONE);
  const d = await describe(id);
  assert.equal(d.topics.length, 1);
  assert.equal(d.topics[0]!.topic, "__consumer_offsets");
  const fenced = await c.request(
    ApiKey.AddOffsetsToTxn,
    1,
    createAddOffsetsToTxnRequest({ transactionalId: id, producerId: pid, producerEpoch: epoch + 5, groupId: "g1" }),
  );
  assert.equal(fenced.errorCode, E.INVALID_PRODUCER_EPOCH);
  assert.equal((await endTxn(id, pid, epoch, true)).errorCode, E.NONE);
  await waitState(id, "CompleteCommit");
});

test("DescribeTransactions and ListTransactions with their filters", { skip }, async () => {
  const id = "tx-list";
  const { producerId: pid, producerEpoch: epoch } = await init(id);
  assert.deepEqual(await addPartitions(id, pid, epoch, [0]), [E.NONE]);
  assert.equal((await describe("no-such-id")).errorCode, E.TRANSACTIONAL_ID_NOT_FOUND);
  assert.equal((await describe("")).errorCode, E.INVALID_REQUEST);
  const d = await describe(id);
  assert.deepEqual(
    [d.errorCode, d.transactionState, d.producerId, d.producerEpoch, d.transactionTimeoutMs],
    [E.NONE, "Ongoing", pid, epoch, 30_000],
  );
  const list = (init: Parameters<typeof createListTransactionsRequest>[0], version = 2) =>
    c.request(ApiKey.ListTransactions, version, createListTransactionsRequest(init));
  const ongoing = await list({ stateFilters: ["Ongoing", "Bogus"] });
  assert.deepEqual(ongoing.unknownStateFilters, ["Bogus"]);
  assert.ok(ongoing.transactionStates.some((t) => t.transactionalId === id && t.transactionState === "Ongoing"));
  assert.ok(ongoing.transactionStates.every((t) => t.transactionState === "Ongoing"));
  const byPid = await list({ producerIdFilters: [pid] });
  assert.deepEqual(
    byPid.transactionStates.map((t) => t.transactionalId),
    [id],
  );
  const longRunning = await list({ producerIdFilters: [pid], durationFilter: 3_600_000n }, 1);
  assert.deepEqual(longRunning.transactionStates, []);
  const running = await list({ producerIdFilters: [pid], durationFilter: 0n }, 1);
  assert.equal(running.transactionStates.length, 1);
  assert.deepEqual(
    (await list({ transactionalIdPattern: "tx-l.*" })).transactionStates.map((t) => t.transactionalId),
    [id],
  );
  assert.deepEqual((await list({ transactionalIdPattern: "tx-l" })).transactionStates, [], "the whole id must match");
  assert.equal((await list({ transactionalIdPattern: "tx-(?=x)" })).errorCode, E.INVALID_REGULAR_EXPRESSION);
  assert.equal((await list({ transactionalIdPattern: "(unclosed" })).errorCode, E.INVALID_REGULAR_EXPRESSION);
  assert.equal((await endTxn(id, pid, epoch, false)).errorCode, E.NONE);
});

test("WriteTxnMarkers writes a marker per partition; an unknown partition is refused alone", { skip }, async () => {
  const res = await c.request(
    ApiKey.WriteTxnMarkers,
    1,
    createWriteTxnMarkersRequest({
      markers: [
        {
          producerId: 987654n,
          producerEpoch: 0,
          transactionResult: false,
          coordinatorEpoch: 0,
          transactionVersion: 0,
          topics: [
            { name: TOPIC, partitionIndexes: [3] },
            { name: "no-such-topic", partitionIndexes: [0] },
          ],
        },
      ],
    }),
  );
  assert.deepEqual(
    res.markers[0]!.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]),
    [
      [TOPIC, [[3, E.NONE]]],
      ["no-such-topic", [[0, E.UNKNOWN_TOPIC_OR_PARTITION]]],
    ],
  );
  const last = (await batches(3)).at(-1)!;
  assert.deepEqual([last.marker, last.producerId], [0, 987654n]);
});

test(
  "transaction.version: advertised 0-2, finalized 2; at 1 transactions v2 still work, at 0 they are UNSUPPORTED_VERSION",
  { skip },
  async () => {
    const versions = async () =>
      c.request(
        ApiKey.ApiVersions,
        4,
        createApiVersionsRequest({ clientSoftwareName: "t", clientSoftwareVersion: "1" }),
      );
    const before = await versions();
    assert.deepEqual(
      before.supportedFeatures.filter((f) => f.name === "transaction.version").map((f) => [f.minVersion, f.maxVersion]),
      [[0, 2]],
    );
    const level = (r: typeof before) =>
      r.finalizedFeatures.find((f) => f.name === "transaction.version")?.maxVersionLevel;
    assert.equal(level(before), 2);
    const update = (maxVersionLevel: number, upgradeType: number) =>
      c.request(
        ApiKey.UpdateFeatures,
        1,
        createUpdateFeaturesRequest({
          featureUpdates: [{ feature: "transaction.version", maxVersionLevel, upgradeType, allowDowngrade: false }],
        }),
      );
    assert.equal((await update(1, 1)).errorCode, 95, "a downgrade needs its upgrade type");
    assert.equal((await update(1, 2)).errorCode, E.NONE);
    const after = await versions();
    assert.equal(level(after), 1);
    assert.ok(after.finalizedFeaturesEpoch > before.finalizedFeaturesEpoch);
    try {
      const id = "tx-tv1";
      const { producerId: pid, producerEpoch: epoch } = await init(id);
      assert.equal((await produceTxn(id, pid, epoch, 0, 0, 12)).errorCode, E.NONE);
      assert.deepEqual((await describe(id)).topics, [{ topic: TOPIC, partitions: [0] }]);
      const ended = await endTxn(id, pid, epoch, false, 5);
      assert.deepEqual([ended.errorCode, ended.producerEpoch], [E.NONE, epoch + 1]);
      await waitState(id, "CompleteAbort");
      assert.equal((await update(0, 2)).errorCode, E.NONE);
      assert.equal(level(await versions()), undefined, "a feature at level 0 is not listed");
      // Kafka's coordinators see a new level a moment after UpdateFeatures is answered.
      if (TARGET_KIND === "kafka") await new Promise((r) => setTimeout(r, 2000));
      // A partition already in the transaction may be written at v12; adding one is refused, as is EndTxn v5.
      // (Each transaction tries one of them: Apache Kafka 4.4 answered CONCURRENT_TRANSACTIONS to any later
      // request of a transaction it had refused one for, as if the refused change stayed pending.)
      const t0 = await init("tx-tv0");
      assert.deepEqual(await addPartitions("tx-tv0", t0.producerId, t0.producerEpoch, [1]), [E.NONE]);
      assert.equal((await produceTxn("tx-tv0", t0.producerId, t0.producerEpoch, 1, 0, 12)).errorCode, E.NONE);
      const added = await produceTxn("tx-tv0", t0.producerId, t0.producerEpoch, 2, 0, 12);
      assert.equal(added.errorCode, E.UNSUPPORTED_VERSION);
      const t1 = await init("tx-tv0-end");
      assert.deepEqual(await addPartitions("tx-tv0-end", t1.producerId, t1.producerEpoch, [1]), [E.NONE]);
      const refused = await endTxn("tx-tv0-end", t1.producerId, t1.producerEpoch, true, 5);
      assert.deepEqual(
        [refused.errorCode, refused.producerId, refused.producerEpoch],
        [E.UNSUPPORTED_VERSION, -1n, -1],
      );
    } finally {
      assert.equal((await update(2, 1)).errorCode, E.NONE);
    }
    assert.equal(level(await versions()), 2);
  },
);

test(
  "a restart resumes transactions from __transaction_state: ongoing ones keep their start time",
  { timeout: 240_000, skip },
  async () => {
    const t = await startTxnTarget(PROPERTIES);
    let client = await RawClient.connect(portOf(t), { requestTimeoutMs: 30_000 });
    try {
      await createTopic(client, TOPIC, 4);
      assert.equal((await findCoordinator(client)).errorCode, E.NONE);
      const id = "tx-restart";
      const short = "tx-restart-short";
      const { producerId: pid, producerEpoch: epoch } = await init(id, 60_000, 4, undefined, client);
      const s = await init(short, 3000, 4, undefined, client);
      for (const [txn, p, e] of [
        [id, pid, epoch],
        [short, s.producerId, s.producerEpoch],
      ] as const) {
        assert.deepEqual(await addPartitions(txn, p, e, [0], 3, TOPIC, client), [E.NONE]);
        assert.equal((await produceTxn(txn, p, e, 0, 0, 9, client)).errorCode, E.NONE);
      }
      const before = await describe(id, client);
      const shortBefore = await describe(short, client);
      client.close();
      await t.kill9();
      await t.restart();
      client = await RawClient.connect(portOf(t), { requestTimeoutMs: 30_000 });
      const resumed = await describe(id, client);
      assert.deepEqual(
        [resumed.transactionState, resumed.producerId, resumed.producerEpoch, resumed.transactionStartTimeMs],
        ["Ongoing", pid, epoch, before.transactionStartTimeMs],
      );
      assert.deepEqual(resumed.topics, [{ topic: TOPIC, partitions: [0] }]);
      assert.equal((await describe(short, client)).transactionStartTimeMs, shortBefore.transactionStartTimeMs);
      assert.equal((await endTxn(id, pid, epoch, true, 3, client)).errorCode, E.NONE);
      await waitState(id, "CompleteCommit", client);
      // The short one times out as it would have without the restart.
      await waitState(short, "CompleteAbort", client);
      const markers = (await batches(0, TOPIC, client)).filter((x) => x.marker !== null);
      const seen = markers.map((m) => `${m.producerId}:${m.marker}`).sort();
      // Apache Kafka 4.4 may skip the abort marker of a transaction that times out while it is still
      // starting (its marker channel does not find the partition in its metadata cache yet and drops it),
      // leaving that transaction's records open; this broker writes it.
      if (TARGET_KIND === "kafka") assert.ok(seen.includes(`${pid}:1`), seen.join());
      else assert.deepEqual(seen, [`${pid}:1`, `${s.producerId}:0`].sort());
      client.close();
      // Restarted again, the completed states are what is loaded.
      await t.kill9();
      await t.restart();
      client = await RawClient.connect(portOf(t), { requestTimeoutMs: 30_000 });
      assert.equal((await describe(id, client)).transactionState, "CompleteCommit");
      const again = await init(id, 30_000, 4, undefined, client);
      assert.deepEqual([again.errorCode, again.producerId, again.producerEpoch], [E.NONE, pid, epoch + 1]);
    } finally {
      client.close();
      await t.cleanup();
    }
  },
);

test(
  "a transaction found in PrepareCommit at start-up is completed: its markers are written",
  { timeout: 120_000, skip: skip ?? (TARGET_KIND === "kafka" ? "writes __transaction_state itself" : undefined) },
  async () => {
    const t = await startTxnTarget(PROPERTIES);
    let client = await RawClient.connect(portOf(t), { requestTimeoutMs: 30_000 });
    try {
      await createTopic(client, TOPIC, 4);
      assert.equal((await findCoordinator(client)).errorCode, E.NONE);
      const id = "tx-prepared";
      const { producerId: pid, producerEpoch: epoch } = await init(id, 60_000, 4, undefined, client);
      assert.deepEqual(await addPartitions(id, pid, epoch, [0, 1], 3, TOPIC, client), [E.NONE, E.NONE]);
      for (const p of [0, 1]) assert.equal((await produceTxn(id, pid, epoch, p, 0, 9, client)).errorCode, E.NONE);
      // What EndTxn writes first, written here instead, and the broker killed before any marker.
      const now = Date.now();
      const value = encodeValue(
        {
          producerId: pid,
          prevProducerId: pid,
          nextProducerId: -1n,
          producerEpoch: epoch,
          lastProducerEpoch: -1,
          txnTimeoutMs: 60_000,
          state: TxnState.PREPARE_COMMIT,
          partitions: new PartitionSet([0, 1].map((partition) => ({ topic: TOPIC, partition }))),
          txnStartTimestamp: now - 1000,
          txnLastUpdateTimestamp: now,
          clientTransactionVersion: 0,
        },
        1,
      );
      const written = await client.request(
        ApiKey.Produce,
        9,
        createProduceRequest({
          acks: -1,
          timeoutMs: 5000,
          topicData: [
            {
              name: "__transaction_state",
              topicId: ZERO_UUID,
              partitionData: [
                { index: offsetsPartitionFor(id, 4), records: buildRecordBatch([{ key: encodeKey(id), value }]) },
              ],
            },
          ],
        }),
      );
      assert.equal(written.responses[0]!.partitionResponses[0]!.errorCode, E.NONE);
      client.close();
      await t.kill9();
      await t.restart();
      client = await RawClient.connect(portOf(t), { requestTimeoutMs: 30_000 });
      await waitState(id, "CompleteCommit", client);
      for (const p of [0, 1]) {
        const last = (await batches(p, TOPIC, client)).at(-1)!;
        assert.deepEqual([last.marker, last.producerId, last.producerEpoch], [1, pid, epoch]);
      }
    } finally {
      client.close();
      await t.cleanup();
    }
  },
);

test(
  "transactional.id.expiration.ms: an idle id is forgotten, one with a transaction is kept",
  { timeout: 120_000, skip },
  async () => {
    const t = await startTxnTarget({
      ...PROPERTIES,
      "transactional.id.expiration.ms": 1000,
      "transaction.remove.expired.transaction.cleanup.interval.ms": 200,
    });
    const client = await RawClient.connect(portOf(t), { requestTimeoutMs: 30_000 });
    try {
      await createTopic(client, TOPIC, 4);
      assert.equal((await findCoordinator(client)).errorCode, E.NONE);
      const idle = await init("tx-idle", 60_000, 4, undefined, client);
      const busy = await init("tx-busy", 60_000, 4, undefined, client);
      assert.deepEqual(await addPartitions("tx-busy", busy.producerId, busy.producerEpoch, [0], 3, TOPIC, client), [
        E.NONE,
      ]);
      let found = E.NONE;
      for (let i = 0; i < 150 && found === E.NONE; i++) {
        await new Promise((r) => setTimeout(r, 100));
        found = (await describe("tx-idle", client)).errorCode;
      }
      assert.equal(found, E.TRANSACTIONAL_ID_NOT_FOUND);
      assert.equal((await describe("tx-busy", client)).transactionState, "Ongoing");
      const again = await init("tx-idle", 60_000, 4, undefined, client);
      assert.equal(again.errorCode, E.NONE);
      assert.notEqual(again.producerId, idle.producerId, "a forgotten id starts over with a new producer id");
    } finally {
      client.close();
      await t.cleanup();
    }
  },
);
