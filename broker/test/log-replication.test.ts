import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { logConfig } from "../src/log/config.js";
import { ErrorCode } from "../src/log/errors.js";
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache } from "../src/log/leader-epoch-cache.js";
import { PartitionLog } from "../src/log/partition-log.js";
import { batchesIn, batchOf } from "./log-fixtures.js";
import { tempDir, type TempDir } from "./temp.js";

/**
 * The log side of replication, in process: the leader epochs (Kafka's LeaderEpochFileCache answers), a
 * follower's copy of the leader's batches (the same bytes, epochs and producer state), its truncation
 * where it diverged, and the high watermark that bounds what consumers read.
 */

let root: TempDir;
let n = 0;
before(async () => {
  root = await tempDir("tskafka-repl-log-");
});
after(async () => {
  await root.cleanup();
});

function partitionDir(): string {
  return join(root.dir, `t-${n++}`);
}

/** Small segments: the copies roll as the leader's do. */
const SMALL = { segmentBytes: 600 };

/** Everything of `log` a follower would fetch (up to the log end), as stored. */
async function replicaBytes(log: PartitionLog, from = 0n): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, 1 << 20, { minOneBatch: true, replica: true });
    assert.equal(r.errorCode, ErrorCode.NONE);
    chunks.push(r.records);
    const batches = batchesIn(r.records);
    offset = batches.at(-1)!.lastOffset + 1n;
  }
  return Buffer.concat(chunks);
}

/** The first `count` batches of `bytes`. */
function batchSlice(bytes: Buffer, count: number): Buffer {
  const batches = batchesIn(bytes).slice(0, count);
  return bytes.subarray(
    0,
    batches.reduce((n, b) => n + b.size, 0),
  );
}

async function segmentFiles(log: PartitionLog): Promise<Map<string, Buffer>> {
  const files = (await readdir(log.dir)).filter((f) => f.endsWith(".log")).sort();
  return new Map(await Promise.all(files.map(async (f) => [f, await readFile(join(log.dir, f))] as const)));
}

describe("leader epochs (Kafka's LeaderEpochFileCache)", () => {
  const cache = (): LeaderEpochCache => {
    const c = new LeaderEpochCache();
    c.assign(0, 0n);
    c.assign(2, 10n);
    c.assign(5, 20n);
    return c;
  };

  it("answers where an epoch ends as Kafka's endOffsetFor does", () => {
    const c = cache();
    assert.deepEqual(c.endOffsetFor(5, 30n), { epoch: 5, endOffset: 30n }, "the latest ends at the log end");
    assert.deepEqual(c.endOffsetFor(2, 30n), { epoch: 2, endOffset: 20n });
    assert.deepEqual(c.endOffsetFor(3, 30n), { epoch: 2, endOffset: 20n }, "one never written: the one below");
    assert.deepEqual(c.endOffsetFor(1, 30n), { epoch: 0, endOffset: 10n });
    assert.deepEqual(c.endOffsetFor(6, 30n), { epoch: -1, endOffset: -1n }, "newer than any");
    assert.deepEqual(c.endOffsetFor(-1, 30n), { epoch: -1, endOffset: -1n });
    const late = new LeaderEpochCache();
    late.assign(2, 10n);
    assert.deepEqual(late.endOffsetFor(1, 30n), { epoch: 1, endOffset: 10n }, "older than any");
  });

  it("keeps epochs growing, is cut from the end and the start, and writes Kafka's format", () => {
    const c = cache();
    assert.equal(c.assign(4, 25n), false, "an older epoch changes nothing");
    assert.equal(c.assign(5, 25n), false);
    assert.equal(c.assign(7, 20n), true, "a new epoch at the start of an empty one replaces it");
    assert.deepEqual(c.all, [
      { epoch: 0, startOffset: 0n },
      { epoch: 2, startOffset: 10n },
      { epoch: 7, startOffset: 20n },
    ]);
    assert.equal(c.truncateFromEnd(15n), true);
    assert.equal(c.latestEpoch, 2);
    assert.equal(c.truncateFromStart(12n), true);
    assert.deepEqual(c.all, [{ epoch: 2, startOffset: 12n }]);
    assert.equal(c.format(), "0\n1\n2 12\n");
  });
});

describe("a follower's log", () => {
  it("copies the leader's batches unchanged: bytes, offsets, epochs and producer state", async () => {
    const leader = await PartitionLog.open(partitionDir(), logConfig(SMALL));
    const follower = await PartitionLog.open(partitionDir(), logConfig(SMALL));
    try {
      let seq = 0;
      for (const epoch of [0, 0, 0, 3, 3, 3]) {
        const batch = batchOf(4, `e${epoch}`, 20, { producerId: 7n, producerEpoch: 0, baseSequence: seq });
        seq += 4;
        assert.equal((await leader.append(batch, { leaderEpoch: epoch })).errorCode, ErrorCode.NONE);
      }
      const r = await follower.appendAsFollower(await replicaBytes(leader));
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.equal(follower.logEndOffset, 24n);
      assert.deepEqual(await segmentFiles(follower), await segmentFiles(leader));
      assert.ok((await segmentFiles(leader)).size > 1, "the leader rolled segments");
      assert.deepEqual(follower.epochs.all, leader.epochs.all);
      assert.deepEqual(follower.epochs.all, [
        { epoch: 0, startOffset: 0n },
        { epoch: 3, startOffset: 12n },
      ]);
      assert.deepEqual(follower.activeProducers(), leader.activeProducers());
      // A batch the leader already has again is refused: offsets only go forward.
      const again = await follower.appendAsFollower(await replicaBytes(leader, 20n));
      assert.equal(again.errorCode, ErrorCode.CORRUPT_MESSAGE);
      await follower.close();
      await leader.close();
      const checkpoint = await readFile(join(follower.dir, LEADER_EPOCH_CHECKPOINT_FILE), "utf8");
      assert.equal(checkpoint, "0\n2\n0 0\n3 12\n");
    } finally {
      await follower.close();
      await leader.close();
    }
  });

  it("is cut back where it diverged: segments, indexes, epochs and producer state follow, and a reopen agrees", async () => {
    const dir = partitionDir();
    let log = await PartitionLog.open(dir, logConfig(SMALL));
    try {
      let seq = 0;
      for (const epoch of [0, 0, 0, 1, 1, 1, 1]) {
        const batch = batchOf(4, `e${epoch}`, 20, { producerId: 9n, producerEpoch: 0, baseSequence: seq });
        seq += 4;
        assert.equal((await log.append(batch, { leaderEpoch: epoch })).errorCode, ErrorCode.NONE);
      }
      const segments = (await segmentFiles(log)).size;
      await log.truncateTo(14n); // inside the batch [12, 15]: the whole batch goes
      assert.equal(log.logEndOffset, 12n);
      assert.ok((await segmentFiles(log)).size < segments, "the segments after the cut are gone");
      assert.deepEqual(log.epochs.all, [{ epoch: 0, startOffset: 0n }]);
      assert.equal(log.activeProducers()[0]?.lastSequence, 11);
      // The producer goes on from the kept batches: sequence 12 is the next one, 16 a gap.
      const gap = batchOf(4, "gap", 0, { producerId: 9n, producerEpoch: 0, baseSequence: 16 });
      assert.equal((await log.append(gap, { leaderEpoch: 2 })).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      const next = batchOf(4, "next", 0, { producerId: 9n, producerEpoch: 0, baseSequence: 12 });
      const appended = await log.append(next, { leaderEpoch: 2 });
      assert.equal(appended.baseOffset, 12n);
      const read = await replicaBytes(log);
      assert.deepEqual(
        batchesIn(read).map((b) => b.baseOffset),
        [0n, 4n, 8n, 12n],
      );
      await log.close();
      log = await PartitionLog.open(dir, logConfig(SMALL));
      assert.equal(log.logEndOffset, 16n);
      assert.deepEqual(log.epochs.all, [
        { epoch: 0, startOffset: 0n },
        { epoch: 2, startOffset: 12n },
      ]);
      assert.deepEqual(await replicaBytes(log), read);
    } finally {
      await log.close();
    }
  });

  it("starts again, empty, at its leader's log start when it ends before it", async () => {
    const leader = await PartitionLog.open(partitionDir(), logConfig(SMALL));
    const dir = partitionDir();
    let follower = await PartitionLog.open(dir, logConfig(SMALL));
    try {
      for (let i = 0; i < 6; i++) await leader.append(batchOf(2, `b${i}`, 20), { leaderEpoch: 1 });
      await follower.appendAsFollower(await replicaBytes(leader, 0n).then((b) => batchSlice(b, 1)));
      assert.equal(follower.logEndOffset, 2n);
      await follower.truncateFullyAndStartAt(0n); // the same base offset: emptied in place
      assert.deepEqual([follower.logStartOffset, follower.logEndOffset, follower.epochs.all.length], [0n, 0n, 0]);
      assert.equal((await leader.deleteRecordsBefore(8n)).lowWatermark, 8n);
      await follower.truncateFullyAndStartAt(8n);
      assert.deepEqual([follower.logStartOffset, follower.logEndOffset], [8n, 8n]);
      const r = await follower.appendAsFollower(await replicaBytes(leader, 8n));
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.equal(follower.logEndOffset, 12n);
      await follower.close();
      follower = await PartitionLog.open(dir, logConfig(SMALL));
      assert.deepEqual([follower.logStartOffset, follower.logEndOffset], [8n, 12n]);
      assert.deepEqual(follower.epochs.all, [{ epoch: 1, startOffset: 8n }]);
    } finally {
      await follower.close();
      await leader.close();
    }
  });

  it("stamps a new leader's epoch on appends that name none (coordinators' records, markers)", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig());
    try {
      await log.append(batchOf(1, "a"));
      log.assignLeaderEpoch(4);
      assert.deepEqual(log.epochs.all, [
        { epoch: 0, startOffset: 0n },
        { epoch: 4, startOffset: 1n },
      ]);
      await log.append(batchOf(1, "b"));
      const read = await log.read(1n, 1 << 20, { minOneBatch: true });
      assert.equal(read.records.readInt32BE(12), 4, "the batch's partitionLeaderEpoch");
    } finally {
      await log.close();
    }
  });

  it("shows consumers only what is below the high watermark; a follower reads to the log end", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig());
    try {
      for (let i = 0; i < 3; i++) await log.append(batchOf(2, `b${i}`));
      assert.equal(log.highWatermark, 6n, "without replication everything written is committed");
      assert.equal(log.setHighWatermark(2n, true), true);
      assert.equal(log.latestOffset, 2n);
      const consumer = await log.read(2n, 1 << 20, { minOneBatch: true });
      assert.equal(consumer.errorCode, ErrorCode.NONE);
      assert.equal(consumer.records.length, 0);
      assert.equal(consumer.highWatermark, 2n);
      const below = await log.read(0n, 1 << 20, { minOneBatch: true });
      assert.deepEqual(
        batchesIn(below.records).map((b) => b.baseOffset),
        [0n],
      );
      const replica = await log.read(2n, 1 << 20, { minOneBatch: true, replica: true });
      assert.equal(batchesIn(replica.records).length, 2);
      assert.equal((await log.read(7n, 1 << 20, { minOneBatch: true })).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      assert.equal(log.setHighWatermark(1n), false, "it never goes back by itself");
      assert.equal(log.setHighWatermark(99n), true);
      assert.equal(log.highWatermark, 6n, "never past the log end");
      assert.equal((await log.deleteRecordsBefore(-1n)).lowWatermark, 6n);
    } finally {
      await log.close();
    }
  });
});
