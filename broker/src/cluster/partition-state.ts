import { ErrorCode } from "../errors.js";
import { NO_LEADER, type PartitionChange, type PartitionChangeResult, type PartitionState } from "./metadata.js";

/**
 * The rules of a partition state change, the same for every implementation of the metadata seam. They are
 * those of Kafka's controller for AlterPartition: a leader's request from a newer leader or partition epoch
 * than the controller knows gets NOT_CONTROLLER (the sender is ahead of this view), an older leader epoch
 * FENCED_LEADER_EPOCH, a sender that is not the leader INVALID_REQUEST, an older partition epoch
 * INVALID_UPDATE_VERSION; the ISR must be replicas without repeats and hold the leader (INVALID_REQUEST),
 * and a replica joining it must be a registered broker (INELIGIBLE_REPLICA). Every accepted change bumps
 * the partition epoch; a new leader bumps the leader epoch.
 */

/** The state of a new partition on `replicas`: the first replica leads, all are in sync. */
export function initialPartitionState(replicas: readonly number[]): PartitionState {
  return { replicas, isr: replicas, leader: replicas[0] ?? NO_LEADER, leaderEpoch: 0, partitionEpoch: 0 };
}

function validIsr(replicas: readonly number[], isr: readonly number[]): boolean {
  return isr.length > 0 && new Set(isr).size === isr.length && isr.every((r) => replicas.includes(r));
}

/** The error code of `change` against `current`, or NONE. `isBroker` says whether a node is registered. */
function check(
  current: PartitionState | undefined,
  change: PartitionChange,
  isBroker: (nodeId: number) => boolean,
): number {
  if (current === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
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

/** Applies `change` to `current` under the rules: the new state, or the error code. */
export function applyPartitionChange(
  current: PartitionState | undefined,
  change: PartitionChange,
  isBroker: (nodeId: number) => boolean,
): PartitionChangeResult {
  const errorCode = check(current, change, isBroker);
  if (errorCode !== ErrorCode.NONE || current === undefined) return { partition: change.partition, errorCode };
  const leader = change.kind === "isr" ? current.leader : change.leader;
  const state: PartitionState = {
    replicas: current.replicas,
    isr: [...change.isr],
    leader,
    leaderEpoch: leader === current.leader ? current.leaderEpoch : current.leaderEpoch + 1,
    partitionEpoch: current.partitionEpoch + 1,
  };
  return { partition: change.partition, errorCode, state };
}

/** Applies a topic's changes in order to `states` (a copy); answers the new states and each result. */
export function applyTopicChanges(
  states: readonly PartitionState[] | undefined,
  changes: readonly PartitionChange[],
  isBroker: (nodeId: number) => boolean,
): { states: PartitionState[] | undefined; results: PartitionChangeResult[] } {
  const next = states === undefined ? undefined : [...states];
  const results = changes.map((c) => {
    const r = applyPartitionChange(next?.[c.partition], c, isBroker);
    if (r.state !== undefined) next![c.partition] = r.state;
    return r;
  });
  return { states: next, results };
}
