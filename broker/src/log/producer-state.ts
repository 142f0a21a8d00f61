import { ErrorCode } from "./errors.js";
import { BatchAttributes, BatchOffsets } from "./records.js";

/**
 * Idempotent-producer bookkeeping for one partition (KIP-98, KAFKA-5494): per producer id, its epoch and
 * the metadata of its last 5 batches, so a retried batch is recognised and answered with its original
 * offsets, and a batch out of sequence is refused. Rebuilt on open from the log's batch headers.
 */

/** Kafka keeps this many batches per producer (a producer has at most 5 requests in flight). */
export const BATCHES_RETAINED = 5;

const INT32_MAX = 0x7fffffff;

export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
}

export interface ProducerEntry {
  producerId: bigint;
  epoch: number;
  /** Oldest first, at most BATCHES_RETAINED. */
  batches: BatchMetadata[];
  /** Wall-clock ms of the producer's last append, for expiry. */
  lastTimestamp: number;
}

/** The result of checking a batch: go ahead, a duplicate of an appended batch, or an error code. */
export type SequenceCheck =
  | { kind: "append" }
  | { kind: "duplicate"; batch: BatchMetadata }
  | { kind: "error"; errorCode: number; errorMessage: string };

const APPEND: SequenceCheck = Object.freeze({ kind: "append" });

/** The last sequence of a batch of `count` records, wrapping past Int32 max as producers do. */
export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta
    ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1
    : baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export class ProducerStateManager {
  readonly producers = new Map<bigint, ProducerEntry>();

  /** Checks a client batch against the producer's state, without changing it. */
  check(producerId: bigint, epoch: number, firstSeq: number, lastSeq: number): SequenceCheck {
    const entry = this.producers.get(producerId);
    if (entry === undefined) return APPEND; // unknown producer: any sequence is accepted (KIP-360)
    if (epoch < entry.epoch) {
      return {
        kind: "error",
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        errorMessage: `epoch ${epoch} of producer ${producerId} is older than the current ${entry.epoch}`,
      };
    }
    if (epoch === entry.epoch) {
      for (const b of entry.batches) {
        if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return { kind: "duplicate", batch: b };
      }
    }
    if (epoch !== entry.epoch) {
      // A bumped epoch starts again at sequence 0.
      if (firstSeq !== 0 && entry.epoch >= 0) {
        return {
          kind: "error",
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          errorMessage: `sequence ${firstSeq} for new epoch ${epoch} of producer ${producerId} must be 0`,
        };
      }
      return APPEND;
    }
    const last = entry.batches[entry.batches.length - 1];
    if (last !== undefined && !inSequence(last.lastSeq, firstSeq)) {
      return {
        kind: "error",
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        errorMessage: `out of order sequence ${firstSeq} for producer ${producerId} (last was ${last.lastSeq})`,
      };
    }
    return APPEND;
  }

  /** Records an appended batch (checked, or read back from the log). */
  update(
    producerId: bigint,
    epoch: number,
    firstSeq: number,
    lastSeq: number,
    firstOffset: bigint,
    lastOffset: bigint,
    maxTimestamp: bigint,
    now: number,
  ): void {
    let entry = this.producers.get(producerId);
    if (entry === undefined) {
      entry = { producerId, epoch, batches: [], lastTimestamp: now };
      this.producers.set(producerId, entry);
    } else if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches.length = 0;
    }
    entry.lastTimestamp = now;
    if (entry.batches.length >= BATCHES_RETAINED) entry.batches.shift();
    entry.batches.push({ firstSeq, lastSeq, firstOffset, lastOffset, maxTimestamp });
  }

  /** Feeds one stored batch header (at `off` in `buf`) into the state, as when rebuilding it. */
  loadBatch(buf: Buffer, off: number, now: number): void {
    const producerId = buf.readBigInt64BE(off + BatchOffsets.producerId);
    if (producerId < 0n) return;
    if ((buf.readInt16BE(off + BatchOffsets.attributes) & BatchAttributes.control) !== 0) return;
    const baseOffset = buf.readBigInt64BE(off);
    const lastOffsetDelta = buf.readInt32BE(off + BatchOffsets.lastOffsetDelta);
    const firstSeq = buf.readInt32BE(off + BatchOffsets.baseSequence);
    this.update(
      producerId,
      buf.readInt16BE(off + BatchOffsets.producerEpoch),
      firstSeq,
      lastSequence(firstSeq, lastOffsetDelta),
      baseOffset,
      baseOffset + BigInt(lastOffsetDelta),
      buf.readBigInt64BE(off + BatchOffsets.maxTimestamp),
      now,
    );
  }

  /** Forgets producers whose every batch lies below the new log start offset (Kafka's truncateHead). */
  truncateHead(logStartOffset: bigint): void {
    for (const [id, entry] of this.producers) {
      const last = entry.batches[entry.batches.length - 1];
      if (last === undefined || last.lastOffset < logStartOffset) this.producers.delete(id);
    }
  }

  /** Drops producers idle for longer than `maxIdleMs` (producer.id.expiration.ms). */
  expire(now: number, maxIdleMs: number): void {
    for (const [id, entry] of this.producers) {
      if (now - entry.lastTimestamp >= maxIdleMs) this.producers.delete(id);
    }
  }

  clear(): void {
    this.producers.clear();
  }
}
