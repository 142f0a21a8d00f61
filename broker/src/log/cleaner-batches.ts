import { CompressionType, decodeRecordBatch, encodeRecordBatch } from "@tskafka/protocol";
import type { KafkaRecord } from "@tskafka/protocol";
import { BatchAttributes, BatchOffsets } from "./records.js";

/**
 * What the log cleaner does to one stored batch: which records survive compaction, and the rewritten
 * batch, in the manner of Kafka's MemoryRecords.filterTo. Offsets never change: a rewritten batch keeps
 * its base offset and its last offset delta (so producer sequence state read from headers stays right),
 * its producer fields, leader epoch, codec and every record's timestamp.
 */

/** The last offset of each key in the dirty part of a log (keys held as latin1 strings: one char a byte). */
export class KeyOffsetMap {
  private readonly map = new Map<string, bigint>();

  get size(): number {
    return this.map.size;
  }

  put(key: Buffer, offset: bigint): void {
    this.map.set(key.toString("latin1"), offset);
  }

  get(key: Buffer): bigint | undefined {
    return this.map.get(key.toString("latin1"));
  }

  /**
   * Adds every keyed record of a stored batch. Control batches carry no data keys; transactional batches
   * are left out too, for they are kept whole (see `filterBatch`): a record that may be aborted must not
   * supersede an earlier one.
   */
  addBatch(batch: Buffer): void {
    if ((batch.readInt16BE(BatchOffsets.attributes) & TRANSACTIONAL_OR_CONTROL) !== 0) return;
    const decoded = decodeRecordBatch(batch, 0, { verifyCrc: false });
    for (const r of decoded.records) {
      if (r.key !== null) this.put(r.key, decoded.baseOffset + BigInt(r.offsetDelta));
    }
  }
}

export interface FilterContext {
  map: KeyOffsetMap;
  now: number;
  deleteRetentionMs: number;
  /** Whether the batch ending at `lastOffset` is the producer's last one (kept even when emptied). */
  isLastBatchOfProducer(producerId: bigint, lastOffset: bigint): boolean;
}

export interface FilteredBatch {
  /** `batch` itself when nothing changed, a rebuilt batch, or null when the batch goes. */
  out: Buffer | null;
  /** Delete horizon (ms) of a kept batch that still holds tombstones, else -1. */
  tombstoneHorizon: number;
}

const DROPPED: FilteredBatch = Object.freeze({ out: null, tombstoneHorizon: -1 });
const TRANSACTIONAL_OR_CONTROL = BatchAttributes.transactional | BatchAttributes.control;

/**
 * Keeps the records that are the latest for their key (or whose key the map does not know) and the
 * tombstones whose delete horizon has not passed. A batch first found holding tombstones is rewritten
 * with the horizon (now + delete.retention.ms) as its base timestamp and the delete-horizon attribute
 * (KIP-534), so the next cleaning past that time drops them. Records without a key are kept. Control
 * batches (transaction markers) and transactional batches are kept whole: Kafka's rules for removing
 * aborted data and, later, markers are not implemented yet, and keeping both keeps every segment's
 * aborted-transaction index valid.
 */
export function filterBatch(batch: Buffer, ctx: FilterContext): FilteredBatch {
  const attributes = batch.readInt16BE(BatchOffsets.attributes);
  if ((attributes & TRANSACTIONAL_OR_CONTROL) !== 0) return { out: batch, tombstoneHorizon: -1 };
  const decoded = decodeRecordBatch(batch, 0);
  const hasHorizon = (attributes & BatchAttributes.deleteHorizon) !== 0;
  const horizon = hasHorizon ? Number(decoded.baseTimestamp) : -1;
  const kept: KafkaRecord[] = [];
  let tombstones = false;
  for (const r of decoded.records) {
    if (r.key !== null) {
      const latest = ctx.map.get(r.key);
      if (latest !== undefined && decoded.baseOffset + BigInt(r.offsetDelta) < latest) continue;
      if (r.value === null) {
        if (hasHorizon && ctx.now >= horizon) continue;
        tombstones = true;
      }
    }
    kept.push(r);
  }
  if (kept.length === decoded.records.length && (hasHorizon || !tombstones)) {
    return { out: batch, tombstoneHorizon: tombstones ? horizon : -1 };
  }
  if (kept.length === 0) {
    if (
      decoded.producerId < 0n ||
      !ctx.isLastBatchOfProducer(decoded.producerId, decoded.baseOffset + BigInt(decoded.lastOffsetDelta))
    ) {
      return DROPPED;
    }
    // An empty batch keeps the producer's last sequence in the log (Kafka's writeEmptyHeader).
    const out = encodeRecordBatch(
      {
        ...decoded,
        attributes: attributes & ~(BatchAttributes.compressionMask | BatchAttributes.deleteHorizon),
        baseTimestamp: decoded.maxTimestamp,
        records: [],
      },
      CompressionType.none,
    );
    return { out, tombstoneHorizon: -1 };
  }
  const newHorizon = hasHorizon ? horizon : tombstones ? ctx.now + ctx.deleteRetentionMs : -1;
  const oldBase = decoded.baseTimestamp;
  const firstTs = oldBase + (kept[0] as KafkaRecord).timestampDelta;
  const newBase = newHorizon >= 0 ? BigInt(newHorizon) : firstTs;
  let maxTs = -1n;
  const records: KafkaRecord[] = kept.map((r) => {
    const ts = oldBase + r.timestampDelta;
    if (ts > maxTs) maxTs = ts;
    return { ...r, timestampDelta: ts - newBase };
  });
  const logAppendTime = (attributes & BatchAttributes.timestampTypeLogAppend) !== 0;
  const out = encodeRecordBatch({
    ...decoded,
    attributes: newHorizon >= 0 ? attributes | BatchAttributes.deleteHorizon : attributes,
    baseTimestamp: newBase,
    maxTimestamp: logAppendTime ? decoded.maxTimestamp : maxTs,
    lastOffsetDelta: decoded.lastOffsetDelta,
    records,
  });
  return { out, tombstoneHorizon: tombstones ? newHorizon : -1 };
}
