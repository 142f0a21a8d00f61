import { ErrorCode } from "../errors.js";
import { StorageOfflineError, type LogManager } from "../log/log-manager.js";
import type { PartitionLog } from "../log/partition-log.js";
import { hasPartition, type ClusterMetadata, type TopicInfo } from "./metadata.js";

/** This node leads every partition, at leader epoch 0 (there is no other replica to take over). */
export const LEADER_EPOCH = 0;

/** One partition's replica in a log directory, as DescribeLogDirs lists it. */
export interface ReplicaInDir {
  readonly topic: string;
  readonly partition: number;
  readonly size: number;
  /** Current replica: 0 (the high watermark is its log end); future replica: how far its copy is behind. */
  readonly offsetLag: bigint;
  /** A copy in progress of a partition moving to this directory (AlterReplicaLogDirs). */
  readonly isFuture: boolean;
}

/** A log directory as DescribeLogDirs reports it. */
export interface LogDirReport {
  /** Absolute path, as configured. */
  readonly dir: string;
  /** Null while online; the storage error that took it offline otherwise. */
  readonly error: Error | null;
  readonly replicas: readonly ReplicaInDir[];
}

/** Longest name of a partition directory (Kafka's limit of a file name, KAFKA-4893). */
const MAX_DIR_NAME = 255;

/**
 * The partition logs of this node as handlers find them: only partitions of a known topic, within its
 * partition count, and a Kafka error code otherwise.
 */
export class PartitionLogs {
  constructor(
    private readonly metadata: ClusterMetadata,
    private readonly logs: LogManager,
  ) {}

  /** Every log directory (configuration order) with its state and the replicas in it, futures included. */
  logDirs(): LogDirReport[] {
    const byDir = new Map<string, ReplicaInDir[]>(this.logs.dirs.map((d) => [d, []]));
    for (const { topic, partition, log } of this.logs.entries()) {
      byDir.get(this.logs.dirOf(log))?.push({ topic, partition, size: log.size, offsetLag: 0n, isFuture: false });
      const move = this.logs.moveOf(topic, partition);
      if (move === undefined) continue;
      const lag = log.logEndOffset - move.copiedEndOffset;
      byDir.get(move.destination)?.push({ topic, partition, size: move.size, offsetLag: lag, isFuture: true });
    }
    return this.logs.dirStates().map((s) => ({ ...s, replicas: byDir.get(s.dir) ?? [] }));
  }

  /**
   * AlterReplicaLogDirs for one partition: starts moving its log to log directory `dir` (an absolute
   * path of log.dirs), as Kafka's ReplicaManager checks it: LOG_DIR_NOT_FOUND for another path,
   * KAFKA_STORAGE_ERROR while `dir` or any directory is offline, UNKNOWN_TOPIC_OR_PARTITION for a
   * partition that does not exist, INVALID_TOPIC_EXCEPTION when the future directory's name would be too long.
   */
  async alterLogDir(topic: string, partition: number, dir: string): Promise<number> {
    // The future directory's name: `<topic>-<partition>.<32 hex>-future`.
    if (`${topic}-${partition}`.length + 40 > MAX_DIR_NAME) return ErrorCode.INVALID_TOPIC_EXCEPTION;
    if (!this.logs.dirs.includes(dir)) return ErrorCode.LOG_DIR_NOT_FOUND;
    if (this.logs.dirError(dir) !== null) return ErrorCode.KAFKA_STORAGE_ERROR;
    const log = this.partitionLog(topic, partition);
    if (typeof log === "number") return log;
    if (this.logs.dirError(this.logs.dirOf(log)) !== null) return ErrorCode.KAFKA_STORAGE_ERROR;
    try {
      await this.logs.moveLog(topic, partition, dir);
      return ErrorCode.NONE;
    } catch (err) {
      return err instanceof StorageOfflineError ? ErrorCode.KAFKA_STORAGE_ERROR : ErrorCode.UNKNOWN_SERVER_ERROR;
    }
  }

  /**
   * The log of `topic`-`partition`; UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist and
   * NOT_LEADER_OR_FOLLOWER for one with no replica here, as Kafka's ReplicaManager answers (a client
   * then refreshes its metadata and goes to the leader).
   */
  partitionLog(topic: string, partition: number): PartitionLog | number {
    return this.logOf(this.metadata.topic(topic), partition);
  }

  /** The same for a topic already looked up (by name or by id), so that a hot path looks it up once. */
  logOf(topic: TopicInfo | undefined, partition: number): PartitionLog | number {
    if (!hasPartition(topic, partition)) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return this.logs.get(topic.name, partition) ?? ErrorCode.NOT_LEADER_OR_FOLLOWER;
  }
}
