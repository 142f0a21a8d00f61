import type { FileHandle } from "node:fs/promises";
import { BATCH_HEADER_SIZE, BatchOffsets, LOG_OVERHEAD } from "./records.js";

/** Reads exactly `len` bytes at `position` into `buf` (fewer only at end of file); returns the count. */
export async function readFully(fh: FileHandle, buf: Buffer, len: number, position: number): Promise<number> {
  let done = 0;
  while (done < len) {
    const { bytesRead } = await fh.read(buf, done, len - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Why a scan stopped. */
export type ScanEnd = "end" | "torn" | "corrupt";

/**
 * Walks the record batches of a log file between two positions, reading it in large chunks so that a
 * scan costs few reads whatever the batch sizes. After `next()` returns an offset, `buf` holds the batch
 * header there (or the whole batch when asked) and `position`/`size` describe the batch in the file.
 */
export class FileBatchScanner {
  buf: Buffer;
  /** File position of the current batch. */
  position = 0;
  /** Size of the current batch, including the log overhead. */
  size = 0;
  /** Why the last `next()` returned -1. */
  stop: ScanEnd = "end";
  private bufStart = 0;
  private bufLen = 0;
  private nextPos: number;

  constructor(
    private readonly fh: FileHandle,
    start: number,
    private readonly end: number,
    private readonly chunkSize = 1 << 16,
  ) {
    this.nextPos = start;
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  /**
   * Moves to the next batch and returns where it starts in `buf`, or -1 at the end or at a batch that
   * is cut short (`torn`) or malformed (`corrupt`: impossible length or a magic other than 2).
   */
  async next(whole: boolean): Promise<number> {
    const pos = this.nextPos;
    if (pos >= this.end) return this.halt("end");
    if (this.end - pos < BATCH_HEADER_SIZE) return this.halt("torn");
    if (!(await this.ensure(pos, BATCH_HEADER_SIZE))) return this.halt("torn");
    let off = pos - this.bufStart;
    const size = this.buf.readInt32BE(off + BatchOffsets.batchLength) + LOG_OVERHEAD;
    if (size < BATCH_HEADER_SIZE || this.buf[off + BatchOffsets.magic] !== 2) return this.halt("corrupt");
    if (pos + size > this.end) return this.halt("torn");
    if (whole) {
      if (!(await this.ensure(pos, size))) return this.halt("torn");
      off = pos - this.bufStart;
    }
    this.position = pos;
    this.size = size;
    this.nextPos = pos + size;
    return off;
  }

  /** Makes the whole current batch available in `buf` (after `next(false)`); returns where it starts, -1 if torn. */
  async whole(): Promise<number> {
    if (!(await this.ensure(this.position, this.size))) return this.halt("torn");
    return this.position - this.bufStart;
  }

  private halt(why: ScanEnd): number {
    this.stop = why;
    return -1;
  }

  private async ensure(pos: number, len: number): Promise<boolean> {
    if (pos >= this.bufStart && pos + len <= this.bufStart + this.bufLen) return true;
    const want = Math.min(Math.max(this.chunkSize, len), this.end - pos);
    if (this.buf.length < want) this.buf = Buffer.allocUnsafe(want);
    this.bufStart = pos;
    this.bufLen = await readFully(this.fh, this.buf, want, pos);
    return this.bufLen >= len;
  }
}
