import { ErrorCode } from "../errors.js";
import { NO_LEADER, type PartitionChange, type PartitionChangeResult, type PartitionState } from "./metadata.js";

/**
 * The rules of a partition state change, the same for every implementation of the metadata seam. They are
 * those of Kafka's controller for AlterPartition: a leader's request from a newer leader or partition epoch
 * than the controller knows gets NOT_CONTROLLER (the sender is ahead of this view), an older leader epoch
 * FENCED_LEADER_EPOCH, a sender that is not the leader INVALID_REQUEST, an older partition epoch
 * INVALID_UPDATE_VERSION; the ISR must be replicas without repeats and hold the leader (INVALID_REQUEST),
 * and a replica joining it must be a registered broker (INELIGIBLE_REPLICA). Every accepted change bumps
 * the partition epoch; a new leader bumps the leader epoch. Reassignments (KIP-455) follow Kafka's
 * PartitionChangeBuilder: a change whose ISR holds every target replica completes the reassignment in
 * progress, in the same compare-and-swap.
 */

/** The state of a new partition on `replicas`: the first replica leads, all are in sync. */
export function initialPartitionState(replicas: readonly number[]): PartitionState {
  return { replicas, isr: replicas, leader: replicas[0] ?? NO_LEADER, leaderEpoch: 0, partitionEpoch: 0 };
}

function validIsr(replicas: readonly number[], isr: readonly number[]): boolean {
  return isr.length > 0 && new Set(isr).size === isr.length && isr.every((r) => replicas.includes(r));
}

type IsBroker = (nodeId: number) => boolean;
type Change<K extends PartitionChange["kind"]> = Extract<PartitionChange, { kind: K }>;

/** The error code of an ISR or leader change against `current`, or NONE. `isBroker` says whether a node is registered. */
function check(current: PartitionState, change: Change<"isr" | "leader">, isBroker: IsBroker): number {
  if (change.kind === "isr") {
    if (change.leaderEpoch > current.leaderEpoch || change.partitionEpoch > current.partitionEpoch)
      return ErrorCode.NOT_CONTROLLER;
    if (change.leaderEpoch < current.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
    if (change.brokerId !== current.leader) return ErrorCode.INVALID_REQUEST;
  }
  if (change.partitionEpoch !== current.partitionEpoch) return ErrorCode.INVALID_UPDATE_VERSION;
  if (!validIsr(current.replicas, change.isr)) return ErrorCode.INVALID_REQUEST;
  const leader = change.kind === "isr" ? current.leader : change.leader;
  if (leader !== NO_LEADER && !change.isr.includes(leader)) return ErrorCode.INVALID_REQUEST;
  // Members already in sync stay even when gone (the last ISR member of a leaderless partition).
  if (change.isr.some((r) => !current.isr.includes(r) && !isBroker(r))) return ErrorCode.INELIGIBLE_REPLICA;
  return ErrorCode.NONE;
}

/** What a change makes of a partition before the reassignment is completed and a leader elected. */
interface Draft {
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly adding: readonly number[];
  readonly removing: readonly number[];
}

export function isReassigning(state: PartitionState): boolean {
  return (state.adding?.length ?? 0) > 0 || (state.removing?.length ?? 0) > 0;
}

const sorted = (ids: Iterable<number>): number[] => [...ids].sort((a, b) => a - b);

/**
 * A reassignment to `target` (Kafka's PartitionReassignmentReplicas): the replicas become the target
 * followed by those it removes, the ones it adds start fetching; the ISR and leader stay for now.
 */
function reassignDraft(current: PartitionState, target: readonly number[]): Draft {
  const removing = sorted(current.replicas.filter((r) => !target.includes(r)));
  const adding = sorted(target.filter((r) => !current.replicas.includes(r)));
  return {
    replicas: [...target, ...removing],
    isr: current.isr,
    leader: current.leader,
    // As Kafka's controller: an empty set leaves the one in progress (the same target again changes nothing).
    adding: adding.length > 0 ? adding : (current.adding ?? []),
    removing: removing.length > 0 ? removing : (current.removing ?? []),
  };
}

/**
 * The cancellation of the reassignment in progress (Kafka's PartitionReassignmentRevert): the replicas it
 * was adding leave the replicas and the ISR; undefined when no replica of the ISR would be left (Kafka
 * would need an unclean election for that, which is not done here).
 */
export function revertDraft(current: PartitionState): Draft | undefined {
  const adding = current.adding ?? [];
  const isr = current.isr.filter((r) => !adding.includes(r));
  if (isr.length === 0) return undefined;
  const replicas = current.replicas.filter((r) => !adding.includes(r));
  return { replicas, isr, leader: current.leader, adding: [], removing: [] };
}

/**
 * Completes a reassignment once the ISR has every target replica (Kafka's maybeCompleteReassignment):
 * the removed replicas leave the replicas and the ISR.
 */
function completed(d: Draft): Draft {
  if (d.adding.length === 0 && d.removing.length === 0) return d;
  const isr = d.isr.filter((r) => !d.removing.includes(r));
  const replicas = d.replicas.filter((r) => !d.removing.includes(r));
  if (isr.length === 0 || replicas.length === 0 || !replicas.every((r) => isr.includes(r))) return d;
  return { replicas, isr, leader: d.leader, adding: [], removing: [] };
}

/**
 * The state a draft leads to: the reassignment completed if it can be, and a leader elected when the one
 * it had left the ISR (or, for a reassignment, there was none): the first replica in the ISR that is a
 * registered broker, as Kafka's election. A new leader, or replicas removed, bump the leader epoch
 * (Kafka fences the removed replicas so).
 */
function settle(current: PartitionState, draft: Draft, electLeaderless: boolean, isBroker: IsBroker): PartitionState {
  const d = completed(draft);
  let leader = d.leader;
  if (leader === NO_LEADER ? electLeaderless : !d.isr.includes(leader))
    leader = d.replicas.find((r) => d.isr.includes(r) && isBroker(r)) ?? NO_LEADER;
  const bump = leader !== current.leader || current.replicas.some((r) => !d.replicas.includes(r));
  return {
    replicas: d.replicas,
    isr: [...d.isr],
    leader,
    leaderEpoch: bump ? current.leaderEpoch + 1 : current.leaderEpoch,
    partitionEpoch: current.partitionEpoch + 1,
    ...(d.adding.length > 0 || d.removing.length > 0 ? { adding: d.adding, removing: d.removing } : {}),
  };
}

const sameList = (a: readonly number[] | undefined, b: readonly number[] | undefined): boolean =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((x, i) => x === b![i]);

/** Whether a reassignment changed nothing (Kafka writes no record then). */
function unchanged(a: PartitionState, b: PartitionState): boolean {
  return (
    a.leader === b.leader &&
    sameList(a.replicas, b.replicas) &&
    sameList(a.isr, b.isr) &&
    sameList(a.adding, b.adding) &&
    sameList(a.removing, b.removing)
  );
}

/** AlterPartitionReassignments of one partition: NONE with the new state (none when nothing changes), or the error. */
function reassign(current: PartitionState, change: Change<"reassign">, isBroker: IsBroker): PartitionChangeResult {
  const partition = change.partition;
  if (change.partitionEpoch !== current.partitionEpoch)
    return { partition, errorCode: ErrorCode.INVALID_UPDATE_VERSION };
  if (change.target === null && !isReassigning(current))
    return { partition, errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS };
  const draft = change.target === null ? revertDraft(current) : reassignDraft(current, change.target);
  if (draft === undefined) return { partition, errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT };
  const state = settle(current, draft, true, isBroker);
  return unchanged(current, state)
    ? { partition, errorCode: ErrorCode.NONE }
    : { partition, errorCode: ErrorCode.NONE, state };
}

/** Applies `change` to `current` under the rules: the new state, or the error code. */
export function applyPartitionChange(
  current: PartitionState | undefined,
  change: PartitionChange,
  isBroker: IsBroker,
): PartitionChangeResult {
  if (current === undefined) return { partition: change.partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  if (change.kind === "reassign") return reassign(current, change, isBroker);
  const errorCode = check(current, change, isBroker);
  if (errorCode !== ErrorCode.NONE) return { partition: change.partition, errorCode };
  const draft: Draft = {
    replicas: current.replicas,
    isr: change.isr,
    leader: change.kind === "isr" ? current.leader : change.leader,
    adding: current.adding ?? [],
    removing: current.removing ?? [],
  };
  return { partition: change.partition, errorCode, state: settle(current, draft, false, isBroker) };
}

/** Applies a topic's changes in order to `states` (a copy); answers the new states and each result. */
export function applyTopicChanges(
  states: readonly PartitionState[] | undefined,
  changes: readonly PartitionChange[],
  isBroker: IsBroker,
): { states: PartitionState[] | undefined; results: PartitionChangeResult[] } {
  const next = states === undefined ? undefined : [...states];
  const results = changes.map((c) => {
    const r = applyPartitionChange(next?.[c.partition], c, isBroker);
    if (r.state !== undefined) next![c.partition] = r.state;
    return r;
  });
  return { states: next, results };
}
