import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  createDescribeProducersRequest,
  createFetchRequest,
  createListOffsetsRequest,
  decodeRecordBatches,
  type ApiRequests,
  type ApiResponses,
} from "@tskafka/protocol";
import { FetchWaiters } from "../src/cluster/fetch-waiters.js";
import type { TopicInfo } from "../src/cluster/metadata.js";
import { ErrorCode } from "../src/errors.js";
import type { Handler, RequestContext } from "../src/handlers/handler.js";
import { HANDLERS } from "../src/handlers/index.js";
import { logConfig } from "../src/log/config.js";
import { PartitionLog } from "../src/log/partition-log.js";
import { ClientQuotas } from "../src/quota/client-quotas.js";
import { ALLOW_ALL } from "../src/security/authorizer.js";
import type { Services } from "../src/services.js";
import type { TxnMarker } from "../src/txn/marker.js";
import { batchOf } from "./log-fixtures.js";
import { tempDir, type TempDir } from "./temp.js";

/**
 * Fetch, ListOffsets and DescribeProducers over a real partition log holding transactions, calling the
 * registered handlers in process with services that hold just that log (topic "t", one partition).
 */

let root: TempDir;
let n = 0;
before(async () => {
  root = await tempDir("tskafka-txnhandlers-");
});
after(async () => {
  await root.cleanup();
});

const INFO: TopicInfo = {
  name: "t",
  id: Buffer.alloc(16, 7).toString("base64url"),
  partitions: 1,
  configs: {},
  version: 1,
};

function servicesFor(log: PartitionLog): Services {
  const partitions = {
    logOf: (topic: TopicInfo | undefined, p: number) =>
      topic === INFO && p === 0 ? log : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    partitionLog: (name: string, p: number) => (name === "t" && p === 0 ? log : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
  };
  const metadata = {
    topic: (name: string) => (name === "t" ? INFO : undefined),
    topicById: (id: string) => (id === INFO.id ? INFO : undefined),
  };
  const logger = { enabled: () => false, debug: () => undefined };
  const fetchWaiters = new FetchWaiters();
  const quotas = new ClientQuotas(11, 1);
  // The one replica leads at epoch 0, as on a single node.
  const replication = { leaderError: () => ErrorCode.NONE, leaderEpoch: () => 0 };
  return {
    partitions,
    metadata,
    fetchWaiters,
    log: logger,
    authorizer: ALLOW_ALL,
    quotas,
    replication,
  } as unknown as Services;
}

async function call<K extends keyof ApiRequests & keyof ApiResponses>(
  services: Services,
  apiKey: K,
  apiVersion: number,
  request: ApiRequests[K],
): Promise<ApiResponses[K]> {
  const handler = HANDLERS.find((h) => h.apiKey === apiKey) as Handler<K> | undefined;
  assert.ok(handler !== undefined, `no handler for API ${apiKey}`);
  assert.ok(apiVersion >= handler.minVersion && apiVersion <= handler.maxVersion);
  const ctx = { services, apiVersion, clientId: null, remote: "test", closed: new Promise<void>(() => undefined) };
  const response = await handler.handle(request, ctx as unknown as RequestContext);
  assert.ok(response !== null);
  return response;
}

/** Records a second older than the markers, which are stamped when written: the max timestamp is a marker's. */
const stamp = () => Date.now() - 1000;
const plain = (count: number, prefix = "v") => batchOf(count, prefix, 0, { timestamp: stamp() });
const txn = (pid: bigint, seq: number, count = 2) =>
  batchOf(count, `t${pid}`, 0, {
    timestamp: stamp(),
    producerId: pid,
    producerEpoch: 0,
    baseSequence: seq,
    transactional: true,
  });
const marker = (pid: bigint, committed: boolean, coordinatorEpoch = 0): TxnMarker => ({
  producerId: pid,
  producerEpoch: 0,
  committed,
  coordinatorEpoch,
});

/** 0-1 txn of producer 1 (aborted at 5), 2 plain, 3-4 txn of producer 2 (open), 6 plain: LSO 3, HW 7. */
async function openLog(): Promise<PartitionLog> {
  const log = await PartitionLog.open(join(root.dir, `p-${n++}`), logConfig());
  for (const records of [txn(1n, 0), plain(1), txn(2n, 0)]) assert.equal((await log.append(records)).errorCode, 0);
  assert.equal((await log.appendMarker(marker(1n, false, 4))).errorCode, 0);
  assert.equal((await log.append(plain(1))).errorCode, 0);
  return log;
}

function fetchRequest(isolationLevel: number, fetchOffset: bigint, wait = { minBytes: 0, maxWaitMs: 0 }) {
  return createFetchRequest({
    ...wait,
    isolationLevel,
    topics: [
      {
        topic: "t",
        topicId: INFO.id,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 1 << 20,
            replicaDirectoryId: "AAAAAAAAAAAAAAAAAAAAAA",
            highWatermark: -1n,
          },
        ],
      },
    ],
  });
}

function offsetsOf(records: Buffer | null): bigint[] {
  return decodeRecordBatches(records ?? Buffer.alloc(0)).map((b) => b.baseOffset);
}

describe("Fetch with isolation levels", () => {
  it("read_committed stops at the LSO and lists aborted transactions; read_uncommitted gets null there", async () => {
    const log = await openLog();
    const services = servicesFor(log);
    for (const version of [4, 11, 12, 16]) {
      const rc = (await call(services, 1, version, fetchRequest(1, 0n))).responses[0]?.partitions[0];
      assert.ok(rc !== undefined);
      assert.equal(rc.errorCode, ErrorCode.NONE);
      assert.deepEqual(offsetsOf(rc.records), [0n, 2n], `v${version}`);
      assert.equal(rc.lastStableOffset, 3n);
      assert.equal(rc.highWatermark, 7n);
      assert.deepEqual(
        rc.abortedTransactions?.map((a) => [a.producerId, a.firstOffset]),
        [[1n, 0n]],
      );
      const ru = (await call(services, 1, version, fetchRequest(0, 0n))).responses[0]?.partitions[0];
      assert.deepEqual(offsetsOf(ru?.records ?? null), [0n, 2n, 3n, 5n, 6n]);
      assert.equal(ru?.abortedTransactions, null);
      assert.equal(ru?.lastStableOffset, 3n);
    }
    await log.close();
  });

  it("a read_committed fetch waiting for MinBytes wakes when a marker moves the LSO", async () => {
    const log = await openLog();
    const services = servicesFor(log);
    const started = Date.now();
    const waiting = call(services, 1, 11, fetchRequest(1, 3n, { minBytes: 1, maxWaitMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 100));
    // As the marker writer does after appending a marker: notify the partition's waiters.
    assert.equal((await log.appendMarker(marker(2n, true))).errorCode, 0);
    services.fetchWaiters.notify("t", 0);
    const p = (await waiting).responses[0]?.partitions[0];
    assert.ok(Date.now() - started < 10_000, "woken, not timed out");
    assert.deepEqual(offsetsOf(p?.records ?? null), [3n, 5n, 6n, 7n]);
    assert.equal(p?.lastStableOffset, 8n);
    assert.deepEqual(p?.abortedTransactions, [{ producerId: 1n, firstOffset: 0n }]);
    await log.close();
  });
});

describe("ListOffsets and DescribeProducers", () => {
  it("latest is the LSO under read_committed (v2+), and timestamp lookups stop there", async () => {
    const log = await openLog();
    const services = servicesFor(log);
    const latest = async (version: number, isolationLevel: number, timestamp = -1n) => {
      const request = createListOffsetsRequest({
        replicaId: -1,
        isolationLevel,
        topics: [
          { name: "t", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] },
        ],
      });
      const p = (await call(services, 2, version, request)).topics[0]?.partitions[0];
      assert.equal(p?.errorCode, ErrorCode.NONE);
      return p?.offset;
    };
    assert.equal(await latest(1, 0), 7n);
    assert.equal(await latest(1, 1), 7n, "v1 has no isolation level");
    assert.equal(await latest(2, 0), 7n);
    assert.equal(await latest(2, 1), 3n);
    assert.equal(await latest(11, 1), 3n);
    // Every record has about the same timestamp: the first at or after it is offset 0, below the LSO.
    assert.equal(await latest(5, 1, 0n), 0n);
    // The max timestamp is the marker's, at offset 5: past the LSO under read_committed.
    assert.equal(await latest(7, 1, -3n), -1n);
    assert.equal((await latest(7, 0, -3n)) !== -1n, true);
    await log.close();
  });

  it("DescribeProducers lists each producer with its open transaction", async () => {
    const log = await openLog();
    const services = servicesFor(log);
    const request = createDescribeProducersRequest({
      topics: [
        { name: "t", partitionIndexes: [0, 1] },
        { name: "missing", partitionIndexes: [0] },
      ],
    });
    const response = await call(services, 61, 0, request);
    const [p0, p1] = response.topics[0]?.partitions ?? [];
    assert.equal(p0?.errorCode, ErrorCode.NONE);
    const byId = new Map(p0?.activeProducers.map((s) => [s.producerId, s]));
    assert.equal(byId.get(1n)?.currentTxnStartOffset, -1n);
    assert.equal(byId.get(1n)?.coordinatorEpoch, 4);
    assert.equal(byId.get(1n)?.lastSequence, 1);
    assert.equal(byId.get(2n)?.currentTxnStartOffset, 3n);
    assert.equal(byId.get(2n)?.coordinatorEpoch, -1);
    assert.ok((byId.get(2n)?.lastTimestamp ?? -1n) > 0n);
    assert.equal(p1?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(response.topics[1]?.partitions[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await log.close();
  });
});
