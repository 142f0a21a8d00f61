import { CompressionType, decodeRecordBatch, encodeRecordBatch } from "@tskafka/protocol";
import type { KafkaRecord, RecordBatch } from "@tskafka/protocol";
import type { TxnCleaning } from "./cleaner-txn.js";
import { BatchAttributes, BatchOffsets, ControlRecordType, readControlRecordKey } from "./records.js";

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
   * Adds every keyed record of a stored batch. Control batches carry no data keys; the records of an
   * aborted transaction are left out (they are removed, so they must not supersede anything); committed
   * transactional records count as any other.
   */
  addBatch(batch: Buffer, txns: TxnCleaning): void {
    const attributes = batch.readInt16BE(BatchOffsets.attributes);
    if ((attributes & BatchAttributes.control) !== 0) return;
    if ((attributes & BatchAttributes.transactional) !== 0 && txns.isAborted(producerIdOf(batch), lastOffsetOf(batch)))
      return;
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
  /** The pass's transaction state: aborted batches, markers that may go, index entries kept. */
  txns: TxnCleaning;
  /** Whether the batch ending at `lastOffset` is the producer's last one (kept even when emptied). */
  isLastBatchOfProducer(producerId: bigint, lastOffset: bigint): boolean;
  /** Whether a control batch of this producer and epoch holds the producer's latest state (no data batch since). */
  isLastMarkerOfProducer(producerId: bigint, producerEpoch: number): boolean;
}

export interface FilteredBatch {
  /** `batch` itself when nothing changed, a rebuilt batch, or null when the batch goes. */
  out: Buffer | null;
  /** Delete horizon (ms) of a kept batch that still holds tombstones, else -1. */
  tombstoneHorizon: number;
}

const DROPPED: FilteredBatch = Object.freeze({ out: null, tombstoneHorizon: -1 });

function producerIdOf(batch: Buffer): bigint {
  return batch.readBigInt64BE(BatchOffsets.producerId);
}

function lastOffsetOf(batch: Buffer): bigint {
  return batch.readBigInt64BE(BatchOffsets.baseOffset) + BigInt(batch.readInt32BE(BatchOffsets.lastOffsetDelta));
}

/**
 * Keeps the records that are the latest for their key (or whose key the map does not know) and the
 * tombstones whose delete horizon has not passed. A batch first found holding tombstones is rewritten
 * with the horizon (now + delete.retention.ms) as its base timestamp and the delete-horizon attribute
 * (KIP-534), so the next cleaning past that time drops them. Records without a key are kept. Committed
 * transactional batches are compacted the same way; the records of aborted transactions all go; control
 * batches follow `filterControlBatch`. A batch left empty goes, unless it is its producer's last (its
 * header keeps the producer's sequence).
 */
export function filterBatch(batch: Buffer, ctx: FilterContext): FilteredBatch {
  const attributes = batch.readInt16BE(BatchOffsets.attributes);
  if ((attributes & BatchAttributes.control) !== 0) return filterControlBatch(batch, attributes, ctx);
  const decoded = decodeRecordBatch(batch, 0);
  const transactional = (attributes & BatchAttributes.transactional) !== 0;
  if (transactional && ctx.txns.onDataBatch(decoded.producerId, lastOffsetOf(batch))) {
    return emptied(decoded, attributes, ctx);
  }
  if (decoded.records.length === 0) return emptied(decoded, attributes, ctx);
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
  if (kept.length === 0) return emptied(decoded, attributes, ctx);
  const newHorizon = hasHorizon ? horizon : tombstones ? ctx.now + ctx.deleteRetentionMs : -1;
  return { out: rebuilt(decoded, attributes, kept, newHorizon), tombstoneHorizon: tombstones ? newHorizon : -1 };
}

/**
 * A control batch. A COMMIT or ABORT marker stays as long as data of its transaction was met in this pass.
 * Once none was (the pass after the data went), it is rewritten with a delete horizon (now +
 * delete.retention.ms, KIP-534, as a tombstone) and goes at the first cleaning past that horizon, so
 * that a consumer which read the data keeps seeing the marker for delete.retention.ms. A marker that holds
 * its producer's latest epoch (no data batch of the producer since) is kept whole, whatever its horizon:
 * its epoch and coordinator epoch rebuild the producer's state at open. An empty control batch (cleaned
 * by another broker) goes unless it is such a last one; other control types are kept.
 */
function filterControlBatch(batch: Buffer, attributes: number, ctx: FilterContext): FilteredBatch {
  const decoded = decodeRecordBatch(batch, 0);
  const producerId = decoded.producerId;
  const record = decoded.records[0];
  let discardable = true;
  if (record !== undefined) {
    const type = readControlRecordKey(record.key).type;
    if (type !== ControlRecordType.abort && type !== ControlRecordType.commit)
      return { out: batch, tombstoneHorizon: -1 };
    discardable = ctx.txns.onMarker(producerId, decoded.baseOffset, type === ControlRecordType.abort);
  }
  if (!discardable) return { out: batch, tombstoneHorizon: -1 };
  const last = producerId >= 0n && ctx.isLastMarkerOfProducer(producerId, decoded.producerEpoch);
  if (record === undefined) return last ? { out: batch, tombstoneHorizon: -1 } : DROPPED;
  if ((attributes & BatchAttributes.deleteHorizon) === 0) {
    const horizon = ctx.now + ctx.deleteRetentionMs;
    return { out: rebuilt(decoded, attributes, decoded.records, horizon), tombstoneHorizon: horizon };
  }
  const horizon = Number(decoded.baseTimestamp);
  if (ctx.now < horizon) return { out: batch, tombstoneHorizon: horizon };
  return last ? { out: batch, tombstoneHorizon: -1 } : DROPPED;
}

/**
 * A batch none of whose records stay: dropped, or kept empty when it is its producer's last batch (Kafka's
 * writeEmptyHeader), so that the producer's last sequence stays in the log.
 */
function emptied(decoded: RecordBatch, attributes: number, ctx: FilterContext): FilteredBatch {
  const lastOffset = decoded.baseOffset + BigInt(decoded.lastOffsetDelta);
  if (decoded.producerId < 0n || !ctx.isLastBatchOfProducer(decoded.producerId, lastOffset)) return DROPPED;
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

/**
 * The batch with only the records `kept` (at least one), its base timestamp the delete horizon
 * `newHorizon` (with the delete-horizon attribute) unless that is -1; record timestamps do not change.
 */
function rebuilt(decoded: RecordBatch, attributes: number, kept: readonly KafkaRecord[], newHorizon: number): Buffer {
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
  return encodeRecordBatch({
    ...decoded,
    attributes: newHorizon >= 0 ? attributes | BatchAttributes.deleteHorizon : attributes,
    baseTimestamp: newBase,
    maxTimestamp: logAppendTime ? decoded.maxTimestamp : maxTs,
    lastOffsetDelta: decoded.lastOffsetDelta,
    records,
  });
}
