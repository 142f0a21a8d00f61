import { copyFile, mkdir, open, readdir, rename, rm, stat, unlink, utimes } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { syncDirectory } from "../atomic-file.js";
import { CLEANER_CHECKPOINT_FILE } from "./cleaner-files.js";
import { CHECKPOINT_FILE, type PartitionLog } from "./partition-log.js";
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, segmentFileName } from "./segment.js";
import type { LogSegment } from "./segment.js";

/** Kafka's suffix for the directory of a partition being moved to another log directory (a future replica). */
export const FUTURE_DIR_SUFFIX = "-future";
/** Kafka's suffix for a partition directory being deleted. */
export const DELETE_DIR_SUFFIX = "-delete";

/** Largest read while copying a segment, so a big segment is not held in memory at once. */
const COPY_CHUNK_BYTES = 4 << 20;
/** The copy swaps in once a catch-up round had no more than this to copy (the rest is copied with appends held). */
const SWAP_LAG_BYTES = 1 << 20;
/** Catch-up rounds before the swap is done anyway (a producer faster than the copy). */
const MAX_ROUNDS = 20;

/** `<dir>.<32 hex>-future` or `-delete`: Kafka's names for a partition directory on its way in or out. */
export function suffixedName(dir: string, suffix: string): string {
  return `${dir}.${randomBytes(16).toString("hex")}${suffix}`;
}

/** The partition directory name inside a `-future` or `-delete` name, or null for other names. */
export function unsuffixedName(name: string, suffix: string): string | null {
  const m = new RegExp(`^(.+)\\.[0-9a-f]{32}${suffix}$`).exec(name);
  return m === null ? null : (m[1] as string);
}

interface CopiedSegment {
  readonly seg: LogSegment;
  bytes: number;
}

/**
 * A partition log being moved to another log directory (AlterReplicaLogDirs), Kafka's future replica:
 * its segments are copied to `<dest>/<topic>-<partition>.<id>-future` while the partition keeps serving,
 * round after round until little is left; then, with appends held back, the rest and the index files
 * are copied and synced, the old directory is renamed to a `-delete` name, the future one to the
 * partition's name, and the log goes on from there. No acknowledged append is lost: appends wait while
 * the last bytes are copied. A crash before the swap leaves a `-future` directory that start-up removes;
 * one between the two renames leaves only the complete future, which start-up promotes.
 */
export class LogDirMove {
  readonly futureDir: string;
  /** The copy's end offset so far, for DescribeLogDirs' offset lag of the future replica. */
  copiedEndOffset = 0n;
  private readonly copied = new Map<bigint, CopiedSegment>();
  private cancelled = false;
  /** Settles when the move is done, failed or was cancelled. */
  readonly done: Promise<void>;

  constructor(
    readonly log: PartitionLog,
    /** The log directory the partition moves to. */
    readonly destination: string,
    onSwapped: (move: LogDirMove) => void,
  ) {
    this.futureDir = suffixedName(join(destination, log.name), FUTURE_DIR_SUFFIX);
    this.done = this.run(onSwapped);
  }

  /** Bytes copied so far (the future replica's size). */
  get size(): number {
    let total = 0;
    for (const c of this.copied.values()) total += c.bytes;
    return total;
  }

  /** Stops the copy (the future directory is removed); resolves once it stopped. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    await this.done.catch(() => undefined);
  }

  private async run(onSwapped: (move: LogDirMove) => void): Promise<void> {
    try {
      await mkdir(this.futureDir, { recursive: true });
      for (let round = 0; round < MAX_ROUNDS; round++) {
        if (this.cancelled) throw new Error("cancelled");
        if ((await this.copyRound()) <= SWAP_LAG_BYTES) break;
      }
      if (this.cancelled) throw new Error("cancelled");
      await this.log.withAppendsPaused(async () => {
        await this.log.flushForCopy();
        await this.copyRound();
        await this.copyOtherFiles();
        await this.swap();
        onSwapped(this);
      });
    } catch (err) {
      await rm(this.futureDir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Copies what the log's segments hold beyond the copy; returns the bytes copied. */
  private async copyRound(): Promise<number> {
    const segments = this.log.allSegments;
    for (const [base, c] of [...this.copied]) {
      if (segments.includes(c.seg)) continue;
      // Deleted by retention or replaced by the cleaner: its copy goes too.
      this.copied.delete(base);
      await unlink(join(this.futureDir, segmentFileName(base, LOG_SUFFIX))).catch(() => undefined);
    }
    let total = 0;
    for (const seg of segments) {
      let c = this.copied.get(seg.baseOffset);
      if (c?.seg !== seg) {
        c = { seg, bytes: 0 };
        this.copied.set(seg.baseOffset, c);
      }
      // Size and next offset change together, synchronously: the pair read here is consistent.
      const size = seg.size;
      const end = seg.nextOffset;
      total += await this.copyTail(c, size);
      if (end > this.copiedEndOffset) this.copiedEndOffset = end;
    }
    return total;
  }

  /** Copies bytes `[c.bytes, size)` of a segment's log file into the future directory. */
  private async copyTail(c: CopiedSegment, size: number): Promise<number> {
    if (size === c.bytes) return 0;
    const path = join(this.futureDir, segmentFileName(c.seg.baseOffset, LOG_SUFFIX));
    const fh = await open(path, c.bytes === 0 ? "w" : "r+");
    const start = c.bytes;
    try {
      while (c.bytes < size) {
        c.seg.acquire();
        let data: Buffer;
        try {
          data = await c.seg.readBytes(c.bytes, Math.min(COPY_CHUNK_BYTES, size - c.bytes));
        } finally {
          c.seg.release();
        }
        if (data.length === 0) throw new Error(`${c.seg.logPath}: shorter than its ${size} bytes`);
        await fh.write(data, 0, data.length, c.bytes);
        c.bytes += data.length;
      }
    } finally {
      await fh.close();
    }
    return c.bytes - start;
  }

  /**
   * With appends held and the log flushed: the index files and checkpoints, copied whole, the segments'
   * times kept (time-based rolling and retention read them), and everything synced.
   */
  private async copyOtherFiles(): Promise<void> {
    const from = this.log.dir;
    const names = [CHECKPOINT_FILE, CLEANER_CHECKPOINT_FILE];
    for (const seg of this.log.allSegments) {
      for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) {
        names.push(segmentFileName(seg.baseOffset, suffix));
      }
    }
    for (const name of names) {
      await copyFile(join(from, name), join(this.futureDir, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      });
    }
    for (const seg of this.log.allSegments) {
      const st = await stat(seg.logPath);
      await utimes(join(this.futureDir, segmentFileName(seg.baseOffset, LOG_SUFFIX)), st.atime, st.mtime);
    }
    for (const name of await readdir(this.futureDir)) {
      const fh = await open(join(this.futureDir, name), "r+");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    await syncDirectory(this.futureDir);
  }

  /** The renames, old directory first (see the class comment), then the log switches over. */
  private async swap(): Promise<void> {
    const current = this.log.dir;
    const target = join(this.destination, basename(current));
    const doomed = suffixedName(current, DELETE_DIR_SUFFIX);
    await rename(current, doomed);
    try {
      await syncDirectory(dirname(current));
      await rename(this.futureDir, target);
      await syncDirectory(this.destination);
      await this.log.switchDir(target);
    } catch (err) {
      // Back to where it was: the log still serves from its old directory.
      await rename(target, this.futureDir).catch(() => undefined);
      await rename(doomed, current);
      throw err;
    }
    // Reads that took the old segments may still use their open files for a while; the names are gone.
    void rm(doomed, { recursive: true, force: true }).catch(() => undefined);
  }
}
