import assert from "node:assert/strict";
import { cp, mkdir, readdir, readFile, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { BatchAttributes, decodeRecordBatches, readControlRecordKey, readEndTxnMarker } from "@tskafka/protocol";
import type { BuildBatchOptions } from "@tskafka/protocol";
import { LogCleaner } from "../src/log/cleaner.js";
import { logConfig } from "../src/log/config.js";
import type { LogConfig } from "../src/log/config.js";
import { ErrorCode } from "../src/log/errors.js";
import { CLEAN_SHUTDOWN_FILE, CHECKPOINT_FILE, PartitionLog } from "../src/log/partition-log.js";
import type { AppendResult, ReadResult } from "../src/log/partition-log.js";
import { LogSegment, segmentFileName } from "../src/log/segment.js";
import { TxnIndex, type AbortedTxn } from "../src/log/txn-index.js";
import type { TxnMarker } from "../src/txn/marker.js";
import { allBatches, batchesIn, batchOf } from "./log-fixtures.js";
import { tempDir, type TempDir } from "./temp.js";

/**
 * The log side of transactions, over PartitionLog directly: markers, the last stable offset, read_committed
 * reads with their aborted transactions, the `.txnindex` files, and all of it across restarts (clean and
 * not), retention, DeleteRecords, compaction and a failed write.
 */

let root: TempDir;
let n = 0;
before(async () => {
  root = await tempDir("tskafka-txnlog-");
});
after(async () => {
  await root.cleanup();
});

function partitionDir(): string {
  return join(root.dir, `txn-${n++}`);
}

/**
 * A batch of `count` records stamped now: markers are stamped with the time they are written, and a
 * batch timestamp far from theirs would roll segments by time.
 */
function plain(count: number, prefix = "v", pad = 0, options: BuildBatchOptions = {}): Buffer {
  return batchOf(count, prefix, pad, { timestamp: Date.now(), ...options });
}

/** A transactional batch of `count` records from `pid`. */
function txn(pid: bigint, seq: number, count = 2, epoch = 0, pad = 0): Buffer {
  return plain(count, `t${pid}-${seq}`, pad, {
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    transactional: true,
  });
}

function marker(pid: bigint, committed: boolean, epoch = 0, coordinatorEpoch = 0): TxnMarker {
  return { producerId: pid, producerEpoch: epoch, committed, coordinatorEpoch };
}

async function ok(pending: Promise<AppendResult>): Promise<AppendResult> {
  const r = await pending;
  assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? "");
  return r;
}

function committed(log: PartitionLog, from: bigint, maxBytes = 1 << 20): Promise<ReadResult> {
  return log.read(from, maxBytes, { minOneBatch: true, isolation: "read_committed" });
}

/** Everything a read_committed consumer gets from `from` on: batch base offsets and the aborted list. */
async function readCommittedAll(log: PartitionLog, from = log.logStartOffset) {
  const bases: bigint[] = [];
  const aborted: string[] = [];
  let offset = from;
  for (;;) {
    const r = await committed(log, offset, 200);
    assert.equal(r.errorCode, ErrorCode.NONE);
    const batches = batchesIn(r.records);
    if (batches.length === 0) break;
    for (const b of batches) bases.push(b.baseOffset);
    for (const a of r.abortedTransactions) {
      const key = `${a.producerId}@${a.firstOffset}`;
      if (!aborted.includes(key)) aborted.push(key);
    }
    offset = (batches.at(-1)?.lastOffset ?? offset) + 1n;
  }
  return { bases, aborted, end: offset };
}

/** The entries of a `.txnindex` file (none when it does not exist), checking the 34-byte layout. */
async function txnIndexFile(dir: string, base: bigint): Promise<AbortedTxn[]> {
  let data: Buffer;
  try {
    data = await readFile(join(dir, segmentFileName(base, ".txnindex")));
  } catch {
    return [];
  }
  assert.equal(data.length % 34, 0, "whole 34-byte entries");
  const out: AbortedTxn[] = [];
  for (let at = 0; at < data.length; at += 34) {
    assert.equal(data.readInt16BE(at), 0, "entry version 0");
    out.push({
      producerId: data.readBigInt64BE(at + 2),
      firstOffset: data.readBigInt64BE(at + 10),
      lastOffset: data.readBigInt64BE(at + 18),
      lastStableOffset: data.readBigInt64BE(at + 26),
    });
  }
  return out;
}

/** Every `.txnindex` entry of the directory, in segment order. */
async function allTxnIndexEntries(dir: string): Promise<AbortedTxn[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith(".txnindex")).sort();
  const out: AbortedTxn[] = [];
  for (const name of names) out.push(...(await txnIndexFile(dir, BigInt(name.slice(0, 20)))));
  return out;
}

/** Waits (up to 5 s) for a condition that background file deletion makes true. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, "condition not reached within 5 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether every `.txnindex` in `dir` has its segment's `.log`. */
async function noStrayTxnIndex(dir: string): Promise<boolean> {
  const names = await readdir(dir);
  const logs = new Set(names.filter((f) => f.endsWith(".log")).map((f) => f.slice(0, 20)));
  return names.filter((f) => f.endsWith(".txnindex")).every((f) => logs.has(f.slice(0, 20)));
}

const small: Partial<LogConfig> = { segmentBytes: 600, indexIntervalBytes: 128, fileDeleteDelayMs: 0 };

describe("transaction markers and the last stable offset", () => {
  it("a marker is one control batch; the LSO follows the oldest open transaction", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig());
    await ok(log.append(plain(2))); // 0-1, outside any transaction
    assert.equal(log.lastStableOffset, 2n);
    await ok(log.append(txn(1n, 0))); // 2-3
    assert.equal(log.lastStableOffset, 2n);
    assert.equal(log.highWatermark, 4n);
    await ok(log.append(txn(2n, 0))); // 4-5
    await ok(log.append(txn(1n, 2))); // 6-7, same transaction of producer 1
    assert.equal(log.lastStableOffset, 2n);
    const commit = await ok(log.appendMarker(marker(1n, true, 0, 3)));
    assert.deepEqual([commit.baseOffset, commit.lastOffset], [8n, 8n]);
    assert.equal(log.lastStableOffset, 4n, "producer 2's transaction still holds it");
    const abort = await ok(log.appendMarker(marker(2n, false, 0, 3)));
    assert.equal(abort.baseOffset, 9n);
    assert.equal(log.lastStableOffset, 10n);
    assert.equal(log.lastStableOffset, log.highWatermark);

    // The control batch as stored: transactional + control, the producer's id and epoch, sequence -1.
    const r = await log.read(8n, 1 << 16, { minOneBatch: true });
    const [commitBatch, abortBatch] = decodeRecordBatches(r.records);
    assert.ok(commitBatch !== undefined && abortBatch !== undefined);
    assert.equal(commitBatch.attributes & 0x30, BatchAttributes.transactional | BatchAttributes.control);
    assert.deepEqual([commitBatch.producerId, commitBatch.producerEpoch, commitBatch.baseSequence], [1n, 0, -1]);
    assert.equal(commitBatch.records.length, 1);
    assert.deepEqual(readControlRecordKey(commitBatch.records[0]!.key), { version: 0, type: 1 });
    assert.equal(readEndTxnMarker(commitBatch.records[0]!.value).coordinatorEpoch, 3);
    assert.deepEqual(readControlRecordKey(abortBatch.records[0]!.key), { version: 0, type: 0 });
    await log.close();
    // Only the abort is indexed: (producer, first offset, marker offset, LSO after the marker).
    assert.deepEqual(await txnIndexFile(dir, 0n), [
      { producerId: 2n, firstOffset: 4n, lastOffset: 9n, lastStableOffset: 10n },
    ]);
  });

  it("refuses stale epochs and coordinator epochs; a marker with no transaction open is written but indexes nothing", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig());
    await ok(log.append(txn(5n, 0, 2, 3))); // epoch 3
    // A non-transactional batch inside the producer's transaction.
    const outside = await log.append(plain(1, "p", 0, { producerId: 5n, producerEpoch: 3, baseSequence: 2 }));
    assert.equal(outside.errorCode, ErrorCode.INVALID_TXN_STATE);
    assert.equal((await log.append(txn(5n, 0, 1, 2))).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal((await log.appendMarker(marker(5n, true, 2))).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    // Transaction version 2: the marker must carry a bumped epoch.
    const sameEpoch = await log.appendMarker(marker(5n, true, 3), { transactionVersion: 2 });
    assert.equal(sameEpoch.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(log.lastStableOffset, 0n);
    await ok(log.appendMarker(marker(5n, false, 4, 7), { transactionVersion: 2 })); // offset 2
    assert.equal(log.lastStableOffset, 3n);
    // The same TV2 marker again (a retry after the transaction ended) is written.
    await ok(log.appendMarker(marker(5n, false, 4, 7), { transactionVersion: 2 })); // offset 3
    const fenced = await log.appendMarker(marker(5n, true, 4, 6));
    assert.equal(fenced.errorCode, ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    // A marker for a producer never seen: written, no aborted range.
    const stray = await ok(log.appendMarker(marker(99n, false)));
    assert.equal(stray.baseOffset, 4n);
    assert.equal(log.lastStableOffset, 5n);
    const described = log.activeProducers().find((p) => p.producerId === 5n);
    assert.deepEqual(described, {
      producerId: 5n,
      producerEpoch: 4,
      lastSequence: -1, // the epoch bump forgot the old epoch's batches
      lastTimestamp: described?.lastTimestamp,
      coordinatorEpoch: 7,
      currentTxnStartOffset: -1n,
    });
    await log.close();
    assert.deepEqual(await txnIndexFile(dir, 0n), [
      { producerId: 5n, firstOffset: 0n, lastOffset: 2n, lastStableOffset: 3n },
    ]);
  });

  it("describes producers and ongoing transactions", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig());
    await ok(log.append(plain(3, "i", 0, { producerId: 1n, producerEpoch: 0, baseSequence: 0 }))); // idempotent
    await ok(log.append(txn(2n, 0, 4, 1))); // 3-6
    const byId = new Map(log.activeProducers().map((p) => [p.producerId, p]));
    assert.equal(byId.get(1n)?.lastSequence, 2);
    assert.equal(byId.get(1n)?.currentTxnStartOffset, -1n);
    assert.equal(byId.get(1n)?.coordinatorEpoch, -1);
    assert.equal(byId.get(2n)?.currentTxnStartOffset, 3n);
    assert.equal(byId.get(2n)?.lastSequence, 3);
    assert.ok((byId.get(2n)?.lastTimestamp ?? -1n) > 0n);
    const ongoing = log.ongoingTransactions();
    assert.deepEqual(
      ongoing.map((t) => [t.producerId, t.producerEpoch, t.firstOffset]),
      [[2n, 1, 3n]],
    );
    await log.close();
  });
});

describe("read_committed", () => {
  it("stops before the LSO with whole batches and lists the aborted transactions it overlaps", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig());
    await ok(log.append(txn(1n, 0, 3))); // 0-2
    await ok(log.append(txn(2n, 0, 2))); // 3-4
    await ok(log.appendMarker(marker(1n, false))); // 5: aborts 0-2
    await ok(log.append(plain(2))); // 6-7
    assert.equal(log.lastStableOffset, 3n);

    const r = await committed(log, 0n);
    assert.deepEqual(
      batchesIn(r.records).map((b) => b.baseOffset),
      [0n],
    );
    assert.deepEqual(r.abortedTransactions, [{ producerId: 1n, firstOffset: 0n }]);
    assert.equal(r.lastStableOffset, 3n);
    assert.equal(r.highWatermark, 8n);
    // read_uncommitted reads everything and lists nothing; both report the LSO.
    const all = await log.read(0n, 1 << 20, { minOneBatch: true });
    assert.equal(batchesIn(all.records).length, 4);
    assert.deepEqual(all.abortedTransactions, []);
    assert.equal(all.lastStableOffset, 3n);
    // At or past the LSO there is nothing yet, and no error.
    for (const from of [3n, 4n, 7n]) {
      const none = await committed(log, from);
      assert.equal(none.errorCode, ErrorCode.NONE);
      assert.equal(none.records.length, 0);
      assert.deepEqual(none.abortedTransactions, []);
    }
    assert.equal((await committed(log, 9n)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);

    await ok(log.appendMarker(marker(2n, true))); // 8
    assert.equal(log.lastStableOffset, 9n);
    const rest = await committed(log, 3n);
    assert.deepEqual(
      batchesIn(rest.records).map((b) => b.baseOffset),
      [3n, 5n, 6n, 8n],
    );
    assert.deepEqual(rest.abortedTransactions, [{ producerId: 1n, firstOffset: 0n }], "marker 5 is in range");
    assert.deepEqual((await committed(log, 6n)).abortedTransactions, []);
    // A read bounded by bytes lists only what overlaps the batches it returns.
    const one = await committed(log, 3n, 1);
    assert.deepEqual(
      batchesIn(one.records).map((b) => b.baseOffset),
      [3n],
    );
    // Producer 1's aborted range [0, 5] overlaps [3, 5): listed, as Kafka lists it.
    assert.deepEqual(one.abortedTransactions, [{ producerId: 1n, firstOffset: 0n }]);
    await log.close();
  });

  it("finds an abort whose marker is segments after the data it reads", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig(small));
    await ok(log.append(txn(1n, 0, 2, 0, 40)));
    const start = log.logEndOffset;
    for (let i = 0; i < 8; i++) await ok(log.append(plain(2, `f${i}`, 40)));
    assert.equal(log.lastStableOffset, 0n);
    const abort = await ok(log.appendMarker(marker(1n, false)));
    assert.ok(log.segmentCount >= 3, `expected rolls, got ${log.segmentCount}`);
    const markerSegment = log.segmentBaseOffsets.filter((b) => b <= abort.baseOffset).at(-1);
    assert.ok(markerSegment !== undefined && markerSegment > 0n);
    const r = await committed(log, 0n, 100);
    assert.deepEqual(r.abortedTransactions, [{ producerId: 1n, firstOffset: 0n }]);
    assert.deepEqual((await committed(log, start, 100)).abortedTransactions, [{ producerId: 1n, firstOffset: 0n }]);
    await log.close();
    assert.deepEqual(
      (await txnIndexFile(dir, markerSegment)).map((t) => [t.firstOffset, t.lastOffset]),
      [[0n, abort.baseOffset]],
    );
    assert.deepEqual(await txnIndexFile(dir, 0n), [], "no file for a segment without aborts");
  });
});

describe("the .txnindex of a new segment", () => {
  // A roll flushes the new, empty segment in the background: its index removes a file that may exist.
  // An abort marker written while that removal ran lost its entry (the soak's read_committed group then
  // saw the aborted records of a transaction that began a segment).
  it("keeps an entry appended while the empty index's file is being removed, and writes it next", async () => {
    const dir = partitionDir();
    await mkdir(dir, { recursive: true });
    const path = join(dir, segmentFileName(0n, ".txnindex"));
    await writeFile(path, Buffer.alloc(0));
    const index = new TxnIndex(path);
    const entry: AbortedTxn = { producerId: 7n, firstOffset: 0n, lastOffset: 4n, lastStableOffset: 5n };
    const removing = index.flush();
    index.append(entry);
    const writing = index.flush();
    await removing;
    assert.deepEqual(index.entries(), [entry]);
    const found: AbortedTxn[] = [];
    index.collect(0n, 5n, found);
    assert.deepEqual(found, [entry]);
    await writing;
    assert.deepEqual(await txnIndexFile(dir, 0n), [entry]);
  });
});

/** Writes a mix of transactions (three aborted, two committed, one left open) across several small segments. */
async function mixedLog(log: PartitionLog): Promise<void> {
  for (let i = 0; i < 6; i++) {
    const pid = BigInt(10 + (i % 3));
    await ok(log.append(txn(pid, Math.floor(i / 3) * 2, 2, 0, 30)));
    await ok(log.append(plain(1, `plain${i}`, 30)));
    if (i >= 1) await ok(log.appendMarker(marker(BigInt(10 + ((i - 1) % 3)), i % 2 === 0)));
  }
  // Producer 12's transaction (i = 5) stays open.
}

async function snapshot(log: PartitionLog) {
  return {
    lso: log.lastStableOffset,
    end: log.logEndOffset,
    ongoing: log.ongoingTransactions().map((t) => `${t.producerId}@${t.firstOffset}`),
    read: await readCommittedAll(log),
  };
}

describe("restart", () => {
  it("a clean close and open keep the ongoing transactions, the LSO and the .txnindex files", async () => {
    const dir = partitionDir();
    let log = await PartitionLog.open(dir, logConfig(small));
    await mixedLog(log);
    const before = await snapshot(log);
    assert.ok(before.lso < before.end && before.ongoing.length === 1);
    assert.ok(before.read.aborted.length >= 2, JSON.stringify(before.read.aborted));
    await log.close();
    const files = await allTxnIndexEntries(dir);
    assert.equal(files.length, before.read.aborted.length);
    log = await PartitionLog.open(dir, logConfig(small));
    assert.deepEqual(await snapshot(log), before);
    // The open transaction still ends with its marker.
    await ok(log.appendMarker(marker(12n, false)));
    assert.equal(log.lastStableOffset, log.logEndOffset);
    await log.close();
    assert.equal((await allTxnIndexEntries(dir)).length, files.length + 1);
  });

  it("after a crash, recovery rebuilds producer state, the LSO and every .txnindex from the log", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig(small));
    await mixedLog(log);
    const before = await snapshot(log);
    await log.close();
    const expected = await allTxnIndexEntries(dir);
    // A crash that lost every index and checkpoint: all is recovered from the .log files.
    for (const name of await readdir(dir)) {
      if (!name.endsWith(".log")) await unlink(join(dir, name));
    }
    const reopened = await PartitionLog.open(dir, logConfig(small));
    assert.deepEqual(await snapshot(reopened), before);
    await reopened.close();
    assert.deepEqual(await allTxnIndexEntries(dir), expected);
  });

  it("a copy taken while the log is open (no clean shutdown) recovers its tail and opens with the same state", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig(small));
    await mixedLog(log);
    await log.flush();
    await log.writeCheckpoint(); // the recovery point: what follows must be recovered from the log
    await ok(log.appendMarker(marker(12n, false)));
    await ok(log.append(txn(13n, 0)));
    await log.flush(); // no background flush copies half an index; the checkpoint stays behind
    const before = await snapshot(log);
    const copy = partitionDir();
    await cp(dir, copy, { recursive: true });
    await log.close();
    const names = await readdir(copy);
    assert.ok(!names.includes(CLEAN_SHUTDOWN_FILE));
    const last = log.segmentBaseOffsets.at(-1) as bigint;
    assert.ok(
      (await txnIndexFile(copy, last)).some((t) => t.producerId === 12n),
      "the tail's abort was indexed",
    );
    await unlink(join(copy, segmentFileName(last, ".txnindex"))); // recovery must rebuild it
    const reopened = await PartitionLog.open(copy, logConfig(small));
    assert.deepEqual(await snapshot(reopened), before);
    await reopened.close();
    assert.deepEqual(await allTxnIndexEntries(copy), await allTxnIndexEntries(dir));
  });

  it("a marker torn off by a crash leaves its transaction open", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig());
    await ok(log.append(txn(1n, 0))); // 0-1
    await ok(log.append(plain(1))); // 2
    await ok(log.appendMarker(marker(1n, false))); // 3
    assert.equal(log.lastStableOffset, 4n);
    await log.close();
    // A crash: no clean shutdown, no checkpoint, the marker's last bytes never reached the disk.
    await unlink(join(dir, CLEAN_SHUTDOWN_FILE));
    await unlink(join(dir, CHECKPOINT_FILE));
    const logPath = join(dir, segmentFileName(0n, ".log"));
    const size = (await readFile(logPath)).length;
    await truncate(logPath, size - 5);
    const reopened = await PartitionLog.open(dir, logConfig());
    assert.equal(reopened.logEndOffset, 3n);
    assert.equal(reopened.lastStableOffset, 0n);
    assert.deepEqual(
      reopened.ongoingTransactions().map((t) => t.firstOffset),
      [0n],
    );
    assert.equal((await committed(reopened, 0n)).records.length, 0);
    await reopened.close();
    assert.deepEqual(await txnIndexFile(dir, 0n), []);
  });

  it("removes a stray .txnindex without its .log at open", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig());
    await ok(log.append(plain(1)));
    await log.close();
    const stray = join(dir, segmentFileName(500n, ".txnindex"));
    await writeFile(stray, Buffer.alloc(34));
    await (await PartitionLog.open(dir, logConfig())).close();
    assert.ok(!(await readdir(dir)).includes(segmentFileName(500n, ".txnindex")));
  });
});

describe("retention, DeleteRecords and compaction", () => {
  it("deleted segments take their .txnindex along; the rest stays consistent", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig(small));
    await mixedLog(log);
    const open = log.ongoingTransactions()[0];
    assert.ok(open !== undefined);
    const bases = log.segmentBaseOffsets;
    // DeleteRecords up to the middle of the log: whole segments below it go.
    const cut = bases[Math.floor(bases.length / 2)] as bigint;
    assert.equal((await log.deleteRecordsBefore(cut)).errorCode, ErrorCode.NONE);
    await log.flush();
    await eventually(async () => await noStrayTxnIndex(dir));
    const firstBase = log.segmentBaseOffsets[0] as bigint;
    await eventually(async () =>
      (await readdir(dir)).every((f) => !f.endsWith(".log") || BigInt(f.slice(0, 20)) >= firstBase),
    );
    // A deleted segment's files go one after another: its .txnindex may outlive its .log for a moment.
    await eventually(async () => (await allTxnIndexEntries(dir)).every((e) => e.lastOffset >= firstBase));
    const after = await readCommittedAll(log);
    assert.equal(after.end, log.lastStableOffset);
    // DeleteRecords past the open transaction's start: the LSO is never below the log start.
    const past = open.firstOffset + 1n;
    assert.equal((await log.deleteRecordsBefore(past)).errorCode, ErrorCode.NONE);
    assert.equal(log.lastStableOffset, past);
    assert.equal(log.ongoingTransactions().length, 1, "the transaction is still open");
    await ok(log.appendMarker(marker(open.producerId, true)));
    assert.equal(log.lastStableOffset, log.logEndOffset);
    // Retention by size down to the active segment.
    await log.close();
    const retained = await PartitionLog.open(dir, logConfig({ ...small, retentionBytes: 0 }));
    await retained.applyRetention();
    assert.equal(retained.segmentCount, 1);
    await retained.close();
    await eventually(async () => await noStrayTxnIndex(dir));
  });

  it("compaction removes aborted data, keeps the markers on the first pass and carries the aborted transactions over", async () => {
    const dir = partitionDir();
    const config = logConfig({ ...small, cleanupPolicy: "compact" });
    const log = await PartitionLog.open(dir, config);
    // Keys k0, k1 rewritten many times outside transactions, and inside aborted and committed ones.
    for (let i = 0; i < 4; i++) {
      await ok(log.append(plain(2, `plain${i}`, 30)));
      await ok(log.append(txn(20n, i * 2, 2, 0, 30)));
      await ok(log.appendMarker(marker(20n, i % 2 === 1)));
    }
    for (let i = 0; i < 6; i++) await ok(log.append(plain(2, `later${i}`, 30)));
    const before = await readCommittedAll(log);
    const indexBefore = log.closedSegments.flatMap((s) => s.txnIndex.entries());
    const stats = await new LogCleaner().clean(log, Date.now());
    assert.ok(stats !== null && stats.bytesAfter < stats.bytesBefore, `${stats?.bytesAfter} < ${stats?.bytesBefore}`);
    const after = await readCommittedAll(log);
    assert.deepEqual(after.aborted, before.aborted);
    // Every marker is still there (this pass met data of each transaction); the aborted batches went, the
    // committed ones were compacted (the producer's last batch stays, emptied). See log-cleaner-txn.test.ts.
    const kept = (await allBatches(log)).filter((b) => (b.attributes & BatchAttributes.transactional) !== 0);
    assert.equal(kept.filter((b) => (b.attributes & BatchAttributes.control) !== 0).length, 4);
    assert.deepEqual(
      kept.filter((b) => (b.attributes & BatchAttributes.control) === 0).map((b) => b.records.length),
      [0],
    );
    assert.deepEqual(
      log.closedSegments.flatMap((s) => s.txnIndex.entries()),
      indexBefore,
    );
    await log.close();
    assert.deepEqual(await allTxnIndexEntries(dir), indexBefore);
    const reopened = await PartitionLog.open(dir, config);
    assert.deepEqual((await readCommittedAll(reopened)).aborted, before.aborted);
    await reopened.close();
  });
});

describe("a failed marker write", () => {
  const originalWrite = LogSegment.prototype.write;
  afterEach(() => {
    LogSegment.prototype.write = originalWrite;
  });

  it("leaves the transaction open, the LSO and the index unchanged, and can be retried", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig());
    await ok(log.append(txn(1n, 0))); // 0-1
    LogSegment.prototype.write = () => Promise.reject(new Error("EIO: i/o error, write"));
    const failed = await log.appendMarker(marker(1n, false));
    assert.equal(failed.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    LogSegment.prototype.write = originalWrite;
    assert.equal(log.lastStableOffset, 0n);
    assert.equal(log.ongoingTransactions().length, 1);
    assert.ok(await log.probeStorage(Date.now() + 60_000));
    const retried = await ok(log.appendMarker(marker(1n, false)));
    assert.equal(retried.baseOffset, 2n);
    assert.equal(log.lastStableOffset, 3n);
    assert.deepEqual((await committed(log, 0n)).abortedTransactions, [{ producerId: 1n, firstOffset: 0n }]);
    await log.close();
  });
});
