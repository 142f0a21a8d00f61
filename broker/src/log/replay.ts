import { decodeRecordBatches, type RecordBatch } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import type { PartitionLog } from "./partition-log.js";

/**
 * Reads a partition from its log start to its end, `readBytes` at a time, and hands each stored batch
 * to `visit` in log order: how the coordinators load their internal topics at start-up. A read error
 * ends the replay early (the log reports its storage error itself).
 */
export async function replayPartition(
  log: Pick<PartitionLog, "logStartOffset" | "logEndOffset" | "read">,
  readBytes: number,
  visit: (batch: RecordBatch) => void,
): Promise<void> {
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    // To the log end, not only the high watermark: a coordinator that becomes leader loads all its log
    // holds, as Kafka's loader does (a new leader's high watermark catches up once its followers fetch).
    const read = await log.read(offset, readBytes, { minOneBatch: true, replica: true });
    if (read.errorCode !== ErrorCode.NONE || read.records.length === 0) return;
    for (const batch of decodeRecordBatches(read.records)) {
      offset = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
      visit(batch);
    }
  }
}
