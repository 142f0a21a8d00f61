import { IndexEntries } from "./index-file.js";

const ENTRY = 12;

/**
 * Sparse map from timestamp to offset within one segment: entries of (timestamp: int64, offset - baseOffset:
 * int32) with strictly increasing timestamps. An entry (t, o) says the batch holding `o` is the first whose
 * max timestamp reached t, so every batch before it has only smaller timestamps.
 */
export class TimeIndex extends IndexEntries {
  constructor(
    path: string,
    readonly baseOffset: bigint,
    maxIndexBytes: number,
  ) {
    super(path, ENTRY, Math.floor(maxIndexBytes / ENTRY));
  }

  timestampAt(i: number): bigint {
    return this.buf.readBigInt64BE(i * ENTRY);
  }

  relativeOffsetAt(i: number): number {
    return this.buf.readInt32BE(i * ENTRY + 8);
  }

  get lastTimestamp(): bigint {
    return this.count === 0 ? -1n : this.timestampAt(this.count - 1);
  }

  get lastOffset(): bigint {
    return this.count === 0 ? this.baseOffset : this.baseOffset + BigInt(this.relativeOffsetAt(this.count - 1));
  }

  /**
   * Adds an entry unless `timestamp` does not move past the last one. A larger maximum always comes from a
   * later batch, so offsets increase with timestamps.
   */
  maybeAppend(timestamp: bigint, offset: bigint): void {
    if (timestamp <= this.lastTimestamp) return;
    const at = this.slot();
    this.buf.writeBigInt64BE(timestamp, at);
    this.buf.writeInt32BE(Number(offset - this.baseOffset), at + 8);
  }

  /** Offset to start the search for `timestamp` from: that of the largest entry at or below it. */
  lookup(timestamp: bigint): bigint {
    if (this.count === 0 || this.timestampAt(0) > timestamp) return this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.timestampAt(mid) <= timestamp) lo = mid;
      else hi = mid - 1;
    }
    return this.baseOffset + BigInt(this.relativeOffsetAt(lo));
  }

  /** Timestamps and offsets strictly increasing and offsets below `nextOffset`. */
  isSane(nextOffset: bigint): boolean {
    let prevTs = -1n << 63n;
    let prevRel = -1;
    const limit = nextOffset - this.baseOffset;
    for (let i = 0; i < this.count; i++) {
      const ts = this.timestampAt(i);
      const rel = this.relativeOffsetAt(i);
      if (ts <= prevTs || rel <= prevRel || BigInt(rel) >= limit) return false;
      prevTs = ts;
      prevRel = rel;
    }
    return true;
  }
}
