import { buildRecordBatch, decodeRecordBatches, isControlBatch } from "@tskafka/protocol";
import type { Broker } from "../broker.js";
import { ErrorCode } from "../errors.js";
import { offsetsPartitionFor } from "./java-hash.js";
import { decodeRecord, type CoordinatorRecord, type DecodedRecord } from "./records.js";

export const OFFSETS_TOPIC = "__consumer_offsets";
/** How much of a partition is read per step while loading. */
const LOAD_READ_BYTES = 1024 * 1024;

/**
 * The internal compacted topic that holds committed offsets and group metadata, on the broker's own
 * log store. Writes for one group go to the group's partition as one batch; loading replays every
 * partition from its start.
 */
export class OffsetsTopic {
  private creating: Promise<void> | undefined;

  constructor(private readonly broker: Broker) {}

  get partitions(): number {
    return this.broker.topics.get(OFFSETS_TOPIC)?.partitions ?? this.broker.config.props["offsets.topic.num.partitions"];
  }

  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.partitions);
  }

  /** Creates the topic on first use, as Kafka does when a coordinator is first looked up. */
  ensureCreated(): Promise<void> {
    if (this.broker.topics.get(OFFSETS_TOPIC) !== undefined) return Promise.resolve();
    this.creating ??= this.broker
      .createTopic(OFFSETS_TOPIC, this.broker.config.props["offsets.topic.num.partitions"], {
        "cleanup.policy": "compact",
        "compression.type": "producer",
        "segment.bytes": "104857600",
      })
      .then((r) => {
        if (typeof r === "number" && r !== ErrorCode.TOPIC_ALREADY_EXISTS) throw new Error(`cannot create ${OFFSETS_TOPIC}: error ${r}`);
      })
      .finally(() => (this.creating = undefined));
    return this.creating;
  }

  /** Appends records of one group; returns an error code (NONE on success). */
  async append(groupId: string, records: readonly CoordinatorRecord[]): Promise<number> {
    if (records.length === 0) return ErrorCode.NONE;
    await this.ensureCreated();
    const partition = this.partitionFor(groupId);
    const log = await this.broker.logs.getOrCreate(OFFSETS_TOPIC, partition);
    const result = await log.append(buildRecordBatch(records));
    if (result.errorCode !== ErrorCode.NONE) {
      this.broker.log.warn(`group ${groupId}: writing to ${OFFSETS_TOPIC}-${partition} failed with error ${result.errorCode}`);
      return result.errorCode === ErrorCode.MESSAGE_TOO_LARGE || result.errorCode === ErrorCode.RECORD_LIST_TOO_LARGE
        ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE
        : ErrorCode.UNKNOWN_SERVER_ERROR;
    }
    this.broker.fetchWaiters.notify(OFFSETS_TOPIC, partition);
    return ErrorCode.NONE;
  }

  /** Replays every partition from its log start, calling `apply` for each record in log order. */
  async load(apply: (record: DecodedRecord) => void): Promise<number> {
    const info = this.broker.topics.get(OFFSETS_TOPIC);
    if (info === undefined) return 0;
    let count = 0;
    for (let p = 0; p < info.partitions; p++) {
      const log = this.broker.logs.get(OFFSETS_TOPIC, p);
      if (log === undefined) continue;
      let offset = log.logStartOffset;
      while (offset < log.logEndOffset) {
        const read = await log.read(offset, LOAD_READ_BYTES, { minOneBatch: true });
        if (read.errorCode !== ErrorCode.NONE || read.records.length === 0) break;
        for (const batch of decodeRecordBatches(read.records)) {
          offset = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
          if (isControlBatch(batch)) continue;
          for (const r of batch.records) {
            if (r.key === null) continue;
            const decoded = decodeRecord(r.key, r.value);
            if (decoded === undefined) continue;
            apply(decoded);
            count++;
          }
        }
      }
    }
    return count;
  }
}
