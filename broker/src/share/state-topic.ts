import { buildRecordBatch } from "@tskafka/protocol";
import { InternalTopic, type InternalTopicHost, type InternalTopicSpec } from "../cluster/internal-topic.js";
import { ErrorCode } from "../errors.js";
import { javaStringHashCode } from "../group/java-hash.js";
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

/** What the topic uses of the broker. */
export type ShareStateTopicHost = InternalTopicHost;

const STATE_SPEC: InternalTopicSpec = {
  name: SHARE_STATE_TOPIC,
  numPartitions: (props) => props["share.coordinator.state.topic.num.partitions"],
  replicationFactor: (props) => props["share.coordinator.state.topic.replication.factor"],
  configs: () => ({ "cleanup.policy": "delete", "retention.ms": "-1", "segment.bytes": "104857600" }),
};

/**
 * `__share_group_state` on the broker's own logs: the share coordinator's topic. A share-partition's
 * records go to the partition Kafka picks for it (Java hash of "group:topicId:partition"), appended in
 * order one write at a time per partition, each waiting for the partition's ISR (acks=all); loading replays a
 * partition from its start when this broker becomes its leader. As Kafka, the
 * topic has cleanup.policy=delete and is pruned: once every share-partition of a partition has written a
 * snapshot, the records below the oldest of those snapshots are obsolete and deleted (DeleteRecords).
 */
export class ShareStateTopic {
  private readonly topic: InternalTopic;
  private readonly queues = new Map<number, Promise<unknown>>();
  /** By partition: the offset of each live share-partition's latest snapshot. */
  private readonly snapshots = new Map<number, Map<string, bigint>>();

  constructor(private readonly host: ShareStateTopicHost) {
    this.topic = new InternalTopic(host, STATE_SPEC);
  }

  get partitions(): number {
    return this.topic.partitions;
  }

  partitionFor(k: ShareStateKey): number {
    const h = javaStringHashCode(`${k.groupId}:${k.topicId}:${k.partition}`);
    return (h === -2147483648 ? 0 : Math.abs(h)) % this.partitions;
  }

  /** Creates the topic on first use, as Kafka does when a share coordinator is first looked up. */
  ensureCreated(): Promise<void> {
    return this.topic.ensureCreated();
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
      const { log, result, committed } = await this.topic.append(partition, () => buildRecordBatch(records()));
      if (result.errorCode !== ErrorCode.NONE) {
        this.host.log.warn(
          `writing share state to ${SHARE_STATE_TOPIC}-${partition} failed: error ${result.errorCode}`,
        );
        return result.errorCode;
      }
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
    let count = 0;
    await this.topic.replay(
      LOAD_READ_BYTES,
      (_, batch) => {
        for (const r of batch.records) {
          if (r.key === null) continue;
          const decoded = decodeStateRecord(r.key, r.value);
          if (decoded === undefined) continue;
          if (decoded.kind === "snapshot") this.snapshotAt(p, decoded, batch.baseOffset + BigInt(r.offsetDelta));
          else if (decoded.kind === "delete") this.snapshots.get(p)?.delete(snapshotKey(decoded));
          visit(decoded);
          count++;
        }
      },
      new Set([p]),
    );
    return count;
  }
}
