import { ErrorCode } from "../errors.js";
import type { LogManager } from "../log/log-manager.js";
import type { PartitionLog } from "../log/partition-log.js";
import { hasPartition, type ClusterMetadata, type TopicInfo } from "./metadata.js";

/** This node leads every partition, at leader epoch 0 (there is no other replica to take over). */
export const LEADER_EPOCH = 0;

/**
 * KIP-320: a client naming a leader epoch (-1: none) newer than the leader's is UNKNOWN_LEADER_EPOCH, an
 * older one FENCED_LEADER_EPOCH; NONE when it may be served.
 */
export function leaderEpochError(currentLeaderEpoch: number): number {
  if (currentLeaderEpoch > LEADER_EPOCH) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  if (currentLeaderEpoch >= 0 && currentLeaderEpoch < LEADER_EPOCH) return ErrorCode.FENCED_LEADER_EPOCH;
  return ErrorCode.NONE;
}

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
