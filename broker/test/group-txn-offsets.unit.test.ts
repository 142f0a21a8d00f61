import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, beforeEach, mock, test } from "node:test";
import { BatchAttributes, decodeRecordBatches, isControlBatch } from "@tskafka/protocol";
import { buildConfig } from "../src/config.js";
import { ErrorCode } from "../src/errors.js";
import { GroupCoordinator, type CoordinatorTopic, type TxnCommitRequest } from "../src/group/coordinator.js";
import type { ConsumerOffsetGroup } from "../src/group/offset-store.js";
import { OFFSETS_TOPIC, OffsetsTopic } from "../src/group/offsets-topic.js";
import { decodeRecord, type DecodedRecord } from "../src/group/records.js";
import { validateTxnCommit } from "../src/group/txn-offsets.js";
import { logConfig } from "../src/log/config.js";
import { PartitionLog } from "../src/log/partition-log.js";
import { Logger } from "../src/logger.js";
import type { TxnMarker } from "../src/txn/marker.js";
import { FakeClassicGroup, fakeMetadata } from "./group-fakes.js";
import { withTempDir } from "./temp.js";

/**
 * Transactional offset commits in the group coordinator: staged per producer and invisible until the
 * transaction's marker, made visible (in log order) or dropped by it, held back from expiry, removed by
 * tombstones; TxnOffsetCommit's group checks by version; and, over real partition logs, the transactional
 * batches and markers on `__consumer_offsets` and their replay at start-up.
 */

const T0 = 1_700_000_000_000;
const RETENTION_MS = 60_000;

const quiet = new Logger("error");
const config = () =>
  buildConfig({
    port: 0,
    file: new Map([
      ["offsets.retention.minutes", String(RETENTION_MS / 60_000)],
      ["offsets.topic.num.partitions", "2"],
    ]),
  });

interface Written {
  groupId: string;
  records: DecodedRecord[];
  producer: { id: bigint; epoch: number } | null;
}

/** A `__consumer_offsets` that keeps what it is given; groups named `p1-...` are on partition 1. */
function fakeTopic() {
  const written: Written[] = [];
  const markers: { partition: number; marker: TxnMarker }[] = [];
  const state = { errorCode: ErrorCode.NONE as number, markerError: ErrorCode.NONE as number };
  const keep = (
    groupId: string,
    records: readonly { key: Buffer; value: Buffer | null }[],
    producer: Written["producer"],
  ) => {
    written.push({ groupId, records: records.map((r) => decodeRecord(r.key, r.value)!), producer });
    return Promise.resolve(state.errorCode);
  };
  const topic: CoordinatorTopic = {
    partitions: 2,
    partitionFor: (groupId) => (groupId.startsWith("p1-") ? 1 : 0),
    ensureCreated: () => Promise.resolve(),
    append: (groupId, records) => keep(groupId, records, null),
    appendTxn: (groupId, records, id, epoch) => keep(groupId, records, { id, epoch }),
    appendMarker: (partition, marker) => {
      markers.push({ partition, marker });
      return Promise.resolve(state.markerError);
    },
    load: () => Promise.resolve(0),
  };
  return { topic, written, markers, state };
}

function setup() {
  const fake = fakeTopic();
  const coordinator = new GroupCoordinator(
    { config: config(), log: quiet, metadata: fakeMetadata({ t: 2 }) },
    fake.topic,
  );
  return { coordinator, ...fake };
}

function txn(
  groupId: string,
  producerId: bigint,
  offsets: [partition: number, offset: bigint][],
  more: Partial<TxnCommitRequest> = {},
): TxnCommitRequest {
  return {
    transactionalId: `tx-${producerId}`,
    groupId,
    producerId,
    producerEpoch: 0,
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    topics: [
      {
        name: "t",
        partitions: offsets.map(([partitionIndex, committedOffset]) => ({
          partitionIndex,
          committedOffset,
          committedLeaderEpoch: 4,
          committedMetadata: "m",
        })),
      },
    ],
    apiVersion: 3,
    ...more,
  };
}

const codes = (r: { partitions: { errorCode: number }[] }[]) => r.flatMap((t) => t.partitions.map((p) => p.errorCode));
const marker = (producerId: bigint, committed: boolean, producerEpoch = 0): TxnMarker => ({
  producerId,
  producerEpoch,
  committed,
  coordinatorEpoch: 0,
});

function fetched(c: GroupCoordinator, groupId: string, requireStable = false) {
  const r = c.fetchOffsets(groupId, [{ name: "t", partitionIndexes: [0, 1] }], null, requireStable);
  return r.topics[0]!.partitions.map((p) => [p.committedOffset, p.errorCode]);
}

beforeEach(() => mock.timers.enable({ apis: ["Date"], now: T0 }));
afterEach(() => mock.timers.reset());

test("staged offsets are invisible until the COMMIT marker; requireStable answers UNSTABLE_OFFSET_COMMIT", async () => {
  const { coordinator, written, markers } = setup();
  const r = await coordinator.commitTxnOffsets(
    txn(
      "g",
      7n,
      [
        [0, 10n],
        [1, 11n],
      ],
      { producerEpoch: 3 },
    ),
  );
  assert.deepEqual(codes(r), [0, 0]);
  assert.equal(written.length, 1, "one write");
  assert.deepEqual(written[0]!.producer, { id: 7n, epoch: 3 }, "a transactional batch of the producer");
  const rec = written[0]!.records[0]!;
  assert.ok(rec.type === "offset" && rec.value?.offset === 10n && rec.value.expireTimestamp === -1n);
  assert.equal(coordinator.group("g")?.kind, "classic", "a simple group");
  assert.deepEqual(
    fetched(coordinator, "g"),
    [
      [-1n, 0],
      [-1n, 0],
    ],
    "invisible",
  );
  assert.deepEqual(fetched(coordinator, "g", true), [
    [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT],
    [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT],
  ]);
  assert.equal(await coordinator.completeTransaction(0, marker(7n, true, 3)), ErrorCode.NONE);
  assert.deepEqual(markers, [{ partition: 0, marker: marker(7n, true, 3) }]);
  assert.deepEqual(
    fetched(coordinator, "g", true),
    [
      [10n, 0],
      [11n, 0],
    ],
    "committed",
  );
  const all = coordinator.fetchOffsets("g", null, null, true).topics[0]!.partitions[0]!;
  assert.deepEqual([all.committedOffset, all.committedLeaderEpoch, all.metadata], [10n, 4, "m"]);
});

test("ABORT drops the producer's staged offsets; a failed marker changes nothing", async () => {
  const { coordinator, state } = setup();
  await coordinator.commitTxnOffsets(txn("g", 7n, [[0, 10n]]));
  state.markerError = ErrorCode.NOT_ENOUGH_REPLICAS;
  assert.equal(await coordinator.completeTransaction(0, marker(7n, true)), ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.deepEqual(fetched(coordinator, "g", true)[0], [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT], "still staged");
  state.markerError = ErrorCode.NONE;
  assert.equal(await coordinator.completeTransaction(0, marker(7n, false)), ErrorCode.NONE);
  assert.deepEqual(
    fetched(coordinator, "g", true),
    [
      [-1n, 0],
      [-1n, 0],
    ],
    "dropped",
  );
  // A second marker for the same producer finds nothing (and is still written).
  assert.equal(await coordinator.completeTransaction(0, marker(7n, true)), ErrorCode.NONE);
  assert.deepEqual(fetched(coordinator, "g"), [
    [-1n, 0],
    [-1n, 0],
  ]);
});

test("a marker completes only the groups of its partition, and only its producer's offsets", async () => {
  const { coordinator } = setup();
  await coordinator.commitTxnOffsets(txn("g", 7n, [[0, 10n]]));
  await coordinator.commitTxnOffsets(txn("p1-g", 7n, [[0, 20n]]));
  await coordinator.commitTxnOffsets(txn("g", 8n, [[1, 30n]]));
  await coordinator.completeTransaction(1, marker(7n, true));
  assert.deepEqual(fetched(coordinator, "p1-g", true)[0], [20n, 0]);
  assert.deepEqual(fetched(coordinator, "g", true)[0], [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT], "other partition");
  await coordinator.completeTransaction(0, marker(7n, true));
  assert.deepEqual(fetched(coordinator, "g", true), [
    [10n, 0],
    [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT],
  ]);
});

test("a commit replaces only offsets written before it (log order), as Kafka compares record offsets", async () => {
  const { coordinator } = setup();
  const plain = (partition: number, offset: bigint) =>
    coordinator.commitOffsets({
      groupId: "g",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      retentionTimeMs: -1n,
      apiVersion: 8,
      topics: [
        {
          name: "t",
          partitions: [
            { partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
  await coordinator.commitTxnOffsets(txn("g", 1n, [[0, 10n]]));
  await plain(0, 20n);
  await coordinator.completeTransaction(0, marker(1n, true));
  assert.deepEqual(fetched(coordinator, "g")[0], [20n, 0], "the later plain commit stays");
  await coordinator.commitTxnOffsets(txn("g", 2n, [[1, 5n]]));
  await coordinator.commitTxnOffsets(txn("g", 3n, [[1, 7n]]));
  await coordinator.completeTransaction(0, marker(3n, true));
  await coordinator.completeTransaction(0, marker(2n, true));
  assert.deepEqual(fetched(coordinator, "g")[1], [7n, 0], "the later transactional write wins");
  await coordinator.commitTxnOffsets(txn("g", 4n, [[0, 30n]]));
  await coordinator.completeTransaction(0, marker(4n, true));
  assert.deepEqual(fetched(coordinator, "g")[0], [30n, 0]);
});

test("TxnOffsetCommit's checks: group id, unknown partitions, metadata size, write errors, the optional verification", async () => {
  const { coordinator, state, written } = setup();
  assert.deepEqual(codes(await coordinator.commitTxnOffsets(txn("", 1n, [[0, 1n]]))), [ErrorCode.INVALID_GROUP_ID]);
  const r = await coordinator.commitTxnOffsets({
    ...txn("g", 1n, [[5, 1n]]),
    topics: [
      {
        name: "t",
        partitions: [{ partitionIndex: 5, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }],
      },
      {
        name: "nope",
        partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }],
      },
    ],
    generationIdOrMemberEpoch: 3,
  });
  assert.deepEqual(codes(r), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  assert.equal(coordinator.group("g"), undefined, "nothing valid: the group is not looked at");
  const big = txn("g", 1n, [[0, 1n]]);
  big.topics[0]!.partitions[0]!.committedMetadata = "x".repeat(5000);
  assert.deepEqual(codes(await coordinator.commitTxnOffsets(big)), [ErrorCode.OFFSET_METADATA_TOO_LARGE]);
  assert.equal(written.length, 0);
  state.errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
  assert.deepEqual(codes(await coordinator.commitTxnOffsets(txn("g", 1n, [[0, 1n]]))), [
    ErrorCode.INVALID_PRODUCER_EPOCH,
  ]);
  assert.deepEqual(fetched(coordinator, "g", true)[0], [-1n, 0], "nothing staged after a failed write");

  const asked: [string, number][] = [];
  const fake = fakeTopic();
  const verified = new GroupCoordinator(
    {
      config: config(),
      log: quiet,
      metadata: fakeMetadata({ t: 2 }),
      verifyTxnOffsetCommit: (req, partition) => {
        asked.push([req.transactionalId, partition]);
        return Promise.resolve(req.apiVersion >= 5 ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE);
      },
    },
    fake.topic,
  );
  assert.deepEqual(codes(await verified.commitTxnOffsets(txn("p1-g", 9n, [[0, 1n]]))), [ErrorCode.INVALID_TXN_STATE]);
  assert.equal(fake.written.length, 0, "not written when the transaction coordinator refuses");
  assert.deepEqual(codes(await verified.commitTxnOffsets(txn("p1-g", 9n, [[0, 1n]], { apiVersion: 5 }))), [0]);
  assert.deepEqual(asked, [
    ["tx-9", 1],
    ["tx-9", 1],
  ]);
});

test("group checks by version: classic generations and members, KIP-848 member epochs", () => {
  const groups = new Map<string, FakeClassicGroup | ConsumerOffsetGroup>();
  const host = {
    group: (id: string) => groups.get(id),
    createSimpleGroup: (id: string) => void groups.set(id, new FakeClassicGroup(id)),
  };
  const check = (groupId: string, more: Partial<TxnCommitRequest>) =>
    validateTxnCommit(host, txn(groupId, 1n, [], more));
  assert.equal(check("new", { generationIdOrMemberEpoch: 2 }), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(check("new", { generationIdOrMemberEpoch: 2, apiVersion: 6 }), ErrorCode.GROUP_ID_NOT_FOUND);
  assert.equal(groups.size, 0);
  assert.equal(check("new", {}), ErrorCode.NONE);
  assert.equal(groups.get("new")?.kind, "classic", "a simple group");

  const classic = new FakeClassicGroup("c");
  classic.state = "CompletingRebalance";
  classic.generationId = 4;
  classic.members.set("m1", "i1");
  groups.set("c", classic);
  assert.equal(check("c", { generationIdOrMemberEpoch: 4, memberId: "m1" }), ErrorCode.NONE, "no rebalance check");
  assert.equal(check("c", {}), ErrorCode.NONE, "no member named: accepted (old producers name none)");
  assert.equal(check("c", { generationIdOrMemberEpoch: 3, memberId: "m1" }), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(check("c", { generationIdOrMemberEpoch: 4, memberId: "m2" }), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(
    check("c", { generationIdOrMemberEpoch: 4, memberId: "m2", groupInstanceId: "i1" }),
    ErrorCode.FENCED_INSTANCE_ID,
  );
  assert.equal(check("c", { memberId: "m1" }), ErrorCode.ILLEGAL_GENERATION, "a member without its generation");
  classic.state = "Dead";
  assert.equal(check("c", {}), ErrorCode.COORDINATOR_NOT_AVAILABLE);

  const consumer: ConsumerOffsetGroup = {
    kind: "consumer",
    state: "Stable",
    members: { size: 1 },
    validateMemberEpoch: (memberId, epoch) =>
      memberId !== "m1"
        ? ErrorCode.UNKNOWN_MEMBER_ID
        : epoch === 5
          ? ErrorCode.NONE
          : epoch > 5
            ? ErrorCode.FENCED_MEMBER_EPOCH
            : ErrorCode.STALE_MEMBER_EPOCH,
    subscribedTopics: () => new Set(["t"]),
  };
  groups.set("k", consumer);
  assert.equal(check("k", { generationIdOrMemberEpoch: 5, memberId: "m1" }), ErrorCode.NONE);
  assert.equal(check("k", {}), ErrorCode.NONE, "no member named");
  assert.equal(check("k", { generationIdOrMemberEpoch: 5, memberId: "m9" }), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(check("k", { generationIdOrMemberEpoch: 4, memberId: "m1" }), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(
    check("k", { generationIdOrMemberEpoch: 6, memberId: "m1", apiVersion: 5 }),
    ErrorCode.ILLEGAL_GENERATION,
  );
  assert.equal(
    check("k", { generationIdOrMemberEpoch: 4, memberId: "m1", apiVersion: 6 }),
    ErrorCode.STALE_MEMBER_EPOCH,
  );
});

test("open transactions hold back expiry; tombstones (OffsetDelete, DeleteGroups) drop staged offsets", async () => {
  const { coordinator, written } = setup();
  await coordinator.commitOffsets({
    groupId: "g",
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    retentionTimeMs: -1n,
    apiVersion: 8,
    topics: [
      {
        name: "t",
        partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }],
      },
    ],
  });
  await coordinator.commitTxnOffsets(txn("g", 1n, [[0, 5n]]));
  await coordinator.commitTxnOffsets(txn("h", 2n, [[1, 6n]]));
  assert.equal(await coordinator.expireOffsets(T0 + 10 * RETENTION_MS), 0, "nothing expires under an open transaction");
  assert.ok(coordinator.group("g") !== undefined && coordinator.group("h") !== undefined, "groups kept");
  await coordinator.completeTransaction(0, marker(1n, false));
  assert.equal(await coordinator.expireOffsets(T0 + 10 * RETENTION_MS), 1);
  assert.equal(coordinator.group("g"), undefined, "then the group goes");

  const deleted = await coordinator.deleteOffsets("h", [{ name: "t", partitions: [{ partitionIndex: 1 }] }]);
  assert.deepEqual(codes(deleted.topics), [0]);
  const tomb = written.at(-1)!.records[0]!;
  assert.ok(tomb.type === "offset" && tomb.partition === 1 && tomb.value === null, "a tombstone for the staged offset");
  assert.deepEqual(fetched(coordinator, "h", true)[1], [-1n, 0], "staged offset gone");
  await coordinator.completeTransaction(0, marker(2n, true));
  assert.deepEqual(fetched(coordinator, "h")[1], [-1n, 0], "not resurrected by the commit");

  await coordinator.commitTxnOffsets(txn("h", 3n, [[0, 8n]]));
  assert.equal(await coordinator.deleteGroup("h"), ErrorCode.NONE);
  const records = written.at(-1)!.records;
  assert.deepEqual(
    records.map((r) => [r.type, r.type === "offset" ? r.partition : null, r.value]),
    [
      ["offset", 0, null],
      ["group", null, null],
    ],
  );
  await coordinator.completeTransaction(0, marker(3n, true));
  assert.equal(coordinator.group("h"), undefined, "a deleted group stays deleted");
  assert.deepEqual(fetched(coordinator, "h"), [
    [-1n, 0],
    [-1n, 0],
  ]);
});

// --- over real partition logs ---

/** A coordinator on a real OffsetsTopic whose two partitions are logs under `dir`. */
async function realCoordinator(dir: string) {
  const logs = new Map<number, PartitionLog>();
  const offsetsInfo = { name: OFFSETS_TOPIC, id: "AAAAAAAAAAAAAAAAAAAAAQ", partitions: 2, configs: {}, version: 1 };
  const meta = fakeMetadata({ t: 2 });
  const metadata = { ...meta, topic: (name: string) => (name === OFFSETS_TOPIC ? offsetsInfo : meta.topic(name)) };
  const open = async (p: number) => {
    let log = logs.get(p);
    if (log === undefined)
      logs.set(p, (log = await PartitionLog.open(join(dir, `${OFFSETS_TOPIC}-${p}`), logConfig())));
    return log;
  };
  for (const p of [0, 1]) await open(p);
  const cfg = config();
  const topic = new OffsetsTopic({
    config: cfg,
    log: quiet,
    metadata,
    topics: { create: () => Promise.resolve(ErrorCode.NONE) },
    logs: { get: (_t, p) => logs.get(p), getOrCreate: (_t, p) => open(p) },
    fetchWaiters: { notify: () => undefined },
  });
  const coordinator = new GroupCoordinator({ config: cfg, log: quiet, metadata }, topic);
  await coordinator.load();
  const close = async () => {
    await coordinator.flush();
    for (const log of logs.values()) await log.close();
  };
  return { coordinator, topic, logs, close };
}

/** Each stored batch: marker or offsets, producer id and epoch, transactional attribute. */
async function batchShapes(log: PartitionLog) {
  const read = await log.read(0n, 1 << 20, { minOneBatch: true });
  return decodeRecordBatches(read.records).map((b) => [
    isControlBatch(b) ? "marker" : "offsets",
    b.producerId,
    b.producerEpoch,
    (b.attributes & BatchAttributes.transactional) !== 0,
  ]);
}

test("on real logs: one transactional batch per commit, markers, fencing by epoch, and the replay at start-up", async () => {
  mock.timers.reset();
  await withTempDir("tskafka-txn-offsets-", async (dir) => {
    let { coordinator, topic, logs, close } = await realCoordinator(dir);
    const p = topic.partitionFor("g");
    const ok = async (req: TxnCommitRequest) => assert.deepEqual(codes(await coordinator.commitTxnOffsets(req)), [0]);
    await ok(txn("g", 100n, [[0, 10n]]));
    await ok(txn("g", 100n, [[0, 12n]]));
    await ok(txn("g", 101n, [[1, 20n]]));
    await ok(txn("g", 102n, [[1, 30n]]));
    assert.equal(await coordinator.completeTransaction(p, marker(100n, true)), ErrorCode.NONE);
    assert.equal(await coordinator.completeTransaction(p, marker(102n, false)), ErrorCode.NONE);
    // A bumped epoch starts a new transaction; the old epoch is fenced by the log.
    await ok(txn("g", 100n, [[0, 14n]], { producerEpoch: 1 }));
    const fenced = await coordinator.commitTxnOffsets(txn("g", 100n, [[0, 99n]]));
    assert.deepEqual(codes(fenced), [ErrorCode.INVALID_PRODUCER_EPOCH]);
    assert.deepEqual(fetched(coordinator, "g", true), [
      [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT],
      [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT],
    ]);
    assert.deepEqual(fetched(coordinator, "g"), [
      [12n, 0],
      [-1n, 0],
    ]);

    const shape = await batchShapes(logs.get(p)!);
    assert.deepEqual(shape, [
      ["offsets", 100n, 0, true],
      ["offsets", 100n, 0, true],
      ["offsets", 101n, 0, true],
      ["offsets", 102n, 0, true],
      ["marker", 100n, 0, true],
      ["marker", 102n, 0, true],
      ["offsets", 100n, 1, true],
    ]);
    await close();

    ({ coordinator, topic, logs, close } = await realCoordinator(dir));
    assert.deepEqual(
      fetched(coordinator, "g"),
      [
        [12n, 0],
        [-1n, 0],
      ],
      "the committed transaction, once",
    );
    assert.deepEqual(
      fetched(coordinator, "g", true),
      [
        [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT],
        [-1n, ErrorCode.UNSTABLE_OFFSET_COMMIT],
      ],
      "staged without a marker: still staged",
    );
    assert.equal(coordinator.group("g")?.kind, "classic");
    assert.equal(await coordinator.completeTransaction(p, marker(101n, true)), ErrorCode.NONE);
    assert.equal(await coordinator.completeTransaction(p, marker(100n, true, 1)), ErrorCode.NONE);
    assert.deepEqual(
      fetched(coordinator, "g", true),
      [
        [14n, 0],
        [20n, 0],
      ],
      "102 was aborted",
    );
    await close();

    ({ coordinator, close } = await realCoordinator(dir));
    assert.deepEqual(fetched(coordinator, "g", true), [
      [14n, 0],
      [20n, 0],
    ]);
    await close();
  });
});
