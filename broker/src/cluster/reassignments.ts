import { ErrorCode } from "../errors.js";
import { hasPartition, type ClusterMetadata, type PartitionChange, type PartitionState } from "./metadata.js";
import { isReassigning } from "./partition-state.js";

/**
 * Partition reassignments between brokers (KIP-455), as Kafka's controller makes them: a target replica
 * list is checked (ReplicationControlManager's messages) and written as a "reassign" change of the
 * partition state, a compare-and-swap on its partition epoch like every partition change; the rules of
 * the change (partition-state.ts) add the new replicas, which start fetching as followers, and complete
 * the reassignment in the ISR change that brings the last of them in sync. Any broker answers: the
 * partition epoch orders the writes of all of them.
 */

/** One partition of AlterPartitionReassignments: the target replicas, or null to cancel. */
export interface ReassignmentTarget {
  readonly partition: number;
  readonly replicas: readonly number[] | null;
}

export interface ReassignmentResult {
  readonly partition: number;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** A reassignment in progress, as ListPartitionReassignments lists it. */
export interface OngoingReassignment {
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly adding: readonly number[];
  readonly removing: readonly number[];
}

/** What handlers use. */
export type ReassignmentService = Pick<Reassignments, "alter" | "list">;

/** Writes that lost a race with another change of the partition are tried again from the new state. */
const MAX_TRIES = 5;

/** The answer of a partition written: Kafka's message for a cancellation it refuses. */
function writtenAnswer(topic: string, partition: number, errorCode: number): ReassignmentResult {
  const errorMessage =
    errorCode === ErrorCode.INVALID_REPLICA_ASSIGNMENT
      ? `Unable to revert partition assignment for ${topic}:${partition} because it would require an unclean leader election.`
      : null;
  return { partition, errorCode, errorMessage };
}

/** The replication factor a partition has (the target's, while a reassignment is in progress). */
function replicationFactor(state: PartitionState): number {
  return state.replicas.length - (state.removing?.length ?? 0);
}

export class Reassignments {
  constructor(
    private readonly metadata: ClusterMetadata,
    /** Whether a node is a registered broker, one a replica may be assigned to. */
    private readonly isBroker: (nodeId: number) => boolean,
  ) {}

  /**
   * AlterPartitionReassignments: each partition's answer, by topic in the order asked. Without
   * `allowReplicationFactorChange` (v1, KIP-860) a target of another size is INVALID_REPLICATION_FACTOR.
   */
  async alter(
    topics: readonly { readonly name: string; readonly partitions: readonly ReassignmentTarget[] }[],
    allowReplicationFactorChange: boolean,
  ): Promise<ReassignmentResult[][]> {
    const answers = topics.map((t) => t.partitions.map((p) => this.precheck(t.name, p, allowReplicationFactorChange)));
    for (let tries = 1; ; tries++) {
      // The partitions still to write, from the state they are at now.
      const pending: { t: number; i: number; change: PartitionChange }[] = [];
      topics.forEach((t, ti) =>
        t.partitions.forEach((p, i) => {
          const state = this.metadata.partitionStates(t.name)?.[p.partition];
          if (answers[ti]![i] !== undefined || state === undefined) return;
          const { partitionEpoch } = state;
          pending.push({
            t: ti,
            i,
            change: { kind: "reassign", partition: p.partition, partitionEpoch, target: p.replicas },
          });
        }),
      );
      if (pending.length === 0) break;
      const byTopic = new Map<number, typeof pending>();
      for (const x of pending) byTopic.set(x.t, [...(byTopic.get(x.t) ?? []), x]);
      const batch = [...byTopic].map(([t, xs]) => ({ topic: topics[t]!.name, changes: xs.map((x) => x.change) }));
      const written = await this.metadata.alterPartitions(batch);
      [...byTopic.values()].forEach((xs, j) =>
        xs.forEach((x, k) => {
          const { errorCode } = written[j]![k]!;
          // Changed by another writer since it was read: again, from its new state.
          if (errorCode === ErrorCode.INVALID_UPDATE_VERSION && tries < MAX_TRIES) return;
          answers[x.t]![x.i] = writtenAnswer(topics[x.t]!.name, x.change.partition, errorCode);
        }),
      );
    }
    return answers.map((ps, t) =>
      ps.map(
        (a, i) =>
          a ??
          writtenAnswer(topics[t]!.name, topics[t]!.partitions[i]!.partition, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
      ),
    );
  }

  /** The checks before the write, Kafka's order and messages; undefined when the partition may be changed. */
  private precheck(topic: string, p: ReassignmentTarget, allowRfChange: boolean): ReassignmentResult | undefined {
    const partition = p.partition;
    const fail = (errorCode: number, errorMessage: string): ReassignmentResult => ({
      partition,
      errorCode,
      errorMessage,
    });
    const info = this.metadata.topic(topic);
    if (info === undefined) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find a topic named ${topic}.`);
    const state = this.metadata.partitionStates(topic)?.[partition];
    if (!hasPartition(info, partition) || state === undefined)
      return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find partition ${topic}:${partition}.`);
    if (p.replicas === null) return undefined;
    const invalid = validateAssignment(p.replicas, this.isBroker);
    if (invalid !== undefined) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, invalid);
    if (!allowRfChange && replicationFactor(state) !== p.replicas.length)
      return fail(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `The replication factor is changed from ${replicationFactor(state)} to ${p.replicas.length}`,
      );
    return undefined;
  }

  /**
   * ListPartitionReassignments: the partitions with a reassignment in progress, of every topic (null) or
   * of the partitions named; topics without one are left out.
   */
  list(
    topics: readonly { readonly name: string; readonly partitions: readonly number[] }[] | null,
  ): { readonly name: string; readonly partitions: OngoingReassignment[] }[] {
    const asked =
      topics ??
      this.metadata
        .topics()
        .map((t) => ({ name: t.name, partitions: Array.from({ length: t.partitions }, (_, p) => p) }));
    const out: { name: string; partitions: OngoingReassignment[] }[] = [];
    for (const t of asked) {
      const states = this.metadata.partitionStates(t.name);
      const partitions: OngoingReassignment[] = [];
      for (const p of t.partitions) {
        const s = states?.[p];
        if (s === undefined || !isReassigning(s)) continue;
        partitions.push({ partition: p, replicas: s.replicas, adding: s.adding ?? [], removing: s.removing ?? [] });
      }
      if (partitions.length > 0) out.push({ name: t.name, partitions });
    }
    return out;
  }
}

/**
 * Kafka's check of a manual assignment: not empty, every replica a registered broker, none twice (the
 * lowest id first); Kafka's message, or undefined when it is valid.
 */
export function validateAssignment(
  replicas: readonly number[],
  isBroker: (nodeId: number) => boolean,
): string | undefined {
  const prefix = "The manual partition assignment includes";
  if (replicas.length === 0) return `${prefix} an empty replica list.`;
  const sorted = [...replicas].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    const id = sorted[i]!;
    if (!isBroker(id)) return `${prefix} broker ${id}, but no such broker is registered.`;
    if (i > 0 && sorted[i - 1] === id) return `${prefix} the broker ${id} more than once.`;
  }
  return undefined;
}
