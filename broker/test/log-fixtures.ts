import assert from "node:assert/strict";
import type { RecordBatch } from "@tskafka/protocol";
import type { PartitionLog } from "../src/log/partition-log.js";
import { replayPartition } from "../src/log/replay.js";
import {
  buildRecordBatch,
  decodeRecordBatches,
  LOG_OVERHEAD,
  type BuildBatchOptions,
  type SimpleRecord,
} from "@tskafka/protocol";

/** Record batches for the log tests, built and read with the protocol package's record codec. */

/** The timestamp of records that give none: fixed, so that every run writes the same bytes. */
export const TEST_TIMESTAMP = 1_700_000_000_000n;

/** One v2 batch with base offset 0, ready to be appended; records without a timestamp get TEST_TIMESTAMP. */
export function encodeBatch(records: readonly SimpleRecord[], options: BuildBatchOptions = {}): Buffer {
  return buildRecordBatch(records, { timestamp: TEST_TIMESTAMP, ...options });
}

/** A batch of `count` records keyed `k${i}` with values `${prefix}-${i}` and `pad` bytes of padding each. */
export function batchOf(count: number, prefix = "v", pad = 0, options: BuildBatchOptions = {}): Buffer {
  const records: SimpleRecord[] = [];
  for (let i = 0; i < count; i++) records.push({ key: `k${i}`, value: `${prefix}-${i}${"x".repeat(pad)}` });
  return encodeBatch(records, options);
}

export interface StoredBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
  attributes: number;
  size: number;
}

/**
 * The batches of a fetched byte range, which must hold whole batches with valid CRCs and records
 * (the protocol package's decoder checks both).
 */
export function batchesIn(buf: Buffer): StoredBatch[] {
  return decodeRecordBatches(buf).map((b) => ({
    baseOffset: b.baseOffset,
    lastOffset: b.baseOffset + BigInt(b.lastOffsetDelta),
    maxTimestamp: b.maxTimestamp,
    attributes: b.attributes,
    size: b.batchLength + LOG_OVERHEAD,
  }));
}

/** Every stored batch of `log` from its log start on (read_uncommitted), through the coordinators' replay. */
export async function allBatches(log: PartitionLog): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  await replayPartition(log, 1 << 20, (batch) => out.push(batch));
  const last = out.at(-1);
  const end = last === undefined ? log.logStartOffset : last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
  assert.equal(end, log.logEndOffset, `the replay stopped at ${end}, before the log end`);
  return out;
}
