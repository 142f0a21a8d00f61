import { randomBytes } from "node:crypto";
import type {
  ConsumerGroupCurrentMemberAssignmentValue,
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupMemberMetadataValue,
} from "@tskafka/protocol";
import type { RE2JS } from "re2js";
import { compileRe2 } from "../re2.js";
import { ErrorCode } from "../errors.js";
import { ASSIGNORS, DEFAULT_ASSIGNOR, type Assignment, type AssignorTopic } from "./assignors.js";
import {
  consumerGroupMetadataRecord,
  consumerMemberAssignmentRecord,
  consumerMemberMetadataRecord,
  type CoordinatorRecord,
} from "./records.js";
import {
  EpochGroup,
  EpochMember,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  STABLE,
} from "./epoch-group.js";

/**
 * A group of the KIP-848 consumer protocol, after Kafka's ConsumerGroup and CurrentAssignmentBuilder.
 * The group epoch moves when membership, subscriptions or the subscribed topics change; the server
 * assignor then computes a target assignment at that epoch. Each member converges to its target on
 * its own heartbeats: partitions it must give up are revoked first (its epoch stays), and partitions
 * still owned by another member are given only once released.
 *
 * A member subscribes to topic names, a regular expression (ConsumerGroupHeartbeat v1), or both. The
 * expression is RE2/J syntax, as Kafka compiles it, and must match a whole topic name; it is resolved
 * against the topics that exist whenever the group looks at its subscriptions, so a new matching topic
 * moves the group epoch like a new partition does.
 */

/** Member states as Kafka stores them in ConsumerGroupCurrentMemberAssignmentValue. */
export const MemberState = { STABLE, UNREVOKED_PARTITIONS: 1, UNRELEASED_PARTITIONS: 2 } as const;
export type MemberState = (typeof MemberState)[keyof typeof MemberState];

export type ConsumerGroupState = "Empty" | "Assigning" | "Reconciling" | "Stable" | "Dead";

export interface TopicView {
  byName(name: string): AssignorTopic | undefined;
  nameOf(topicId: string): string | undefined;
  /** Every topic name, for resolving regular expressions. */
  names(): Iterable<string>;
}

/** A subscription's regular expression compiled as Kafka does (RE2/J), or why it is invalid. */
function compileRegex(regex: string): RE2JS | string {
  let compiled = compiledRegexes.get(regex);
  if (compiled !== undefined) return compiled;
  compiled = compileRe2(regex);
  // Heartbeats resolve the expressions again and again: compile each once (a bounded cache).
  if (compiledRegexes.size >= MAX_COMPILED_REGEXES) compiledRegexes.clear();
  compiledRegexes.set(regex, compiled);
  return compiled;
}

const MAX_COMPILED_REGEXES = 1000;
const compiledRegexes = new Map<string, RE2JS | string>();

export interface ConsumerGroupHost {
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly topics: TopicView;
  persist(group: ConsumerGroup, records: CoordinatorRecord[]): void;
  onStateChange(group: ConsumerGroup): void;
}

export class ConsumerMember extends EpochMember {
  subscribedTopicNames: string[] = [];
  /** A KIP-848 regular expression (RE2/J syntax) subscription, resolved here against the topics that exist. */
  subscribedTopicRegex: string | null = null;
  /**
   * Whether the member may describe a topic, as of its last heartbeat: its expression matches only those,
   * as Kafka 4.4's TopicRegexResolver filters them (everything without an authorizer).
   */
  describable: (topic: string) => boolean = () => true;
  serverAssignor: string | null = null;
  state: MemberState = MemberState.STABLE;
  assigned: Assignment = new Map();
  pendingRevocation: Assignment = new Map();
}

export interface HeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: Assignment | null;
}

function count(a: Assignment): number {
  let n = 0;
  for (const l of a.values()) n += l.length;
  return n;
}

function sameAssignment(a: Assignment, b: Assignment): boolean {
  if (count(a) !== count(b)) return false;
  for (const [t, list] of a) {
    const other = b.get(t) ?? [];
    if (other.length !== list.length || list.some((p, i) => other[i] !== p)) return false;
  }
  return true;
}

function toAssignment(list: readonly { topicId: string; partitions: readonly number[] }[]): Assignment {
  const a: Assignment = new Map();
  for (const tp of list)
    if (tp.partitions.length > 0)
      a.set(
        tp.topicId,
        [...tp.partitions].sort((x, y) => x - y),
      );
  return a;
}

export function fromAssignment(a: Assignment): { topicId: string; partitions: number[] }[] {
  return [...a].map(([topicId, partitions]) => ({ topicId, partitions }));
}

function newMemberId(): string {
  // Kafka's Uuid.randomUuid().toString(): 16 bytes as base64url without padding.
  return randomBytes(16).toString("base64url");
}

function failure(errorCode: number, errorMessage: string | null = null): HeartbeatResult {
  return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

export class ConsumerGroup extends EpochGroup<ConsumerMember> {
  readonly kind = "consumer";
  private target = new Map<string, Assignment>();
  /** `topicId:partition` -> member id, for partitions assigned or pending revocation. */
  private readonly owners = new Map<string, string>();
  /** What the subscribed topics looked like when the target was computed. */
  private topicsSignature = "";

  constructor(
    groupId: string,
    private readonly host: ConsumerGroupHost,
  ) {
    super(groupId);
  }

  get state(): ConsumerGroupState {
    if (this.dead) return "Dead";
    if (this.members.size === 0) return "Empty";
    if (this.groupEpoch > this.assignmentEpoch) return "Assigning";
    return this.reconciled() ? "Stable" : "Reconciling";
  }

  targetOf(memberId: string): Assignment {
    return this.target.get(memberId) ?? new Map();
  }

  /** The topics a member subscribes to now: its names and the existing topics its expression matches. */
  topicsOf(m: ConsumerMember): string[] {
    const regex = m.subscribedTopicRegex === null ? undefined : compileRegex(m.subscribedTopicRegex);
    if (regex === undefined || typeof regex === "string") return m.subscribedTopicNames;
    const out = new Set(m.subscribedTopicNames);
    for (const name of this.host.topics.names()) if (regex.matches(name) && m.describable(name)) out.add(name);
    return [...out].sort();
  }

  subscribedTopics(): Set<string> {
    const s = new Set<string>();
    for (const m of this.members.values()) for (const t of this.topicsOf(m)) s.add(t);
    return s;
  }

  heartbeat(
    req: ConsumerGroupHeartbeatRequest,
    clientId: string,
    clientHost: string,
    describable?: (topic: string) => boolean,
  ): HeartbeatResult {
    if (this.dead) return failure(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const epoch = req.memberEpoch;
    if (epoch === LEAVE_GROUP_MEMBER_EPOCH || epoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH)
      return this.leave(req.memberId, req.instanceId, epoch);
    const regex = req.subscribedTopicRegex;
    const invalid = regex === null || regex === "" ? undefined : compileRegex(regex);
    if (typeof invalid === "string")
      return failure(
        ErrorCode.INVALID_REGULAR_EXPRESSION,
        `SubscribedTopicRegex \`${regex}\` is not a valid regular expression: ${invalid}.`,
      );
    const records: CoordinatorRecord[] = [];
    let member: ConsumerMember;
    let bump = false;
    if (epoch === 0) {
      // Empty names or an empty expression are a subscription to nothing yet (the Java client's first
      // heartbeat when its pattern matches no topic): only both missing is invalid.
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null)
        return failure(
          ErrorCode.INVALID_REQUEST,
          "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.",
        );
      const joined = this.join(req, records);
      if (typeof joined === "number") return failure(joined);
      member = joined;
      bump = true;
    } else {
      const existing = this.members.get(req.memberId);
      if (existing === undefined)
        return failure(ErrorCode.UNKNOWN_MEMBER_ID, `member ${req.memberId} is not in group ${this.groupId}`);
      const owned = req.topicPartitions === null ? null : toAssignment(req.topicPartitions);
      if (epoch > existing.memberEpoch)
        return failure(ErrorCode.FENCED_MEMBER_EPOCH, "the member epoch is newer than the group's");
      if (epoch < existing.memberEpoch) {
        // A member that missed our last answer may come back with its previous epoch, owning a subset.
        const subset =
          owned !== null &&
          [...owned].every(([t, ps]) => ps.every((p) => existing.assigned.get(t)?.includes(p) === true));
        if (epoch !== existing.previousMemberEpoch || !subset)
          return failure(ErrorCode.FENCED_MEMBER_EPOCH, "the member epoch is stale");
      }
      member = existing;
    }
    member.clientId = clientId;
    member.clientHost = clientHost;
    if (describable !== undefined) member.describable = describable;
    if (req.rackId !== null) member.rackId = req.rackId;
    if (req.rebalanceTimeoutMs > 0) member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    if (req.subscribedTopicNames !== null) {
      const names = [...new Set(req.subscribedTopicNames)].sort();
      if (names.join("\u0000") !== member.subscribedTopicNames.join("\u0000")) {
        member.subscribedTopicNames = names;
        bump = true;
      }
    }
    // null: unchanged since the last heartbeat; "": no expression any more.
    if (req.subscribedTopicRegex !== null) {
      const regex = req.subscribedTopicRegex === "" ? null : req.subscribedTopicRegex;
      if (regex !== member.subscribedTopicRegex) {
        member.subscribedTopicRegex = regex;
        bump = true;
      }
    }
    if (req.serverAssignor !== null && req.serverAssignor !== member.serverAssignor) {
      member.serverAssignor = req.serverAssignor;
      bump = true;
    }
    if (bump) records.push(consumerMemberMetadataRecord(this.groupId, member.memberId, this.memberRecord(member)));
    const signature = this.signature();
    if (signature !== this.topicsSignature) bump = true;
    if (bump) this.bumpEpoch(records);
    if (this.assignmentEpoch < this.groupEpoch) this.computeTarget();
    const before = member.assigned;
    const owned = req.topicPartitions === null ? null : toAssignment(req.topicPartitions);
    this.reconcile(member, owned, records);
    this.scheduleSession(member);
    this.host.persist(this, records);
    this.host.onStateChange(this);
    const changed = !sameAssignment(before, member.assigned);
    // A full request (a rejoin, or a client resending everything after an error) gets the assignment.
    const subscribes = req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null;
    const full = epoch === 0 || (req.rebalanceTimeoutMs !== -1 && subscribes && req.topicPartitions !== null);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.host.heartbeatIntervalMs,
      assignment: full || changed ? member.assigned : null,
    };
  }

  private join(req: ConsumerGroupHeartbeatRequest, records: CoordinatorRecord[]): ConsumerMember | number {
    if (req.serverAssignor !== null && !ASSIGNORS.has(req.serverAssignor)) return ErrorCode.UNSUPPORTED_ASSIGNOR;
    let member: ConsumerMember | undefined;
    if (req.instanceId !== null) {
      const oldId = this.staticMembers.get(req.instanceId);
      const old = oldId !== undefined ? this.members.get(oldId) : undefined;
      if (old !== undefined && old.memberId !== req.memberId) {
        // KIP-345 for the consumer protocol: a static member that left temporarily (-2) is replaced and
        // its successor inherits the assignment; one still active is not released.
        if (old.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) return ErrorCode.UNRELEASED_INSTANCE_ID;
        member = new ConsumerMember(req.memberId !== "" ? req.memberId : newMemberId());
        member.assigned = old.assigned;
        member.memberEpoch = old.previousMemberEpoch;
        this.removeMember(old, records);
        for (const [t, ps] of member.assigned) for (const p of ps) this.owners.set(`${t}:${p}`, member.memberId);
      }
    }
    if (member === undefined) {
      const existing = req.memberId !== "" ? this.members.get(req.memberId) : undefined;
      if (existing !== undefined) {
        // Rejoining with epoch 0 (after being fenced): it has let go of everything.
        this.release(existing);
        existing.assigned = new Map();
        existing.pendingRevocation = new Map();
        existing.state = MemberState.STABLE;
        existing.memberEpoch = 0;
        existing.previousMemberEpoch = -1;
        return existing;
      }
      member = new ConsumerMember(req.memberId !== "" ? req.memberId : newMemberId());
    }
    member.instanceId = req.instanceId;
    if (req.instanceId !== null) this.staticMembers.set(req.instanceId, member.memberId);
    this.members.set(member.memberId, member);
    return member;
  }

  private leave(memberId: string, instanceId: string | null, epoch: number): HeartbeatResult {
    const member = this.members.get(memberId);
    if (member === undefined) return failure(ErrorCode.UNKNOWN_MEMBER_ID);
    const records: CoordinatorRecord[] = [];
    if (epoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH && instanceId !== null) {
      // A static member leaving temporarily keeps its partitions until it comes back or its session ends.
      member.previousMemberEpoch = member.memberEpoch;
      member.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      this.scheduleSession(member);
    } else {
      this.removeMember(member, records);
      this.bumpEpoch(records);
      this.computeTarget();
    }
    this.host.persist(this, records);
    this.host.onStateChange(this);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId,
      memberEpoch: epoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    };
  }

  /** Session timeout or revocation timeout: the member is fenced out of the group. */
  fence(member: ConsumerMember): void {
    if (this.members.get(member.memberId) !== member) return;
    const records: CoordinatorRecord[] = [];
    this.removeMember(member, records);
    this.bumpEpoch(records);
    this.computeTarget();
    this.host.persist(this, records);
    this.host.onStateChange(this);
  }

  private removeMember(member: ConsumerMember, records: CoordinatorRecord[]): void {
    clearTimeout(member.sessionTimer);
    clearTimeout(member.revocationTimer);
    this.release(member);
    this.members.delete(member.memberId);
    this.target.delete(member.memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === member.memberId)
      this.staticMembers.delete(member.instanceId);
    records.push(consumerMemberAssignmentRecord(this.groupId, member.memberId, null));
    records.push(consumerMemberMetadataRecord(this.groupId, member.memberId, null));
  }

  private release(member: ConsumerMember): void {
    for (const a of [member.assigned, member.pendingRevocation]) {
      for (const [t, ps] of a)
        for (const p of ps) if (this.owners.get(`${t}:${p}`) === member.memberId) this.owners.delete(`${t}:${p}`);
    }
  }

  private bumpEpoch(records: CoordinatorRecord[]): void {
    this.groupEpoch++;
    this.stateTimestamp = Date.now();
    records.push(consumerGroupMetadataRecord(this.groupId, { epoch: this.groupEpoch, metadataHash: 0n }));
  }

  /** The subscribed topics as they exist now (name, id, partitions); a change moves the group epoch. */
  private signature(): string {
    const parts: string[] = [];
    for (const name of [...this.subscribedTopics()].sort()) {
      const t = this.host.topics.byName(name);
      if (t !== undefined) parts.push(`${name}:${t.id}:${t.partitions}`);
    }
    return parts.join(",");
  }

  private computeTarget(): void {
    const topics = new Map<string, AssignorTopic>();
    for (const name of this.subscribedTopics()) {
      const t = this.host.topics.byName(name);
      if (t !== undefined) topics.set(name, t);
    }
    const members = [...this.members.values()];
    const assignorName = members.find((m) => m.serverAssignor !== null)?.serverAssignor ?? DEFAULT_ASSIGNOR;
    const assignor = ASSIGNORS.get(assignorName) ?? ASSIGNORS.get(DEFAULT_ASSIGNOR)!;
    this.target = assignor(
      members.map((m) => ({
        memberId: m.memberId,
        subscribedTopicNames: this.topicsOf(m),
        current: this.targetOf(m.memberId),
      })),
      topics,
    );
    this.assignmentEpoch = this.groupEpoch;
    this.topicsSignature = this.signature();
  }

  /** Kafka's CurrentAssignmentBuilder: one step of a member towards its target. */
  private reconcile(member: ConsumerMember, owned: Assignment | null, records: CoordinatorRecord[]): void {
    if (member.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return;
    const ownsAny = (revoking: Assignment): boolean =>
      owned === null || [...revoking].some(([t, ps]) => ps.some((p) => owned.get(t)?.includes(p) === true));
    if (member.state === MemberState.UNREVOKED_PARTITIONS && ownsAny(member.pendingRevocation)) return;
    if (member.state === MemberState.STABLE && member.memberEpoch === this.assignmentEpoch) return;
    const target = this.targetOf(member.memberId);
    const kept: Assignment = new Map();
    const revoke: Assignment = new Map();
    const assign: Assignment = new Map();
    let unreleased = false;
    for (const t of new Set([...member.assigned.keys(), ...target.keys()])) {
      const current = member.assigned.get(t) ?? [];
      const wanted = target.get(t) ?? [];
      const k = current.filter((p) => wanted.includes(p));
      const r = current.filter((p) => !wanted.includes(p));
      const a = wanted.filter((p) => !current.includes(p));
      const free = a.filter((p) => !this.owners.has(`${t}:${p}`));
      if (free.length < a.length) unreleased = true;
      if (k.length > 0) kept.set(t, k);
      if (r.length > 0) revoke.set(t, r);
      if (free.length > 0) assign.set(t, free);
    }
    this.release(member);
    if (revoke.size > 0 && ownsAny(revoke)) {
      member.assigned = kept;
      member.pendingRevocation = revoke;
      member.state = MemberState.UNREVOKED_PARTITIONS;
      clearTimeout(member.revocationTimer);
      member.revocationTimer = setTimeout(() => this.fence(member), member.rebalanceTimeoutMs);
      member.revocationTimer.unref();
    } else {
      clearTimeout(member.revocationTimer);
      const next: Assignment = new Map(kept);
      for (const [t, ps] of assign)
        next.set(
          t,
          [...(next.get(t) ?? []), ...ps].sort((x, y) => x - y),
        );
      member.assigned = next;
      member.pendingRevocation = new Map();
      member.state = unreleased ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE;
      if (member.memberEpoch !== this.assignmentEpoch) {
        member.previousMemberEpoch = member.memberEpoch;
        member.memberEpoch = this.assignmentEpoch;
      }
    }
    for (const a of [member.assigned, member.pendingRevocation]) {
      for (const [t, ps] of a) for (const p of ps) this.owners.set(`${t}:${p}`, member.memberId);
    }
    records.push(consumerMemberAssignmentRecord(this.groupId, member.memberId, this.assignmentRecord(member)));
  }

  private scheduleSession(member: ConsumerMember): void {
    clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => this.fence(member), this.host.sessionTimeoutMs);
    member.sessionTimer.unref();
  }

  // --- persistence ---

  memberRecord(m: ConsumerMember): ConsumerGroupMemberMetadataValue {
    return {
      instanceId: m.instanceId,
      rackId: m.rackId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: m.subscribedTopicNames,
      subscribedTopicRegex: m.subscribedTopicRegex,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      serverAssignor: m.serverAssignor,
      classicMemberMetadata: null,
    };
  }

  assignmentRecord(m: ConsumerMember): ConsumerGroupCurrentMemberAssignmentValue {
    return {
      memberEpoch: m.memberEpoch,
      previousMemberEpoch: m.previousMemberEpoch,
      state: m.state,
      assignedPartitions: fromAssignment(m.assigned).map((t) => ({ ...t, assignmentEpochs: [] })),
      partitionsPendingRevocation: fromAssignment(m.pendingRevocation).map((t) => ({ ...t, assignmentEpochs: [] })),
    };
  }

  restoreMember(memberId: string, value: ConsumerGroupMemberMetadataValue | null): void {
    if (value === null) {
      this.members.delete(memberId);
      return;
    }
    const m = this.members.get(memberId) ?? new ConsumerMember(memberId);
    m.instanceId = value.instanceId;
    m.rackId = value.rackId;
    m.clientId = value.clientId;
    m.clientHost = value.clientHost;
    m.subscribedTopicNames = value.subscribedTopicNames;
    m.subscribedTopicRegex = value.subscribedTopicRegex;
    m.rebalanceTimeoutMs = value.rebalanceTimeoutMs;
    m.serverAssignor = value.serverAssignor;
    this.members.set(memberId, m);
  }

  restoreAssignment(memberId: string, value: ConsumerGroupCurrentMemberAssignmentValue | null): void {
    const m = this.members.get(memberId) ?? new ConsumerMember(memberId);
    if (value === null) return;
    m.memberEpoch = value.memberEpoch;
    m.previousMemberEpoch = value.previousMemberEpoch;
    m.state = value.state as MemberState;
    m.assigned = toAssignment(value.assignedPartitions);
    m.pendingRevocation = toAssignment(value.partitionsPendingRevocation);
    this.members.set(memberId, m);
  }

  /** After loading: rebuild ownership and the target, and start the members' session timers. */
  finishLoad(): void {
    for (const m of this.members.values()) {
      if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
      for (const a of [m.assigned, m.pendingRevocation])
        for (const [t, ps] of a) for (const p of ps) this.owners.set(`${t}:${p}`, m.memberId);
      this.target.set(m.memberId, new Map(m.assigned));
    }
    this.computeTarget();
    for (const m of this.members.values()) this.scheduleSession(m);
  }
}
