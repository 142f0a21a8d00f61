import { NO_LEADER, type ClusterMetadata, type PartitionState } from "./metadata.js";

/**
 * This broker's part in each partition, followed from the cluster's partition states. It is the one place
 * that turns cluster state into "lead this partition" / "follow that leader": replication and the
 * coordinators (whose state lives in the partition that owns their key) listen to it and never read the
 * partition states themselves. On a single node every partition is led here.
 */
export type ReplicaRole = "leader" | "follower" | "none";

/** A partition whose state changed, with this broker's role before and after. */
export interface RoleChange {
  readonly topic: string;
  readonly partition: number;
  readonly previous: ReplicaRole;
  readonly role: ReplicaRole;
  /** The partition's new state; undefined when the partition (its topic) is gone. */
  readonly state: PartitionState | undefined;
}

export type RoleListener = (change: RoleChange) => void;

export function roleOf(state: PartitionState | undefined, nodeId: number): ReplicaRole {
  if (state === undefined) return "none";
  if (state.leader === nodeId) return "leader";
  // A replica of a partition without a leader is a follower that has no one to fetch from.
  return state.replicas.includes(nodeId) ? "follower" : "none";
}

/** A state re-read without a change (etcd hands out new objects): the partition epoch grows with every change. */
function sameEpochs(a: PartitionState, b: PartitionState): boolean {
  return a.partitionEpoch === b.partitionEpoch && a.leaderEpoch === b.leaderEpoch;
}

export class Leadership {
  /** The last state seen of each partition, by topic. */
  private readonly seen = new Map<string, readonly PartitionState[]>();
  private readonly listeners = new Set<RoleListener>();
  private unwatch: (() => void)[] = [];

  constructor(
    private readonly metadata: ClusterMetadata,
    readonly nodeId: number,
  ) {}

  /** Follows the metadata from now on, telling the listeners of every partition that exists already. */
  start(): void {
    this.unwatch.push(this.metadata.watch("partitions", (e) => this.apply(e.topic, e.states)));
    this.unwatch.push(this.metadata.watch("topic", (e) => this.apply(e.name, this.metadata.partitionStates(e.name))));
    for (const t of this.metadata.topics()) this.apply(t.name, this.metadata.partitionStates(t.name));
  }

  stop(): void {
    for (const u of this.unwatch) u();
    this.unwatch = [];
  }

  /** Calls `listener` for every later change of a partition's state; the returned function stops it. */
  onChange(listener: RoleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  state(topic: string, partition: number): PartitionState | undefined {
    return this.metadata.partitionStates(topic)?.[partition];
  }

  role(topic: string, partition: number): ReplicaRole {
    return roleOf(this.state(topic, partition), this.nodeId);
  }

  /** The node that leads the partition, NO_LEADER when none does or it does not exist. */
  leader(topic: string, partition: number): number {
    return this.state(topic, partition)?.leader ?? NO_LEADER;
  }

  private apply(topic: string, states: readonly PartitionState[] | undefined): void {
    const before = this.seen.get(topic) ?? [];
    const after = states ?? [];
    if (states === undefined) this.seen.delete(topic);
    else this.seen.set(topic, states);
    const count = Math.max(before.length, after.length);
    for (let partition = 0; partition < count; partition++) {
      const old = before[partition];
      const now = after[partition];
      if (old === now || (old !== undefined && now !== undefined && sameEpochs(old, now))) continue;
      const change = {
        topic,
        partition,
        previous: roleOf(old, this.nodeId),
        role: roleOf(now, this.nodeId),
        state: now,
      };
      for (const l of this.listeners) l(change);
    }
  }
}
