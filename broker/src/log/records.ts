// The one place the log store imports the record batch format from; switch this path to the package
// import when the protocol package is wired in.
export {
  BATCH_HEADER_SIZE,
  BatchAttributes,
  BatchOffsets,
  CompressionType,
  LOG_OVERHEAD,
  readBatchHeader,
  verifyBatchCrc,
  writeBatchCrc,
} from "@tskafka/protocol";
export type { BatchHeader } from "@tskafka/protocol";
