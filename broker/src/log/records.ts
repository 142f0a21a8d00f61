// The one place the log store imports the record batch format from.
export {
  BATCH_HEADER_SIZE,
  BatchAttributes,
  BatchOffsets,
  CompressionType,
  ControlRecordType,
  DecodeError,
  LOG_OVERHEAD,
  decodeRecordBatch,
  buildControlBatch,
  readBatchHeader,
  readControlRecordKey,
  readEndTxnMarker,
  verifyBatchCrc,
  writeBatchCrc,
} from "@tskafka/protocol";
export type { BatchHeader } from "@tskafka/protocol";
