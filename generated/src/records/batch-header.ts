import { crc32c } from "./crc32c.js";

/**
 * The fixed 61-byte header of a RecordBatch (magic 2), read without touching the records. The byte
 * positions are the format's; the log store patches some of them in place (base offset, partition leader
 * epoch, max timestamp, attributes), after which the CRC is recomputed with `writeBatchCrc`.
 */
export const BatchOffsets = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
  records: 61,
} as const;

/** Size of the RecordBatch header; also the smallest possible batch. */
export const BATCH_HEADER_SIZE = 61;
/** Bytes before `batchLength` counts: baseOffset and batchLength itself. */
export const LOG_OVERHEAD = 12;

/** Bits of the batch `attributes` field. */
export const BatchAttributes = {
  compressionMask: 0x07,
  timestampTypeLogAppend: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizon: 0x40,
} as const;

/** The compression codec ids of `attributes & 0x07`. */
export const CompressionType = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
} as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

export interface BatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Reads the header of the batch at `off`; the caller checks that 61 bytes are there. */
export function readBatchHeader(buf: Buffer, off = 0): BatchHeader {
  return {
    baseOffset: buf.readBigInt64BE(off),
    batchLength: buf.readInt32BE(off + 8),
    partitionLeaderEpoch: buf.readInt32BE(off + 12),
    magic: buf.readInt8(off + 16),
    crc: buf.readUInt32BE(off + 17),
    attributes: buf.readInt16BE(off + 21),
    lastOffsetDelta: buf.readInt32BE(off + 23),
    baseTimestamp: buf.readBigInt64BE(off + 27),
    maxTimestamp: buf.readBigInt64BE(off + 35),
    producerId: buf.readBigInt64BE(off + 43),
    producerEpoch: buf.readInt16BE(off + 51),
    baseSequence: buf.readInt32BE(off + 53),
    recordCount: buf.readInt32BE(off + 57),
  };
}

/** CRC32C of a batch (from `attributes` to its end), as the header's `crc` field should hold. */
export function computeBatchCrc(batch: Buffer): number {
  return crc32c(batch.subarray(BatchOffsets.attributes)) >>> 0;
}

/** True when the batch's stored CRC matches its bytes. `batch` is exactly one batch. */
export function verifyBatchCrc(batch: Buffer): boolean {
  return batch.readUInt32BE(BatchOffsets.crc) === computeBatchCrc(batch);
}

/** Recomputes and stores the CRC after the header was patched. */
export function writeBatchCrc(batch: Buffer): void {
  batch.writeUInt32BE(computeBatchCrc(batch), BatchOffsets.crc);
}
