import assert from "node:assert/strict";
import { appendFile, readdir, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { logConfig } from "../src/log/config.js";
import type { LogConfig } from "../src/log/config.js";
import { ErrorCode } from "../src/log/errors.js";
import { PartitionLog } from "../src/log/partition-log.js";
import { segmentFileName } from "../src/log/segment.js";
import { batchesIn, batchOf, encodeBatch } from "./log-fixtures.js";
import { tempDir, type TempDir } from "./temp.js";

let root: TempDir;
let n = 0;
before(async () => {
  root = await tempDir("tskafka-log-");
});
after(async () => {
  await root.cleanup();
});

function partitionDir(): string {
  return join(root.dir, `topic-${n++}`);
}

/** Reads everything from `from` on, batch by batch. */
async function readAll(log: PartitionLog, from = log.logStartOffset, maxBytes = 1 << 20): Promise<bigint[]> {
  const firsts: bigint[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, maxBytes, { minOneBatch: true });
    assert.equal(r.errorCode, ErrorCode.NONE);
    const batches = batchesIn(r.records);
    assert.ok(batches.length > 0, `no batch at ${offset}`);
    for (const b of batches) firsts.push(b.baseOffset);
    offset = (batches[batches.length - 1]?.lastOffset ?? offset) + 1n;
  }
  return firsts;
}

const small: Partial<LogConfig> = { segmentBytes: 4096, indexIntervalBytes: 256 };

describe("PartitionLog", () => {
  it("appends and reads back across segment rolls, with offsets assigned in order", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig(small));
    const expected: bigint[] = [];
    for (let i = 0; i < 150; i++) {
      const r = await log.append(batchOf(3, `b${i}`, 20));
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.equal(r.baseOffset, BigInt(i * 3));
      assert.equal(r.lastOffset, BigInt(i * 3 + 2));
      assert.equal(r.logAppendTime, -1n);
      expected.push(BigInt(i * 3));
    }
    assert.ok(log.segmentCount > 3, `expected rolls, got ${log.segmentCount} segment(s)`);
    assert.equal(log.logEndOffset, 450n);
    assert.deepEqual(await readAll(log), expected);
    // A read in the middle of a batch starts at the batch holding the offset.
    const mid = await log.read(100n, 1, { minOneBatch: true });
    assert.deepEqual(
      batchesIn(mid.records).map((b) => b.baseOffset),
      [99n],
    );
    // Without minOneBatch a batch larger than maxBytes is not returned.
    const none = await log.read(100n, 1, { minOneBatch: false });
    assert.equal(none.records.length, 0);
    // maxBytes bounds the whole batches returned.
    const some = await log.read(0n, 500, { minOneBatch: true });
    assert.ok(some.records.length <= 500 && batchesIn(some.records).length >= 2);
    await log.close();
  });

  it("answers OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset] and empty at the end", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig());
    await log.append(batchOf(2));
    assert.equal((await log.read(3n, 1000, { minOneBatch: true })).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal((await log.read(-1n, 1000, { minOneBatch: true })).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    const end = await log.read(2n, 1000, { minOneBatch: true });
    assert.equal(end.errorCode, ErrorCode.NONE);
    assert.equal(end.records.length, 0);
    assert.equal(end.highWatermark, 2n);
    await log.close();
  });

  it("reads everything back after a clean restart and after an unclean one", async () => {
    const dir = partitionDir();
    let log = await PartitionLog.open(dir, logConfig(small));
    for (let i = 0; i < 40; i++) await log.append(batchOf(2, `r${i}`, 30));
    const before = await readAll(log);
    await log.close();
    log = await PartitionLog.open(dir, logConfig(small));
    assert.equal(log.logEndOffset, 80n);
    assert.deepEqual(await readAll(log), before);
    // Unclean: the process dies without close(); whatever was written is still there.
    for (let i = 0; i < 5; i++) await log.append(batchOf(2, `u${i}`));
    await log.abandon();
    log = await PartitionLog.open(dir, logConfig(small));
    assert.equal(log.logEndOffset, 90n);
    assert.equal((await readAll(log)).length, 45);
    assert.equal((await log.append(batchOf(1))).baseOffset, 90n);
    await log.close();
  });

  it("truncates a torn tail to the last whole batch on unclean restart", async () => {
    const dir = partitionDir();
    let log = await PartitionLog.open(dir, logConfig());
    for (let i = 0; i < 5; i++) await log.append(batchOf(2, `t${i}`));
    await log.abandon();
    const logFile = join(dir, segmentFileName(0n, ".log"));
    const goodSize = (await stat(logFile)).size;
    const half = batchOf(3, "half").subarray(0, 40);
    await appendFile(logFile, half);
    log = await PartitionLog.open(dir, logConfig());
    assert.equal(log.logEndOffset, 10n);
    assert.equal((await stat(logFile)).size, goodSize);
    const r = await log.append(batchOf(1));
    assert.equal(r.baseOffset, 10n);
    assert.equal((await readAll(log)).length, 6);
    await log.abandon();
    // Garbage after the last batch, and a batch with a bad CRC.
    await appendFile(logFile, Buffer.alloc(100, 0xab));
    log = await PartitionLog.open(dir, logConfig());
    assert.equal(log.logEndOffset, 11n);
    await log.abandon();
    const corrupt = batchOf(2, "c");
    corrupt.writeBigInt64BE(11n, 0);
    corrupt.writeUInt8((corrupt.at(-1) ?? 0) ^ 0xff, corrupt.length - 1);
    await appendFile(logFile, corrupt);
    log = await PartitionLog.open(dir, logConfig());
    assert.equal(log.logEndOffset, 11n);
    assert.equal((await log.append(batchOf(2))).baseOffset, 11n);
    await log.close();
  });

  it("rebuilds deleted and corrupted indexes", async () => {
    const dir = partitionDir();
    let log = await PartitionLog.open(dir, logConfig(small));
    for (let i = 0; i < 40; i++)
      await log.append(encodeBatch([{ value: `v${i}`.repeat(30), timestamp: 1000n + BigInt(i) * 10n }]));
    const bases = log.segmentBaseOffsets;
    await log.close();
    const first = bases[0] as bigint;
    const second = bases[1] as bigint;
    await writeFile(join(dir, segmentFileName(first, ".index")), Buffer.alloc(0));
    await writeFile(join(dir, segmentFileName(second, ".index")), Buffer.from([0, 0, 0, 9, 0x7f, 0, 0, 0]));
    await truncate(join(dir, segmentFileName(second, ".timeindex")), 5);
    const names = await readdir(dir);
    for (const name of names)
      if (name.endsWith(".timeindex") && name.startsWith(segmentFileName(first, "")))
        await writeFile(join(dir, name), Buffer.from("garbage!"));
    log = await PartitionLog.open(dir, logConfig(small));
    assert.equal(log.logEndOffset, 40n);
    for (let i = 0; i < 40; i++) {
      const r = await log.read(BigInt(i), 100, { minOneBatch: true });
      assert.equal(batchesIn(r.records)[0]?.baseOffset, BigInt(i));
      const t = await log.offsetForTimestamp(1000n + BigInt(i) * 10n - 5n);
      assert.equal(t?.offset, BigInt(i));
    }
    await log.close();
    const sizes = await Promise.all([".index", ".timeindex"].map((s) => stat(join(dir, segmentFileName(first, s)))));
    assert.ok(
      sizes.every((s) => s.size > 0),
      "indexes written back",
    );
  });

  it("finds offsets by timestamp, and the max timestamp's offset", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig(small));
    for (let i = 0; i < 30; i++) {
      await log.append(
        encodeBatch([
          { value: "a".repeat(40), timestamp: 10_000n + BigInt(i) * 100n },
          { value: "b".repeat(40), timestamp: 10_000n + BigInt(i) * 100n + 50n },
        ]),
      );
    }
    assert.equal((await log.offsetForTimestamp(0n))?.offset, 0n);
    assert.equal((await log.offsetForTimestamp(10_000n))?.offset, 0n);
    assert.equal((await log.offsetForTimestamp(10_001n))?.offset, 1n);
    const hit = await log.offsetForTimestamp(11_020n);
    assert.equal(hit?.offset, 21n);
    assert.equal(hit?.timestamp, 11_050n);
    assert.equal(await log.offsetForTimestamp(10_000n + 2900n + 51n), null);
    const max = await log.maxTimestampOffset();
    assert.equal(max?.offset, 59n);
    assert.equal(max?.timestamp, 12_950n);
    await log.close();
  });

  it("stamps LogAppendTime batches", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig({ messageTimestampType: "LogAppendTime" }));
    const before = BigInt(Date.now());
    const r = await log.append(batchOf(2));
    assert.ok(r.logAppendTime >= before);
    const stored = batchesIn((await log.read(0n, 10000, { minOneBatch: true })).records)[0];
    assert.equal(stored?.maxTimestamp, r.logAppendTime);
    assert.equal((stored?.attributes ?? 0) & 0x08, 0x08);
    await log.close();
  });

  it("rejects a corrupt batch with CORRUPT_MESSAGE and appends nothing", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig());
    const bad = batchOf(2);
    bad.writeUInt8((bad.at(-3) ?? 0) ^ 1, bad.length - 3);
    const r = await log.append(bad);
    assert.equal(r.errorCode, ErrorCode.CORRUPT_MESSAGE);
    assert.equal(log.logEndOffset, 0n);
    assert.equal((await log.append(batchOf(1))).baseOffset, 0n);
    await log.close();
  });

  it("deletes old segments by retention.bytes and retention.ms, never the active one", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig({ ...small, retentionBytes: 8192, retentionMs: -1 }));
    for (let i = 0; i < 80; i++)
      await log.append(encodeBatch([{ value: "x".repeat(100), timestamp: 1000n + BigInt(i) }]));
    const total = log.size;
    assert.ok(total > 8192);
    const deleted = await log.applyRetention();
    assert.ok(deleted > 0);
    // Kafka's rule: delete oldest segments while what remains is still at least retention.bytes.
    assert.ok(log.size >= 8192 && log.size < 8192 + 4096, `size ${log.size}`);
    assert.equal(log.logStartOffset, log.segmentBaseOffsets[0]);
    assert.equal((await log.read(0n, 100, { minOneBatch: true })).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(
      batchesIn((await log.read(log.logStartOffset, 100, { minOneBatch: true })).records)[0]?.baseOffset,
      log.logStartOffset,
    );
    // All records are far older than retention.ms: everything but the active segment goes.
    log.config = { ...log.config, retentionMs: 60_000, retentionBytes: -1 };
    await log.applyRetention();
    assert.equal(log.segmentCount, 1);
    assert.equal(log.logEndOffset, 80n);
    assert.equal((await log.append(batchOf(1))).baseOffset, 80n);
    await log.close();
  });

  it("moves the log start offset with deleteRecordsBefore and keeps it across restarts", async () => {
    const dir = partitionDir();
    let log = await PartitionLog.open(dir, logConfig(small));
    for (let i = 0; i < 50; i++) await log.append(batchOf(2, `d${i}`, 40));
    assert.equal((await log.deleteRecordsBefore(101n)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    const segmentsBefore = log.segmentCount;
    const r = await log.deleteRecordsBefore(51n);
    assert.deepEqual(r, { errorCode: ErrorCode.NONE, lowWatermark: 51n });
    assert.ok(log.segmentCount < segmentsBefore);
    assert.ok((log.segmentBaseOffsets[0] as bigint) <= 51n);
    assert.equal((await log.read(50n, 100, { minOneBatch: true })).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(batchesIn((await log.read(51n, 100, { minOneBatch: true })).records)[0]?.lastOffset, 51n);
    await log.close();
    log = await PartitionLog.open(dir, logConfig(small));
    assert.equal(log.logStartOffset, 51n);
    assert.equal((await log.deleteRecordsBefore(-1n)).lowWatermark, 100n);
    await log.close();
  });

  it("shares one fsync between concurrent appends with flush.messages=1", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig({ flushMessages: 1 }));
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(batchOf(1, `g${i}`))));
    assert.deepEqual(
      results.map((r) => r.baseOffset),
      Array.from({ length: 200 }, (_, i) => BigInt(i)),
    );
    assert.ok(results.every((r) => r.errorCode === ErrorCode.NONE));
    assert.equal(log.logEndOffset, 200n);
    await log.abandon();
    const reopened = await PartitionLog.open(dir, logConfig());
    assert.equal(reopened.logEndOffset, 200n);
    await reopened.close();
  });

  it("keeps appends to one partition in order under concurrency", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig(small));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => log.append(batchOf((i % 3) + 1, `c${i}`, 50))),
    );
    let next = 0n;
    for (const r of results) {
      assert.equal(r.baseOffset, next);
      next = r.lastOffset + 1n;
    }
    assert.equal((await readAll(log)).length, 100);
    await log.close();
  });
});
