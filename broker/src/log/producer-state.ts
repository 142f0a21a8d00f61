import type { TxnMarker } from "../txn/marker.js";
import { ErrorCode } from "./errors.js";
import { BatchAttributes, BatchOffsets, ControlRecordType, DecodeError, decodeRecordBatch } from "./records.js";
import { readControlRecordKey, readEndTxnMarker } from "./records.js";

/**
 * Idempotent and transactional producer bookkeeping for one partition (KIP-98, KAFKA-5494): per producer
 * id, its epoch and the metadata of its last 5 batches, so a retried batch is recognised and answered with
 * its original offsets, and a batch out of sequence is refused; and its ongoing transaction (the first
 * offset of its first transactional batch since its last marker), which holds the last stable offset
 * back until a COMMIT or ABORT marker ends it. Rebuilt on open from the log's batches.
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
  /** First offset of the producer's ongoing transaction; -1n when none is open. */
  currentTxnFirstOffset: bigint;
  /** Coordinator epoch of the producer's last marker; -1 before any. */
  coordinatorEpoch: number;
  /** Max timestamp of the producer's last batch, or its last marker's timestamp; -1n when none. */
  lastBatchTimestamp: bigint;
  /** Offset of the producer's last marker; -1n when none. */
  lastMarkerOffset: bigint;
}

/** A transaction ended by a marker: what an ABORT puts in the segment's transaction index. */
export interface CompletedTxn {
  producerId: bigint;
  firstOffset: bigint;
  /** The marker's offset. */
  lastOffset: bigint;
  aborted: boolean;
  /** The first offset of the oldest transaction still open after this one ended, else the marker's + 1. */
  lastStableOffset: bigint;
}

/** A producer as DescribeProducers reports it. */
export interface ProducerSnapshot {
  producerId: bigint;
  producerEpoch: number;
  /** Last sequence of its last batch; -1 when none is remembered. */
  lastSequence: number;
  lastTimestamp: bigint;
  /** -1 when no marker was seen. */
  coordinatorEpoch: number;
  /** First offset of its ongoing transaction; -1n when none. */
  currentTxnStartOffset: bigint;
}

/** An ongoing transaction of one producer. */
export interface OngoingTxn {
  producerId: bigint;
  producerEpoch: number;
  firstOffset: bigint;
  lastTimestamp: bigint;
  coordinatorEpoch: number;
}

/** Producer state as it was before a group of appends (undefined: unknown then): restored when their write fails. */
export type ProducerUndo = Map<bigint, ProducerEntry | undefined>;

/** An error answer to a batch or marker. */
export interface ProducerError {
  errorCode: number;
  errorMessage: string;
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
  /** Producers with an ongoing transaction, to its first offset. */
  private readonly ongoing = new Map<bigint, bigint>();

  /**
   * Checks a client batch against the producer's state, without changing it: epoch, sequence, and (as
   * Kafka) INVALID_TXN_STATE for a non-transactional batch from a producer with a transaction open.
   */
  check(producerId: bigint, epoch: number, firstSeq: number, lastSeq: number, transactional = false): SequenceCheck {
    const entry = this.producers.get(producerId);
    if (entry === undefined) return APPEND; // unknown producer: any sequence is accepted (KIP-360)
    const result = checkSequence(entry, epoch, firstSeq, lastSeq);
    if (result.kind === "append" && !transactional && entry.currentTxnFirstOffset >= 0n) {
      return {
        kind: "error",
        errorCode: ErrorCode.INVALID_TXN_STATE,
        errorMessage: `expected a transactional batch from producer ${producerId}, whose transaction is open since offset ${entry.currentTxnFirstOffset}`,
      };
    }
    return result;
  }

  /**
   * Checks a marker, without changing state: an epoch older than the producer's is INVALID_PRODUCER_EPOCH
   * (from transaction version 2, KIP-890, the marker's epoch must be newer, unless it repeats the marker
   * of a transaction already ended), a coordinator epoch older than the last marker's
   * TRANSACTION_COORDINATOR_FENCED. Null when the marker may be written.
   */
  checkMarker(marker: TxnMarker, transactionVersion = 0): ProducerError | null {
    const entry = this.producers.get(marker.producerId);
    if (entry === undefined) return null;
    const epoch = marker.producerEpoch;
    const tv2 = transactionVersion >= 2;
    const stale = tv2 ? epoch <= entry.epoch : epoch < entry.epoch;
    const retry = tv2 && epoch === entry.epoch && entry.currentTxnFirstOffset < 0n;
    if (stale && !retry) {
      return {
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        errorMessage: `marker epoch ${epoch} of producer ${marker.producerId} is ${tv2 ? "not newer than" : "older than"} the current ${entry.epoch}`,
      };
    }
    if (marker.coordinatorEpoch < entry.coordinatorEpoch) {
      return {
        errorCode: ErrorCode.TRANSACTION_COORDINATOR_FENCED,
        errorMessage: `coordinator epoch ${marker.coordinatorEpoch} for producer ${marker.producerId} is older than the current ${entry.coordinatorEpoch}`,
      };
    }
    return null;
  }

  /** Records an appended batch (checked, or read back from the log); a transactional one may open a transaction. */
  update(
    producerId: bigint,
    epoch: number,
    firstSeq: number,
    lastSeq: number,
    firstOffset: bigint,
    lastOffset: bigint,
    maxTimestamp: bigint,
    now: number,
    transactional = false,
  ): void {
    const entry = this.entryFor(producerId, epoch, now);
    entry.lastTimestamp = now;
    entry.lastBatchTimestamp = maxTimestamp;
    if (entry.batches.length >= BATCHES_RETAINED) entry.batches.shift();
    entry.batches.push({ firstSeq, lastSeq, firstOffset, lastOffset, maxTimestamp });
    if (transactional && entry.currentTxnFirstOffset < 0n) {
      entry.currentTxnFirstOffset = firstOffset;
      this.ongoing.set(producerId, firstOffset);
    }
  }

  /**
   * Records a marker written at `offset`: the producer's transaction (if one is open) ends, the producer
   * takes the marker's epoch and coordinator epoch. Returns the transaction ended, or null when none was open.
   */
  completeTxn(marker: TxnMarker, offset: bigint, timestamp: bigint, now: number): CompletedTxn | null {
    const producerId = marker.producerId;
    const entry = this.entryFor(producerId, marker.producerEpoch, now);
    const firstOffset = entry.currentTxnFirstOffset;
    entry.coordinatorEpoch = marker.coordinatorEpoch;
    entry.currentTxnFirstOffset = -1n;
    entry.lastTimestamp = now;
    entry.lastBatchTimestamp = timestamp;
    entry.lastMarkerOffset = offset;
    this.ongoing.delete(producerId);
    if (firstOffset < 0n) return null;
    const lastStableOffset = this.firstUnstableOffset() ?? offset + 1n;
    return { producerId, firstOffset, lastOffset: offset, aborted: !marker.committed, lastStableOffset };
  }

  /** The producer's entry, made when unknown; a new epoch forgets the batches of the old one. */
  private entryFor(producerId: bigint, epoch: number, now: number): ProducerEntry {
    let entry = this.producers.get(producerId);
    if (entry === undefined) {
      entry = {
        producerId,
        epoch,
        batches: [],
        lastTimestamp: now,
        currentTxnFirstOffset: -1n,
        coordinatorEpoch: -1,
        lastBatchTimestamp: -1n,
        lastMarkerOffset: -1n,
      };
      this.producers.set(producerId, entry);
    } else if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches.length = 0;
    }
    return entry;
  }

  /**
   * Feeds one stored batch (at `off` in `buf`: its header, or the whole batch for a control batch) into the
   * state, as when rebuilding it. Returns the transaction a marker ended, if any.
   */
  loadBatch(buf: Buffer, off: number, now: number): CompletedTxn | null {
    const producerId = buf.readBigInt64BE(off + BatchOffsets.producerId);
    if (producerId < 0n) return null;
    const attributes = buf.readInt16BE(off + BatchOffsets.attributes);
    const baseOffset = buf.readBigInt64BE(off);
    const epoch = buf.readInt16BE(off + BatchOffsets.producerEpoch);
    const maxTimestamp = buf.readBigInt64BE(off + BatchOffsets.maxTimestamp);
    if ((attributes & BatchAttributes.control) !== 0) {
      const marker = readMarker(buf, off, producerId, epoch);
      return marker === null ? null : this.completeTxn(marker, baseOffset, maxTimestamp, now);
    }
    const lastOffsetDelta = buf.readInt32BE(off + BatchOffsets.lastOffsetDelta);
    const firstSeq = buf.readInt32BE(off + BatchOffsets.baseSequence);
    this.update(
      producerId,
      epoch,
      firstSeq,
      lastSequence(firstSeq, lastOffsetDelta),
      baseOffset,
      baseOffset + BigInt(lastOffsetDelta),
      maxTimestamp,
      now,
      (attributes & BatchAttributes.transactional) !== 0,
    );
    return null;
  }

  /** First offset of the oldest ongoing transaction, or null when none is open. */
  firstUnstableOffset(): bigint | null {
    let first: bigint | null = null;
    for (const offset of this.ongoing.values()) if (first === null || offset < first) first = offset;
    return first;
  }

  /** Remembers the producer's entry as it is now in `undo`, unless it already holds one. */
  save(producerId: bigint, undo: ProducerUndo): void {
    if (undo.has(producerId)) return;
    const entry = this.producers.get(producerId);
    undo.set(producerId, entry === undefined ? undefined : { ...entry, batches: entry.batches.slice() });
  }

  /** Puts back the entries saved in `undo` (after a failed write). */
  restore(undo: ProducerUndo): void {
    for (const [producerId, entry] of undo) {
      if (entry === undefined) this.producers.delete(producerId);
      else this.producers.set(producerId, entry);
      if (entry !== undefined && entry.currentTxnFirstOffset >= 0n)
        this.ongoing.set(producerId, entry.currentTxnFirstOffset);
      else this.ongoing.delete(producerId);
    }
  }

  /** Every producer remembered, for DescribeProducers. */
  activeProducers(): ProducerSnapshot[] {
    return [...this.producers.values()].map((e) => ({
      producerId: e.producerId,
      producerEpoch: e.epoch,
      lastSequence: e.batches.at(-1)?.lastSeq ?? -1,
      lastTimestamp: e.lastBatchTimestamp,
      coordinatorEpoch: e.coordinatorEpoch,
      currentTxnStartOffset: e.currentTxnFirstOffset,
    }));
  }

  /** The ongoing transactions, oldest first. */
  ongoingTransactions(): OngoingTxn[] {
    const out: OngoingTxn[] = [];
    for (const [producerId, firstOffset] of this.ongoing) {
      const e = this.producers.get(producerId);
      if (e === undefined) continue;
      const { epoch: producerEpoch, lastBatchTimestamp: lastTimestamp, coordinatorEpoch } = e;
      out.push({ producerId, producerEpoch, firstOffset, lastTimestamp, coordinatorEpoch });
    }
    return out.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  }

  /**
   * Forgets producers whose every batch and marker lies below the new log start offset (Kafka's
   * truncateHead). A producer with a transaction open is kept: its marker is still to come.
   */
  truncateHead(logStartOffset: bigint): void {
    for (const [id, entry] of this.producers) {
      if (entry.currentTxnFirstOffset >= 0n) continue;
      const lastData = entry.batches.at(-1)?.lastOffset ?? -1n;
      const last = lastData > entry.lastMarkerOffset ? lastData : entry.lastMarkerOffset;
      if (last < logStartOffset) this.producers.delete(id);
    }
  }

  /** Drops producers idle for longer than `maxIdleMs` (producer.id.expiration.ms), except those in a transaction. */
  expire(now: number, maxIdleMs: number): void {
    for (const [id, entry] of this.producers) {
      if (entry.currentTxnFirstOffset < 0n && now - entry.lastTimestamp >= maxIdleMs) this.producers.delete(id);
    }
  }

  clear(): void {
    this.producers.clear();
    this.ongoing.clear();
  }
}

/** The sequence part of `check`: duplicates, stale epochs, sequence gaps. */
function checkSequence(entry: ProducerEntry, epoch: number, firstSeq: number, lastSeq: number): SequenceCheck {
  const producerId = entry.producerId;
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

/**
 * The COMMIT or ABORT marker of a whole control batch at `off`; null for an empty or unreadable control
 * batch or another control type (Kafka's leader-change records, say), which end no transaction.
 */
function readMarker(buf: Buffer, off: number, producerId: bigint, producerEpoch: number): TxnMarker | null {
  try {
    const record = decodeRecordBatch(buf, off, { verifyCrc: false }).records[0];
    if (record === undefined) return null;
    const { type } = readControlRecordKey(record.key);
    if (type !== ControlRecordType.abort && type !== ControlRecordType.commit) return null;
    const { coordinatorEpoch } = readEndTxnMarker(record.value);
    return { producerId, producerEpoch, committed: type === ControlRecordType.commit, coordinatorEpoch };
  } catch (err) {
    if (err instanceof DecodeError) return null;
    throw err;
  }
}
