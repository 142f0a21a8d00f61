import type { BrokerConfig } from "../config.js";
import type { Logger } from "../logger.js";
import type { TransactionMetadata, TxnTransit } from "./state.js";

/**
 * What the parts of the transaction coordinator share (coordinator.ts builds it): the transactional ids
 * this coordinator knows, the ordered write of a state change to `__transaction_state`, producer ids, the
 * transaction version in force, and the completion of a transaction by its markers.
 */
export interface TxnContext {
  readonly config: BrokerConfig;
  readonly log: Logger;
  /** Every transactional id loaded or created, by id. */
  readonly transactions: Map<string, TransactionMetadata>;
  /** Milliseconds since the epoch (a seam for tests). */
  now(): number;
  /** A producer id never handed out before. */
  allocateProducerId(): Promise<bigint>;
  /** The finalized transaction.version of the cluster (0 when not finalized). */
  transactionVersion(): number;
  /**
   * Writes a prepared transit of `txn` and, once written, makes it current; on failure the transit is
   * dropped (pending cleared) and a coordinator error code is returned. NONE on success.
   */
  writeTransit(txn: TransactionMetadata, transit: TxnTransit): Promise<number>;
  /** Starts writing the markers of `txn`, now in PrepareCommit or PrepareAbort, then its Complete state. */
  completeTransaction(txn: TransactionMetadata): void;
}

/** The answer of EndTxn (and of an abort the coordinator starts itself). */
export interface EndTxnResult {
  errorCode: number;
  /** From EndTxn v5: the producer id and epoch to go on with (-1 when not given). */
  producerId: bigint;
  producerEpoch: number;
}
