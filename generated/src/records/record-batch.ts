import { DecodeError, EncodeError } from "../runtime/errors.js";
import type { EndTxnMarker } from "../gen/messages/end-txn-marker.js";
import { Reader } from "../runtime/reader.js";
import { sizeOfVarint, sizeOfVarlong, Writer } from "../runtime/writer.js";
import {
  BATCH_HEADER_SIZE,
  BatchAttributes,
  BatchOffsets,
  CompressionType,
  LOG_OVERHEAD,
  computeBatchCrc,
  readBatchHeader,
  writeBatchCrc,
  type BatchHeader,
} from "./batch-header.js";
import { compress, decompress, isCompressionType } from "./compression.js";

/** The record format of magic 2 (KIP-98): record batches whose records are varint-framed. */

export const RECORD_BATCH_MAGIC = 2;
/** Timestamp of a record that has none (magic 0 data, up-converted). */
export const NO_TIMESTAMP = -1n;
/** producerId / producerEpoch / baseSequence of a batch from a non-idempotent producer. */
export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface KafkaRecord {
  /** Unused by Kafka so far; kept as read. */
  attributes: number;
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface RecordBatch extends BatchHeader {
  records: KafkaRecord[];
}

/**
 * What `encodeRecordBatch` needs: the fields it derives (length, CRC, magic, count) are left out, and
 * `lastOffsetDelta` defaults to the last record's (a compacted batch keeps its original one).
 */
export type RecordBatchInput = Omit<
  RecordBatch,
  "batchLength" | "magic" | "crc" | "recordCount" | "lastOffsetDelta"
> & {
  lastOffsetDelta?: number;
};

export interface DecodeBatchOptions {
  /** Check the CRC32C (default true). */
  readonly verifyCrc?: boolean;
  /** Copy keys, values and header values out of the input instead of returning views (default false). */
  readonly copyBytes?: boolean;
}

const NAME = "RecordBatch";
/** The smallest record: a length varint and six one-byte fields. */
const MIN_RECORD_SIZE = 7;

function fail(field: string, reason: string, magic = RECORD_BATCH_MAGIC): never {
  throw new DecodeError(NAME, magic, field, reason);
}

/** Decodes the batch that starts at `off` (and ends where its `batchLength` says): CRC, then records. */
export function decodeRecordBatch(buf: Buffer, off = 0, options?: DecodeBatchOptions): RecordBatch {
  const left = buf.length - off;
  if (left < BATCH_HEADER_SIZE)
    fail("batchLength", `truncated: a batch header needs ${BATCH_HEADER_SIZE} bytes, ${left} left`);
  const header = readBatchHeader(buf, off);
  const { batchLength, magic } = header;
  if (magic !== RECORD_BATCH_MAGIC) fail("magic", `expected magic 2, found ${magic}`, magic);
  if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD)
    fail("batchLength", `${batchLength} is smaller than a batch header`);
  if (batchLength > left - LOG_OVERHEAD)
    fail("batchLength", `truncated: batch needs ${batchLength} bytes after its length, ${left - LOG_OVERHEAD} left`);
  const end = off + LOG_OVERHEAD + batchLength;
  if (options?.verifyCrc !== false) {
    const crc = computeBatchCrc(buf.subarray(off, end));
    if (crc !== header.crc) fail("crc", `CRC32C mismatch: stored ${header.crc}, computed ${crc}`);
  }
  const codec = header.attributes & BatchAttributes.compressionMask;
  if (!isCompressionType(codec)) fail("attributes", `unknown compression codec ${codec}`);
  if (header.recordCount < 0) fail("recordCount", `negative record count ${header.recordCount}`);

  let data = buf;
  let start = off + BatchOffsets.records;
  let stop = end;
  if (codec !== CompressionType.none) {
    try {
      data = decompress(codec, buf.subarray(start, end));
    } catch (e) {
      fail("records", (e as Error).message);
    }
    start = 0;
    stop = data.length;
  }
  const r = new Reader(data, start, stop, options?.copyBytes === true ? { copyBytes: true } : undefined);
  r.messageName = NAME;
  r.version = RECORD_BATCH_MAGIC;
  const batch = header as RecordBatch;
  batch.records = readRecords(r, header.recordCount);
  return batch;
}

/** Decodes every batch of a records field; a trailing partial batch is an error here. */
export function decodeRecordBatches(buf: Buffer, options?: DecodeBatchOptions): RecordBatch[] {
  const { batches, partial } = splitBatches(buf);
  if (partial !== null)
    fail("batchLength", `truncated: the last batch has ${partial.available} of ${partial.size ?? "at least 12"} bytes`);
  return batches.map((b) => decodeRecordBatch(buf, b.offset, options));
}

function readRecords(r: Reader, count: number): KafkaRecord[] {
  if (count > r.remaining / MIN_RECORD_SIZE)
    r.fail("recordCount", `${count} records cannot fit in ${r.remaining} bytes`);
  const records: KafkaRecord[] = [];
  const outerEnd = r.end;
  for (let i = 0; i < count; i++) {
    const len = r.varint("Records.length");
    if (len < MIN_RECORD_SIZE - 1 || len > outerEnd - r.off)
      r.fail("Records.length", `record ${i}: length ${len} with ${outerEnd - r.off} bytes left`);
    const recEnd = r.off + len;
    // confine reads to this record so a lying field cannot read into the next one
    r.end = recEnd;
    const attributes = r.int8("Records.attributes");
    const timestampDelta = readVarlong(r, "Records.timestampDelta");
    const offsetDelta = r.varint("Records.offsetDelta");
    const key = readVarBytes(r, "Records.key");
    const value = readVarBytes(r, "Records.value");
    const headerCount = r.varint("Records.headers");
    if (headerCount < 0 || headerCount > r.remaining / 2)
      r.fail("Records.headers", `header count ${headerCount} with ${r.remaining} bytes left`);
    const headers: RecordHeader[] = [];
    for (let j = 0; j < headerCount; j++) {
      const keyLen = r.varint("Records.Headers.key");
      if (keyLen < 0) r.fail("Records.Headers.key", `negative header key length ${keyLen}`);
      const hkey = r.raw(keyLen, "Records.Headers.key").toString("utf8");
      headers.push({ key: hkey, value: readVarBytes(r, "Records.Headers.value") });
    }
    if (r.off !== recEnd)
      r.fail("Records.length", `record ${i}: length says ${len} bytes, its fields take ${len - (recEnd - r.off)}`);
    r.end = outerEnd;
    records.push({ attributes, timestampDelta, offsetDelta, key, value, headers });
  }
  if (r.remaining !== 0) r.fail("records", `${r.remaining} bytes left after the ${count} records the header counts`);
  return records;
}

/** A varint length (-1 is null) then that many bytes. */
function readVarBytes(r: Reader, field: string): Buffer | null {
  const len = r.varint(field);
  if (len < 0) {
    if (len === -1) return null;
    r.fail(field, `negative length ${len}`);
  }
  return r.raw(len, field);
}

/** Zigzag varlong, without BigInt arithmetic for the usual values of up to four bytes. */
function readVarlong(r: Reader, field: string): bigint {
  const buf = r.buf;
  let off = r.off;
  let v = 0;
  for (let shift = 0; shift < 28 && off < r.end; shift += 7) {
    const b = buf[off++]!;
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      r.off = off;
      return BigInt((v >>> 1) ^ -(v & 1));
    }
  }
  return r.varlong(field);
}

// --- walking a records field without decoding it ---

export interface BatchSpan {
  /** Where the batch starts in the buffer walked. */
  offset: number;
  /** Its whole size, `LOG_OVERHEAD + batchLength`. */
  length: number;
  header: BatchHeader;
}

/** The incomplete batch a Fetch response may end with. */
export interface PartialBatch {
  offset: number;
  /** Bytes of it that are there. */
  available: number;
  /** Its full size when the length field was there to say, else null. */
  size: number | null;
}

/**
 * Yields the complete batches of a concatenation (a Produce or Fetch records field) from their headers
 * alone; records are not decoded and CRCs not checked. The generator's return value is the trailing
 * partial batch, if any (a Fetch response may be cut mid-batch): use `splitBatches` to get both.
 * Throws `DecodeError` for what no truncation explains: a length below a header's, a magic other than 2.
 */
export function* iterateBatches(buf: Buffer): Generator<BatchSpan, PartialBatch | null, undefined> {
  let off = 0;
  while (off < buf.length) {
    const left = buf.length - off;
    if (left < LOG_OVERHEAD) return { offset: off, available: left, size: null };
    const batchLength = buf.readInt32BE(off + BatchOffsets.batchLength);
    if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD)
      fail("batchLength", `batch at byte ${off}: ${batchLength} is smaller than a batch header`);
    const size = LOG_OVERHEAD + batchLength;
    if (size > left) return { offset: off, available: left, size };
    const magic = buf.readInt8(off + BatchOffsets.magic);
    if (magic !== RECORD_BATCH_MAGIC) fail("magic", `batch at byte ${off}: expected magic 2, found ${magic}`, magic);
    yield { offset: off, length: size, header: readBatchHeader(buf, off) };
    off += size;
  }
  return null;
}

export interface BatchSplit {
  batches: BatchSpan[];
  partial: PartialBatch | null;
}

export function splitBatches(buf: Buffer): BatchSplit {
  const batches: BatchSpan[] = [];
  const it = iterateBatches(buf);
  for (;;) {
    const step = it.next();
    if (step.done === true) return { batches, partial: step.value };
    batches.push(step.value);
  }
}

// --- encoding ---

function varBytesSize(b: Uint8Array | null): number {
  return b === null ? 1 : sizeOfVarint(b.length) + b.length;
}

function varlongSize(v: bigint): number {
  return v >= -0x80000000n && v <= 0x7fffffffn ? sizeOfVarint(Number(v)) : sizeOfVarlong(v);
}

function recordBodySize(rec: KafkaRecord): number {
  let n =
    1 +
    varlongSize(rec.timestampDelta) +
    sizeOfVarint(rec.offsetDelta) +
    varBytesSize(rec.key) +
    varBytesSize(rec.value) +
    sizeOfVarint(rec.headers.length);
  for (const h of rec.headers) {
    const kl = Buffer.byteLength(h.key, "utf8");
    n += sizeOfVarint(kl) + kl + varBytesSize(h.value);
  }
  return n;
}

function writeVarBytes(w: Writer, b: Uint8Array | null): void {
  if (b === null) {
    w.varint(-1);
    return;
  }
  w.varint(b.length);
  w.raw(b);
}

function writeRecords(w: Writer, records: readonly KafkaRecord[], bodySizes: readonly number[]): void {
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    w.varint(bodySizes[i]!);
    w.int8(rec.attributes);
    const ts = rec.timestampDelta;
    if (ts >= -0x80000000n && ts <= 0x7fffffffn) w.varint(Number(ts));
    else w.varlong(ts);
    w.varint(rec.offsetDelta);
    writeVarBytes(w, rec.key);
    writeVarBytes(w, rec.value);
    w.varint(rec.headers.length);
    for (const h of rec.headers) {
      const kl = Buffer.byteLength(h.key, "utf8");
      w.varint(kl);
      w.off += w.buf.write(h.key, w.off, kl, "utf8");
      writeVarBytes(w, h.value);
    }
  }
}

/**
 * Encodes one batch: records (compressed with `compression`, else with the codec in `attributes`), then
 * the header with batchLength, recordCount and CRC32C computed.
 */
export function encodeRecordBatch(batch: RecordBatchInput, compression?: CompressionType): Buffer {
  const codec = compression ?? batch.attributes & BatchAttributes.compressionMask;
  if (!isCompressionType(codec))
    throw new EncodeError(NAME, RECORD_BATCH_MAGIC, "attributes", `unknown compression codec ${codec}`);
  const records = batch.records;
  const bodySizes: number[] = new Array<number>(records.length);
  let recordsSize = 0;
  for (let i = 0; i < records.length; i++) {
    const body = recordBodySize(records[i]!);
    bodySizes[i] = body;
    recordsSize += sizeOfVarint(body) + body;
  }

  let out: Buffer;
  if (codec === CompressionType.none) {
    out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + recordsSize);
    writeRecords(new Writer(out, BATCH_HEADER_SIZE), records, bodySizes);
  } else {
    const plain = Buffer.allocUnsafe(recordsSize);
    writeRecords(new Writer(plain, 0), records, bodySizes);
    const packed = compress(codec, plain);
    out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + packed.length);
    packed.copy(out, BATCH_HEADER_SIZE);
  }

  const lastOffsetDelta = batch.lastOffsetDelta ?? (records.length > 0 ? records[records.length - 1]!.offsetDelta : 0);
  out.writeBigInt64BE(batch.baseOffset, BatchOffsets.baseOffset);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchOffsets.batchLength);
  out.writeInt32BE(batch.partitionLeaderEpoch, BatchOffsets.partitionLeaderEpoch);
  out.writeInt8(RECORD_BATCH_MAGIC, BatchOffsets.magic);
  out.writeInt16BE((batch.attributes & ~BatchAttributes.compressionMask) | codec, BatchOffsets.attributes);
  out.writeInt32BE(lastOffsetDelta, BatchOffsets.lastOffsetDelta);
  out.writeBigInt64BE(batch.baseTimestamp, BatchOffsets.baseTimestamp);
  out.writeBigInt64BE(batch.maxTimestamp, BatchOffsets.maxTimestamp);
  out.writeBigInt64BE(batch.producerId, BatchOffsets.producerId);
  out.writeInt16BE(batch.producerEpoch, BatchOffsets.producerEpoch);
  out.writeInt32BE(batch.baseSequence, BatchOffsets.baseSequence);
  out.writeInt32BE(records.length, BatchOffsets.recordCount);
  writeBatchCrc(out);
  return out;
}

// --- building batches from plain inputs ---

export interface SimpleRecord {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: ReadonlyArray<{ key: string; value?: Buffer | string | null }>;
  /** Milliseconds since the epoch; defaults to the batch options' `timestamp`. */
  timestamp?: bigint | number;
}

export interface BuildBatchOptions {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  compression?: CompressionType;
  /** Set the LogAppendTime bit (timestamps then come from the broker). */
  logAppendTime?: boolean;
  /** For records without their own; defaults to now. */
  timestamp?: bigint | number;
}

function toBytes(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === "string" ? Buffer.from(v, "utf8") : v;
}

/** Builds the fields of a batch from plain records: offset deltas 0..n-1, timestamps relative to the first. */
export function recordBatchInput(records: readonly SimpleRecord[], options: BuildBatchOptions = {}): RecordBatchInput {
  const fallback = BigInt(options.timestamp ?? Date.now());
  const stamps = records.map((r) => (r.timestamp === undefined ? fallback : BigInt(r.timestamp)));
  const baseTimestamp = stamps[0] ?? fallback;
  let maxTimestamp = baseTimestamp;
  for (const t of stamps) if (t > maxTimestamp) maxTimestamp = t;
  let attributes = options.compression ?? CompressionType.none;
  if (options.transactional === true) attributes |= BatchAttributes.transactional;
  if (options.logAppendTime === true) attributes |= BatchAttributes.timestampTypeLogAppend;
  return {
    baseOffset: options.baseOffset ?? 0n,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    attributes,
    baseTimestamp,
    maxTimestamp,
    producerId: options.producerId ?? NO_PRODUCER_ID,
    producerEpoch: options.producerEpoch ?? NO_PRODUCER_EPOCH,
    baseSequence: options.baseSequence ?? NO_SEQUENCE,
    records: records.map((r, i) => ({
      attributes: 0,
      timestampDelta: stamps[i]! - baseTimestamp,
      offsetDelta: i,
      key: toBytes(r.key),
      value: toBytes(r.value),
      headers: (r.headers ?? []).map((h) => ({ key: h.key, value: toBytes(h.value) })),
    })),
  };
}

/** `encodeRecordBatch(recordBatchInput(records, options))`: a wire-ready batch, e.g. for tests. */
export function buildRecordBatch(records: readonly SimpleRecord[], options: BuildBatchOptions = {}): Buffer {
  return encodeRecordBatch(recordBatchInput(records, options));
}

// --- control batches (transaction markers) ---

export const ControlRecordType = {
  abort: 0,
  commit: 1,
} as const;
export type ControlRecordType = (typeof ControlRecordType)[keyof typeof ControlRecordType];

export interface ControlRecordKey {
  version: number;
  type: number;
}

/** The key of a control record: version int16, type int16. */
export function readControlRecordKey(key: Buffer | null): ControlRecordKey {
  if (key === null || key.length < 4) fail("Records.key", "a control record key needs 4 bytes");
  return { version: key.readInt16BE(0), type: key.readInt16BE(2) };
}

/** The value of an abort/commit control record: version int16, then the generated EndTxnMarker (v0). */
export function readEndTxnMarker(value: Buffer | null): EndTxnMarker & { version: number } {
  if (value === null || value.length < 6) fail("Records.value", "an end-transaction marker needs 6 bytes");
  return { version: value.readInt16BE(0), coordinatorEpoch: value.readInt32BE(2) };
}

export interface ControlBatchOptions {
  type: ControlRecordType;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  timestamp?: bigint | number;
}

/** A transactional control batch holding one commit or abort marker. */
export function buildControlBatch(options: ControlBatchOptions): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(options.type, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(options.coordinatorEpoch, 2);
  const timestamp = BigInt(options.timestamp ?? Date.now());
  return encodeRecordBatch({
    baseOffset: options.baseOffset ?? 0n,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    attributes: BatchAttributes.transactional | BatchAttributes.control,
    baseTimestamp: timestamp,
    maxTimestamp: timestamp,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: NO_SEQUENCE,
    records: [{ attributes: 0, timestampDelta: 0n, offsetDelta: 0, key, value, headers: [] }],
  });
}

/** True when the batch's attributes mark it as a control batch. */
export function isControlBatch(header: Pick<BatchHeader, "attributes">): boolean {
  return (header.attributes & BatchAttributes.control) !== 0;
}
