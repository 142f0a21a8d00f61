import { renameSync } from "node:fs";
import { open, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { filterBatch, KeyOffsetMap } from "./cleaner-batches.js";
import type { FilterContext } from "./cleaner-batches.js";
import { TxnCleaning } from "./cleaner-txn.js";
import { CLEANED_SUFFIX, readCleanerCheckpoint, swapPath, writeCleanerCheckpoint } from "./cleaner-files.js";
import { FileBatchScanner } from "./file-batches.js";
import type { PartitionLog } from "./partition-log.js";
import { LOG_SUFFIX, LogSegment, segmentFileName } from "./segment.js";

/**
 * Log compaction for topics with cleanup.policy=compact, after Kafka's LogCleaner: a log is due when
 * the bytes past its cleaner checkpoint (the dirty part) reach min.cleanable.dirty.ratio of its closed
 * segments, or when tombstones it kept have passed their delete horizon. Cleaning maps each key of the
 * dirty part to its last offset, then rewrites the closed segments from the start of the log, in groups
 * of up to segment.bytes, keeping only what the map does not supersede. Each group is written to
 * `<base>.log.cleaned` and swapped in for the segments it replaces (`.swap`, old files renamed away,
 * final name) in one synchronous step; reads and appends go on meanwhile. The active segment is never
 * touched, nor is any segment holding the last stable offset or past it (an open transaction's data is
 * never cleaned, as Kafka's first uncleanable offset). Transactions as Kafka's cleaner treats them (see
 * TxnCleaning and filterBatch): aborted records are removed, committed ones compacted like any other,
 * markers removed once their transaction left no data and delete.retention.ms passed, and the cleaned
 * segment's `.txnindex` keeps the entries of the ABORT markers that stay with data.
 */

/** The most keys mapped in one cleaning (Kafka bounds its dedupe buffer the same way, by memory). */
const DEFAULT_MAX_MAP_KEYS = 1_000_000;
/** Cleaned batches are written once this many bytes are pending. */
const WRITE_CHUNK = 1 << 20;
const INT32_MAX = 0x7fffffffn;

export interface LogCleanerOptions {
  maxMapKeys?: number;
  /** Reports a cleaning that failed (the log is left as it was). */
  onError?: (log: PartitionLog, err: Error) => void;
}

/** What one cleaning did. */
export interface CleanStats {
  segmentsBefore: number;
  segmentsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  /** The new cleaner checkpoint: offsets below it are clean. */
  cleanedTo: bigint;
}

/** How dirty a log is, from its segment sizes and cleaner checkpoint. */
export interface Cleanability {
  /** Closed segments old enough for min.compaction.lag.ms and wholly below the last stable offset, oldest first. */
  cleanable: readonly LogSegment[];
  /** Base offset of the segment after the cleanable ones: where cleaning stops. */
  firstUncleanableOffset: bigint;
  firstDirtyOffset: bigint;
  dirtyBytes: number;
  totalBytes: number;
  ratio: number;
  /** Ratio past the minimum, or kept tombstones past their horizon. */
  due: boolean;
}

interface LogState {
  checkpoint: bigint | null;
  /** Earliest delete horizon of tombstones or markers kept by the last cleaning; -1 when none. */
  tombstonesDueMs: number;
}

export function isCompacted(log: PartitionLog): boolean {
  return log.config.cleanupPolicy.split(",").some((p) => p.trim() === "compact");
}

export class LogCleaner {
  private readonly states = new WeakMap<PartitionLog, LogState>();
  private readonly maxMapKeys: number;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(private readonly options: LogCleanerOptions = {}) {
    this.maxMapKeys = options.maxMapKeys ?? DEFAULT_MAX_MAP_KEYS;
  }

  /**
   * One pass: cleans the compacted logs that are due, one at a time, dirtiest first. A pass already
   * running is not doubled. Returns the number of logs cleaned.
   */
  cleanDue(logs: Iterable<PartitionLog>, now = Date.now()): Promise<number> {
    if (this.running !== null || this.stopped) return Promise.resolve(0);
    const candidates = [...logs].filter(isCompacted);
    const run = this.cleanAll(candidates, now).finally(() => (this.running = null));
    this.running = run;
    return run;
  }

  private async cleanAll(logs: PartitionLog[], now: number): Promise<number> {
    const due: { log: PartitionLog; ratio: number }[] = [];
    for (const log of logs) {
      const c = await this.cleanability(log, now);
      if (c.due) due.push({ log, ratio: c.ratio });
    }
    due.sort((a, b) => b.ratio - a.ratio);
    let cleaned = 0;
    for (const { log } of due) {
      if (this.stopped) break;
      try {
        if ((await this.clean(log, now)) !== null) cleaned++;
      } catch (err) {
        this.options.onError?.(log, err as Error);
      }
    }
    return cleaned;
  }

  /** Waits for a running pass and refuses further ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  private async state(log: PartitionLog): Promise<LogState> {
    let state = this.states.get(log);
    if (state === undefined) {
      state = { checkpoint: await readCleanerCheckpoint(log.dir), tombstonesDueMs: -1 };
      this.states.set(log, state);
    }
    return state;
  }

  /** The dirty ratio of a log and whether it is due for cleaning. */
  async cleanability(log: PartitionLog, now = Date.now()): Promise<Cleanability> {
    const state = await this.state(log);
    const config = log.config;
    const closed = log.closedSegments;
    const lastStable = log.lastStableOffset;
    let n = 0;
    // min.compaction.lag.ms: stop at the first segment holding records younger than the lag; and at the
    // segment holding the last stable offset (Kafka's first uncleanable offset is at most the LSO).
    while (
      n < closed.length &&
      (closed[n] as LogSegment).nextOffset <= lastStable &&
      (config.minCompactionLagMs <= 0 || (closed[n] as LogSegment).largestTimestamp <= now - config.minCompactionLagMs)
    )
      n++;
    const cleanable = closed.slice(0, n);
    const firstUncleanableOffset = closed[n]?.baseOffset ?? log.activeBaseOffset;
    let firstDirtyOffset = state.checkpoint ?? log.logStartOffset;
    if (firstDirtyOffset < log.logStartOffset || firstDirtyOffset > log.logEndOffset)
      firstDirtyOffset = log.logStartOffset;
    let dirtyBytes = 0;
    let totalBytes = 0;
    for (const seg of cleanable) {
      totalBytes += seg.size;
      if (seg.baseOffset >= firstDirtyOffset) dirtyBytes += seg.size;
    }
    const ratio = totalBytes === 0 ? 0 : dirtyBytes / totalBytes;
    const tombstonesDue = state.tombstonesDueMs >= 0 && now >= state.tombstonesDueMs && cleanable.length > 0;
    const due = (dirtyBytes > 0 && ratio >= config.minCleanableDirtyRatio) || tombstonesDue;
    return { cleanable, firstUncleanableOffset, firstDirtyOffset, dirtyBytes, totalBytes, ratio, due };
  }

  /** Cleans one log now, whatever its ratio; null when it has nothing cleanable. */
  async clean(log: PartitionLog, now = Date.now()): Promise<CleanStats | null> {
    const state = await this.state(log);
    // A segment just rolled is flushed in the background; its index files must be written before it is
    // swapped out (a flush caught mid-way by the swap found its index renamed away: a storage error).
    await log.flush();
    const { cleanable, firstUncleanableOffset, firstDirtyOffset } = await this.cleanability(log, now);
    if (cleanable.length === 0) return null;

    // The aborted transactions of everything below the end of the cleanable part (their markers may lie
    // further on): every transaction there has ended, the LSO being past it.
    const from = (cleanable[0] as LogSegment).baseOffset;
    const txns = new TxnCleaning(log.abortedTransactionsIn(from, firstUncleanableOffset));
    // Map the dirty segments, whole ones only, as far as the map may grow.
    const map = new KeyOffsetMap();
    let cleanedTo = firstDirtyOffset;
    for (let i = 0; i < cleanable.length; i++) {
      const seg = cleanable[i] as LogSegment;
      if (seg.baseOffset < firstDirtyOffset) continue;
      if (map.size >= this.maxMapKeys && cleanedTo > firstDirtyOffset) break;
      await forEachBatch(seg, (batch) => map.addBatch(batch, txns));
      cleanedTo = (cleanable[i + 1] ?? null)?.baseOffset ?? firstUncleanableOffset;
    }
    const toClean = cleanable.filter((s) => s.baseOffset < cleanedTo);
    if (toClean.length === 0) return null;
    const ctx = filterContext(log, map, txns, now);
    const stats: CleanStats = {
      segmentsBefore: toClean.length,
      segmentsAfter: 0,
      bytesBefore: 0,
      bytesAfter: 0,
      cleanedTo,
    };
    let tombstonesDueMs = -1;
    const groups = groupBySize(toClean, log.config.segmentBytes);
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i] as LogSegment[];
      const end = groups[i + 1]?.[0]?.baseOffset ?? cleanedTo;
      const result = await this.cleanGroup(log, group, end, ctx);
      if (result === null) throw new Error(`${log.dir}: the log changed while it was cleaned`);
      for (const seg of group) stats.bytesBefore += seg.size;
      stats.bytesAfter += result.bytes;
      stats.segmentsAfter++;
      if (result.tombstoneHorizon >= 0 && (tombstonesDueMs < 0 || result.tombstoneHorizon < tombstonesDueMs)) {
        tombstonesDueMs = result.tombstoneHorizon;
      }
    }
    await writeCleanerCheckpoint(log.dir, cleanedTo);
    state.checkpoint = cleanedTo;
    state.tombstonesDueMs = tombstonesDueMs;
    return stats;
  }

  /**
   * Writes the kept batches of `group` (the segments based in [its first base, `end`)) to
   * `<base>.log.cleaned` and swaps that file in. Null when the log changed meanwhile (the file is then
   * dropped).
   */
  private async cleanGroup(
    log: PartitionLog,
    group: readonly LogSegment[],
    end: bigint,
    ctx: FilterContext,
  ): Promise<{ bytes: number; tombstoneHorizon: number } | null> {
    const base = (group[0] as LogSegment).baseOffset;
    const finalPath = join(log.dir, segmentFileName(base, LOG_SUFFIX));
    const cleanedPath = finalPath + CLEANED_SUFFIX;
    const swappedPath = swapPath(finalPath, end);
    let horizon = -1;
    let bytes = 0;
    const out = await open(cleanedPath, "w");
    try {
      try {
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        for (const seg of group) {
          await forEachBatch(
            seg,
            (batch) => {
              const kept = filterBatch(batch, ctx);
              if (kept.out === null) return;
              // An unchanged batch is a view of the scan buffer, which the next read reuses.
              const copy = kept.out === batch ? Buffer.from(batch) : kept.out;
              pending.push(copy);
              pendingBytes += copy.length;
              if (kept.tombstoneHorizon >= 0 && (horizon < 0 || kept.tombstoneHorizon < horizon))
                horizon = kept.tombstoneHorizon;
            },
            async () => {
              if (pendingBytes < WRITE_CHUNK) return;
              await writeAll(out, pending, bytes);
              bytes += pendingBytes;
              pending = [];
              pendingBytes = 0;
            },
          );
        }
        await writeAll(out, pending, bytes);
        bytes += pendingBytes;
        await out.datasync();
      } finally {
        await out.close();
      }
      // Even an empty result takes the group's place, so the log keeps its first base offset (as Kafka).
      const cleaned = await LogSegment.openCleaned(log.dir, base, log.config, cleanedPath);
      // The aborted transactions whose ABORT marker stayed because data of theirs did.
      for (const txn of ctx.txns.takeIndexEntries(end)) cleaned.txnIndex.append(txn);
      const swapped = log.replaceSegments(group, cleaned, () => {
        renameSync(cleanedPath, swappedPath);
        for (const seg of group) seg.retireSync();
        renameSync(swappedPath, finalPath);
      });
      if (!swapped) {
        await cleaned.close();
        await unlink(cleanedPath).catch(() => undefined);
        return null;
      }
      await cleaned.flush();
      return { bytes, tombstoneHorizon: horizon };
    } catch (err) {
      await unlink(cleanedPath).catch(() => undefined);
      throw err;
    }
  }
}

/** How batches are filtered in one cleaning, with the producers' last batches as they are now. */
function filterContext(log: PartitionLog, map: KeyOffsetMap, txns: TxnCleaning, now: number): FilterContext {
  const producers = log.producerState.producers;
  return {
    map,
    now,
    deleteRetentionMs: log.config.deleteRetentionMs,
    txns,
    isLastBatchOfProducer: (id, lastOffset) => producers.get(id)?.batches.at(-1)?.lastOffset === lastOffset,
    isLastMarkerOfProducer: (id, epoch) => {
      const entry = producers.get(id);
      return entry !== undefined && entry.batches.length === 0 && entry.epoch === epoch;
    },
  };
}

/**
 * Splits segments into runs to be cleaned into one segment each: at most `maxBytes` of input and an
 * offset range that relative offsets (int32) can express, as Kafka's groupSegmentsBySize.
 */
export function groupBySize(segments: readonly LogSegment[], maxBytes: number): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let i = 0;
  while (i < segments.length) {
    const first = segments[i] as LogSegment;
    const group = [first];
    let size = first.size;
    i++;
    while (i < segments.length) {
      const next = segments[i] as LogSegment;
      if (size + next.size > maxBytes || next.nextOffset - 1n - first.baseOffset > INT32_MAX) break;
      group.push(next);
      size += next.size;
      i++;
    }
    groups.push(group);
  }
  return groups;
}

/**
 * Calls `visit` with every whole batch of a closed segment, read through a handle of its own; `afterChunk`
 * runs between visits so the caller can write out what it gathered.
 */
async function forEachBatch(
  seg: LogSegment,
  visit: (batch: Buffer) => void,
  afterChunk?: () => Promise<void>,
): Promise<void> {
  const fh = await open(seg.logPath, "r");
  try {
    const scanner = new FileBatchScanner(fh, 0, seg.size, 1 << 20);
    for (let off = await scanner.next(true); off >= 0; off = await scanner.next(true)) {
      visit(scanner.buf.subarray(off, off + scanner.size));
      await afterChunk?.();
    }
    if (scanner.stop !== "end")
      throw new Error(`${seg.logPath}: ${scanner.stop} batch at position ${scanner.position}`);
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  for (const buf of buffers) {
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await fh.write(buf, done, buf.length - done, position);
      done += bytesWritten;
      position += bytesWritten;
    }
  }
}
