import { BatchAttributes, CompressionType } from "./batch-header.js";
import { decodeMessageSet, encodeMessageSet, type LegacyMagic, type LegacyMessageInput } from "./message-set.js";
import {
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  decodeRecordBatch,
  encodeRecordBatch,
  isControlBatch,
  splitBatches,
  type KafkaRecord,
} from "./record-batch.js";

/** Format conversions between the legacy message sets and record batches, for clients older than magic 2. */

export interface UpConvertOptions {
  /** Codec of the new batch; defaults to that of the first compressed wrapper, else none. */
  compression?: CompressionType;
}

/**
 * Up-converts a legacy produce payload (magic 0 or 1) into one v2 batch holding the same records in the
 * same order, with offset deltas 0..n-1 from the first message's offset (the broker assigns offsets
 * anyway). Magic 0 messages have no timestamp and get NO_TIMESTAMP. Returns an empty buffer when there
 * are no messages.
 */
export function messageSetToRecordBatches(buf: Buffer, options: UpConvertOptions = {}): Buffer {
  const messages = decodeMessageSet(buf);
  const first = messages[0];
  if (first === undefined) return Buffer.alloc(0);
  const stamps = messages.map((m) => (m.magic === 0 ? NO_TIMESTAMP : m.timestamp));
  const baseTimestamp = stamps[0]!;
  let maxTimestamp = baseTimestamp;
  for (const t of stamps) if (t > maxTimestamp) maxTimestamp = t;
  const codec =
    options.compression ??
    messages.find((m) => m.compression !== CompressionType.none)?.compression ??
    CompressionType.none;
  const logAppend = messages.some(
    (m) => m.magic === 1 && (m.attributes & BatchAttributes.timestampTypeLogAppend) !== 0,
  );
  const records: KafkaRecord[] = messages.map((m, i) => ({
    attributes: 0,
    timestampDelta: stamps[i]! - baseTimestamp,
    offsetDelta: i,
    key: m.key,
    value: m.value,
    headers: [],
  }));
  return encodeRecordBatch(
    {
      baseOffset: first.offset,
      partitionLeaderEpoch: NO_PARTITION_LEADER_EPOCH,
      attributes: logAppend ? BatchAttributes.timestampTypeLogAppend : 0,
      baseTimestamp,
      maxTimestamp,
      producerId: NO_PRODUCER_ID,
      producerEpoch: NO_PRODUCER_EPOCH,
      baseSequence: NO_SEQUENCE,
      records,
    },
    codec,
  );
}

/**
 * Down-converts stored v2 batches for Fetch v0-v3 clients, keeping absolute offsets: each batch becomes
 * its messages, inside one wrapper of the same codec when it was compressed. Record headers have no
 * place in the old format and are dropped; control batches are left out; a trailing partial batch is
 * left out; zstd batches come out uncompressed, since no magic 0/1 reader knows zstd.
 */
export function recordBatchesToMessageSet(buf: Buffer, magic: LegacyMagic): Buffer {
  const parts: Buffer[] = [];
  for (const span of splitBatches(buf).batches) {
    if (isControlBatch(span.header)) continue;
    const batch = decodeRecordBatch(buf, span.offset);
    if (batch.records.length === 0) continue;
    const logAppend = (batch.attributes & BatchAttributes.timestampTypeLogAppend) !== 0;
    const messages: LegacyMessageInput[] = batch.records.map((r) => ({
      offset: batch.baseOffset + BigInt(r.offsetDelta),
      timestamp: logAppend ? batch.maxTimestamp : batch.baseTimestamp + r.timestampDelta,
      key: r.key,
      value: r.value,
    }));
    let codec = (batch.attributes & BatchAttributes.compressionMask) as CompressionType;
    if (codec === CompressionType.zstd) codec = CompressionType.none;
    parts.push(
      encodeMessageSet(
        messages,
        logAppend && magic === 1
          ? { magic, compression: codec, logAppendTime: batch.maxTimestamp }
          : { magic, compression: codec },
      ),
    );
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
