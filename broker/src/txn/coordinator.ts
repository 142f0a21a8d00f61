import type { RE2JS } from "re2js";
import { compileRe2 } from "../re2.js";
import {
  ApiKey,
  createAddPartitionsToTxnRequest,
  type DescribeTransactionsResponseTransactionState,
  type ListTransactionsResponse,
} from "@tskafka/protocol";
import { featureLevel, TRANSACTION_VERSION } from "../cluster/features.js";
import { coordinatorNode } from "../cluster/coordinator-partitions.js";
import type { InterBrokerClients } from "../cluster/inter-broker.js";
import type { Leadership, RoleChange } from "../cluster/leadership.js";
import type { ClusterMetadata } from "../cluster/metadata.js";
import { LEADER_EPOCH } from "../cluster/partition-logs.js";
import type { ProducerIds } from "../cluster/producer-ids.js";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { GroupService } from "../group/coordinator.js";
import { offsetsPartitionFor } from "../group/java-hash.js";
import type { Logger } from "../logger.js";
import { TxnCompleter } from "./completion.js";
import type { EndTxnResult, TxnContext } from "./context.js";
import { endTransaction } from "./end-txn.js";
import { TxnTimers } from "./expiry.js";
import type { MarkerResults, TopicPartitionRef, TxnMarker, TxnMarkerWriter } from "./marker.js";
import {
  isEpochExhausted,
  NO_PRODUCER_EPOCH,
  TransactionMetadata,
  TXN_STATE_NAMES,
  txnStateByName,
  TxnState,
  type TxnTransit,
} from "./state.js";
import { encodeValue, TRANSACTION_STATE_TOPIC, type TransactionStateTopic } from "./state-topic.js";

/**
 * The transaction coordinator of this node (KIP-98, and transactions v2 of KIP-890): producer ids and
 * epochs of transactional ids, the partitions of each transaction, and commit or abort in two phases,
 * every state change written to `__transaction_state` before it is answered and reloaded from there at
 * start-up. Markers go through a `TxnMarkerWriter`, which on one node appends them to local logs and in
 * a cluster would send them to each partition's leader. The parts: the state machine (state.ts), the log
 * (state-topic.ts), ending a transaction (end-txn.ts), markers and Complete states (completion.ts), the
 * timeout and expiry timers (expiry.ts). Errors per API version are the handlers' to translate.
 */

export { TxnState } from "./state.js";
export type { EndTxnResult } from "./context.js";

/** What the coordinator uses of the broker. */
export interface TransactionCoordinatorHost {
  /** The config in force (read at each use). */
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: Pick<ClusterMetadata, "topic" | "finalizedFeatures" | "partitionStates">;
  readonly producerIds: Pick<ProducerIds, "allocate">;
  readonly groups: Pick<GroupService, "ensureOffsetsTopic">;
  /**
   * This broker's role in each partition: the transactional ids of a `__transaction_state` partition are
   * coordinated here while it is led here. Absent (unit tests): every id is.
   */
  readonly leadership?: Pick<Leadership, "role" | "onChange">;
  /**
   * The other brokers: a transactional write checked here for an id coordinated by another broker is
   * checked there (AddPartitionsToTxn v5, as Kafka's AddPartitionsToTxnManager). Absent: checked here.
   */
  readonly interBroker?: Pick<InterBrokerClients, "send">;
}

export type CoordinatorStateTopic = Pick<
  TransactionStateTopic,
  "ensureCreated" | "partitionFor" | "append" | "load" | "partitions"
>;

/** How a transactional write (Produce, TxnOffsetCommit) may treat a partition not yet in its transaction. */
export const TxnWriteCheck = {
  /** Verify it; not added is INVALID_TXN_STATE (Produce v0-10, TxnOffsetCommit v0-3). */
  DEFAULT_ERROR: 0,
  /** Verify it; not added is TRANSACTION_ABORTABLE (Produce v11, TxnOffsetCommit v4). */
  GENERIC_ERROR_SUPPORTED: 1,
  /**
   * Add it (Produce v12+, TxnOffsetCommit v5+: only transactions v2 clients send them), as Kafka 4.4 does
   * when transaction.version is 1 or 2 (at 0 an add is UNSUPPORTED_VERSION).
   */
  ADD_PARTITION: 2,
} as const;
export type TxnWriteCheck = (typeof TxnWriteCheck)[keyof typeof TxnWriteCheck];

export interface InitProducerIdResult {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
}

export interface ListTransactionsFilters {
  readonly stateFilters: readonly string[];
  readonly producerIdFilters: readonly bigint[];
  /** Only transactions running longer than this (ms); negative: all. */
  readonly durationFilter: bigint;
  /** RE2/J expression the whole transactional id must match; null or empty: all. */
  readonly transactionalIdPattern: string | null;
}

export type TransactionService = Pick<
  TransactionCoordinator,
  | "ensureStateTopic"
  | "initProducerId"
  | "addPartitions"
  | "verifyPartitions"
  | "addOffsets"
  | "endTxn"
  | "checkTransactionalWrite"
  | "describe"
  | "list"
  | "writeMarkers"
  | "transactionVersion"
  | "coordinatorError"
>;

/** What another broker's coordinator answers while the id is not (or no longer) coordinated there. */
const COORDINATOR_MOVING: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

const MAPPED_APPEND_ERRORS: ReadonlyMap<number, number> = new Map([
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.COORDINATOR_NOT_AVAILABLE],
  [ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.COORDINATOR_NOT_AVAILABLE],
  [ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrorCode.COORDINATOR_NOT_AVAILABLE],
  [ErrorCode.REQUEST_TIMED_OUT, ErrorCode.COORDINATOR_NOT_AVAILABLE],
  [ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NOT_COORDINATOR],
  [ErrorCode.KAFKA_STORAGE_ERROR, ErrorCode.NOT_COORDINATOR],
  [ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.UNKNOWN_SERVER_ERROR],
  [ErrorCode.RECORD_LIST_TOO_LARGE, ErrorCode.UNKNOWN_SERVER_ERROR],
]);

export class TransactionCoordinator implements TxnContext {
  readonly transactions = new Map<string, TransactionMetadata>();
  /** `__transaction_state` partitions being loaded (COORDINATOR_LOAD_IN_PROGRESS) and loaded here. */
  private readonly loading = new Map<number, Promise<void>>();
  private readonly loaded = new Set<number>();
  private unfollow: (() => void) | undefined;
  private readonly completer: TxnCompleter;
  private readonly timers: TxnTimers;

  constructor(
    private readonly host: TransactionCoordinatorHost,
    private readonly topic: CoordinatorStateTopic,
    private readonly markers: TxnMarkerWriter,
    /** The writer of WriteTxnMarkers requests: this broker's own partitions only (the others forward). */
    private readonly localMarkers: TxnMarkerWriter = markers,
  ) {
    this.completer = new TxnCompleter({
      log: host.log,
      markers,
      coordinatorEpoch: LEADER_EPOCH,
      now: () => this.now(),
      writeTransit: (txn, transit) => this.writeTransit(txn, transit),
    });
    this.timers = new TxnTimers(this);
  }

  get config(): BrokerConfig {
    return this.host.config;
  }

  get log(): Logger {
    return this.host.log;
  }

  now(): number {
    return Date.now();
  }

  allocateProducerId(): Promise<bigint> {
    return this.host.producerIds.allocate();
  }

  /** The finalized transaction.version (0 when not finalized). */
  transactionVersion(): number {
    return featureLevel(this.host.metadata.finalizedFeatures(), TRANSACTION_VERSION);
  }

  // --- start and stop ---

  /**
   * Replays the `__transaction_state` partitions led here (at start-up, before serving); transactions found
   * half-completed are completed (their markers sent again).
   */
  async load(): Promise<void> {
    const started = this.now();
    const partitions = new Set<number>();
    for (let p = 0; p < this.topic.partitions; p++) if (this.leads(p)) partitions.add(p);
    const { records, completing } = await this.loadPartitions(partitions);
    if (records > 0)
      this.log.info(
        `loaded ${this.transactions.size} transactional ids from ${records} records in ${this.now() - started} ms; completing ${completing} transactions`,
      );
  }

  private leads(partition: number): boolean {
    const leadership = this.host.leadership;
    return leadership === undefined || leadership.role(TRANSACTION_STATE_TOPIC, partition) === "leader";
  }

  private async loadPartitions(partitions: ReadonlySet<number>): Promise<{ records: number; completing: number }> {
    const loadedIds: string[] = [];
    const records = await this.topic.load((id, metadata) => {
      loadedIds.push(id);
      if (metadata === null) this.transactions.delete(id);
      else this.transactions.set(id, metadata);
    }, partitions);
    let completing = 0;
    for (const id of new Set(loadedIds)) {
      const txn = this.transactions.get(id);
      if (txn === undefined || (txn.state !== TxnState.PREPARE_COMMIT && txn.state !== TxnState.PREPARE_ABORT))
        continue;
      this.completeTransaction(txn);
      completing++;
    }
    for (const p of partitions) this.loaded.add(p);
    return { records, completing };
  }

  /**
   * Whether this broker coordinates `transactionalId`: NONE, NOT_COORDINATOR when its partition is led
   * elsewhere, COORDINATOR_LOAD_IN_PROGRESS while it loads. Before the topic exists any broker takes it.
   */
  coordinatorError(transactionalId: string): number {
    if (this.host.leadership === undefined || this.host.metadata.topic(TRANSACTION_STATE_TOPIC) === undefined)
      return ErrorCode.NONE;
    const p = this.topic.partitionFor(transactionalId);
    if (!this.leads(p)) return ErrorCode.NOT_COORDINATOR;
    return this.loading.has(p) ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
  }

  /** A `__transaction_state` partition's leadership changed: load its transactional ids, or drop them. */
  private onRoleChange(c: RoleChange): void {
    if (c.topic !== TRANSACTION_STATE_TOPIC) return;
    const p = c.partition;
    if (c.role === "leader" && !this.loaded.has(p) && !this.loading.has(p)) {
      const loading = this.loadPartitions(new Set([p]))
        .then(({ records }) => {
          if (records > 0) this.log.info(`loaded ${records} records of ${TRANSACTION_STATE_TOPIC}-${p}`);
        })
        .catch((e: Error) => this.log.error(`loading ${TRANSACTION_STATE_TOPIC}-${p}: ${e.message}`))
        .finally(() => this.loading.delete(p));
      this.loading.set(p, loading);
    } else if (c.role !== "leader" && this.loaded.has(p)) {
      this.loaded.delete(p);
      for (const id of [...this.transactions.keys()])
        if (this.topic.partitionFor(id) === p) this.transactions.delete(id);
      this.log.info(
        `${TRANSACTION_STATE_TOPIC}-${p} is led elsewhere now: its transactional ids are no longer coordinated here`,
      );
    }
  }

  start(): void {
    this.timers.start();
    this.unfollow = this.host.leadership?.onChange((c) => this.onRoleChange(c));
  }

  /** Stops the timers and the retries of markers (what is left is completed after the next start). */
  stop(): void {
    this.unfollow?.();
    this.timers.stop();
    this.completer.stop();
  }

  /** Waits for the marker and state writes under way (before the logs close). */
  flush(): Promise<void> {
    return this.completer.flush();
  }

  /** The timeout abort pass of the timer, for tests. */
  abortTimedOutTransactions(): Promise<number> {
    return this.timers.abortTimedOut();
  }

  /** The expiry pass of the timer, for tests. */
  expireTransactionalIds(): Promise<number> {
    return this.timers.expireIds();
  }

  // --- the shared steps (TxnContext) ---

  async writeTransit(txn: TransactionMetadata, transit: TxnTransit): Promise<number> {
    let error: number;
    try {
      const value =
        transit.state === TxnState.DEAD ? null : encodeValue(transit, this.transactionVersion() >= 1 ? 1 : 0);
      error = await this.topic.append(txn.transactionalId, value);
    } catch (e) {
      this.log.error(`transactional id ${txn.transactionalId}: ${(e as Error).message}`);
      error = ErrorCode.UNKNOWN_SERVER_ERROR;
    }
    if (error === ErrorCode.NONE) {
      txn.complete(transit);
      return ErrorCode.NONE;
    }
    txn.cancel();
    return MAPPED_APPEND_ERRORS.get(error) ?? error;
  }

  completeTransaction(txn: TransactionMetadata): void {
    this.completer.start(txn);
  }

  // --- the APIs ---

  /** FindCoordinator key type 1: the topic is created on first use. */
  ensureStateTopic(): Promise<void> {
    return this.topic.ensureCreated();
  }

  /** WriteTxnMarkers, and any caller that must write markers itself. */
  writeMarkers(marker: TxnMarker, partitions: readonly TopicPartitionRef[]): Promise<MarkerResults> {
    return this.localMarkers.writeMarkers(marker, partitions);
  }

  /**
   * InitProducerId with a transactional id: a new id starts at epoch 0 of a new producer id; a known one
   * gets its epoch bumped (fencing older producers), with KIP-360's `expected` producer id and epoch
   * checked; an ongoing transaction is aborted first (CONCURRENT_TRANSACTIONS: the producer retries).
   */
  async initProducerId(
    transactionalId: string,
    transactionTimeoutMs: number,
    expected: { producerId: bigint; producerEpoch: number } | null,
  ): Promise<InitProducerIdResult> {
    const fail = (errorCode: number): InitProducerIdResult => ({ errorCode, producerId: -1n, producerEpoch: -1 });
    if (transactionalId === "") return fail(ErrorCode.INVALID_REQUEST);
    const notHere = this.coordinatorError(transactionalId);
    if (notHere !== ErrorCode.NONE) return fail(notHere);
    if (transactionTimeoutMs <= 0 || transactionTimeoutMs > this.config.props["transaction.max.timeout.ms"])
      return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let txn = this.transactions.get(transactionalId);
    if (txn === undefined) {
      const producerId = await this.allocateProducerId();
      txn = this.transactions.get(transactionalId);
      if (txn === undefined) {
        txn = TransactionMetadata.create(transactionalId, producerId, transactionTimeoutMs, this.now());
        this.transactions.set(transactionalId, txn);
      }
    }
    const transit = await this.prepareInit(txn, transactionTimeoutMs, expected);
    if (typeof transit === "number") return fail(transit);
    if (transit.state === TxnState.PREPARE_EPOCH_FENCE) {
      const { producerId, producerEpoch } = transit;
      const ended = await endTransaction(
        this,
        transactionalId,
        producerId,
        producerEpoch,
        false,
        false,
        this.transactionVersion(),
      );
      return fail(ended.errorCode === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : ended.errorCode);
    }
    const error = await this.writeTransit(txn, transit);
    if (error !== ErrorCode.NONE) return fail(error);
    this.log.info(
      `transactional id ${transactionalId}: producer id ${transit.producerId}, epoch ${transit.producerEpoch}`,
    );
    return { errorCode: ErrorCode.NONE, producerId: transit.producerId, producerEpoch: transit.producerEpoch };
  }

  /** The transit InitProducerId writes, or an error code. */
  private async prepareInit(
    txn: TransactionMetadata,
    timeoutMs: number,
    expected: { producerId: bigint; producerEpoch: number } | null,
  ): Promise<TxnTransit | number> {
    if (txn.pendingState !== null) return ErrorCode.CONCURRENT_TRANSACTIONS;
    // KIP-360: a producer naming its id and epoch is fenced unless it is this id's current producer, a new
    // id's first, or the previous producer id at its last epoch (a retry of a rotation it did not hear of).
    if (
      expected !== null &&
      txn.producerEpoch !== NO_PRODUCER_EPOCH &&
      expected.producerId !== txn.producerId &&
      !(expected.producerId === txn.prevProducerId && isEpochExhausted(expected.producerEpoch))
    )
      return ErrorCode.PRODUCER_FENCED;
    switch (txn.state) {
      case TxnState.PREPARE_ABORT:
      case TxnState.PREPARE_COMMIT:
        return ErrorCode.CONCURRENT_TRANSACTIONS;
      case TxnState.ONGOING:
        return txn.prepareFenceProducerEpoch();
      case TxnState.EMPTY:
      case TxnState.COMPLETE_ABORT:
      case TxnState.COMPLETE_COMMIT:
        break;
      default:
        return ErrorCode.UNKNOWN_SERVER_ERROR;
    }
    const now = this.now();
    if (txn.isEpochExhausted && (expected === null || expected.producerEpoch === txn.producerEpoch)) {
      const producerId = await this.allocateProducerId();
      if (txn.pendingState !== null || txn.hasPendingTransaction) return ErrorCode.CONCURRENT_TRANSACTIONS;
      return txn.prepareProducerIdRotation(producerId, timeoutMs, now, expected !== null);
    }
    return txn.prepareIncrementProducerEpoch(timeoutMs, expected?.producerEpoch ?? null, now);
  }

  /** The checks before a change of `txn`'s partitions; NONE when it may go on. */
  private addCheck(txn: TransactionMetadata | undefined, producerId: bigint, producerEpoch: number): number {
    if (txn === undefined || txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (txn.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (txn.pendingState !== null) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (txn.state === TxnState.PREPARE_COMMIT || txn.state === TxnState.PREPARE_ABORT)
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    return ErrorCode.NONE;
  }

  /**
   * AddPartitionsToTxn (and AddOffsetsToTxn, and the implicit adds of transactions v2): the partitions
   * join the producer's transaction, which starts if none is ongoing. One error code for all of them.
   */
  async addPartitions(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: readonly TopicPartitionRef[],
    clientTransactionVersion: number,
  ): Promise<number> {
    if (transactionalId === "") return ErrorCode.INVALID_REQUEST;
    const notHere = this.coordinatorError(transactionalId);
    if (notHere !== ErrorCode.NONE) return notHere;
    const txn = this.transactions.get(transactionalId);
    const error = this.addCheck(txn, producerId, producerEpoch);
    if (error !== ErrorCode.NONE) return error;
    if (txn!.state === TxnState.ONGOING && partitions.every((p) => txn!.partitions.has(p))) return ErrorCode.NONE;
    return this.writeTransit(txn!, txn!.prepareAddPartitions(partitions, this.now(), clientTransactionVersion));
  }

  /**
   * AddPartitionsToTxn v4+ with verifyOnly (from a broker about to append a transactional batch): per
   * partition NONE when it is in the ongoing transaction, TRANSACTION_ABORTABLE when it is not.
   */
  verifyPartitions(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: readonly TopicPartitionRef[],
  ): number[] {
    const all = (code: number): number[] => partitions.map(() => code);
    if (transactionalId === "") return all(ErrorCode.INVALID_REQUEST);
    const txn = this.transactions.get(transactionalId);
    if (txn === undefined || txn.producerId !== producerId) return all(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (txn.producerEpoch !== producerEpoch) return all(ErrorCode.PRODUCER_FENCED);
    if (txn.state === TxnState.PREPARE_COMMIT || txn.state === TxnState.PREPARE_ABORT)
      return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    return partitions.map((p) => (txn.partitions.has(p) ? ErrorCode.NONE : ErrorCode.TRANSACTION_ABORTABLE));
  }

  /** AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction. */
  async addOffsets(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    groupId: string,
  ): Promise<number> {
    try {
      await this.host.groups.ensureOffsetsTopic();
    } catch (e) {
      this.log.warn(`AddOffsetsToTxn: ${(e as Error).message}`);
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    const topic = "__consumer_offsets";
    const count = this.host.metadata.topic(topic)?.partitions ?? this.config.props["offsets.topic.num.partitions"];
    const partition = offsetsPartitionFor(groupId, count);
    return this.addPartitions(transactionalId, producerId, producerEpoch, [{ topic, partition }], 0);
  }

  /** EndTxn: v0-4 are transactions v1, v5 transactions v2 (`clientTransactionVersion` 2). */
  endTxn(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    committed: boolean,
    clientTransactionVersion: number,
  ): Promise<EndTxnResult> {
    const notHere = this.coordinatorError(transactionalId);
    if (notHere !== ErrorCode.NONE) return Promise.resolve({ errorCode: notHere, producerId: -1n, producerEpoch: -1 });
    return endTransaction(this, transactionalId, producerId, producerEpoch, committed, true, clientTransactionVersion);
  }

  /**
   * Before a transactional batch (or transactional offsets) is written to `partition`: with
   * transactions v2 (ADD_PARTITION) the partition is added to the transaction, otherwise it is verified
   * to be in it (unless transaction.partition.verification.enable is off). The coordinator's error, translated as Kafka's broker does for the writer: PRODUCER_FENCED is
   * INVALID_PRODUCER_EPOCH, and not added is INVALID_TXN_STATE for DEFAULT_ERROR writers.
   */
  async checkTransactionalWrite(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partition: TopicPartitionRef,
    check: TxnWriteCheck,
  ): Promise<number> {
    let error: number;
    const remote = this.host.interBroker;
    if (remote !== undefined && this.coordinatorError(transactionalId) === ErrorCode.NOT_COORDINATOR) {
      const add = check === TxnWriteCheck.ADD_PARTITION && this.transactionVersion() !== 0;
      if (
        !add &&
        check !== TxnWriteCheck.ADD_PARTITION &&
        !this.config.props["transaction.partition.verification.enable"]
      )
        return ErrorCode.NONE;
      error = await this.checkAt(remote, transactionalId, producerId, producerEpoch, partition, !add);
      if (error === ErrorCode.TRANSACTION_ABORTABLE && check === TxnWriteCheck.ADD_PARTITION && !add)
        return ErrorCode.UNSUPPORTED_VERSION;
    } else if (check === TxnWriteCheck.ADD_PARTITION && this.transactionVersion() === 0) {
      // Kafka 4.4 serves no transactions v2 on a cluster at transaction.version 0: a partition already in
      // the transaction may be written, adding one is UNSUPPORTED_VERSION.
      error = this.verifyPartitions(transactionalId, producerId, producerEpoch, [partition])[0]!;
      if (error === ErrorCode.TRANSACTION_ABORTABLE) return ErrorCode.UNSUPPORTED_VERSION;
    } else if (check === TxnWriteCheck.ADD_PARTITION) {
      error = await this.addPartitions(transactionalId, producerId, producerEpoch, [partition], 2);
    } else if (this.config.props["transaction.partition.verification.enable"]) {
      error = this.verifyPartitions(transactionalId, producerId, producerEpoch, [partition])[0]!;
    } else {
      return ErrorCode.NONE;
    }
    if (error === ErrorCode.PRODUCER_FENCED) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (error === ErrorCode.TRANSACTION_ABORTABLE && check === TxnWriteCheck.DEFAULT_ERROR)
      return ErrorCode.INVALID_TXN_STATE;
    return error;
  }

  /**
   * The check of a transactional write by the coordinator of `transactionalId` on another broker: the
   * partition's error code. A coordinator that cannot answer (moving, unreachable) is NOT_ENOUGH_REPLICAS
   * for the writer, retriable, as Kafka's broker answers.
   */
  private async checkAt(
    remote: Pick<InterBrokerClients, "send">,
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partition: TopicPartitionRef,
    verifyOnly: boolean,
  ): Promise<number> {
    const node = coordinatorNode("transaction", transactionalId, this.host.metadata, this.config);
    try {
      const res = await remote.send(
        node,
        ApiKey.AddPartitionsToTxn,
        5,
        createAddPartitionsToTxnRequest({
          transactions: [
            {
              transactionalId,
              producerId,
              producerEpoch,
              verifyOnly,
              topics: [{ name: partition.topic, partitions: [partition.partition] }],
            },
          ],
        }),
      );
      const error =
        res.errorCode !== ErrorCode.NONE
          ? res.errorCode
          : (res.resultsByTransaction[0]?.topicResults[0]?.resultsByPartition[0]?.partitionErrorCode ??
            ErrorCode.UNKNOWN_SERVER_ERROR);
      return COORDINATOR_MOVING.has(error) ? ErrorCode.NOT_ENOUGH_REPLICAS : error;
    } catch (e) {
      this.log.warn(`transactional id ${transactionalId}: its coordinator (broker ${node}): ${(e as Error).message}`);
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    }
  }

  /** DescribeTransactions, one id. */
  describe(transactionalId: string): DescribeTransactionsResponseTransactionState {
    const state: DescribeTransactionsResponseTransactionState = {
      errorCode: ErrorCode.NONE,
      transactionalId,
      transactionState: "",
      transactionTimeoutMs: 0,
      transactionStartTimeMs: -1n,
      producerId: -1n,
      producerEpoch: -1,
      topics: [],
    };
    const txn = this.transactions.get(transactionalId);
    if (transactionalId === "") return { ...state, errorCode: ErrorCode.INVALID_REQUEST };
    const notHere = this.coordinatorError(transactionalId);
    if (notHere !== ErrorCode.NONE) return { ...state, errorCode: notHere };
    if (txn === undefined || txn.state === TxnState.DEAD)
      return { ...state, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
    return {
      ...state,
      transactionState: TXN_STATE_NAMES[txn.state]!,
      transactionTimeoutMs: txn.txnTimeoutMs,
      transactionStartTimeMs: BigInt(txn.txnStartTimestamp),
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
      topics: txn.partitions.byTopic().map((t) => ({ topic: t.topic, partitions: t.partitions })),
    };
  }

  /** ListTransactions: every id that passes all the filters (Dead ones never). */
  list(
    filters: ListTransactionsFilters,
  ): Pick<ListTransactionsResponse, "errorCode" | "unknownStateFilters" | "transactionStates"> {
    const states = new Set<TxnState>();
    const unknownStateFilters: string[] = [];
    for (const name of filters.stateFilters) {
      const s = txnStateByName(name);
      if (s === undefined) unknownStateFilters.push(name);
      else states.add(s);
    }
    let pattern: RE2JS | null = null;
    if (filters.transactionalIdPattern !== null && filters.transactionalIdPattern !== "") {
      const compiled = compileRe2(filters.transactionalIdPattern);
      if (typeof compiled === "string")
        return { errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION, unknownStateFilters: [], transactionStates: [] };
      pattern = compiled;
    }
    const producerIds = new Set(filters.producerIdFilters);
    const now = BigInt(this.now());
    const transactionStates = [];
    for (const txn of this.transactions.values()) {
      if (txn.state === TxnState.DEAD) continue;
      if (producerIds.size > 0 && !producerIds.has(txn.producerId)) continue;
      if (filters.stateFilters.length > 0 && !states.has(txn.state)) continue;
      if (filters.durationFilter >= 0n && now - BigInt(txn.txnStartTimestamp) <= filters.durationFilter) continue;
      if (pattern !== null && !pattern.matches(txn.transactionalId)) continue;
      transactionStates.push({
        transactionalId: txn.transactionalId,
        producerId: txn.producerId,
        transactionState: TXN_STATE_NAMES[txn.state]!,
      });
    }
    return { errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
  }
}
