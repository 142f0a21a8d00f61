import { BatchAttributes, BatchOffsets, BATCH_HEADER_SIZE } from "./records.js";

/**
 * Finding single records inside a stored batch, for timestamp lookups (ListOffsets). Only uncompressed
 * batches can be walked here; for compressed ones the answer is taken at batch level.
 */

let cursor = 0;

function readVarint(buf: Buffer): number {
  let value = 0;
  let shift = 1;
  for (;;) {
    const b = buf[cursor++];
    if (b === undefined) throw new RangeError("varint past the end of the batch");
    value += (b & 0x7f) * shift;
    if ((b & 0x80) === 0) break;
    shift *= 128;
  }
  // zig-zag decode without 32-bit overflow
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

/** A record's position in its batch and its timestamp. */
export interface RecordMark {
  offsetDelta: number;
  timestamp: bigint;
}

function walkable(batch: Buffer): boolean {
  const attributes = batch.readInt16BE(BatchOffsets.attributes);
  return (
    (attributes & BatchAttributes.compressionMask) === 0 && (attributes & BatchAttributes.timestampTypeLogAppend) === 0
  );
}

/**
 * The first record with a timestamp >= `timestamp` and offset delta >= `minDelta`, or null. For batches
 * that cannot be walked (compressed, or LogAppendTime where all records share the batch time) the first
 * record at or after `minDelta` stands for the batch.
 */
export function firstRecordAtOrAfter(batch: Buffer, timestamp: bigint, minDelta: number): RecordMark | null {
  const maxTimestamp = batch.readBigInt64BE(BatchOffsets.maxTimestamp);
  if (maxTimestamp < timestamp) return null;
  if (!walkable(batch)) return { offsetDelta: Math.max(0, minDelta), timestamp: maxTimestamp };
  const base = Number(batch.readBigInt64BE(BatchOffsets.baseTimestamp));
  const target = Number(timestamp);
  const count = batch.readInt32BE(BatchOffsets.recordCount);
  cursor = BATCH_HEADER_SIZE;
  for (let i = 0; i < count && cursor < batch.length; i++) {
    const length = readVarint(batch);
    const next = cursor + length;
    cursor++; // attributes
    const ts = base + readVarint(batch);
    const delta = readVarint(batch);
    if (ts >= target && delta >= minDelta) return { offsetDelta: delta, timestamp: BigInt(ts) };
    cursor = next;
  }
  return null;
}

/** The first record holding the batch's largest timestamp. */
export function maxTimestampRecord(batch: Buffer): RecordMark {
  const maxTimestamp = batch.readBigInt64BE(BatchOffsets.maxTimestamp);
  if (!walkable(batch)) return { offsetDelta: 0, timestamp: maxTimestamp };
  return firstRecordAtOrAfter(batch, maxTimestamp, 0) ?? { offsetDelta: 0, timestamp: maxTimestamp };
}
