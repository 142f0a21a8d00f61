import { ErrorCode } from "../errors.js";
import type { EndTxnResult, TxnContext } from "./context.js";
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, TxnState, type TransactionMetadata, type TxnTransit } from "./state.js";

/**
 * Ending a transaction, as EndTxn asks or as the coordinator itself aborts one (a timeout, or
 * InitProducerId fencing an ongoing transaction): PrepareCommit or PrepareAbort is written to
 * `__transaction_state`, the answer goes back, then the markers are written and the Complete state
 * after them (completion.ts). Two generations:
 * - transactions v1 (EndTxn v0-4): the epoch stays; a retry of a finished end is recognised by its state;
 * - transactions v2 (EndTxn v5, KIP-890): every end bumps the epoch (the answer carries it), so a retry is
 *   recognised by its epoch being the previous one, and an abort is accepted when nothing is ongoing.
 * A coordinator abort first prepares an epoch fence (`prepareFenceProducerEpoch`) and passes the fenced
 * epoch here, `fromClient` false.
 */

type PreAppend =
  | { readonly errorCode: number; readonly producerId?: bigint; readonly producerEpoch?: number }
  | { readonly transit: TxnTransit; readonly isEpochFence: boolean };

const NO_IDS = { producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH };

export async function endTransaction(
  ctx: TxnContext,
  transactionalId: string,
  producerId: bigint,
  producerEpoch: number,
  commit: boolean,
  fromClient: boolean,
  clientTransactionVersion: number,
): Promise<EndTxnResult> {
  if (transactionalId === "") return { errorCode: ErrorCode.INVALID_REQUEST, ...NO_IDS };
  const txn = ctx.transactions.get(transactionalId);
  if (txn === undefined) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING, ...NO_IDS };
  const v2 = clientTransactionVersion >= 2;
  const pre = v2
    ? await preAppendV2(ctx, txn, producerId, producerEpoch, commit, fromClient, clientTransactionVersion)
    : preAppendV1(ctx, txn, producerId, producerEpoch, commit, fromClient);
  if ("errorCode" in pre) {
    // A fence that cannot go on is dropped, so that the id is not left pending.
    if (txn.pendingState === TxnState.PREPARE_EPOCH_FENCE) txn.cancel();
    const ids = v2 && pre.producerId !== undefined ? pre : NO_IDS;
    return { errorCode: pre.errorCode, producerId: ids.producerId!, producerEpoch: ids.producerEpoch! };
  }
  const error = await ctx.writeTransit(txn, pre.transit);
  if (error !== ErrorCode.NONE) {
    // The bumped epoch may not be written: a later fence must not bump again (it was never handed out).
    if (pre.isEpochFence) txn.hasFailedEpochFence = true;
    return { errorCode: error, ...NO_IDS };
  }
  ctx.completeTransaction(txn);
  if (!v2) return { errorCode: ErrorCode.NONE, ...NO_IDS };
  // Past the last epoch the producer goes on with the next producer id, at epoch 0.
  const rotated = pre.transit.nextProducerId !== NO_PRODUCER_ID;
  return {
    errorCode: ErrorCode.NONE,
    producerId: rotated ? pre.transit.nextProducerId : pre.transit.producerId,
    producerEpoch: rotated ? 0 : pre.transit.producerEpoch,
  };
}

/** What a state that is not Ongoing answers an end of transactions v1: NONE for a retry of what happened. */
function settledV1(state: TxnState, commit: boolean): number {
  switch (state) {
    case TxnState.COMPLETE_COMMIT:
      return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
    case TxnState.COMPLETE_ABORT:
      return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
    case TxnState.PREPARE_COMMIT:
      return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
    case TxnState.PREPARE_ABORT:
      return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
    case TxnState.EMPTY:
      return ErrorCode.INVALID_TXN_STATE;
    default:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}

function preAppendV1(
  ctx: TxnContext,
  txn: TransactionMetadata,
  producerId: bigint,
  producerEpoch: number,
  commit: boolean,
  fromClient: boolean,
): PreAppend {
  if (txn.producerId !== producerId) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
  // A client's epoch must be the current one; the coordinator's own abort carries the fenced (higher) one.
  if ((fromClient && producerEpoch !== txn.producerEpoch) || producerEpoch < txn.producerEpoch)
    return { errorCode: ErrorCode.PRODUCER_FENCED };
  const fencing = txn.pendingState === TxnState.PREPARE_EPOCH_FENCE;
  if (txn.pendingState !== null && !fencing) return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
  if (txn.state !== TxnState.ONGOING) return { errorCode: settledV1(txn.state, commit) };
  const next = commit ? TxnState.PREPARE_COMMIT : TxnState.PREPARE_ABORT;
  const isEpochFence = !commit && fencing;
  if (isEpochFence) takeFencedEpoch(txn, producerEpoch);
  return { transit: txn.prepareAbortOrCommit(next, 0, NO_PRODUCER_ID, ctx.now(), false), isEpochFence };
}

/** The fence's bumped epoch becomes the metadata's before the abort is prepared from it. */
function takeFencedEpoch(txn: TransactionMetadata, producerEpoch: number): void {
  txn.cancel();
  txn.producerEpoch = producerEpoch;
  txn.lastProducerEpoch = NO_PRODUCER_EPOCH;
}

/**
 * Transactions v2 on Empty, CompleteCommit and CompleteAbort, by whether the request is a retry (its epoch
 * the one before the current) or current (KIP-890):
 *
 *                   abort retry | abort current | commit retry | commit current
 *   Empty           FENCED      | bump, abort   | FENCED       | INVALID_TXN_STATE
 *   CompleteAbort   NONE        | bump, abort   | INVALID      | INVALID_TXN_STATE
 *   CompleteCommit  INVALID     | bump, abort   | NONE         | INVALID_TXN_STATE
 */
async function preAppendV2(
  ctx: TxnContext,
  txn: TransactionMetadata,
  producerId: bigint,
  producerEpoch: number,
  commit: boolean,
  fromClient: boolean,
  clientTransactionVersion: number,
): Promise<PreAppend> {
  const current = { producerId: txn.producerId, producerEpoch: txn.producerEpoch };
  const isEpochFence = txn.pendingState === TxnState.PREPARE_EPOCH_FENCE;
  // A retry of an end that moved to the next producer id (the old id at its last epoch).
  const retryOnOverflow =
    !isEpochFence && txn.prevProducerId === producerId && producerEpoch === 32766 && txn.producerEpoch === 0;
  const retryOnEpochBump = !isEpochFence && txn.producerEpoch === producerEpoch + 1;
  const isRetry = retryOnEpochBump || retryOnOverflow;
  if (txn.producerId !== producerId && !retryOnOverflow) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
  if (!validEpochV2(txn, producerEpoch, fromClient, isEpochFence, isRetry))
    return { errorCode: ErrorCode.PRODUCER_FENCED };
  if (txn.pendingState !== null && !isEpochFence) return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
  const end = async (state: TxnState, noPartitionAdded: boolean): Promise<PreAppend> => {
    const nextProducerId = !isEpochFence && txn.isEpochExhausted ? await ctx.allocateProducerId() : NO_PRODUCER_ID;
    if (txn.pendingState !== null && !isEpochFence) return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    if (state === TxnState.PREPARE_ABORT && isEpochFence) takeFencedEpoch(txn, producerEpoch);
    const now = ctx.now();
    const transit = txn.prepareAbortOrCommit(
      state,
      clientTransactionVersion,
      nextProducerId,
      now,
      noPartitionAdded,
      !isEpochFence,
    );
    return { transit, isEpochFence };
  };
  const invalid = { errorCode: ErrorCode.INVALID_TXN_STATE };
  switch (txn.state) {
    case TxnState.ONGOING:
      return end(commit ? TxnState.PREPARE_COMMIT : TxnState.PREPARE_ABORT, false);
    case TxnState.COMPLETE_COMMIT:
      if (commit) return isRetry ? { errorCode: ErrorCode.NONE, ...current } : invalid;
      return isRetry ? invalid : end(TxnState.PREPARE_ABORT, true);
    case TxnState.COMPLETE_ABORT:
      if (!commit) return isRetry ? { errorCode: ErrorCode.NONE, ...current } : end(TxnState.PREPARE_ABORT, true);
      return invalid;
    case TxnState.PREPARE_COMMIT:
      return commit ? { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS } : invalid;
    case TxnState.PREPARE_ABORT:
      return commit ? invalid : { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    case TxnState.EMPTY:
      return commit ? invalid : end(TxnState.PREPARE_ABORT, true);
    default:
      return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR };
  }
}

/** Whether the epoch of a v2 end is acceptable in the current state (see the table above). */
function validEpochV2(
  txn: TransactionMetadata,
  producerEpoch: number,
  fromClient: boolean,
  isEpochFence: boolean,
  isRetry: boolean,
): boolean {
  if (isEpochFence) return (!fromClient || producerEpoch === txn.producerEpoch) && producerEpoch >= txn.producerEpoch;
  switch (txn.state) {
    case TxnState.PREPARE_COMMIT:
    case TxnState.PREPARE_ABORT:
      return txn.producerEpoch === producerEpoch + 1;
    case TxnState.COMPLETE_COMMIT:
    case TxnState.COMPLETE_ABORT:
      return isRetry || producerEpoch === txn.producerEpoch;
    default:
      return producerEpoch === txn.producerEpoch;
  }
}
