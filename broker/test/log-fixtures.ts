import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BatchOffsets, writeBatchCrc } from "../src/log/records.js";

/**
 * A minimal RecordBatch v2 encoder for the log tests: uncompressed records, varint fields, CRC32C.
 * The protocol package's record codec replaces it once available.
 */

export interface TestRecord {
  key?: string | null;
  value: string | null;
  /** Absolute timestamp; defaults to the batch's base timestamp. */
  timestamp?: bigint;
}

export interface TestBatchOptions {
  baseTimestamp?: bigint;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function pushVarint(out: number[], n: number): void {
  let v = zigzag(n);
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function encodeRecord(r: TestRecord, offsetDelta: number, baseTimestamp: bigint): Buffer {
  const body: number[] = [0];
  pushVarint(body, Number((r.timestamp ?? baseTimestamp) - baseTimestamp));
  pushVarint(body, offsetDelta);
  const bytes: number[] = [...body];
  for (const field of [r.key ?? null, r.value]) {
    if (field === null) pushVarint(bytes, -1);
    else {
      const b = Buffer.from(field);
      pushVarint(bytes, b.length);
      bytes.push(...b);
    }
  }
  pushVarint(bytes, 0); // headers
  const len: number[] = [];
  pushVarint(len, bytes.length);
  return Buffer.from([...len, ...bytes]);
}

/** One v2 batch with base offset 0, ready to be produced. */
export function encodeBatch(records: TestRecord[], opts: TestBatchOptions = {}): Buffer {
  const baseTimestamp = opts.baseTimestamp ?? records[0]?.timestamp ?? 1_700_000_000_000n;
  const bodies = records.map((r, i) => encodeRecord(r, i, baseTimestamp));
  let maxTimestamp = -1n;
  for (const r of records) {
    const ts = r.timestamp ?? baseTimestamp;
    if (ts > maxTimestamp) maxTimestamp = ts;
  }
  const header = Buffer.alloc(BatchOffsets.records);
  const size = header.length + bodies.reduce((n, b) => n + b.length, 0);
  header.writeBigInt64BE(0n, BatchOffsets.baseOffset);
  header.writeInt32BE(size - 12, BatchOffsets.batchLength);
  header.writeInt32BE(-1, BatchOffsets.partitionLeaderEpoch);
  header.writeInt8(2, BatchOffsets.magic);
  header.writeInt16BE(opts.transactional === true ? 0x10 : 0, BatchOffsets.attributes);
  header.writeInt32BE(records.length - 1, BatchOffsets.lastOffsetDelta);
  header.writeBigInt64BE(baseTimestamp, BatchOffsets.baseTimestamp);
  header.writeBigInt64BE(maxTimestamp, BatchOffsets.maxTimestamp);
  header.writeBigInt64BE(opts.producerId ?? -1n, BatchOffsets.producerId);
  header.writeInt16BE(opts.producerEpoch ?? -1, BatchOffsets.producerEpoch);
  header.writeInt32BE(opts.baseSequence ?? -1, BatchOffsets.baseSequence);
  header.writeInt32BE(records.length, BatchOffsets.recordCount);
  const batch = Buffer.concat([header, ...bodies]);
  writeBatchCrc(batch);
  return batch;
}

/** A batch of `count` records with values `${prefix}-${i}` and `size` bytes of padding each. */
export function batchOf(count: number, prefix = "v", pad = 0, opts: TestBatchOptions = {}): Buffer {
  const records: TestRecord[] = [];
  for (let i = 0; i < count; i++) records.push({ key: `k${i}`, value: `${prefix}-${i}${"x".repeat(pad)}` });
  return encodeBatch(records, opts);
}

export interface StoredBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
  attributes: number;
  size: number;
}

/** The batches of a fetched byte range (which holds whole batches). */
export function batchesIn(buf: Buffer): StoredBatch[] {
  const out: StoredBatch[] = [];
  let off = 0;
  while (off + BatchOffsets.records <= buf.length) {
    const size = buf.readInt32BE(off + BatchOffsets.batchLength) + 12;
    const baseOffset = buf.readBigInt64BE(off);
    out.push({
      baseOffset,
      lastOffset: baseOffset + BigInt(buf.readInt32BE(off + BatchOffsets.lastOffsetDelta)),
      maxTimestamp: buf.readBigInt64BE(off + BatchOffsets.maxTimestamp),
      attributes: buf.readInt16BE(off + BatchOffsets.attributes),
      size,
    });
    off += size;
  }
  if (off !== buf.length) throw new Error(`fetched range ends inside a batch (${off} of ${buf.length})`);
  return out;
}

/** A fresh temp directory, and a function removing it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "tskafka-log-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
