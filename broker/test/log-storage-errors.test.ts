import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { logConfig } from "../src/log/config.js";
import { ErrorCode } from "../src/log/errors.js";
import { PartitionLog, STORAGE_PROBE_INTERVAL_MS, type StorageListener } from "../src/log/partition-log.js";
import { LogSegment, segmentFileName } from "../src/log/segment.js";
import { batchesIn, batchOf } from "./log-fixtures.js";
import { tempDir, type TempDir } from "./temp.js";

/**
 * A partition log whose disk fails, in process: the failures are made by replacing the segment's write
 * or create in the test (the broker has no switch for it; log-disk-full.test.ts fills a real disk).
 * Every append is answered at once, torn appends are cut off, idempotent producers' state is not
 * advanced by a failed write, and the log takes appends again once the disk works, without reopening.
 */

function enospc(): Error {
  return Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
}

const originalWrite = LogSegment.prototype.write;
const originalCreate = LogSegment.create;

function restore(): void {
  LogSegment.prototype.write = originalWrite;
  LogSegment.create = originalCreate;
}

function recorder(): StorageListener & { failures: string[]; recoveries: number } {
  const r = {
    failures: [] as string[],
    recoveries: 0,
    failed: (_log: PartitionLog, err: Error) => void r.failures.push(err.message),
    recovered: () => void r.recoveries++,
  };
  return r;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Appends, failing the test when the answer takes longer than `ms`. */
async function appendWithin(log: PartitionLog, records: Buffer, ms = 1000) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`append not answered within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([log.append(records), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("partition log storage errors", () => {
  let tmp: TempDir;
  let n = 0;
  const dirOf = (): string => join(tmp.dir, `t-${n++}`);
  before(async () => {
    tmp = await tempDir("tskafka-storage-");
  });
  afterEach(restore);
  after(async () => {
    restore();
    await tmp.cleanup();
  });

  it("a torn write is cut off, answered KAFKA_STORAGE_ERROR, reported once, and recovered from", async () => {
    const dir = dirOf();
    const log = await PartitionLog.open(dir, logConfig({}));
    const events = recorder();
    log.storageListener = events;
    const idempotent = { producerId: 7n, producerEpoch: 0, baseSequence: 0 };
    assert.equal((await log.append(batchOf(3, "a"))).errorCode, ErrorCode.NONE);
    const goodSize = (await stat(join(dir, segmentFileName(0n, ".log")))).size;

    // Half the batch reaches the file, then the disk is full.
    LogSegment.prototype.write = async function (this: LogSegment, buffers: Buffer[], total: number) {
      const half = Buffer.concat(buffers).subarray(0, total >> 1);
      await originalWrite.call(this, [half], half.length);
      throw enospc();
    };
    const failed = await appendWithin(log, batchOf(2, "b", 100, idempotent));
    assert.equal(failed.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    assert.match(failed.errorMessage ?? "", /ENOSPC/);
    assert.equal((await stat(join(dir, segmentFileName(0n, ".log")))).size, goodSize, "the torn bytes are cut off");
    for (let i = 0; i < 5; i++) {
      assert.equal((await appendWithin(log, batchOf(1, "c"))).errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    }
    assert.deepEqual(events.failures.length, 1, "reported once");
    assert.ok(log.storageError !== null);
    // What is stored is still read.
    const read = await log.read(0n, 1 << 20, { minOneBatch: true });
    assert.deepEqual(
      batchesIn(read.records).map((b) => b.lastOffset),
      [2n],
    );

    // The disk works again: after the probe interval the same idempotent batch is appended, not taken
    // for a duplicate of the batch that never made it.
    restore();
    await pause(STORAGE_PROBE_INTERVAL_MS + 100);
    const retried = await appendWithin(log, batchOf(2, "b", 100, idempotent));
    assert.equal(retried.errorCode, ErrorCode.NONE);
    assert.equal(retried.baseOffset, 3n);
    assert.equal(events.recoveries, 1);
    assert.equal(log.storageError, null);
    assert.equal(log.logEndOffset, 5n);
    await log.close();

    const reopened = await PartitionLog.open(dir, logConfig({}));
    const all = await reopened.read(0n, 1 << 20, { minOneBatch: true });
    assert.deepEqual(
      batchesIn(all.records).map((b) => [b.baseOffset, b.lastOffset]),
      [
        [0n, 2n],
        [3n, 4n],
      ],
    );
    await reopened.close();
  });

  it("a roll that fails answers the append instead of hanging the partition", async () => {
    const dir = dirOf();
    const log = await PartitionLog.open(dir, logConfig({ segmentBytes: 1024 }));
    const events = recorder();
    log.storageListener = events;
    assert.equal((await log.append(batchOf(5, "a", 100))).errorCode, ErrorCode.NONE);
    LogSegment.create = async () => {
      throw enospc();
    };
    const results = await Promise.all([0, 1, 2].map(() => appendWithin(log, batchOf(5, "b", 100))));
    assert.deepEqual(
      results.map((r) => r.errorCode),
      [ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.KAFKA_STORAGE_ERROR],
    );
    assert.equal(events.failures.length, 1);
    assert.equal(log.segmentCount, 1);

    restore();
    await pause(STORAGE_PROBE_INTERVAL_MS + 100);
    const ok = await appendWithin(log, batchOf(5, "c", 100));
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.equal(ok.baseOffset, 5n);
    assert.equal(log.segmentCount, 2);
    assert.equal(events.recoveries, 1);
    await log.close();
  });

  it("an append that throws unexpectedly is answered, and later appends are not stuck behind it", async () => {
    const dir = dirOf();
    const log = await PartitionLog.open(dir, logConfig({}));
    log.storageListener = recorder();
    LogSegment.prototype.write = () => {
      throw new TypeError("unexpected");
    };
    const first = await appendWithin(log, batchOf(1, "a"));
    assert.equal(first.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    restore();
    await pause(STORAGE_PROBE_INTERVAL_MS + 100);
    assert.equal((await appendWithin(log, batchOf(1, "b"))).errorCode, ErrorCode.NONE);
    await log.close();
  });
});
