import { ErrorCode } from "../errors.js";
import type { LogManager } from "../log/log-manager.js";
import type { PartitionLog } from "../log/partition-log.js";
import { hasPartition, type ClusterMetadata, type TopicInfo } from "./metadata.js";

/**
 * The partition logs of this node as handlers find them: only partitions of a known topic, within its
 * partition count, and a Kafka error code otherwise.
 */
export class PartitionLogs {
  constructor(
    private readonly metadata: ClusterMetadata,
    private readonly logs: LogManager,
  ) {}

  /** The data directory's storage error while it is offline (DescribeLogDirs), else null. */
  get storageError(): Error | null {
    return this.logs.storageError;
  }

  /** The log of `topic`-`partition`, or UNKNOWN_TOPIC_OR_PARTITION. */
  partitionLog(topic: string, partition: number): PartitionLog | number {
    return this.logOf(this.metadata.topic(topic), partition);
  }

  /** The same for a topic already looked up (by name or by id), so that a hot path looks it up once. */
  logOf(topic: TopicInfo | undefined, partition: number): PartitionLog | number {
    if (!hasPartition(topic, partition)) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return this.logs.get(topic.name, partition) ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  }
}
