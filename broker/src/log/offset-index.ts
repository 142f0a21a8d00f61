import { IndexEntries } from "./index-file.js";

const ENTRY = 8;

/**
 * Sparse map from offset to file position within one segment: entries of (offset - baseOffset: int32,
 * position: int32), one for the first batch after every `index.interval.bytes` of log. An entry's offset is
 * the last offset of the batch starting at its position, so the batch holding any offset at or after it
 * starts at or after that position.
 */
export class OffsetIndex extends IndexEntries {
  constructor(
    path: string,
    readonly baseOffset: bigint,
    maxIndexBytes: number,
  ) {
    super(path, ENTRY, Math.floor(maxIndexBytes / ENTRY));
  }

  append(offset: bigint, position: number): void {
    const at = this.slot();
    this.buf.writeInt32BE(Number(offset - this.baseOffset), at);
    this.buf.writeInt32BE(position, at + 4);
  }

  relativeOffsetAt(i: number): number {
    return this.buf.readInt32BE(i * ENTRY);
  }

  positionAt(i: number): number {
    return this.buf.readInt32BE(i * ENTRY + 4);
  }

  /** Last offset recorded, or -1n when empty. */
  get lastOffset(): bigint {
    return this.count === 0 ? -1n : this.baseOffset + BigInt(this.relativeOffsetAt(this.count - 1));
  }

  /** File position to start scanning from for `offset`: the largest entry at or below it, else 0. */
  lookup(offset: bigint): number {
    const rel = offset - this.baseOffset;
    if (this.count === 0 || rel < 0n) return 0;
    const target = rel > 0x7fffffffn ? 0x7fffffff : Number(rel);
    let lo = 0;
    let hi = this.count - 1;
    if (this.relativeOffsetAt(0) > target) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.relativeOffsetAt(mid) <= target) lo = mid;
      else hi = mid - 1;
    }
    return this.positionAt(lo);
  }

  /** Offsets and positions strictly increasing and positions inside the log. */
  isSane(logSize: number): boolean {
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < this.count; i++) {
      const rel = this.relativeOffsetAt(i);
      const pos = this.positionAt(i);
      if (rel <= prevRel || pos <= prevPos || pos >= logSize) return false;
      prevRel = rel;
      prevPos = pos;
    }
    return true;
  }
}
