import type { LogConfig } from "./config.js";
import { ErrorCode } from "./errors.js";
import {
  BATCH_HEADER_SIZE,
  BatchAttributes,
  BatchOffsets,
  DecodeError,
  LOG_OVERHEAD,
  decodeRecordBatch,
  verifyBatchCrc,
  writeBatchCrc,
} from "./records.js";

/**
 * Checks of a produce request's records for one partition, and offset assignment in place, in the
 * manner of Kafka's LogValidator for magic 2 batches. No I/O; records are decompressed only for a
 * compacted topic, whose every record needs a key (KIP-467 names each keyless one). A v2 produce
 * carries exactly one batch, which is stored as received except for the header fields patched here.
 */

/** One rejected record of a batch, by its index in the batch (ProduceResponse's RecordErrors). */
export interface RecordError {
  batchIndex: number;
  message: string;
}

/** What the checks learnt of the batch; on error only `errorCode` and `errorMessage` mean anything. */
export interface ValidatedBatch {
  errorCode: number;
  errorMessage: string | null;
  size: number;
  recordCount: number;
  lastOffsetDelta: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  maxTimestamp: bigint;
  transactional: boolean;
  /** Records the batch was rejected for (INVALID_RECORD); empty otherwise. */
  recordErrors: RecordError[];
}

/** Offsets and timestamps given to an appended batch. */
export interface AssignedBatch {
  firstOffset: bigint;
  lastOffset: bigint;
  /** The batch's max timestamp after validation (append time under LogAppendTime). */
  maxTimestamp: bigint;
  /** Base offset of the batch holding `maxTimestamp` (batch-level, as segments track it). */
  offsetOfMaxTimestamp: bigint;
  /** The time stamped on the batch under LogAppendTime, else -1n. */
  logAppendTime: bigint;
}

function failed(errorCode: number, errorMessage: string, recordErrors: RecordError[] = []): ValidatedBatch {
  return {
    recordErrors,
    errorCode,
    errorMessage,
    size: 0,
    recordCount: 0,
    lastOffsetDelta: 0,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    maxTimestamp: -1n,
    transactional: false,
  };
}

/** Timestamps further than this are treated as "no limit" (Kafka's Long.MAX_VALUE default). */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * Kafka's message for a batch with rejected records: their count, then the first three of them.
 */
function recordErrorsMessage(errors: readonly RecordError[]): string {
  const shown = errors.slice(0, 3).map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.message}')`);
  return `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${shown.join(", ")}]`;
}

/** The records of a compacted topic's batch that have no key. */
function keylessRecords(records: Buffer, partition: string): RecordError[] | string {
  let batch;
  try {
    batch = decodeRecordBatch(records, 0, { verifyCrc: false });
  } catch (e) {
    if (e instanceof DecodeError) return e.message;
    throw e;
  }
  const out: RecordError[] = [];
  batch.records.forEach((r, batchIndex) => {
    if (r.key === null)
      out.push({
        batchIndex,
        message: `Compacted topic cannot accept message without key in topic partition ${partition}.`,
      });
  });
  return out;
}

/** Validates the records of one partition (`topic-N`, for messages) of a produce request. */
export function validateRecords(records: Buffer, config: LogConfig, now: number, partition = ""): ValidatedBatch {
  if (records.length === 0)
    return failed(ErrorCode.INVALID_RECORD, "produce request must have at least one record batch");
  if (records.length <= BatchOffsets.magic)
    return failed(ErrorCode.CORRUPT_MESSAGE, "records shorter than a batch header");
  const magic = records.readInt8(BatchOffsets.magic);
  if (magic === 0 || magic === 1) {
    return failed(
      ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      `message format v${magic} must be up-converted before append`,
    );
  }
  if (magic !== 2) return failed(ErrorCode.CORRUPT_MESSAGE, `unknown magic ${magic}`);
  if (records.length < BATCH_HEADER_SIZE)
    return failed(ErrorCode.CORRUPT_MESSAGE, "records shorter than a batch header");
  const size = records.readInt32BE(BatchOffsets.batchLength) + LOG_OVERHEAD;
  if (size < BATCH_HEADER_SIZE) return failed(ErrorCode.CORRUPT_MESSAGE, `batch size ${size} is below the header size`);
  if (size > records.length)
    return failed(ErrorCode.CORRUPT_MESSAGE, `batch size ${size} exceeds the ${records.length} bytes sent`);
  if (size < records.length) return failed(ErrorCode.INVALID_RECORD, "a magic 2 produce must carry exactly one batch");
  if (records.readBigInt64BE(BatchOffsets.baseOffset) !== 0n) {
    return failed(ErrorCode.INVALID_RECORD, "the baseOffset of a produced batch must be 0");
  }
  if (size > config.maxMessageBytes) {
    return failed(
      ErrorCode.MESSAGE_TOO_LARGE,
      `batch of ${size} bytes exceeds max.message.bytes ${config.maxMessageBytes}`,
    );
  }
  if (size > config.segmentBytes) {
    return failed(
      ErrorCode.RECORD_LIST_TOO_LARGE,
      `batch of ${size} bytes exceeds segment.bytes ${config.segmentBytes}`,
    );
  }
  if (!verifyBatchCrc(records)) return failed(ErrorCode.CORRUPT_MESSAGE, "batch CRC mismatch");

  const attributes = records.readInt16BE(BatchOffsets.attributes);
  if ((attributes & BatchAttributes.compressionMask) > 4) {
    return failed(
      ErrorCode.CORRUPT_MESSAGE,
      `unknown compression type ${attributes & BatchAttributes.compressionMask}`,
    );
  }
  if ((attributes & BatchAttributes.control) !== 0) {
    return failed(ErrorCode.INVALID_RECORD, "clients may not write control records");
  }
  const lastOffsetDelta = records.readInt32BE(BatchOffsets.lastOffsetDelta);
  const recordCount = records.readInt32BE(BatchOffsets.recordCount);
  if (recordCount <= 0 || lastOffsetDelta < 0 || lastOffsetDelta + 1 !== recordCount) {
    return failed(
      ErrorCode.INVALID_RECORD,
      `record count ${recordCount} does not match last offset delta ${lastOffsetDelta}`,
    );
  }
  const producerId = records.readBigInt64BE(BatchOffsets.producerId);
  const baseSequence = records.readInt32BE(BatchOffsets.baseSequence);
  if (producerId >= 0n && baseSequence < 0) {
    return failed(ErrorCode.INVALID_RECORD, `invalid sequence number ${baseSequence} for producer ${producerId}`);
  }
  const maxTimestamp = records.readBigInt64BE(BatchOffsets.maxTimestamp);
  if (config.messageTimestampType === "CreateTime") {
    // Batch-level bounds: the first and the largest timestamp (records are not decoded on this path).
    if (
      config.messageTimestampAfterMaxMs < NO_LIMIT &&
      Number(maxTimestamp) > now + config.messageTimestampAfterMaxMs
    ) {
      return failed(ErrorCode.INVALID_TIMESTAMP, `timestamp ${maxTimestamp} is too far in the future`);
    }
    const first = Number(records.readBigInt64BE(BatchOffsets.baseTimestamp));
    if (
      config.messageTimestampBeforeMaxMs < NO_LIMIT &&
      first >= 0 &&
      first < now - config.messageTimestampBeforeMaxMs
    ) {
      return failed(ErrorCode.INVALID_TIMESTAMP, `timestamp ${first} is too far in the past`);
    }
  }
  if (config.cleanupPolicy.includes("compact")) {
    const keyless = keylessRecords(records, partition);
    if (typeof keyless === "string") return failed(ErrorCode.CORRUPT_MESSAGE, keyless);
    if (keyless.length > 0) return failed(ErrorCode.INVALID_RECORD, recordErrorsMessage(keyless), keyless);
  }
  return {
    recordErrors: [],
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    size,
    recordCount,
    lastOffsetDelta,
    producerId,
    producerEpoch: records.readInt16BE(BatchOffsets.producerEpoch),
    baseSequence,
    maxTimestamp,
    transactional: (attributes & BatchAttributes.transactional) !== 0,
  };
}

/**
 * Patches the validated batch in place: base offset, partition leader epoch and, under LogAppendTime,
 * the timestamp type and max timestamp (then the CRC). Base offset and leader epoch are outside the CRC.
 */
export function assignOffsets(
  records: Buffer,
  batch: ValidatedBatch,
  baseOffset: bigint,
  leaderEpoch: number,
  config: LogConfig,
  now: number,
): AssignedBatch {
  records.writeBigInt64BE(baseOffset, BatchOffsets.baseOffset);
  records.writeInt32BE(leaderEpoch, BatchOffsets.partitionLeaderEpoch);
  const lastOffset = baseOffset + BigInt(batch.lastOffsetDelta);
  const attributes = records.readInt16BE(BatchOffsets.attributes);
  if (config.messageTimestampType === "LogAppendTime") {
    const time = BigInt(now);
    records.writeInt16BE(attributes | BatchAttributes.timestampTypeLogAppend, BatchOffsets.attributes);
    records.writeBigInt64BE(time, BatchOffsets.maxTimestamp);
    writeBatchCrc(records);
    return {
      firstOffset: baseOffset,
      lastOffset,
      maxTimestamp: time,
      offsetOfMaxTimestamp: baseOffset,
      logAppendTime: time,
    };
  }
  if ((attributes & BatchAttributes.timestampTypeLogAppend) !== 0) {
    // A CreateTime topic keeps the producer's timestamps.
    records.writeInt16BE(attributes & ~BatchAttributes.timestampTypeLogAppend, BatchOffsets.attributes);
    writeBatchCrc(records);
  }
  return {
    firstOffset: baseOffset,
    lastOffset,
    maxTimestamp: batch.maxTimestamp,
    offsetOfMaxTimestamp: baseOffset,
    logAppendTime: -1n,
  };
}
