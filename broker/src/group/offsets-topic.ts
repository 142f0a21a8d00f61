import { buildRecordBatch, decodeRecordBatches, isControlBatch } from "@tskafka/protocol";
import type { FetchWaiters } from "../cluster/fetch-waiters.js";
import type { ClusterMetadata } from "../cluster/metadata.js";
import type { TopicAdmin } from "../cluster/topic-admin.js";
import type { BrokerConfig } from "../config.js";
import type { LogManager } from "../log/log-manager.js";
import type { Logger } from "../logger.js";
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
/** What the offsets topic uses of the broker. */
export interface OffsetsTopicHost {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: ClusterMetadata;
  readonly topics: Pick<TopicAdmin, "create">;
  readonly logs: Pick<LogManager, "get" | "getOrCreate">;
  readonly fetchWaiters: Pick<FetchWaiters, "notify">;
}

export class OffsetsTopic {
  private creating: Promise<void> | undefined;

  constructor(private readonly host: OffsetsTopicHost) {}

  get partitions(): number {
    return (
      this.host.metadata.topic(OFFSETS_TOPIC)?.partitions ?? this.host.config.props["offsets.topic.num.partitions"]
    );
  }

  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.partitions);
  }

  /** Creates the topic on first use, as Kafka does when a coordinator is first looked up. */
  ensureCreated(): Promise<void> {
    if (this.host.metadata.topic(OFFSETS_TOPIC) !== undefined) return Promise.resolve();
    this.creating ??= this.host.topics
      .create(OFFSETS_TOPIC, this.host.config.props["offsets.topic.num.partitions"], {
        "cleanup.policy": "compact",
        "compression.type": "producer",
        "segment.bytes": "104857600",
      })
      .then((r) => {
        if (typeof r === "number" && r !== ErrorCode.TOPIC_ALREADY_EXISTS)
          throw new Error(`cannot create ${OFFSETS_TOPIC}: error ${r}`);
      })
      .finally(() => (this.creating = undefined));
    return this.creating;
  }

  /** Appends records of one group; returns an error code (NONE on success). */
  async append(groupId: string, records: readonly CoordinatorRecord[]): Promise<number> {
    if (records.length === 0) return ErrorCode.NONE;
    await this.ensureCreated();
    const partition = this.partitionFor(groupId);
    const log = await this.host.logs.getOrCreate(OFFSETS_TOPIC, partition);
    const result = await log.append(buildRecordBatch(records));
    if (result.errorCode !== ErrorCode.NONE) {
      this.host.log.warn(
        `group ${groupId}: writing to ${OFFSETS_TOPIC}-${partition} failed with error ${result.errorCode}`,
      );
      return result.errorCode === ErrorCode.MESSAGE_TOO_LARGE || result.errorCode === ErrorCode.RECORD_LIST_TOO_LARGE
        ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE
        : ErrorCode.UNKNOWN_SERVER_ERROR;
    }
    this.host.fetchWaiters.notify(OFFSETS_TOPIC, partition);
    return ErrorCode.NONE;
  }

  /** Replays every partition from its log start, calling `apply` for each record in log order. */
  async load(apply: (record: DecodedRecord) => void): Promise<number> {
    const info = this.host.metadata.topic(OFFSETS_TOPIC);
    if (info === undefined) return 0;
    let count = 0;
    for (let p = 0; p < info.partitions; p++) {
      const log = this.host.logs.get(OFFSETS_TOPIC, p);
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
