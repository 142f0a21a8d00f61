import { BatchAttributes, BatchOffsets, BATCH_HEADER_SIZE } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { TxnWriteCheck, type TransactionService } from "./coordinator.js";

/**
 * The writers' side of transactions: before a transactional batch (Produce) or transactional offsets
 * (TxnOffsetCommit) are written to a partition, the partition must be in the producer's transaction.
 * Kafka decides by the request version (AddPartitionsToTxnManager): Produce v12+ and TxnOffsetCommit v5+
 * add the partition (transactions v2); Produce v11 and TxnOffsetCommit
 * v4 are told TRANSACTION_ABORTABLE when it is not in, older ones INVALID_TXN_STATE. A busy transaction
 * is asked again for a moment; what stays "not now" becomes an error each writer's clients retry.
 */

const NOT_NOW: ReadonlySet<number> = new Set([
  ErrorCode.CONCURRENT_TRANSACTIONS,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
]);

/** Kafka's add.partitions.to.txn.retry.backoff.ms and .max.ms: a busy transaction is asked again briefly. */
const RETRY_BACKOFF_MS = 20;
const RETRY_MAX_MS = 100;

/** How Produce `version` may treat a partition missing from the transaction. */
export function produceWriteCheck(version: number): TxnWriteCheck {
  if (version > 11) return TxnWriteCheck.ADD_PARTITION;
  return version > 10 ? TxnWriteCheck.GENERIC_ERROR_SUPPORTED : TxnWriteCheck.DEFAULT_ERROR;
}

/** How TxnOffsetCommit `version` may treat its `__consumer_offsets` partition missing from the transaction. */
export function txnOffsetCommitWriteCheck(version: number): TxnWriteCheck {
  if (version > 4) return TxnWriteCheck.ADD_PARTITION;
  return version > 3 ? TxnWriteCheck.GENERIC_ERROR_SUPPORTED : TxnWriteCheck.DEFAULT_ERROR;
}

/** The coordinator's check, asked again while the transaction is busy (for at most RETRY_MAX_MS). */
async function checkWithRetry(
  transactions: Pick<TransactionService, "checkTransactionalWrite">,
  transactionalId: string,
  producerId: bigint,
  producerEpoch: number,
  partition: { topic: string; partition: number },
  check: TxnWriteCheck,
): Promise<number> {
  for (let waited = 0; ; waited += RETRY_BACKOFF_MS) {
    const errorCode = await transactions.checkTransactionalWrite(
      transactionalId,
      producerId,
      producerEpoch,
      partition,
      check,
    );
    if (errorCode !== ErrorCode.CONCURRENT_TRANSACTIONS || waited >= RETRY_MAX_MS) return errorCode;
    await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS));
  }
}

/** Whether the first batch (Produce v3+ sends one per partition) is a transactional RecordBatch. */
export function isTransactionalBatch(batches: Buffer): boolean {
  if (batches.length < BATCH_HEADER_SIZE || batches[BatchOffsets.magic] !== 2) return false;
  return (batches.readInt16BE(BatchOffsets.attributes) & BatchAttributes.transactional) !== 0;
}

/**
 * Produce: null when a transactional batch may be appended; else the partition's error code and
 * message. One without the request's transactional id is TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as
 * Kafka answers it; "not now" is NOT_ENOUGH_REPLICAS, which every producer retries without refreshing
 * metadata (Kafka's choice too).
 */
export async function checkTransactionalBatch(
  transactions: Pick<TransactionService, "checkTransactionalWrite">,
  transactionalId: string | null,
  produceVersion: number,
  topic: string,
  partition: number,
  batches: Buffer,
): Promise<{ errorCode: number; errorMessage: string | null } | null> {
  if (!isTransactionalBatch(batches)) return null;
  if (transactionalId === null)
    return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, errorMessage: null };
  const producerId = batches.readBigInt64BE(BatchOffsets.producerId);
  const producerEpoch = batches.readInt16BE(BatchOffsets.producerEpoch);
  const check = produceWriteCheck(produceVersion);
  const errorCode = await checkWithRetry(
    transactions,
    transactionalId,
    producerId,
    producerEpoch,
    { topic, partition },
    check,
  );
  if (errorCode === ErrorCode.NONE) return null;
  if (errorCode === ErrorCode.INVALID_TXN_STATE)
    return { errorCode, errorMessage: "Partition was not added to the transaction" };
  if (NOT_NOW.has(errorCode))
    return {
      errorCode: ErrorCode.NOT_ENOUGH_REPLICAS,
      errorMessage: `Unable to verify the partition has been added to the transaction. Underlying error: ${errorCode}`,
    };
  return { errorCode, errorMessage: null };
}

/**
 * TxnOffsetCommit (the group coordinator's verify hook): NONE when the offsets may be written to
 * `__consumer_offsets-<offsetsPartition>`; "not now" is COORDINATOR_NOT_AVAILABLE, which the producer
 * retries after looking the group coordinator up again.
 */
export async function checkTxnOffsetCommit(
  transactions: Pick<TransactionService, "checkTransactionalWrite">,
  req: { transactionalId: string; producerId: bigint; producerEpoch: number; apiVersion: number },
  offsetsPartition: number,
): Promise<number> {
  const partition = { topic: "__consumer_offsets", partition: offsetsPartition };
  const check = txnOffsetCommitWriteCheck(req.apiVersion);
  const errorCode = await checkWithRetry(
    transactions,
    req.transactionalId,
    req.producerId,
    req.producerEpoch,
    partition,
    check,
  );
  return NOT_NOW.has(errorCode) ? ErrorCode.COORDINATOR_NOT_AVAILABLE : errorCode;
}
