import type { StreamsGroupHeartbeatRequest } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { fromRequest, invalidTopology } from "./topology.js";

/**
 * The checks Kafka 4.4 makes of a StreamsGroupHeartbeat before its group sees it: INVALID_REQUEST for
 * a malformed request, STREAMS_INVALID_TOPOLOGY for a joining member's topology that cannot be right.
 */

export interface InvalidHeartbeat {
  errorCode: number;
  errorMessage: string;
}

const invalid = (errorMessage: string): InvalidHeartbeat => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage });

export function invalidHeartbeat(req: StreamsGroupHeartbeatRequest): InvalidHeartbeat | undefined {
  if (req.groupId === "") return invalid("GroupId can't be empty.");
  if (req.memberId === "") return invalid("MemberId can't be empty.");
  if (req.instanceId === "") return invalid("InstanceId can't be empty.");
  if (req.rackId === "") return invalid("RackId can't be empty.");
  const tasks = [req.activeTasks, req.standbyTasks, req.warmupTasks];
  if (req.memberEpoch === 0) {
    if (req.rebalanceTimeoutMs === -1) return invalid("RebalanceTimeoutMs must be provided in first request.");
    // Present and empty (null is refused too, as Kafka 4.4 does).
    if (req.activeTasks?.length !== 0) return invalid("ActiveTasks must be empty when (re-)joining.");
    if (req.standbyTasks?.length !== 0) return invalid("StandbyTasks must be empty when (re-)joining.");
    if (req.warmupTasks?.length !== 0) return invalid("WarmupTasks must be empty when (re-)joining.");
    if (req.topology === null) return invalid("Topology must be non-null when (re-)joining.");
    if (req.processId === null) return invalid("ProcessId can't be null.");
    const why = invalidTopology(fromRequest(req.topology));
    if (why !== undefined) return { errorCode: ErrorCode.STREAMS_INVALID_TOPOLOGY, errorMessage: why };
  } else if (req.memberEpoch === -2) {
    if (req.instanceId === null) return invalid("InstanceId can't be null.");
  } else if (req.memberEpoch < -2) {
    return invalid(`MemberEpoch is invalid: ${req.memberEpoch}.`);
  }
  if (tasks.some((t) => t !== null) && tasks.some((t) => t === null))
    return invalid("If one task-type is non-null, all must be non-null.");
  return undefined;
}
