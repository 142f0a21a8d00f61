import assert from "node:assert/strict";
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BatchAttributes, buildRecordBatch, decodeRecordBatches, readControlRecordKey } from "@tskafka/protocol";
import type { BuildBatchOptions, RecordBatch, SimpleRecord } from "@tskafka/protocol";
import { LogCleaner } from "../src/log/cleaner.js";
import { logConfig } from "../src/log/config.js";
import type { LogConfig } from "../src/log/config.js";
import { ErrorCode } from "../src/log/errors.js";
import { CHECKPOINT_FILE, CLEAN_SHUTDOWN_FILE, PartitionLog } from "../src/log/partition-log.js";
import type { AppendResult } from "../src/log/partition-log.js";
import type { TxnMarker } from "../src/txn/marker.js";
import { allBatches } from "./log-fixtures.js";
import { tempDir, type TempDir } from "./temp.js";

/**
 * Compaction of transactional data, over PartitionLog and the cleaner: aborted records removed, committed
 * ones compacted, nothing at or past the last stable offset cleaned, markers removed only once their data
 * is gone and delete.retention.ms has passed, read_committed results unchanged, and a restart (clean or
 * recovering every segment) rebuilding the same producer state, LSO and aborted transactions.
 */

let root: TempDir;
let n = 0;
before(async () => {
  root = await tempDir("tskafka-cleaner-txn-");
});
after(async () => {
  await root.cleanup();
});

const RETENTION_MS = 60_000;
const config: LogConfig = logConfig({
  segmentBytes: 1024,
  indexIntervalBytes: 128,
  cleanupPolicy: "compact",
  fileDeleteDelayMs: 0,
  deleteRetentionMs: RETENTION_MS,
});

function partitionDir(): string {
  return join(root.dir, `p-${n++}`);
}

async function ok(pending: Promise<AppendResult>): Promise<AppendResult> {
  const r = await pending;
  assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? "");
  return r;
}

/** Records stamped now (markers are stamped with the time they are written). */
function batch(records: Record<string, string | null>, options: BuildBatchOptions = {}): Buffer {
  const list: SimpleRecord[] = Object.entries(records).map(([key, value]) => ({ key, value }));
  return buildRecordBatch(list, { timestamp: Date.now(), ...options });
}

function plain(log: PartitionLog, records: Record<string, string | null>): Promise<AppendResult> {
  return ok(log.append(batch(records)));
}

/** A transactional batch of `pid`; its sequence follows the producer's last one. */
const sequences = new Map<string, number>();
function txn(log: PartitionLog, pid: bigint, records: Record<string, string | null>, epoch = 0): Promise<AppendResult> {
  const id = `${log.dir}/${pid}/${epoch}`;
  const seq = sequences.get(id) ?? 0;
  sequences.set(id, seq + Object.keys(records).length);
  return ok(
    log.append(batch(records, { producerId: pid, producerEpoch: epoch, baseSequence: seq, transactional: true })),
  );
}

function end(log: PartitionLog, pid: bigint, committed: boolean, epoch = 0, transactionVersion = 0) {
  const marker: TxnMarker = { producerId: pid, producerEpoch: epoch, committed, coordinatorEpoch: 0 };
  return ok(log.appendMarker(marker, { transactionVersion }));
}

/** Plain records over keys f0..f2 until the log has rolled `segments` more times. */
async function filler(log: PartitionLog, segments = 3): Promise<void> {
  const target = log.segmentCount + segments;
  for (let i = 0; log.segmentCount < target; i++) await plain(log, { [`f${i % 3}`]: `fill-${i}`.padEnd(60, ".") });
}

interface Consumed {
  offset: bigint;
  key: string | null;
  value: string | null;
}

/**
 * What a read_committed consumer gets from the log start up to the LSO, filtering as Kafka's fetcher does
 * with the aborted transactions each fetch lists: a transactional batch of a producer with an aborted
 * transaction started at or before it is skipped until that producer's ABORT marker.
 */
async function consumeCommitted(log: PartitionLog): Promise<{ records: Consumed[]; end: bigint }> {
  const records: Consumed[] = [];
  const aborting = new Set<bigint>();
  let offset = log.logStartOffset;
  for (;;) {
    const r = await log.read(offset, 300, { minOneBatch: true, isolation: "read_committed" });
    assert.equal(r.errorCode, ErrorCode.NONE);
    const batches = decodeRecordBatches(r.records);
    if (batches.length === 0) break;
    const pending = [...r.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
    for (const b of batches) {
      const last = b.baseOffset + BigInt(b.lastOffsetDelta);
      offset = last + 1n;
      while (pending.length > 0 && (pending[0]?.firstOffset ?? last + 1n) <= last)
        aborting.add((pending.shift() as { producerId: bigint }).producerId);
      if ((b.attributes & BatchAttributes.control) !== 0) {
        const record = b.records[0];
        if (record !== undefined && readControlRecordKey(record.key).type === 0) aborting.delete(b.producerId);
        continue;
      }
      if ((b.attributes & BatchAttributes.transactional) !== 0 && aborting.has(b.producerId)) continue;
      for (const rec of b.records) {
        records.push({
          offset: b.baseOffset + BigInt(rec.offsetDelta),
          key: rec.key?.toString() ?? null,
          value: rec.value?.toString() ?? null,
        });
      }
    }
  }
  return { records, end: offset };
}

function latest(records: Consumed[]): Map<string | null, string | null> {
  const m = new Map<string | null, string | null>();
  for (const r of records) m.set(r.key, r.value);
  return m;
}

/** Every kept record was the one at its offset before, and the latest value of each key is unchanged. */
function assertSameCommitted(before: Consumed[], after: Consumed[]): void {
  assert.deepEqual(latest(after), latest(before));
  const byOffset = new Map(before.map((r) => [r.offset, r]));
  for (const r of after) assert.deepEqual(r, byOffset.get(r.offset), `record at ${r.offset}`);
}

function markers(batches: RecordBatch[]): { offset: bigint; pid: bigint; horizon: boolean }[] {
  return batches
    .filter((b) => (b.attributes & BatchAttributes.control) !== 0)
    .map((b) => ({
      offset: b.baseOffset,
      pid: b.producerId,
      horizon: (b.attributes & BatchAttributes.deleteHorizon) !== 0,
    }));
}

function txnIndexEntries(log: PartitionLog): string[] {
  return log.abortedTransactionsIn(0n, log.logEndOffset).map((t) => `${t.producerId}@${t.firstOffset}-${t.lastOffset}`);
}

/** The aborted transactions as (producer, marker offset): what a rebuild must agree on. */
function abortMarkersIndexed(log: PartitionLog): string[] {
  return log.abortedTransactionsIn(0n, log.logEndOffset).map((t) => `${t.producerId}@${t.lastOffset}`);
}

function producerView(log: PartitionLog) {
  return log
    .activeProducers()
    .map((p) => ({ pid: p.producerId, epoch: p.producerEpoch, seq: p.lastSequence, txn: p.currentTxnStartOffset }))
    .sort((a, b) => (a.pid < b.pid ? -1 : 1));
}

/**
 * Committed, aborted and interleaved transactions over keys a..e between plain records, then filler so
 * that all of it lies in closed segments.
 */
async function mixedLog(log: PartitionLog): Promise<void> {
  await plain(log, { a: "p1", b: "p1" });
  await txn(log, 10n, { a: "c10-1", c: "c10-1" });
  await end(log, 10n, true);
  await txn(log, 11n, { b: "x11-1", d: "x11-1" });
  await end(log, 11n, false);
  await plain(log, { c: "p2" });
  await txn(log, 11n, { a: "x11-2" });
  await end(log, 11n, false);
  await txn(log, 10n, { d: "c10-2" });
  await end(log, 10n, true);
  await txn(log, 12n, { e: "c12" });
  await txn(log, 13n, { e: "x13", b: "x13" });
  await end(log, 12n, true);
  await end(log, 13n, false);
  await filler(log);
}

describe("compaction of transactional data", () => {
  it("removes aborted records and compacts committed ones; read_committed reads the same data", async () => {
    const log = await PartitionLog.open(partitionDir(), config);
    await mixedLog(log);
    const before = await consumeCommitted(log);
    const indexBefore = txnIndexEntries(log);
    assert.equal(indexBefore.length, 3);
    const stats = await new LogCleaner().clean(log);
    assert.ok(stats !== null && stats.cleanedTo === log.activeBaseOffset);

    const after = await consumeCommitted(log);
    assertSameCommitted(before.records, after.records);
    assert.equal(after.end, before.end);
    const expected = { a: "c10-1", b: "p1", c: "p2", d: "c10-2", e: "c12" };
    for (const [k, v] of Object.entries(expected)) assert.equal(latest(after.records).get(k), v);
    const batches = await allBatches(log);
    const values = batches.flatMap((b) => b.records.map((r) => r.value?.toString() ?? ""));
    assert.deepEqual(
      values.filter((v) => v.startsWith("x")),
      [],
      "no aborted record left, even read_uncommitted",
    );
    // Committed transactional records are compacted like any other: c10-1 of key c went, a's stayed.
    const first10 = batches.find((b) => b.producerId === 10n && (b.attributes & BatchAttributes.control) === 0);
    assert.deepEqual(
      first10?.records.map((r) => r.key?.toString()),
      ["a"],
    );
    const cleaned = after.records.filter((r) => r.offset < stats.cleanedTo);
    assert.equal(new Set(cleaned.map((r) => r.key)).size, cleaned.length, "one record per key");
    // Producers 11 and 13 keep their last batch, emptied, for their sequence numbers.
    for (const pid of [11n, 13n]) {
      const own = batches.filter((b) => b.producerId === pid && (b.attributes & BatchAttributes.control) === 0);
      assert.deepEqual(
        own.map((b) => b.records.length),
        [0],
        `producer ${pid}`,
      );
    }
    // This pass met data of every transaction: all markers and index entries stay.
    assert.equal(markers(batches).length, 6);
    assert.ok(markers(batches).every((m) => !m.horizon));
    assert.deepEqual(txnIndexEntries(log), indexBefore);
    await log.close();
  });

  it("never cleans the segment holding the last stable offset or any later one", async () => {
    const log = await PartitionLog.open(partitionDir(), config);
    for (let i = 0; i < 30; i++) await plain(log, { [`g${i % 3}`]: `old-${i}`.padEnd(40, ".") });
    const open = await txn(log, 20n, { g0: "open" });
    for (let i = 0; i < 40; i++) await plain(log, { [`g${i % 3}`]: `new-${i}`.padEnd(40, ".") });
    assert.equal(log.lastStableOffset, open.baseOffset);
    const holding = log.segmentBaseOffsets.filter((b) => b <= open.baseOffset).at(-1) as bigint;
    assert.ok(holding > 0n && log.activeBaseOffset > holding);
    const untouched = async () =>
      (await allBatches(log))
        .filter((b) => b.baseOffset >= holding)
        .map((b) => b.records.map((r) => r.value?.toString()));
    const tail = await untouched();
    const cleaner = new LogCleaner();
    const stats = await cleaner.clean(log);
    assert.ok(stats !== null);
    assert.equal(stats.cleanedTo, holding, "cleaning stops at the segment holding the LSO");
    assert.deepEqual(await untouched(), tail);
    const below = (await allBatches(log)).filter((b) => b.baseOffset < holding).flatMap((b) => b.records);
    assert.equal(below.length, 3, "below it, one record per key");
    assert.equal((await cleaner.cleanability(log)).due, false, "nothing more to clean while the transaction is open");

    await end(log, 20n, true);
    assert.ok((await cleaner.cleanability(log)).due);
    const again = await cleaner.clean(log);
    assert.equal(again?.cleanedTo, log.activeBaseOffset);
    const batches = await allBatches(log);
    const closedValues = batches
      .filter((b) => b.baseOffset < log.activeBaseOffset)
      .flatMap((b) => b.records.map((r) => r.value?.toString()));
    assert.ok(!closedValues.includes("open"), "the committed record, superseded, went");
    assert.equal(markers(batches).length, 1, "its marker stays (the pass met its batch, kept empty)");
    await log.close();
  });

  it("removes markers only once their data is gone and delete.retention.ms has passed", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, config);
    await txn(log, 40n, { m: "x40" });
    const abort = await end(log, 40n, false);
    await txn(log, 40n, { m: "c40" });
    const commit = await end(log, 40n, true);
    // Producer 40's last batch is a later idempotent one, so its markers hold no producer state.
    await ok(log.append(batch({ last40: "i40" }, { producerId: 40n, producerEpoch: 0, baseSequence: 2 })));
    // Producer 41 under transaction version 2: its marker bumps the epoch and is its last word.
    await txn(log, 41n, { m: "c41" });
    const last41 = await end(log, 41n, true, 1, 2);
    await plain(log, { m: "plain" });
    await filler(log);
    const before = await consumeCommitted(log);
    const cleaner = new LogCleaner();
    const t0 = Date.now();

    await cleaner.clean(log, t0);
    let ms = markers(await allBatches(log));
    assert.deepEqual(
      ms.map((m) => m.offset),
      [abort.baseOffset, commit.baseOffset, last41.baseOffset],
    );
    assert.ok(
      ms.every((m) => !m.horizon),
      "the first pass met their data: kept as they were",
    );
    assert.deepEqual(abortMarkersIndexed(log), [`40@${abort.baseOffset}`]);

    await cleaner.clean(log, t0 + 1000);
    ms = markers(await allBatches(log));
    assert.equal(ms.length, 3, "the pass that finds them alone keeps them, with a delete horizon");
    assert.ok(ms.every((m) => m.horizon));
    assert.deepEqual(abortMarkersIndexed(log), [], "no data of the aborted transaction: no index entry");
    assertSameCommitted(before.records, (await consumeCommitted(log)).records);

    const horizon = t0 + 1000 + RETENTION_MS;
    assert.equal((await cleaner.cleanability(log, horizon - 1)).due, false);
    assert.equal((await cleaner.cleanability(log, horizon)).due, true, "due once the horizon passed");
    await cleaner.clean(log, horizon - 1);
    assert.equal(markers(await allBatches(log)).length, 3);
    await cleaner.clean(log, horizon);
    ms = markers(await allBatches(log));
    assert.deepEqual(
      ms.map((m) => m.offset),
      [last41.baseOffset],
      "only the marker holding producer 41's epoch stays",
    );
    assert.equal((await cleaner.cleanability(log, horizon + 1)).due, false, "no cleaning again for it");
    const afterAll = await consumeCommitted(log);
    assertSameCommitted(before.records, afterAll.records);
    await log.close();

    // A restart that recovers every segment finds no transaction left open.
    await unlink(join(dir, CLEAN_SHUTDOWN_FILE));
    await unlink(join(dir, CHECKPOINT_FILE));
    const reopened = await PartitionLog.open(dir, config);
    assert.equal(reopened.lastStableOffset, reopened.logEndOffset);
    assert.deepEqual(reopened.ongoingTransactions(), []);
    assert.equal(reopened.producerState.producers.get(41n)?.epoch, 1);
    assert.equal(reopened.producerState.producers.get(40n)?.batches.at(-1)?.lastSeq, 2);
    assert.deepEqual((await consumeCommitted(reopened)).records, afterAll.records);
    await reopened.close();
  });

  it("a restart after cleaning rebuilds producer state, LSO and aborted transactions alike", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, config);
    await mixedLog(log);
    // An idempotent producer and a transaction left open past the cleaned part.
    await ok(log.append(batch({ i: "i1" }, { producerId: 50n, producerEpoch: 2, baseSequence: 0 })));
    const i2 = await ok(log.append(batch({ i: "i2" }, { producerId: 50n, producerEpoch: 2, baseSequence: 1 })));
    await filler(log, 2);
    await txn(log, 60n, { o: "open" });
    await filler(log, 2);
    const cleaner = new LogCleaner();
    assert.ok((await cleaner.clean(log)) !== null);
    await cleaner.clean(log, Date.now() + 1000); // markers now alone get their horizon
    const state = {
      producers: producerView(log),
      lso: log.lastStableOffset,
      ongoing: log.ongoingTransactions().map((t) => [t.producerId, t.firstOffset]),
      consumed: await consumeCommitted(log),
      index: abortMarkersIndexed(log),
    };
    assert.equal(state.ongoing.length, 1);
    await log.close();

    const check = async (how: string): Promise<void> => {
      const reopened = await PartitionLog.open(dir, config);
      assert.deepEqual(producerView(reopened), state.producers, how);
      assert.equal(reopened.lastStableOffset, state.lso, how);
      assert.deepEqual(
        reopened.ongoingTransactions().map((t) => [t.producerId, t.firstOffset]),
        state.ongoing,
        how,
      );
      assert.deepEqual(await consumeCommitted(reopened), state.consumed, how);
      assert.deepEqual(abortMarkersIndexed(reopened), state.index, how);
      // The idempotent producer's last batch is recognised as a duplicate.
      const dup = await reopened.append(batch({ i: "i2" }, { producerId: 50n, producerEpoch: 2, baseSequence: 1 }));
      assert.equal(dup.errorCode, ErrorCode.NONE);
      assert.equal(dup.baseOffset, i2.baseOffset, how);
      await reopened.close();
    };
    await check("clean restart");
    // As after a crash: every segment recovered, its .txnindex rebuilt from the markers.
    await unlink(join(dir, CLEAN_SHUTDOWN_FILE));
    await unlink(join(dir, CHECKPOINT_FILE));
    for (const f of await readdir(dir)) if (f.endsWith(".txnindex")) await unlink(join(dir, f));
    await check("recovering restart");
  });
});
