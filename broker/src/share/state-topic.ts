import { buildRecordBatch } from "@tskafka/protocol";
import type { FetchWaiters } from "../cluster/fetch-waiters.js";
import type { ClusterMetadata } from "../cluster/metadata.js";
import type { TopicAdmin } from "../cluster/topic-admin.js";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import { javaStringHashCode } from "../group/java-hash.js";
import type { LogManager } from "../log/log-manager.js";
import { replayPartition } from "../log/replay.js";
import type { Logger } from "../logger.js";
import {
  decodeStateRecord,
  encodeStateRecord,
  stateTombstones,
  type ShareStateKey,
  type ShareStateRecord,
} from "./state-records.js";

export const SHARE_STATE_TOPIC = "__share_group_state";

const snapshotKey = (k: ShareStateKey): string => `${k.groupId}\u0000${k.topicId}\u0000${k.partition}`;
const LOAD_READ_BYTES = 1024 * 1024;
/** How long a write waits for the partition's ISR (Kafka's share.coordinator.write.timeout.ms default). */
const COMMIT_TIMEOUT_MS = 5000;

export interface ShareStateTopicHost {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: Pick<ClusterMetadata, "topic">;
  readonly topics: Pick<TopicAdmin, "create">;
  readonly logs: Pick<LogManager, "get" | "getOrCreate">;
  readonly fetchWaiters?: Pick<FetchWaiters, "notify">;
  /** acks=all for the coordinator's writes: resolves once the partition's ISR has them (absent: at once). */
  readonly replication?: {
    waitForCommit(topic: string, partition: number, offset: bigint, timeoutMs: number): Promise<number>;
  };
}

/**
 * `__share_group_state` on the broker's own logs: the share coordinator's topic. A share-partition's
 * records go to the partition Kafka picks for it (Java hash of "group:topicId:partition"), appended in
 * order one write at a time per partition, each waiting for the partition's ISR (acks=all); loading replays a
 * partition from its start when this broker becomes its leader. As Kafka, the
 * topic has cleanup.policy=delete and is pruned: once every share-partition of a partition has written a
 * snapshot, the records below the oldest of those snapshots are obsolete and deleted (DeleteRecords).
 */
export class ShareStateTopic {
  private creating: Promise<void> | undefined;
  private readonly queues = new Map<number, Promise<unknown>>();
  /** By partition: the offset of each live share-partition's latest snapshot. */
  private readonly snapshots = new Map<number, Map<string, bigint>>();

  constructor(private readonly host: ShareStateTopicHost) {}

  get partitions(): number {
    return (
      this.host.metadata.topic(SHARE_STATE_TOPIC)?.partitions ??
      this.host.config.props["share.coordinator.state.topic.num.partitions"]
    );
  }

  partitionFor(k: ShareStateKey): number {
    const h = javaStringHashCode(`${k.groupId}:${k.topicId}:${k.partition}`);
    return (h === -2147483648 ? 0 : Math.abs(h)) % this.partitions;
  }

  /** Creates the topic on first use, as Kafka does when a share coordinator is first looked up. */
  ensureCreated(): Promise<void> {
    if (this.host.metadata.topic(SHARE_STATE_TOPIC) !== undefined) return Promise.resolve();
    this.creating ??= this.host.topics
      .create(
        SHARE_STATE_TOPIC,
        this.host.config.props["share.coordinator.state.topic.num.partitions"],
        {
          "cleanup.policy": "delete",
          "retention.ms": "-1",
          "segment.bytes": "104857600",
        },
        { replicationFactor: this.host.config.props["share.coordinator.state.topic.replication.factor"], capped: true },
      )
      .then((r) => {
        if (typeof r === "number" && r !== ErrorCode.TOPIC_ALREADY_EXISTS)
          throw new Error(`cannot create ${SHARE_STATE_TOPIC}: error ${r}`);
      })
      .finally(() => (this.creating = undefined));
    return this.creating;
  }

  /** Appends one share-partition's record after the writes queued before it; resolves to an error code. */
  write(record: ShareStateRecord): Promise<number> {
    return this.append(record, () => [encodeStateRecord(record, Date.now())], record.kind === "snapshot");
  }

  /** Deletes a share-partition's state (its snapshot and update keys). */
  delete(key: ShareStateKey): Promise<number> {
    this.snapshots.get(this.partitionFor(key))?.delete(snapshotKey(key));
    return this.append(key, () => stateTombstones(key), false);
  }

  private append(
    key: ShareStateKey,
    records: () => { key: Buffer; value: Buffer | null }[],
    snapshot: boolean,
  ): Promise<number> {
    const partition = this.partitionFor(key);
    const run = async (): Promise<number> => {
      await this.ensureCreated();
      const log = await this.host.logs.getOrCreate(SHARE_STATE_TOPIC, partition);
      const result = await log.append(buildRecordBatch(records()));
      if (result.errorCode !== ErrorCode.NONE) {
        this.host.log.warn(
          `writing share state to ${SHARE_STATE_TOPIC}-${partition} failed: error ${result.errorCode}`,
        );
        return result.errorCode;
      }
      this.host.fetchWaiters?.notify(SHARE_STATE_TOPIC, partition);
      const committed =
        (await this.host.replication?.waitForCommit(
          SHARE_STATE_TOPIC,
          partition,
          result.lastOffset + 1n,
          COMMIT_TIMEOUT_MS,
        )) ?? ErrorCode.NONE;
      if (committed !== ErrorCode.NONE) {
        this.host.log.warn(`${SHARE_STATE_TOPIC}-${partition}'s ISR did not take a write (error ${committed})`);
        // As Kafka's coordinators: the leadership gone is NOT_COORDINATOR, the ISR not reached in time
        // COORDINATOR_NOT_AVAILABLE; the persister tries again.
        return committed === ErrorCode.NOT_LEADER_OR_FOLLOWER
          ? ErrorCode.NOT_COORDINATOR
          : ErrorCode.COORDINATOR_NOT_AVAILABLE;
      }
      if (snapshot) {
        this.snapshotAt(partition, key, result.baseOffset);
        await this.prune(partition, log);
      }
      return ErrorCode.NONE;
    };
    const next = (this.queues.get(partition) ?? Promise.resolve()).then(run, run);
    this.queues.set(partition, next);
    return next;
  }

  private snapshotAt(partition: number, key: ShareStateKey, offset: bigint): void {
    let byKey = this.snapshots.get(partition);
    if (byKey === undefined) this.snapshots.set(partition, (byKey = new Map()));
    byKey.set(snapshotKey(key), offset);
  }

  /** Deletes the records below the oldest latest snapshot of the partition's share-partitions. */
  private async prune(
    partition: number,
    log: { logStartOffset: bigint; deleteRecordsBefore(o: bigint): Promise<unknown> },
  ) {
    const offsets = [...(this.snapshots.get(partition)?.values() ?? [])];
    if (offsets.length === 0) return;
    const oldest = offsets.reduce((a, b) => (b < a ? b : a));
    if (oldest > log.logStartOffset) await log.deleteRecordsBefore(oldest);
  }

  /** Waits for queued writes. */
  async flush(): Promise<void> {
    await Promise.all([...this.queues.values()].map((p) => p.catch(() => undefined)));
  }

  /** Forgets what it knew of a partition (led elsewhere now). */
  dropPartition(partition: number): void {
    this.snapshots.delete(partition);
  }

  /** Replays one partition's stored records in log order; answers how many there were. */
  async loadPartition(
    p: number,
    visit: (r: ShareStateRecord | (ShareStateKey & { kind: "delete" })) => void,
  ): Promise<number> {
    this.snapshots.delete(p);
    const log = this.host.logs.get(SHARE_STATE_TOPIC, p);
    if (log === undefined) return 0;
    let count = 0;
    await replayPartition(log, LOAD_READ_BYTES, (batch) => {
      for (const r of batch.records) {
        if (r.key === null) continue;
        const decoded = decodeStateRecord(r.key, r.value);
        if (decoded === undefined) continue;
        if (decoded.kind === "snapshot") this.snapshotAt(p, decoded, batch.baseOffset + BigInt(r.offsetDelta));
        else if (decoded.kind === "delete") this.snapshots.get(p)?.delete(snapshotKey(decoded));
        visit(decoded);
        count++;
      }
    });
    return count;
  }
}
