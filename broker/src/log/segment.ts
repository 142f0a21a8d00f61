import { renameSync, writevSync } from "node:fs";
import { open, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { firstRecordAtOrAfter } from "./batch-records.js";
import type { LogConfig } from "./config.js";
import { FileBatchScanner, readFully } from "./file-batches.js";
import { OffsetIndex } from "./offset-index.js";
import { BatchAttributes, BatchOffsets, verifyBatchCrc } from "./records.js";
import { TimeIndex } from "./time-index.js";
import { TXN_INDEX_SUFFIX, TxnIndex, type AbortedTxn } from "./txn-index.js";

export const LOG_SUFFIX = ".log";
export const INDEX_SUFFIX = ".index";
export const TIME_INDEX_SUFFIX = ".timeindex";
export { TXN_INDEX_SUFFIX };

/** `<baseOffset as 20 digits><suffix>`, as Kafka names segment files. */
export function segmentFileName(baseOffset: bigint, suffix: string): string {
  return baseOffset.toString().padStart(20, "0") + suffix;
}

/**
 * Calls back with each batch found in a scan: the buffer holding it and where it starts there (the whole
 * batch for control batches, at least the header for others). A recovering segment adds the aborted
 * transaction a visit returns (the one an ABORT marker ends) to its transaction index.
 */
export type BatchVisitor = (buf: Buffer, off: number) => AbortedTxn | null | void;

/** A record found by timestamp. */
export interface TimestampOffset {
  offset: bigint;
  timestamp: bigint;
  leaderEpoch: number;
}

/** No upper bound on the offsets a read returns. */
const NO_MAX_OFFSET = 0x7fffffffffffffffn;

/** Bytes of slack read past the requested size, so an index hit short of the target still needs one read. */
const READ_SLACK = 8192;

/** The last offset of the batch at `pos` in `buf`. */
function lastOffsetAt(buf: Buffer, pos: number): bigint {
  return buf.readBigInt64BE(pos) + BigInt(buf.readInt32BE(pos + BatchOffsets.lastOffsetDelta));
}

/**
 * One segment of a partition log: the `.log` file of batches starting at `baseOffset`, its sparse offset
 * index, its time index and its aborted-transaction index. The log file is kept open; positional reads and
 * writes go through it.
 */
export class LogSegment {
  /** Bytes of batches written to the log file (and visible to readers). */
  size = 0;
  /** The offset after the last batch; `baseOffset` while empty. */
  nextOffset: bigint;
  /** Largest batch max timestamp, -1n when none, and the base offset of the first batch reaching it. */
  maxTimestamp = -1n;
  offsetOfMaxTimestamp: bigint;
  /** Max timestamp of the first batch, which time-based rolling counts from (-1n when empty). */
  rollingBasedTimestamp = -1n;
  /** When the segment was created or last written, for time-based rolling and retention without timestamps. */
  createdMs: number;
  lastModifiedMs: number;
  /** Bytes written since the log was last synced to disk. */
  unsyncedBytes = 0;
  /** Readers holding the segment; deletion waits for them. */
  private refs = 0;
  private deleteWhenFree = false;
  /** Set when the segment is only to be closed once free (its log moved to another directory). */
  private keepFiles = false;
  /** Appended to the file names once the cleaner replaced this segment and renamed its files away. */
  private retiredSuffix = "";
  private bytesSinceIndexEntry = 0;
  /** Where the last read ended, so a consumer reading on from there skips the index lookup and scan. */
  private hintOffset = -1n;
  private hintPosition = 0;

  private constructor(
    readonly dir: string,
    readonly baseOffset: bigint,
    private readonly fh: FileHandle,
    readonly offsetIndex: OffsetIndex,
    readonly timeIndex: TimeIndex,
    readonly txnIndex: TxnIndex,
    private indexIntervalBytes: number,
    now: number,
  ) {
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
    this.createdMs = now;
    this.lastModifiedMs = now;
  }

  get logPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, LOG_SUFFIX));
  }

  private static make(dir: string, baseOffset: bigint, fh: FileHandle, config: LogConfig, now: number): LogSegment {
    return new LogSegment(
      dir,
      baseOffset,
      fh,
      new OffsetIndex(join(dir, segmentFileName(baseOffset, INDEX_SUFFIX)), baseOffset, config.segmentIndexBytes),
      new TimeIndex(join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX)), baseOffset, config.segmentIndexBytes),
      new TxnIndex(join(dir, segmentFileName(baseOffset, TXN_INDEX_SUFFIX))),
      config.indexIntervalBytes,
      now,
    );
  }

  /** A new empty segment; an existing file of that name is emptied. */
  static async create(dir: string, baseOffset: bigint, config: LogConfig): Promise<LogSegment> {
    const fh = await open(join(dir, segmentFileName(baseOffset, LOG_SUFFIX)), "w+");
    return LogSegment.make(dir, baseOffset, fh, config, Date.now());
  }

  /**
   * Opens an existing segment. With `recover` (or when an index is missing or damaged) every batch is
   * checked and the indexes rebuilt; otherwise the indexes are trusted and only the tail after the last
   * index entry is scanned. `visit` sees every batch header of a recovered segment.
   */
  static async open(
    dir: string,
    baseOffset: bigint,
    config: LogConfig,
    recover: boolean,
    visit?: BatchVisitor,
  ): Promise<{ segment: LogSegment; recovered: boolean; truncatedBytes: number }> {
    const path = join(dir, segmentFileName(baseOffset, LOG_SUFFIX));
    const fh = await open(path, "r+");
    try {
      const st = await fh.stat();
      const seg = LogSegment.make(dir, baseOffset, fh, config, st.mtimeMs);
      seg.size = st.size;
      if (!recover) {
        const loaded = (await seg.offsetIndex.load()) && (await seg.timeIndex.load()) && (await seg.txnIndex.load());
        if (loaded && seg.offsetIndex.isSane(seg.size) && (await seg.loadTail())) {
          return { segment: seg, recovered: false, truncatedBytes: 0 };
        }
      }
      const truncatedBytes = await seg.recover(visit);
      return { segment: seg, recovered: true, truncatedBytes };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /**
   * A segment written by the log cleaner at `path` (not yet at its final name): the file is checked and
   * both indexes are built in memory, to be written under the final names once the cleaner swapped it in.
   */
  static async openCleaned(dir: string, baseOffset: bigint, config: LogConfig, path: string): Promise<LogSegment> {
    const fh = await open(path, "r+");
    try {
      const st = await fh.stat();
      const seg = LogSegment.make(dir, baseOffset, fh, config, st.mtimeMs);
      seg.size = st.size;
      if ((await seg.recover()) > 0) throw new Error(`${path}: cleaned segment is damaged`);
      seg.onBecomeInactive();
      return seg;
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /**
   * Renames the files to `<name>.deleted` at once, as the cleaner swaps a replacement in under the same
   * names; open handles keep reading the old data, and the renamed files go when the segment is deleted.
   */
  retireSync(): void {
    const suffix = ".deleted";
    for (const path of this.filePaths()) {
      try {
        renameSync(path, path + suffix);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    this.retiredSuffix = suffix;
  }

  /** The segment's files: log, offset index, time index, transaction index. */
  private filePaths(): string[] {
    return [this.logPath, this.offsetIndex.path, this.timeIndex.path, this.txnIndex.path];
  }

  /** Finds the next offset and max timestamp from the indexes and the batches after the last entry. */
  private async loadTail(): Promise<boolean> {
    this.maxTimestamp = this.timeIndex.lastTimestamp;
    this.offsetOfMaxTimestamp = this.timeIndex.lastOffset;
    const start = this.offsetIndex.count === 0 ? 0 : this.offsetIndex.positionAt(this.offsetIndex.count - 1);
    const scanner = new FileBatchScanner(this.fh, start, this.size);
    for (let off = await scanner.next(false); off >= 0; off = await scanner.next(false)) {
      this.track(scanner.buf, off, scanner.size);
    }
    if (scanner.stop !== "end") return false;
    if (!this.timeIndex.isSane(this.nextOffset)) return false;
    if (!this.txnIndex.isSane(this.baseOffset, this.nextOffset)) return false;
    if (this.size > 0) this.rollingBasedTimestamp = await this.firstBatchMaxTimestamp();
    return true;
  }

  private async firstBatchMaxTimestamp(): Promise<bigint> {
    const head = Buffer.allocUnsafe(BatchOffsets.maxTimestamp + 8);
    const n = await readFully(this.fh, head, head.length, 0);
    return n === head.length ? head.readBigInt64BE(BatchOffsets.maxTimestamp) : -1n;
  }

  /** Updates next offset and max timestamp for a batch at `off` in `buf`, `size` bytes long. */
  private track(buf: Buffer, off: number, size: number): void {
    const base = buf.readBigInt64BE(off);
    const maxTs = buf.readBigInt64BE(off + BatchOffsets.maxTimestamp);
    if (maxTs > this.maxTimestamp) {
      this.maxTimestamp = maxTs;
      this.offsetOfMaxTimestamp = base;
    }
    this.nextOffset = base + BigInt(buf.readInt32BE(off + BatchOffsets.lastOffsetDelta)) + 1n;
    this.bytesSinceIndexEntry += size;
  }

  /**
   * Checks every batch (size, magic, CRC, offsets moving forward), rebuilds the indexes and truncates the
   * file after the last good batch. Returns the number of bytes cut off. The transaction index is rebuilt
   * from what `visit` returns (without a visitor it is left empty).
   */
  async recover(visit?: BatchVisitor): Promise<number> {
    this.offsetIndex.clear();
    this.timeIndex.clear();
    this.txnIndex.clear();
    this.nextOffset = this.baseOffset;
    this.maxTimestamp = -1n;
    this.offsetOfMaxTimestamp = this.baseOffset;
    this.bytesSinceIndexEntry = 0;
    this.rollingBasedTimestamp = -1n;
    const scanner = new FileBatchScanner(this.fh, 0, this.size, 1 << 20);
    let valid = 0;
    for (let off = await scanner.next(true); off >= 0; off = await scanner.next(true)) {
      const buf = scanner.buf;
      const batch = buf.subarray(off, off + scanner.size);
      const base = batch.readBigInt64BE(0);
      const lastDelta = batch.readInt32BE(BatchOffsets.lastOffsetDelta);
      if (!verifyBatchCrc(batch) || base < this.nextOffset || lastDelta < 0) break;
      this.indexBatch(batch, 0, valid, scanner.size);
      const aborted = visit?.(buf, off);
      if (aborted) this.txnIndex.append(aborted);
      valid += scanner.size;
    }
    const truncated = this.size - valid;
    if (truncated > 0) {
      await this.fh.truncate(valid);
      this.size = valid;
    }
    return truncated;
  }

  /**
   * Cuts the segment before the batch holding `offset` (a follower's truncation) and rebuilds its indexes
   * from what stays, as `recover` does (with `visit` seeing each batch kept). Returns the bytes cut.
   */
  async truncateTo(offset: bigint, visit?: BatchVisitor): Promise<number> {
    const scanner = new FileBatchScanner(this.fh, this.offsetIndex.lookup(offset), this.size);
    let cut = this.size;
    for (let off = await scanner.next(false); off >= 0; off = await scanner.next(false)) {
      const last =
        scanner.buf.readBigInt64BE(off) + BigInt(scanner.buf.readInt32BE(off + BatchOffsets.lastOffsetDelta));
      if (last >= offset) {
        cut = scanner.position;
        break;
      }
    }
    const removed = this.size - cut;
    await this.fh.truncate(cut);
    this.size = cut;
    this.unsyncedBytes = 0;
    this.hintOffset = -1n;
    await this.recover(visit);
    return removed;
  }

  /** Records a batch written at `position` in the indexes and segment statistics. */
  indexBatch(buf: Buffer, off: number, position: number, size: number): void {
    if (position === 0) this.rollingBasedTimestamp = buf.readBigInt64BE(off + BatchOffsets.maxTimestamp);
    this.track(buf, off, size);
    // `track` counted this batch; the entry check counts only the bytes before it, as Kafka does.
    if (this.bytesSinceIndexEntry - size > this.indexIntervalBytes) {
      this.offsetIndex.append(this.nextOffset - 1n, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceIndexEntry = size;
    }
  }

  /** Writes `buffers` (whole batches with offsets assigned) at the end of the log file. */
  async write(buffers: Buffer[], total: number): Promise<void> {
    const position = this.size;
    // A write into the page cache takes microseconds; the thread-pool round trip of an async write cost
    // ten times that per produce request in profiles, so the first attempt is synchronous (as Kafka's
    // request threads write). Durability is unchanged: the bytes are in the OS either way.
    let done = writevSync(this.fh.fd, buffers, position);
    if (done === total) return;
    // A short write is rare for regular files; finish it buffer by buffer.
    let skip = done;
    for (const b of buffers) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      let from = skip;
      skip = 0;
      while (from < b.length) {
        const { bytesWritten } = await this.fh.write(b, from, b.length - from, position + done);
        if (bytesWritten === 0) throw new Error(`${this.logPath}: write made no progress`);
        from += bytesWritten;
        done += bytesWritten;
      }
    }
  }

  /** Makes `bytes` of written batches visible once their write completed (they are indexed separately). */
  commitWrite(bytes: number, now: number): void {
    this.size += bytes;
    this.unsyncedBytes += bytes;
    this.lastModifiedMs = now;
  }

  /** Undoes a failed write: cut the file back to the last committed size. */
  async truncateToSize(): Promise<void> {
    await this.fh.truncate(this.size);
  }

  /** The log file's size on disk (equal to `size` unless a failed write left bytes past it). */
  async fileSize(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  /**
   * Whether a batch of `incoming` bytes (last offset `lastOffset`, max timestamp `maxTs`), written after
   * `pending` bytes not yet written, needs a new segment: size, age, full index or relative offset overflow.
   */
  shouldRoll(
    config: LogConfig,
    pending: number,
    incoming: number,
    maxTs: bigint,
    lastOffset: bigint,
    now: number,
  ): boolean {
    const size = this.size + pending;
    if (size === 0) return false;
    if (size > config.segmentBytes - incoming) return true;
    const waited =
      this.rollingBasedTimestamp >= 0n && maxTs >= 0n
        ? Number(maxTs - this.rollingBasedTimestamp)
        : now - this.createdMs;
    if (waited > config.segmentMs - config.segmentJitterMs) return true;
    return this.offsetIndex.isFull || this.timeIndex.isFull || lastOffset - this.baseOffset > 0x7fffffffn;
  }

  /** The segment stops taking appends: its last max timestamp goes into the time index. */
  onBecomeInactive(): void {
    if (this.maxTimestamp >= 0n) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
  }

  /** Largest timestamp for time-based retention: the records', or the file's time when they have none. */
  get largestTimestamp(): number {
    return this.maxTimestamp >= 0n ? Number(this.maxTimestamp) : this.lastModifiedMs;
  }

  acquire(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0 && this.deleteWhenFree) void this.deleteFiles();
  }

  /**
   * Reads whole batches starting with the one holding `offset`, at most `maxBytes` of them (but the
   * first batch whole when `minOneBatch`), and only batches ending before `maxOffset`. Returns null when
   * no batch at or after `offset` is in this segment, an empty buffer when the first batch does not fit
   * (and `minOneBatch` is false) or reaches `maxOffset`. The bytes are read into buffers from `alloc`.
   */
  async read(
    offset: bigint,
    maxBytes: number,
    minOneBatch: boolean,
    maxOffset = NO_MAX_OFFSET,
    alloc: (len: number) => Buffer = Buffer.allocUnsafe,
  ): Promise<Buffer | null> {
    const size = this.size;
    const exact = this.hintOffset === offset;
    const start = exact ? this.hintPosition : this.offsetIndex.lookup(offset);
    if (start >= size) return null;
    let len = Math.min(size - start, exact ? Math.max(maxBytes, BatchOffsets.records) : maxBytes + READ_SLACK);
    let buf = alloc(len);
    len = await readFully(this.fh, buf, len, start);
    let bufStart = start;
    // Find the batch holding `offset`.
    let off = 0;
    let first = 0;
    let last = 0n;
    for (;;) {
      if (bufStart + off >= size) return null;
      if (off + BatchOffsets.baseTimestamp > len) {
        // The scan left the chunk: read on from here.
        bufStart += off;
        len = Math.min(size - bufStart, maxBytes + READ_SLACK);
        if (buf.length < len) buf = alloc(len);
        len = await readFully(this.fh, buf, len, bufStart);
        off = 0;
        if (len < BatchOffsets.baseTimestamp) return null;
      }
      first = buf.readInt32BE(off + BatchOffsets.batchLength) + 12;
      last = buf.readBigInt64BE(off) + BigInt(buf.readInt32BE(off + BatchOffsets.lastOffsetDelta));
      if (last >= offset) break;
      off += first;
    }
    if ((first > maxBytes && !minOneBatch) || last >= maxOffset) return Buffer.alloc(0);
    // Take whole batches up to maxBytes (at least the first) and below maxOffset. Without a maxOffset
    // only the last batch's offsets are needed: a fetch of small batches walks about a thousand of them.
    const bounded = maxOffset !== NO_MAX_OFFSET;
    let end = off + first;
    let lastStart = off;
    while (end + BatchOffsets.baseTimestamp <= len) {
      const next = buf.readInt32BE(end + BatchOffsets.batchLength) + 12;
      if (end + next - off > maxBytes || bufStart + end + next > size) break;
      if (bounded && lastOffsetAt(buf, end) >= maxOffset) break;
      lastStart = end;
      end += next;
    }
    const lastOffset = lastStart === off ? last : lastOffsetAt(buf, lastStart);
    let out: Buffer;
    if (end <= len) {
      out = buf.subarray(off, end);
    } else {
      // The first batch is larger than what was read.
      out = alloc(end - off);
      const n = await readFully(this.fh, out, out.length, bufStart + off);
      if (n < out.length) return null;
    }
    this.hintOffset = lastOffset + 1n;
    this.hintPosition = bufStart + end;
    return out;
  }

  /**
   * The first record at or after `startOffset` with a timestamp >= `timestamp`, found through the time
   * index, the offset index and a scan of batch headers; null when no batch here reaches it.
   */
  async findOffsetByTimestamp(timestamp: bigint, startOffset: bigint): Promise<TimestampOffset | null> {
    const fromOffset = this.timeIndex.lookup(timestamp);
    const start = this.offsetIndex.lookup(fromOffset > startOffset ? fromOffset : startOffset);
    const scanner = new FileBatchScanner(this.fh, start, this.size);
    for (let off = await scanner.next(false); off >= 0; off = await scanner.next(false)) {
      const buf = scanner.buf;
      const base = buf.readBigInt64BE(off);
      const last = base + BigInt(buf.readInt32BE(off + BatchOffsets.lastOffsetDelta));
      if (last < startOffset || buf.readBigInt64BE(off + BatchOffsets.maxTimestamp) < timestamp) continue;
      const whole = await this.readBatchAt(scanner.position, scanner.size);
      const minDelta = startOffset > base ? Number(startOffset - base) : 0;
      const mark = firstRecordAtOrAfter(whole, timestamp, minDelta);
      if (mark === null) continue;
      return {
        offset: base + BigInt(mark.offsetDelta),
        timestamp: mark.timestamp,
        leaderEpoch: whole.readInt32BE(BatchOffsets.partitionLeaderEpoch),
      };
    }
    return null;
  }

  /** The whole batch that starts at or before `offset`'s batch position and holds `offset`. */
  async readBatchHolding(offset: bigint): Promise<Buffer | null> {
    const scanner = new FileBatchScanner(this.fh, this.offsetIndex.lookup(offset), this.size);
    for (let off = await scanner.next(false); off >= 0; off = await scanner.next(false)) {
      const last =
        scanner.buf.readBigInt64BE(off) + BigInt(scanner.buf.readInt32BE(off + BatchOffsets.lastOffsetDelta));
      if (last >= offset) return this.readBatchAt(scanner.position, scanner.size);
    }
    return null;
  }

  private async readBatchAt(position: number, size: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(size);
    await readFully(this.fh, buf, size, position);
    return buf;
  }

  /** Calls `visit` with the header of every batch, and control batches whole (for rebuilding producer state). */
  async scanHeaders(visit: BatchVisitor): Promise<void> {
    const scanner = new FileBatchScanner(this.fh, 0, this.size);
    for (let off = await scanner.next(false); off >= 0; off = await scanner.next(false)) {
      if ((scanner.buf.readInt16BE(off + BatchOffsets.attributes) & BatchAttributes.control) !== 0) {
        off = await scanner.whole();
        if (off < 0) return;
      }
      visit(scanner.buf, off);
    }
  }

  /** Syncs the log data written so far (not the indexes). */
  async syncData(): Promise<void> {
    const pending = this.unsyncedBytes;
    if (pending === 0) return;
    await this.fh.datasync();
    this.unsyncedBytes -= pending;
  }

  /** Syncs the log and writes the indexes. */
  async flush(): Promise<void> {
    // A retired segment's index names now belong to its replacement.
    if (this.retiredSuffix !== "") return;
    await this.syncData();
    // The transaction index first, so a cleaned segment whose offset index is on disk has its entries there too.
    await this.txnIndex.flush();
    await this.offsetIndex.flush();
    await this.timeIndex.flush();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Closes the file now, or once the last reader releases the segment, keeping the files (the log moved). */
  closeWhenFree(): void {
    this.keepFiles = true;
    this.markDeleted();
  }

  /** Bytes `[position, position + length)` of the log file, for copying it elsewhere. */
  async readBytes(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    const n = await readFully(this.fh, buf, length, position);
    return n === length ? buf : buf.subarray(0, n);
  }

  /** Deletes the files now, or once the last reader releases the segment. */
  markDeleted(): void {
    this.deleteWhenFree = true;
    if (this.refs === 0) void this.deleteFiles();
  }

  private async deleteFiles(): Promise<void> {
    this.deleteWhenFree = false;
    await this.fh.close().catch(() => undefined);
    if (this.keepFiles) return;
    for (const path of this.filePaths()) {
      await unlink(path + this.retiredSuffix).catch(() => undefined);
    }
  }
}
