import { ErrorCode } from "../errors.js";
import {
  NO_LEADER,
  type ClusterMetadata,
  type PartitionChange,
  type PartitionState,
  type TopicPartitionChanges,
} from "./metadata.js";

/**
 * The controller's leader elections, as Kafka's (PartitionChangeBuilder): pure functions from the
 * partition states to batches of "leader" changes, one entry per topic, so that a broker's failure moves
 * all of its leaderships in a few etcd transactions. A leader is always chosen from the ISR (no unclean
 * election, `unclean.leader.election.enable=false`), in replica order: the first replica of the ISR that
 * can lead. ElectLeaders' election types and per-partition answers are here too.
 */

/** A change of leader (and ISR), the only kind the controller writes. */
export type LeaderChange = Extract<PartitionChange, { kind: "leader" }>;

/** Whether a node may lead or stay in an ISR: registered, and not in controlled shutdown. */
export type Eligible = (nodeId: number) => boolean;

type Read = Pick<ClusterMetadata, "topics" | "partitionStates">;

/** The first replica, in replica order, that is in the ISR and eligible; NO_LEADER when none is. */
export function electFromIsr(state: PartitionState, eligible: Eligible): number {
  return state.replicas.find((r) => state.isr.includes(r) && eligible(r)) ?? NO_LEADER;
}

/** The change of one partition when some of its replicas can no longer lead or stay in sync; undefined if none. */
export function fencingChange(state: PartitionState, partition: number, eligible: Eligible): LeaderChange | undefined {
  const leads = state.leader !== NO_LEADER && eligible(state.leader);
  if (leads && state.isr.every(eligible)) return undefined;
  const live = state.isr.filter(eligible);
  // The last member stays in the ISR of a leaderless partition (Kafka's rule: it is what an election waits for).
  const isr = live.length > 0 ? live : state.isr;
  const leader = leads ? state.leader : electFromIsr(state, eligible);
  if (leader === state.leader && isr.length === state.isr.length) return undefined;
  return { kind: "leader", partition, partitionEpoch: state.partitionEpoch, leader, isr };
}

/**
 * The changes that take every partition away from the brokers that are not eligible (gone, or shutting
 * down): out of each ISR, and a new leader from the ISR where one of them led. One entry per topic.
 */
export function fencingChanges(metadata: Read, eligible: Eligible): TopicPartitionChanges[] {
  const batch: TopicPartitionChanges[] = [];
  for (const t of metadata.topics()) {
    const changes: PartitionChange[] = [];
    (metadata.partitionStates(t.name) ?? []).forEach((s, p) => {
      const c = fencingChange(s, p, eligible);
      if (c !== undefined) changes.push(c);
    });
    if (changes.length > 0) batch.push({ topic: t.name, changes });
  }
  return batch;
}

/** ElectLeaders' types. */
export const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

/** The answer for one partition of an election: an error code, or the change to write. */
export type ElectionOutcome = { readonly errorCode: number; readonly change?: LeaderChange };

/**
 * One partition's election, as Kafka's controller answers ElectLeaders: preferred moves the leadership to
 * the first replica when it is in the ISR and eligible (ELECTION_NOT_NEEDED when it leads already,
 * PREFERRED_LEADER_NOT_AVAILABLE otherwise); unclean elects only a leaderless partition
 * (ELECTION_NOT_NEEDED when it has a leader), from the ISR first, else any eligible replica with an ISR of
 * itself (ELIGIBLE_LEADERS_NOT_AVAILABLE when none is).
 */
export function election(state: PartitionState, partition: number, type: number, eligible: Eligible): ElectionOutcome {
  const change = (leader: number, isr: readonly number[]): ElectionOutcome => ({
    errorCode: ErrorCode.NONE,
    change: { kind: "leader", partition, partitionEpoch: state.partitionEpoch, leader, isr },
  });
  if (type === ElectionType.PREFERRED) {
    const preferred = state.replicas[0] ?? NO_LEADER;
    if (state.leader === preferred) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED };
    if (preferred === NO_LEADER || !state.isr.includes(preferred) || !eligible(preferred))
      return { errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE };
    return change(preferred, state.isr);
  }
  if (state.leader !== NO_LEADER && eligible(state.leader)) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED };
  const clean = electFromIsr(state, eligible);
  if (clean !== NO_LEADER) return change(clean, state.isr.filter(eligible));
  const any = state.replicas.find(eligible);
  return any === undefined ? { errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE } : change(any, [any]);
}

/** Partitions not led by their preferred replica that could be: what the imbalance check moves back. */
export function preferredChanges(metadata: Read, eligible: Eligible): TopicPartitionChanges[] {
  const batch: TopicPartitionChanges[] = [];
  for (const t of metadata.topics()) {
    const changes: PartitionChange[] = [];
    (metadata.partitionStates(t.name) ?? []).forEach((s, p) => {
      const c = election(s, p, ElectionType.PREFERRED, eligible).change;
      if (c !== undefined) changes.push(c);
    });
    if (changes.length > 0) batch.push({ topic: t.name, changes });
  }
  return batch;
}
