import { assignShare, sameAssignment, type AssignableTopic } from "./assignor.js";
import {
  currentMemberRecord,
  groupRecord,
  memberRecord,
  targetMemberRecord,
  targetMetadataRecord,
  targetMetadataTombstone,
  type MembershipRecord,
} from "./membership-records.js";

/**
 * A share group's membership (KIP-932) as ShareGroupHeartbeat drives it. Members choose their ids
 * (KIP-1082), join with epoch 0 and a subscription, leave with epoch -1 or by missing their session
 * timeout. Any change of members, subscriptions or subscribed topics' partition counts bumps the group
 * epoch and recomputes the assignment (simple assignor); since partitions may be shared there is no
 * revocation step: a member gets the group epoch with its new assignment at its next heartbeat.
 * Every change is also given as Kafka's share group records (`takeRecords`), which the coordinator writes
 * to `__consumer_offsets` and replays at start-up (`restore`), so members stay members across a restart.
 */

export interface ShareMember {
  readonly memberId: string;
  memberEpoch: number;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopics: string[];
  /** Topic id to partitions. */
  assignment: Map<string, number[]>;
  timer: NodeJS.Timeout | undefined;
}

export interface HeartbeatOutcome {
  errorCode: "NONE" | "UNKNOWN_MEMBER_ID" | "FENCED_MEMBER_EPOCH" | "GROUP_MAX_SIZE_REACHED";
  errorMessage: string | null;
  member: ShareMember | undefined;
  /** Whether the answer carries the member's assignment. */
  sendAssignment: boolean;
}

export interface ShareGroupHost {
  topic(name: string): AssignableTopic | undefined;
  readonly sessionTimeoutMs: number;
  readonly maxSize: number;
  /** A member left or was removed (its share sessions end). */
  memberGone(groupId: string, memberId: string): void;
  /** The partitions just assigned, so their share-partitions start now (share.auto.offset.reset). */
  assigned(groupId: string, topicId: string, partition: number): void;
}

export class ShareGroup {
  readonly members = new Map<string, ShareMember>();
  groupEpoch = 0;
  assignmentEpoch = 0;
  /** Records of the changes since the last `takeRecords`. */
  private records: MembershipRecord[] = [];
  /** What the last assignment saw of the subscribed topics ("id:partitions" joined), to notice changes. */
  private topicsSeen = "";

  constructor(
    readonly groupId: string,
    private readonly host: ShareGroupHost,
  ) {}

  get state(): "Empty" | "Stable" {
    return this.members.size === 0 ? "Empty" : "Stable";
  }

  heartbeat(
    memberId: string,
    memberEpoch: number,
    rackId: string | null,
    subscribed: string[] | null,
    clientId: string,
    clientHost: string,
  ): HeartbeatOutcome {
    let member = this.members.get(memberId);
    if (memberEpoch === -1) {
      if (member !== undefined) this.remove(member);
      return { errorCode: "NONE", errorMessage: null, member, sendAssignment: false };
    }
    if (memberEpoch === 0) {
      if (member === undefined) {
        if (this.members.size >= this.host.maxSize)
          return {
            errorCode: "GROUP_MAX_SIZE_REACHED",
            errorMessage: `The share group has reached its maximum capacity of ${this.host.maxSize} members.`,
            member,
            sendAssignment: false,
          };
        member = {
          memberId,
          memberEpoch: 0,
          rackId,
          clientId,
          clientHost,
          subscribedTopics: [],
          assignment: new Map(),
          timer: undefined,
        };
        this.members.set(memberId, member);
        this.groupEpoch++;
        this.records.push(memberRecord(this.groupId, member), groupRecord(this.groupId, this.groupEpoch));
      }
    } else if (member === undefined) {
      return {
        errorCode: "UNKNOWN_MEMBER_ID",
        errorMessage: `Member ${memberId} is not a member of group ${this.groupId}.`,
        member,
        sendAssignment: false,
      };
    } else if (memberEpoch !== member.memberEpoch) {
      return {
        errorCode: "FENCED_MEMBER_EPOCH",
        errorMessage: `The share group member has a smaller member epoch (${memberEpoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rebalance.`,
        member,
        sendAssignment: false,
      };
    }
    if (subscribed !== null) {
      const next = [...new Set(subscribed)].sort();
      if (next.join("\u0000") !== member.subscribedTopics.join("\u0000")) {
        member.subscribedTopics = next;
        this.groupEpoch++;
        this.records.push(memberRecord(this.groupId, member), groupRecord(this.groupId, this.groupEpoch));
      }
    }
    if (rackId !== null) member.rackId = rackId;
    member.clientId = clientId;
    member.clientHost = clientHost;
    this.touch(member);
    this.reassignIfNeeded();
    const changed = member.memberEpoch !== this.assignmentEpoch;
    if (changed) {
      const current = {
        memberEpoch: this.assignmentEpoch,
        previousMemberEpoch: member.memberEpoch,
        assignment: member.assignment,
      };
      this.records.push(currentMemberRecord(this.groupId, member.memberId, current));
    }
    member.memberEpoch = this.assignmentEpoch;
    return {
      errorCode: "NONE",
      errorMessage: null,
      member,
      sendAssignment: changed || memberEpoch === 0 || subscribed !== null,
    };
  }

  /** The tombstones that delete the (empty) group. */
  deletion(): MembershipRecord[] {
    return [targetMetadataTombstone(this.groupId), groupRecord(this.groupId, null)];
  }

  /** The records of the changes made since the last call. */
  takeRecords(): MembershipRecord[] {
    const out = this.records;
    this.records = [];
    return out;
  }

  /** A member as the records left it before a restart; its session starts now. */
  restore(
    memberId: string,
    meta: { rackId: string | null; clientId: string; clientHost: string; subscribedTopicNames: string[] },
    memberEpoch: number,
    assignment: Map<string, number[]>,
  ): void {
    const member: ShareMember = {
      memberId,
      memberEpoch,
      rackId: meta.rackId,
      clientId: meta.clientId,
      clientHost: meta.clientHost,
      subscribedTopics: [...meta.subscribedTopicNames].sort(),
      assignment,
      timer: undefined,
    };
    this.members.set(memberId, member);
    this.touch(member);
  }

  /** After the members are restored: the epochs they were at. */
  restoreEpoch(epoch: number): void {
    let e = epoch;
    for (const m of this.members.values()) e = Math.max(e, m.memberEpoch);
    this.groupEpoch = e;
    this.assignmentEpoch = e;
  }

  /** Removes every member (the coordinator stops). */
  shutdown(): void {
    for (const m of this.members.values()) clearTimeout(m.timer);
  }

  private touch(member: ShareMember): void {
    clearTimeout(member.timer);
    member.timer = setTimeout(() => {
      if (this.members.get(member.memberId) === member) this.remove(member);
    }, this.host.sessionTimeoutMs);
    member.timer.unref();
  }

  private remove(member: ShareMember): void {
    clearTimeout(member.timer);
    this.members.delete(member.memberId);
    this.groupEpoch++;
    this.records.push(
      currentMemberRecord(this.groupId, member.memberId, null),
      targetMemberRecord(this.groupId, member.memberId, null),
      memberRecord(this.groupId, member.memberId),
      groupRecord(this.groupId, this.groupEpoch),
    );
    this.reassignIfNeeded();
    this.host.memberGone(this.groupId, member.memberId);
  }

  /** Recomputes the assignment when the group epoch moved or a subscribed topic changed. */
  private reassignIfNeeded(): void {
    const topics = new Set<string>();
    for (const m of this.members.values()) for (const t of m.subscribedTopics) topics.add(t);
    const seen = [...topics]
      .sort()
      .map((name) => {
        const t = this.host.topic(name);
        return t === undefined ? "" : `${t.id}:${t.partitions}`;
      })
      .join(",");
    if (seen !== this.topicsSeen) {
      this.topicsSeen = seen;
      this.groupEpoch++;
      this.records.push(groupRecord(this.groupId, this.groupEpoch));
    }
    if (this.assignmentEpoch === this.groupEpoch) return;
    const target = assignShare(
      [...this.members.values()].map((m) => ({ memberId: m.memberId, subscribedTopics: m.subscribedTopics })),
      (name) => this.host.topic(name),
    );
    for (const [memberId, assignment] of target) {
      const m = this.members.get(memberId)!;
      if (!sameAssignment(m.assignment, assignment)) m.assignment = assignment;
      this.records.push(targetMemberRecord(this.groupId, memberId, assignment));
      for (const [topicId, parts] of assignment) for (const p of parts) this.host.assigned(this.groupId, topicId, p);
    }
    this.assignmentEpoch = this.groupEpoch;
    this.records.push(targetMetadataRecord(this.groupId, this.assignmentEpoch, Date.now()));
  }
}
