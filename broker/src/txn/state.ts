import { ErrorCode } from "../errors.js";
import type { TopicPartitionRef } from "./marker.js";

/**
 * A transactional id's state at the coordinator, as Kafka's transaction coordinator keeps it (its
 * TransactionMetadata): the producer id and epoch handed out, the transaction's partitions, timeout and
 * times, and the state of the transaction. Every change is two steps: `prepare...` computes the next
 * metadata (a `TxnTransit`) and marks it pending, so that no other change starts meanwhile; once the
 * transit is written to `__transaction_state`, `complete` makes it current (or `cancel` drops it).
 */

/** The states, with Kafka's ids (the TransactionStatus of the log value) and names (DescribeTransactions). */
export const TxnState = {
  EMPTY: 0,
  ONGOING: 1,
  PREPARE_COMMIT: 2,
  PREPARE_ABORT: 3,
  COMPLETE_COMMIT: 4,
  COMPLETE_ABORT: 5,
  DEAD: 6,
  PREPARE_EPOCH_FENCE: 7,
} as const;
export type TxnState = (typeof TxnState)[keyof typeof TxnState];

export const TXN_STATE_NAMES: readonly string[] = [
  "Empty",
  "Ongoing",
  "PrepareCommit",
  "PrepareAbort",
  "CompleteCommit",
  "CompleteAbort",
  "Dead",
  "PrepareEpochFence",
];

export function txnStateByName(name: string): TxnState | undefined {
  const i = TXN_STATE_NAMES.indexOf(name);
  return i < 0 ? undefined : (i as TxnState);
}

const S = TxnState;
/** From which states each state may be reached. */
const VALID_PREVIOUS: Record<TxnState, readonly TxnState[]> = {
  [S.EMPTY]: [S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT],
  [S.ONGOING]: [S.ONGOING, S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT],
  [S.PREPARE_COMMIT]: [S.ONGOING],
  // Transactions v2 may abort from Empty and the Complete states (the client is not sure of the state).
  [S.PREPARE_ABORT]: [S.ONGOING, S.PREPARE_EPOCH_FENCE, S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT],
  [S.COMPLETE_COMMIT]: [S.PREPARE_COMMIT],
  [S.COMPLETE_ABORT]: [S.PREPARE_ABORT],
  [S.DEAD]: [S.EMPTY, S.COMPLETE_COMMIT, S.COMPLETE_ABORT],
  [S.PREPARE_EPOCH_FENCE]: [S.ONGOING],
};

/** States in which an idle transactional id may expire. */
export function expirationAllowed(state: TxnState): boolean {
  return state === S.EMPTY || state === S.COMPLETE_COMMIT || state === S.COMPLETE_ABORT;
}

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
const SHORT_MAX = 32767;

/** Whether no epoch is left for a client: the coordinator keeps the last one to fence with. */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= SHORT_MAX - 1;
}

/** The partitions of a transaction, by topic and partition. */
export class PartitionSet {
  private readonly byKey = new Map<string, TopicPartitionRef>();

  constructor(parts: Iterable<TopicPartitionRef> = []) {
    for (const p of parts) this.add(p);
  }

  private static key(p: TopicPartitionRef): string {
    return `${p.partition}\u0000${p.topic}`;
  }

  add(p: TopicPartitionRef): void {
    this.byKey.set(PartitionSet.key(p), { topic: p.topic, partition: p.partition });
  }

  has(p: TopicPartitionRef): boolean {
    return this.byKey.has(PartitionSet.key(p));
  }

  get size(): number {
    return this.byKey.size;
  }

  list(): TopicPartitionRef[] {
    return [...this.byKey.values()];
  }

  /** The partitions grouped by topic, topics and partitions in order. */
  byTopic(): { topic: string; partitions: number[] }[] {
    const m = new Map<string, number[]>();
    for (const p of this.byKey.values()) {
      let list = m.get(p.topic);
      if (list === undefined) m.set(p.topic, (list = []));
      list.push(p.partition);
    }
    return [...m.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
  }
}

/** The metadata a transactional id moves to: written to `__transaction_state`, then made current. */
export interface TxnTransit {
  readonly producerId: bigint;
  readonly prevProducerId: bigint;
  readonly nextProducerId: bigint;
  readonly producerEpoch: number;
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly state: TxnState;
  readonly partitions: PartitionSet;
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
  /** The transaction version (0 or 2) of the client's last request that changed the state. */
  readonly clientTransactionVersion: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class TransactionMetadata implements Mutable<TxnTransit> {
  /** The state being written, if any: no other change may start until it is completed or cancelled. */
  pendingState: TxnState | null = null;
  /** An earlier fence's bumped epoch may not have been written: the next fence does not bump again. */
  hasFailedEpochFence = false;

  constructor(
    readonly transactionalId: string,
    public producerId: bigint,
    public prevProducerId: bigint,
    public nextProducerId: bigint,
    public producerEpoch: number,
    public lastProducerEpoch: number,
    public txnTimeoutMs: number,
    public state: TxnState,
    public partitions: PartitionSet,
    public txnStartTimestamp: number,
    public txnLastUpdateTimestamp: number,
    public clientTransactionVersion: number,
  ) {}

  /** A new id: no epoch yet, Empty. */
  static create(transactionalId: string, producerId: bigint, timeoutMs: number, now: number): TransactionMetadata {
    const { EMPTY } = TxnState;
    return new TransactionMetadata(
      transactionalId,
      producerId,
      NO_PRODUCER_ID,
      NO_PRODUCER_ID,
      NO_PRODUCER_EPOCH,
      NO_PRODUCER_EPOCH,
      timeoutMs,
      EMPTY,
      new PartitionSet(),
      -1,
      now,
      0,
    );
  }

  get isEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  /** Ongoing or being completed. */
  get hasPendingTransaction(): boolean {
    const s = this.state;
    return s === S.ONGOING || s === S.PREPARE_ABORT || s === S.PREPARE_COMMIT;
  }

  /** InitProducerId on an ongoing transaction: the epoch is bumped to fence its producer, then it is aborted. */
  prepareFenceProducerEpoch(): TxnTransit {
    const bump = !this.hasFailedEpochFence && this.producerEpoch < SHORT_MAX;
    return this.transitTo(S.PREPARE_EPOCH_FENCE, { producerEpoch: bump ? this.producerEpoch + 1 : this.producerEpoch });
  }

  /**
   * InitProducerId: the next epoch (KIP-360: with the producer's `expectedEpoch`, a retry of a bump that
   * succeeded gets the same epoch again). PRODUCER_FENCED when the producer's epoch is neither.
   */
  prepareIncrementProducerEpoch(timeoutMs: number, expectedEpoch: number | null, now: number): TxnTransit | number {
    if (this.isEpochExhausted) throw new Error(`no producer epoch left for producer id ${this.producerId}`);
    let producerEpoch = this.producerEpoch + 1;
    let lastProducerEpoch = NO_PRODUCER_EPOCH;
    if (expectedEpoch !== null) {
      if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedEpoch === this.producerEpoch) {
        lastProducerEpoch = this.producerEpoch;
      } else if (expectedEpoch === this.lastProducerEpoch) {
        producerEpoch = this.producerEpoch;
        lastProducerEpoch = this.lastProducerEpoch;
      } else {
        return ErrorCode.PRODUCER_FENCED;
      }
    }
    return this.transitTo(S.EMPTY, {
      producerEpoch,
      lastProducerEpoch,
      txnTimeoutMs: timeoutMs,
      partitions: new PartitionSet(),
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    });
  }

  /** InitProducerId when the epochs of the producer id are used up: a new producer id at epoch 0. */
  prepareProducerIdRotation(producerId: bigint, timeoutMs: number, now: number, recordLastEpoch: boolean): TxnTransit {
    if (this.hasPendingTransaction) throw new Error("cannot rotate producer ids while a transaction is pending");
    return this.transitTo(S.EMPTY, {
      producerId,
      producerEpoch: 0,
      lastProducerEpoch: recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      txnTimeoutMs: timeoutMs,
      partitions: new PartitionSet(),
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    });
  }

  /** AddPartitionsToTxn (and AddOffsetsToTxn, implicit adds): Ongoing; a new transaction starts now. */
  prepareAddPartitions(added: readonly TopicPartitionRef[], now: number, clientTransactionVersion: number): TxnTransit {
    const starts = this.state === S.EMPTY || this.state === S.COMPLETE_ABORT || this.state === S.COMPLETE_COMMIT;
    const partitions = new PartitionSet(this.partitions.list());
    for (const p of added) partitions.add(p);
    return this.transitTo(S.ONGOING, {
      partitions,
      txnStartTimestamp: starts ? now : this.txnStartTimestamp,
      txnLastUpdateTimestamp: now,
      clientTransactionVersion,
    });
  }

  /**
   * EndTxn (or an abort by the coordinator): PrepareCommit or PrepareAbort. Transactions v2 bump the
   * epoch at every end (`bumpEpoch`; not when a fence already bumped it, as Kafka 4.4 writes a fenced
   * abort at the fence's epoch); `nextProducerId` is the id to move to when that used the last epoch.
   */
  prepareAbortOrCommit(
    state: TxnState,
    clientTransactionVersion: number,
    nextProducerId: bigint,
    now: number,
    noPartitionAdded: boolean,
    bumpEpoch = clientTransactionVersion >= 2,
  ): TxnTransit {
    let producerEpoch = this.producerEpoch;
    let lastProducerEpoch = this.lastProducerEpoch;
    if (bumpEpoch) {
      // An abort at the very last epoch goes through without a bump, so that the id can recover.
      if (!(this.producerEpoch === SHORT_MAX && state === S.PREPARE_ABORT)) producerEpoch = this.producerEpoch + 1;
      lastProducerEpoch = this.producerEpoch;
    }
    return this.transitTo(state, {
      producerEpoch,
      lastProducerEpoch,
      nextProducerId,
      txnStartTimestamp: noPartitionAdded ? now : this.txnStartTimestamp,
      txnLastUpdateTimestamp: now,
      clientTransactionVersion,
    });
  }

  /** Every marker is written: CompleteCommit or CompleteAbort (with v2, onto the next producer id if any). */
  prepareComplete(now: number): TxnTransit {
    this.hasFailedEpochFence = false;
    const rotate = this.clientTransactionVersion >= 2 && this.nextProducerId !== NO_PRODUCER_ID;
    return this.transitTo(this.state === S.PREPARE_COMMIT ? S.COMPLETE_COMMIT : S.COMPLETE_ABORT, {
      producerId: rotate ? this.nextProducerId : this.producerId,
      producerEpoch: rotate ? 0 : this.producerEpoch,
      nextProducerId: NO_PRODUCER_ID,
      partitions: new PartitionSet(),
      txnLastUpdateTimestamp: now,
    });
  }

  /** Expiry of an idle transactional id: its tombstone is written, then it is forgotten. */
  prepareDead(): TxnTransit {
    return this.transitTo(S.DEAD, { partitions: new PartitionSet() });
  }

  private transitTo(state: TxnState, change: Partial<Mutable<TxnTransit>>): TxnTransit {
    if (this.pendingState !== null)
      throw new Error(
        `${this.transactionalId}: transition to ${TXN_STATE_NAMES[state]} while ${TXN_STATE_NAMES[this.pendingState]} is pending`,
      );
    if (!VALID_PREVIOUS[state].includes(this.state))
      throw new Error(
        `${this.transactionalId}: no transition from ${TXN_STATE_NAMES[this.state]} to ${TXN_STATE_NAMES[state]}`,
      );
    const transit: TxnTransit = {
      producerId: this.producerId,
      prevProducerId: this.producerId,
      nextProducerId: this.nextProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      txnTimeoutMs: this.txnTimeoutMs,
      partitions: this.partitions,
      txnStartTimestamp: this.txnStartTimestamp,
      txnLastUpdateTimestamp: this.txnLastUpdateTimestamp,
      clientTransactionVersion: this.clientTransactionVersion,
      ...change,
      state,
    };
    if (state !== S.DEAD && transit.producerEpoch < 0) throw new Error(`${this.transactionalId}: no producer epoch`);
    this.pendingState = state;
    return transit;
  }

  /** The transit was written: it becomes the current metadata. */
  complete(transit: TxnTransit): void {
    if (this.pendingState !== transit.state)
      throw new Error(`${this.transactionalId}: completing ${TXN_STATE_NAMES[transit.state]} which is not pending`);
    this.producerId = transit.producerId;
    this.prevProducerId = transit.prevProducerId;
    this.nextProducerId = transit.nextProducerId;
    this.producerEpoch = transit.producerEpoch;
    this.lastProducerEpoch = transit.lastProducerEpoch;
    this.txnTimeoutMs = transit.txnTimeoutMs;
    this.partitions = transit.partitions;
    this.txnStartTimestamp = transit.txnStartTimestamp;
    this.txnLastUpdateTimestamp = transit.txnLastUpdateTimestamp;
    this.clientTransactionVersion = transit.clientTransactionVersion;
    this.state = transit.state;
    this.pendingState = null;
  }

  /** The transit was not written: nothing changes. */
  cancel(): void {
    this.pendingState = null;
  }
}
