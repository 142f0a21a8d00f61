import { ErrorCode } from "../errors.js";

/**
 * What the groups of the new rebalance protocols share (KIP-848 consumer groups, KIP-1071 streams groups,
 * after Kafka's ModernGroup and ModernGroupMember): members that carry an epoch, static members by
 * instance id, and a session and a revocation timer per member.
 */

export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/** A member's state when it has what its target gives it (0 in both groups' current-assignment records). */
export const STABLE = 0;

export abstract class EpochMember {
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = "";
  clientHost = "";
  rebalanceTimeoutMs = 300_000;
  memberEpoch = 0;
  previousMemberEpoch = -1;
  abstract state: number;
  sessionTimer: NodeJS.Timeout | undefined;
  revocationTimer: NodeJS.Timeout | undefined;

  constructor(readonly memberId: string) {}
}

export abstract class EpochGroup<M extends EpochMember> {
  groupEpoch = 0;
  assignmentEpoch = 0;
  stateTimestamp = Date.now();
  readonly members = new Map<string, M>();
  /** instance id -> member id. */
  readonly staticMembers = new Map<string, string>();
  protected dead = false;

  constructor(readonly groupId: string) {}

  /** Whether every member has converged to the target of the current assignment epoch. */
  protected reconciled(): boolean {
    for (const m of this.members.values()) {
      if (m.state !== STABLE || m.memberEpoch !== this.assignmentEpoch) return false;
    }
    return true;
  }

  /** OffsetFetch's check (and OffsetCommit's, for consumer groups) of a member's epoch. */
  validateMemberEpoch(memberId: string, memberEpoch: number): number {
    const m = this.members.get(memberId);
    if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch > m.memberEpoch) return ErrorCode.FENCED_MEMBER_EPOCH;
    if (memberEpoch < m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /** Stops the members' timers (the coordinator unloads the group); `dead`: the group is gone. */
  shutdown(dead: boolean): void {
    for (const m of this.members.values()) {
      clearTimeout(m.sessionTimer);
      clearTimeout(m.revocationTimer);
    }
    if (dead) {
      this.dead = true;
      this.members.clear();
    }
  }
}
