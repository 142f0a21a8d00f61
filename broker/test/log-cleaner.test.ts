import assert from "node:assert/strict";
import { copyFile, cp, readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BatchAttributes, buildRecordBatch, CompressionType, decodeRecordBatches } from "@tskafka/protocol";
import type { SimpleRecord } from "@tskafka/protocol";
import { LogCleaner } from "../src/log/cleaner.js";
import { readCleanerCheckpoint, swapPath } from "../src/log/cleaner-files.js";
import { logConfig } from "../src/log/config.js";
import type { LogConfig } from "../src/log/config.js";
import { ErrorCode } from "../src/log/errors.js";
import { LogManager } from "../src/log/log-manager.js";
import { PartitionLog } from "../src/log/partition-log.js";
import { segmentFileName } from "../src/log/segment.js";
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
  return join(root.dir, `compacted-${n++}`);
}

const compact: Partial<LogConfig> = {
  segmentBytes: 1024,
  indexIntervalBytes: 128,
  cleanupPolicy: "compact",
  fileDeleteDelayMs: 0,
};

interface Stored {
  offset: bigint;
  key: string | null;
  value: string | null;
  timestamp: bigint;
}

interface StoredBatchInfo {
  baseOffset: bigint;
  lastOffsetDelta: number;
  attributes: number;
  producerId: bigint;
  baseSequence: number;
  count: number;
}

/** Every record (and batch header) from the log start on, read as a consumer would. */
async function readAll(log: PartitionLog): Promise<{ records: Stored[]; batches: StoredBatchInfo[] }> {
  const records: Stored[] = [];
  const batches: StoredBatchInfo[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, 1 << 16, { minOneBatch: true });
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.ok(r.records.length > 0, `nothing at ${offset}`);
    for (const b of decodeRecordBatches(r.records)) {
      const next = b.baseOffset + BigInt(b.lastOffsetDelta) + 1n;
      if (next <= offset) continue;
      batches.push({
        baseOffset: b.baseOffset,
        lastOffsetDelta: b.lastOffsetDelta,
        attributes: b.attributes,
        producerId: b.producerId,
        baseSequence: b.baseSequence,
        count: b.records.length,
      });
      for (const rec of b.records) {
        const at = b.baseOffset + BigInt(rec.offsetDelta);
        if (at < offset) continue;
        records.push({
          offset: at,
          key: rec.key === null ? null : rec.key.toString(),
          value: rec.value === null ? null : rec.value.toString(),
          timestamp: b.baseTimestamp + rec.timestampDelta,
        });
      }
      offset = next;
    }
  }
  return { records, batches };
}

function assertIncreasing(records: Stored[]): void {
  for (let i = 1; i < records.length; i++) assert.ok(records[i]!.offset > records[i - 1]!.offset, "offsets increase");
}

async function produce(
  log: PartitionLog,
  records: SimpleRecord[],
  options: Parameters<typeof buildRecordBatch>[1] = {},
): Promise<bigint> {
  const r = await log.append(buildRecordBatch(records, options));
  assert.equal(r.errorCode, ErrorCode.NONE);
  return r.baseOffset;
}

/** Latest value per key among `records`. */
function latest(records: Stored[]): Map<string | null, string | null> {
  const m = new Map<string | null, string | null>();
  for (const r of records) m.set(r.key, r.value);
  return m;
}

describe("log cleaner", () => {
  it("keeps only the latest value per key in closed segments, with offsets and timestamps intact", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig(compact));
    for (let i = 0; i < 300; i++)
      await produce(log, [{ key: `k${i % 5}`, value: `value-${i}`, timestamp: 1_700_000_000_000 + i }]);
    const before = await readAll(log);
    const segmentsBefore = log.segmentCount;
    assert.ok(segmentsBefore > 10);
    const cleaner = new LogCleaner();
    assert.equal((await cleaner.cleanability(log)).due, true);
    const stats = await cleaner.clean(log);
    assert.ok(stats !== null);
    assert.equal(stats.cleanedTo, log.activeBaseOffset);
    assert.equal(await readCleanerCheckpoint(log.dir), log.activeBaseOffset);

    const afterClean = await readAll(log);
    assertIncreasing(afterClean.records);
    assert.deepEqual(latest(afterClean.records), latest(before.records));
    const cleanPart = afterClean.records.filter((r) => r.offset < stats.cleanedTo);
    assert.equal(new Set(cleanPart.map((r) => r.key)).size, cleanPart.length, "one record per key in the cleaned part");
    // Every kept record is the one that was at its offset, timestamp included.
    const byOffset = new Map(before.records.map((r) => [r.offset, r]));
    for (const r of afterClean.records) assert.deepEqual(r, byOffset.get(r.offset));
    // The active segment is untouched.
    assert.deepEqual(
      afterClean.records.filter((r) => r.offset >= stats.cleanedTo),
      before.records.filter((r) => r.offset >= stats.cleanedTo),
    );
    // Nothing more to do until more is written.
    assert.equal((await cleaner.cleanability(log)).due, false);
    // Groups are formed by input size (as Kafka's), so the now small segments merge on the next pass.
    const segmentsCleaned = log.segmentCount;
    await cleaner.clean(log);
    assert.ok(
      log.segmentCount < segmentsCleaned,
      `segments ${segmentsBefore} -> ${segmentsCleaned} -> ${log.segmentCount}`,
    );
    assert.deepEqual(await readAll(log), afterClean);
    // Rebuilt indexes: a read at each kept offset returns the batch holding it.
    for (const r of afterClean.records) {
      const read = await log.read(r.offset, 1, { minOneBatch: true });
      const [b] = decodeRecordBatches(read.records);
      assert.ok(b !== undefined && b.baseOffset <= r.offset && r.offset <= b.baseOffset + BigInt(b.lastOffsetDelta));
    }
    await log.close();

    const reopened = await PartitionLog.open(log.dir, logConfig(compact));
    assert.deepEqual((await readAll(reopened)).records, afterClean.records);
    assert.equal(reopened.logEndOffset, 300n);
    await reopened.close();
    const names = await readdir(log.dir);
    assert.deepEqual(
      names.filter((f) => f.endsWith(".cleaned") || f.endsWith(".swap") || f.endsWith(".deleted")),
      [],
    );
  });

  it("keeps tombstones until delete.retention.ms after the first cleaning, then drops them", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig({ ...compact, deleteRetentionMs: 60_000 }));
    await produce(log, [{ key: "gone", value: "v1" }]);
    await produce(log, [{ key: "stays", value: "s1" }]);
    await produce(log, [{ key: "gone", value: null }]);
    for (let i = 0; i < 60; i++) await produce(log, [{ key: `filler${i % 3}`, value: "x".repeat(40) }]);
    const cleaner = new LogCleaner();
    const now = Date.now();
    await cleaner.clean(log, now);
    let stored = await readAll(log);
    const tombstone = stored.records.find((r) => r.key === "gone");
    assert.deepEqual(tombstone?.value, null, "the tombstone is kept, its value gone");
    assert.equal(tombstone.offset, 2n);
    const tombstoneBatch = stored.batches.find((b) => b.baseOffset === 2n);
    assert.ok(tombstoneBatch !== undefined && (tombstoneBatch.attributes & BatchAttributes.deleteHorizon) !== 0);
    assert.equal(stored.records.find((r) => r.key === "stays")?.value, "s1");

    assert.equal((await cleaner.cleanability(log, now + 1000)).due, false);
    assert.equal((await cleaner.cleanability(log, now + 60_001)).due, true, "due once the horizon passed");
    await cleaner.clean(log, now + 60_001);
    stored = await readAll(log);
    assert.equal(
      stored.records.find((r) => r.key === "gone"),
      undefined,
    );
    assert.equal(stored.records.find((r) => r.key === "stays")?.value, "s1");
    assertIncreasing(stored.records);
    await log.close();
  });

  it("rewrites compressed multi-record batches keeping base offset, last offset delta, codec and producer fields", async () => {
    const log = await PartitionLog.open(partitionDir(), logConfig(compact));
    await produce(
      log,
      [
        { key: "a", value: "a1" },
        { key: "b", value: "b1" },
        { key: "a", value: "a2" },
        { key: "c", value: "c1" },
      ],
      { compression: CompressionType.gzip, producerId: 42n, producerEpoch: 3, baseSequence: 0 },
    );
    await produce(log, [{ key: "c", value: "c2" }], { producerId: 42n, producerEpoch: 3, baseSequence: 4 });
    for (let i = 0; i < 40; i++) await produce(log, [{ key: `f${i % 2}`, value: "y".repeat(40) }]);
    await new LogCleaner().clean(log);
    const stored = await readAll(log);
    const first = stored.batches[0]!;
    assert.equal(first.baseOffset, 0n);
    assert.equal(first.lastOffsetDelta, 3, "the original last offset delta stays");
    assert.equal(first.attributes & BatchAttributes.compressionMask, CompressionType.gzip);
    assert.equal(first.producerId, 42n);
    assert.equal(first.baseSequence, 0);
    assert.deepEqual(
      stored.records.filter((r) => r.offset < 5n).map((r) => [r.offset, r.key, r.value]),
      [
        [1n, "b", "b1"],
        [2n, "a", "a2"],
        [4n, "c", "c2"],
      ],
    );
    await log.close();
  });

  it("keeps an emptied batch when it is its producer's last, so the producer's sequence survives", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig(compact));
    await produce(log, [{ key: "p", value: "first" }], { producerId: 9n, producerEpoch: 0, baseSequence: 0 });
    await produce(log, [{ key: "p", value: "second" }], { producerId: 9n, producerEpoch: 0, baseSequence: 1 });
    await produce(log, [{ key: "p", value: "plain" }]);
    for (let i = 0; i < 40; i++) await produce(log, [{ key: `f${i % 2}`, value: "z".repeat(40) }]);
    await new LogCleaner().clean(log);
    const stored = await readAll(log);
    assert.equal(
      stored.batches.some((b) => b.baseOffset === 0n),
      false,
      "the older batch went",
    );
    const kept = stored.batches.find((b) => b.baseOffset === 1n);
    assert.ok(kept !== undefined, "the producer's last batch stays");
    assert.equal(kept.count, 0);
    assert.equal(kept.producerId, 9n);
    assert.equal(kept.baseSequence, 1);
    await log.close();
    const reopened = await PartitionLog.open(dir, logConfig(compact));
    assert.equal(reopened.producerState.producers.get(9n)?.batches.at(-1)?.lastSeq, 1);
    // The producer's next batch is in sequence; a replay of the last one is a duplicate.
    const dup = await reopened.append(
      buildRecordBatch([{ key: "p", value: "second" }], { producerId: 9n, producerEpoch: 0, baseSequence: 1 }),
    );
    assert.equal(dup.errorCode, ErrorCode.NONE);
    assert.equal(dup.baseOffset, 1n);
    await reopened.close();
  });

  it("recovers from a crash in the middle of a swap and drops half-written cleaned files", async () => {
    const dir = partitionDir();
    const log = await PartitionLog.open(dir, logConfig(compact));
    await produce(log, [{ key: "only-once", value: "kept" }]);
    for (let i = 0; i < 120; i++) await produce(log, [{ key: `k${i % 4}`, value: `value-${i}` }]);
    const original = await readAll(log);
    const oldBases = log.segmentBaseOffsets;
    await log.close();
    const crashed = partitionDir();
    await cp(dir, crashed, { recursive: true });

    // Larger segments when cleaning: groups of several old segments.
    const cleanedLog = await PartitionLog.open(dir, logConfig({ ...compact, segmentBytes: 4096 }));
    assert.ok((await new LogCleaner().clean(cleanedLog)) !== null);
    const cleaned = await readAll(cleanedLog);
    const secondGroup = cleanedLog.segmentBaseOffsets[1]!;
    await cleanedLog.close();

    // The crashed copy: the first group's cleaned segment complete (.swap), one of the segments it
    // replaces already renamed away, the others not; the next group's file half written.
    await copyFile(
      join(dir, segmentFileName(0n, ".log")),
      swapPath(join(crashed, segmentFileName(0n, ".log")), secondGroup),
    );
    await rename(
      join(crashed, segmentFileName(oldBases[1]!, ".log")),
      join(crashed, segmentFileName(oldBases[1]!, ".log.deleted")),
    );
    await writeFile(join(crashed, segmentFileName(secondGroup, ".log.cleaned")), "half");

    assert.ok(oldBases[1]! < secondGroup);
    const recovered = await PartitionLog.open(crashed, logConfig(compact));
    const expected = [
      ...cleaned.records.filter((r) => r.offset < secondGroup),
      ...original.records.filter((r) => r.offset >= secondGroup),
    ];
    assert.deepEqual((await readAll(recovered)).records, expected);
    assert.deepEqual(recovered.segmentBaseOffsets, [0n, ...oldBases.filter((b) => b >= secondGroup)]);
    await recovered.close();
    const names = await readdir(crashed);
    assert.deepEqual(
      names.filter((f) => /\.(cleaned|swap|deleted)$/.test(f)),
      [],
    );
  });

  it("cleans compacted logs from LogManager's pass and leaves delete-policy logs alone", async () => {
    const dataDir = join(root.dir, `manager-${n++}`);
    const manager = await LogManager.open(dataDir, {
      topicConfigs: new Map([
        ["compacted", compact],
        ["plain", { ...compact, cleanupPolicy: "delete" }],
      ]),
    });
    const c = await manager.getOrCreate("compacted", 0);
    const p = await manager.getOrCreate("plain", 0);
    for (let i = 0; i < 100; i++) {
      await produce(c, [{ key: `k${i % 3}`, value: `v${i}`.padEnd(40, ".") }]);
      await produce(p, [{ key: `k${i % 3}`, value: `v${i}`.padEnd(40, ".") }]);
    }
    const plainSegments = p.segmentCount;
    const compactedSegments = c.segmentCount;
    manager.setTopicConfig("compacted", { ...compact, segmentBytes: 8192 });
    assert.equal(await manager.cleanLogs(), 1);
    assert.equal(p.segmentCount, plainSegments);
    assert.ok(c.segmentCount < compactedSegments);
    assert.equal(await manager.cleanLogs(), 0, "nothing due right after a cleaning");
    await manager.close();
  });
});
