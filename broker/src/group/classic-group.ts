import { randomUUID } from "node:crypto";
import { createGroupMetadataValue, type GroupMetadataValue } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";

/**
 * A group of the classic rebalance protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), after Kafka's
 * ClassicGroup: the states Empty -> PreparingRebalance -> CompletingRebalance -> Stable (and Dead once
 * deleted), with session timeouts per member, a rebalance timeout for the join phase, the initial
 * rebalance delay for a new group, KIP-394 member ids and KIP-345 static members. Pending JoinGroup
 * and SyncGroup requests wait on promises that the state machine resolves.
 */

export type ClassicState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  skipAssignment: boolean;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface JoinParams {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  /** JoinGroup v4+: a first join gets MEMBER_ID_REQUIRED and a member id to come back with. */
  requireKnownMemberId: boolean;
}

/** What a group needs from its coordinator. */
export interface ClassicGroupHost {
  readonly initialRebalanceDelayMs: number;
  /** Writes the group's metadata record; resolves to an error code. */
  store(group: ClassicGroup): Promise<number>;
  /** The group changed state (for logs and expiration bookkeeping). */
  onStateChange(group: ClassicGroup, from: ClassicState): void;
}

const EMPTY = Buffer.alloc(0);

export class ClassicMember {
  assignment: Buffer = EMPTY;
  joinWaiter: ((r: JoinResult) => void) | undefined;
  syncWaiter: ((r: SyncResult) => void) | undefined;
  /** Joined but not yet answered by a completed join phase. */
  isNew = true;
  sessionTimer: NodeJS.Timeout | undefined;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public sessionTimeoutMs: number,
    public rebalanceTimeoutMs: number,
    public protocolType: string,
    public protocols: Protocol[],
  ) {}

  metadataFor(protocol: string | null): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY;
  }

  /** Same protocols in the same order with the same metadata: a rejoin that changes nothing. */
  matches(protocols: readonly Protocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata))
    );
  }
}

function joinError(errorCode: number, memberId = ""): JoinResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: "",
    memberId,
    skipAssignment: false,
    members: [],
  };
}

function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

export class ClassicGroup {
  readonly kind = "classic";
  state: ClassicState = "Empty";
  stateTimestamp = Date.now();
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, ClassicMember>();
  /** group.instance.id -> member id (KIP-345). */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, expiring after the session timeout (KIP-394). */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** Members that got their JoinGroup answer but have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();
  private newMemberAdded = false;
  private initialJoinRunning = false;
  private joinTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly groupId: string,
    private readonly host: ClassicGroupHost,
  ) {}

  // --- queries ---

  is(...states: ClassicState[]): boolean {
    return states.includes(this.state);
  }

  /** Protocols every member supports. */
  private supportedProtocols(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.members.values())
      for (const p of m.protocols) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
    return counts;
  }

  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this.members.size === 0) return protocolType !== "" && protocols.length > 0;
    const counts = this.supportedProtocols();
    return this.protocolType === protocolType && protocols.some((p) => counts.get(p.name) === this.members.size);
  }

  /** A protocol all members support, chosen by vote: each member votes for its most preferred candidate. */
  selectProtocol(): string | null {
    const counts = this.supportedProtocols();
    const candidates = new Set([...counts].filter(([, n]) => n === this.members.size).map(([name]) => name));
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name));
      if (choice !== undefined) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = 0;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /** Subscribed topics of the consumer protocol (for OffsetDelete), or undefined when not known. */
  subscribedTopics(): Set<string> | undefined {
    if (
      this.protocolType !== "consumer" ||
      this.protocolName === null ||
      !this.is("Stable", "CompletingRebalance", "PreparingRebalance")
    ) {
      return undefined;
    }
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const names = readSubscriptionTopics(m.metadataFor(this.protocolName));
      if (names === undefined) return undefined;
      for (const t of names) topics.add(t);
    }
    return topics;
  }

  /** UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID or NONE for a request naming a member. */
  validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const known = this.staticMembers.get(groupInstanceId);
      if (known !== undefined && known !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return this.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  // --- JoinGroup ---

  join(p: JoinParams): JoinResult | Promise<JoinResult> {
    if (this.state === "Dead") return joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, p.memberId);
    if (!this.supportsProtocols(p.protocolType, p.protocols))
      return joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, p.memberId);
    return p.memberId === "" ? this.joinUnknownMember(p) : this.joinKnownMember(p);
  }

  private joinUnknownMember(p: JoinParams): JoinResult | Promise<JoinResult> {
    const newMemberId = `${p.clientId}-${randomUUID()}`;
    if (p.groupInstanceId !== null) {
      const oldId = this.staticMembers.get(p.groupInstanceId);
      const old = oldId !== undefined ? this.members.get(oldId) : undefined;
      if (old !== undefined) return this.replaceStaticMember(old, newMemberId, p);
      return this.addMemberAndRebalance(newMemberId, p);
    }
    if (p.requireKnownMemberId) {
      const timer = setTimeout(() => this.expirePendingMember(newMemberId), p.sessionTimeoutMs);
      timer.unref();
      this.pendingMembers.set(newMemberId, timer);
      return joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId);
    }
    return this.addMemberAndRebalance(newMemberId, p);
  }

  private joinKnownMember(p: JoinParams): JoinResult | Promise<JoinResult> {
    const pending = this.pendingMembers.get(p.memberId);
    if (pending !== undefined) {
      clearTimeout(pending);
      this.pendingMembers.delete(p.memberId);
      return this.addMemberAndRebalance(p.memberId, p);
    }
    const error = this.validateMember(p.memberId, p.groupInstanceId);
    if (error !== ErrorCode.NONE) return joinError(error, p.memberId);
    const member = this.members.get(p.memberId)!;
    switch (this.state) {
      case "PreparingRebalance":
        return this.updateMemberAndRebalance(member, p);
      case "CompletingRebalance":
        // A lost JoinGroup answer: the same join again gets the current generation back.
        if (member.matches(p.protocols)) {
          this.scheduleSession(member);
          return this.joinResponseFor(member, false);
        }
        return this.updateMemberAndRebalance(member, p);
      case "Stable":
        if (this.leaderId === member.memberId || !member.matches(p.protocols))
          return this.updateMemberAndRebalance(member, p);
        this.scheduleSession(member);
        return this.joinResponseFor(member, false);
      default:
        return joinError(ErrorCode.UNKNOWN_MEMBER_ID, p.memberId);
    }
  }

  private joinResponseFor(member: ClassicMember, skipAssignment: boolean): JoinResult {
    const isLeader = member.memberId === this.leaderId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? "",
      memberId: member.memberId,
      skipAssignment,
      members: isLeader
        ? [...this.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: m.metadataFor(this.protocolName),
          }))
        : [],
    };
  }

  private waitJoin(member: ClassicMember): Promise<JoinResult> {
    return new Promise((resolve) => {
      // A second join of the same member while one waits: the older request is answered first.
      member.joinWaiter?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
      member.joinWaiter = resolve;
    });
  }

  private addMemberAndRebalance(memberId: string, p: JoinParams): Promise<JoinResult> {
    const member = new ClassicMember(
      memberId,
      p.groupInstanceId,
      p.clientId,
      p.clientHost,
      p.sessionTimeoutMs,
      p.rebalanceTimeoutMs,
      p.protocolType,
      p.protocols,
    );
    if (this.state === "PreparingRebalance" && this.generationId === 0) this.newMemberAdded = true;
    if (this.members.size === 0) this.protocolType = p.protocolType;
    this.members.set(memberId, member);
    if (p.groupInstanceId !== null) this.staticMembers.set(p.groupInstanceId, memberId);
    this.leaderId ??= memberId;
    const joined = this.waitJoin(member);
    this.scheduleSession(member);
    this.maybePrepareRebalance();
    this.tryCompleteJoin();
    return joined;
  }

  private updateMemberAndRebalance(member: ClassicMember, p: JoinParams): Promise<JoinResult> {
    member.protocols = p.protocols;
    member.sessionTimeoutMs = p.sessionTimeoutMs;
    member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    const joined = this.waitJoin(member);
    this.scheduleSession(member);
    this.maybePrepareRebalance();
    this.tryCompleteJoin();
    return joined;
  }

  /** KIP-345: a static member came back with a new member id; the old id is fenced. */
  private replaceStaticMember(
    old: ClassicMember,
    newMemberId: string,
    p: JoinParams,
  ): JoinResult | Promise<JoinResult> {
    old.joinWaiter?.(joinError(ErrorCode.FENCED_INSTANCE_ID, old.memberId));
    old.syncWaiter?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    old.joinWaiter = old.syncWaiter = undefined;
    clearTimeout(old.sessionTimer);
    this.members.delete(old.memberId);
    const wasPendingSync = this.pendingSync.delete(old.memberId);
    const member = new ClassicMember(
      newMemberId,
      p.groupInstanceId,
      p.clientId,
      p.clientHost,
      p.sessionTimeoutMs,
      p.rebalanceTimeoutMs,
      p.protocolType,
      old.protocols,
    );
    member.assignment = old.assignment;
    member.isNew = false;
    this.members.set(newMemberId, member);
    this.staticMembers.set(p.groupInstanceId!, newMemberId);
    if (this.leaderId === old.memberId) this.leaderId = newMemberId;
    if (wasPendingSync) this.pendingSync.add(newMemberId);
    if (this.state === "Stable") {
      const before = this.protocolName;
      member.protocols = p.protocols;
      if (this.selectProtocol() !== before) return this.updateMemberAndRebalance(member, p);
      this.scheduleSession(member);
      // The leader of a stable group must not reassign: KIP-345 lets it skip (JoinGroup v9 tells it so).
      const result = this.joinResponseFor(member, member.memberId === this.leaderId);
      return this.host.store(this).then((error) => (error === ErrorCode.NONE ? result : joinError(error, newMemberId)));
    }
    return this.updateMemberAndRebalance(member, p);
  }

  private expirePendingMember(memberId: string): void {
    if (!this.pendingMembers.delete(memberId)) return;
    if (this.state === "PreparingRebalance") this.tryCompleteJoin();
  }

  // --- rebalance ---

  private transition(to: ClassicState): void {
    const from = this.state;
    this.state = to;
    this.stateTimestamp = Date.now();
    this.host.onStateChange(this, from);
  }

  private maybePrepareRebalance(): void {
    if (this.is("Stable", "CompletingRebalance", "Empty")) this.prepareRebalance();
  }

  private prepareRebalance(): void {
    if (this.state === "CompletingRebalance") this.resetAndPropagateAssignmentError(ErrorCode.REBALANCE_IN_PROGRESS);
    clearTimeout(this.syncTimer);
    this.pendingSync.clear();
    const initial = this.state === "Empty";
    this.transition("PreparingRebalance");
    clearTimeout(this.joinTimer);
    if (initial) {
      // group.initial.rebalance.delay.ms: wait for more first members, extended while they keep coming,
      // but never past the rebalance timeout.
      const delay = this.host.initialRebalanceDelayMs;
      this.initialJoinRunning = true;
      this.newMemberAdded = false;
      this.scheduleInitialJoin(delay, Math.max(this.maxRebalanceTimeoutMs() - delay, 0));
    } else {
      this.joinTimer = setTimeout(() => this.completeJoin(), this.maxRebalanceTimeoutMs());
      this.joinTimer.unref();
    }
  }

  private scheduleInitialJoin(delay: number, remaining: number): void {
    this.joinTimer = setTimeout(() => {
      if (this.state !== "PreparingRebalance") return;
      if (this.newMemberAdded && remaining > 0) {
        this.newMemberAdded = false;
        const next = Math.min(this.host.initialRebalanceDelayMs, remaining);
        this.scheduleInitialJoin(next, Math.max(remaining - next, 0));
        return;
      }
      this.completeJoin();
    }, delay);
    this.joinTimer.unref();
  }

  private tryCompleteJoin(): void {
    if (this.state !== "PreparingRebalance" || this.initialJoinRunning) return;
    if (this.pendingMembers.size > 0) return;
    for (const m of this.members.values()) if (m.joinWaiter === undefined) return;
    this.completeJoin();
  }

  private completeJoin(): void {
    if (this.state !== "PreparingRebalance") return;
    clearTimeout(this.joinTimer);
    this.initialJoinRunning = false;
    // Members that did not rejoin in time are out.
    for (const m of [...this.members.values()]) if (m.joinWaiter === undefined) this.removeMember(m);
    this.generationId++;
    if (this.members.size === 0) {
      this.protocolName = null;
      this.transition("Empty");
      void this.host.store(this);
      return;
    }
    this.protocolName = this.selectProtocol();
    if (this.leaderId === null || !this.members.has(this.leaderId)) this.leaderId = this.members.keys().next().value!;
    this.transition("CompletingRebalance");
    for (const m of this.members.values()) {
      this.pendingSync.add(m.memberId);
      const waiter = m.joinWaiter!;
      m.joinWaiter = undefined;
      m.isNew = false;
      this.scheduleSession(m);
      waiter(this.joinResponseFor(m, false));
    }
    const generation = this.generationId;
    this.syncTimer = setTimeout(() => this.expirePendingSync(generation), this.maxRebalanceTimeoutMs());
    this.syncTimer.unref();
  }

  /** Members that did not send SyncGroup within the rebalance timeout are removed (Kafka 2.8+). */
  private expirePendingSync(generation: number): void {
    if (generation !== this.generationId || !this.is("CompletingRebalance", "Stable")) return;
    const late = [...this.pendingSync];
    this.pendingSync.clear();
    if (late.length === 0) return;
    for (const id of late) {
      const m = this.members.get(id);
      if (m !== undefined) this.removeMember(m);
    }
    this.prepareRebalance();
    this.tryCompleteJoin();
  }

  private resetAndPropagateAssignmentError(errorCode: number): void {
    for (const m of this.members.values()) {
      m.assignment = EMPTY;
      const waiter = m.syncWaiter;
      m.syncWaiter = undefined;
      waiter?.(syncError(errorCode));
    }
  }

  // --- SyncGroup ---

  async sync(
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    protocolType: string | null,
    protocolName: string | null,
    assignments: ReadonlyMap<string, Buffer>,
  ): Promise<SyncResult> {
    if (this.state === "Dead") return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    // Kafka's order: the member, then the generation, then the protocol (v5+).
    const error = this.validateMember(memberId, groupInstanceId);
    if (error !== ErrorCode.NONE) return syncError(error);
    if (generationId !== this.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION);
    if (
      (protocolType !== null && protocolType !== this.protocolType) ||
      (protocolName !== null && protocolName !== this.protocolName)
    ) {
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    const member = this.members.get(memberId)!;
    switch (this.state) {
      case "PreparingRebalance":
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      case "Stable":
        this.scheduleSession(member);
        return this.syncResult(member.assignment);
      case "CompletingRebalance": {
        this.pendingSync.delete(memberId);
        this.scheduleSession(member);
        const synced = new Promise<SyncResult>((resolve) => {
          member.syncWaiter?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
          member.syncWaiter = resolve;
        });
        if (memberId === this.leaderId) {
          for (const m of this.members.values()) m.assignment = assignments.get(m.memberId) ?? EMPTY;
          const generation = this.generationId;
          const stored = await this.host.store(this);
          if (this.state === "CompletingRebalance" && this.generationId === generation) {
            if (stored !== ErrorCode.NONE) {
              this.resetAndPropagateAssignmentError(stored);
              this.prepareRebalance();
            } else {
              for (const m of this.members.values()) {
                const waiter = m.syncWaiter;
                m.syncWaiter = undefined;
                waiter?.(this.syncResult(m.assignment));
              }
              this.transition("Stable");
            }
          }
        }
        return synced;
      }
      default:
        return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    }
  }

  private syncResult(assignment: Buffer): SyncResult {
    return { errorCode: ErrorCode.NONE, protocolType: this.protocolType, protocolName: this.protocolName, assignment };
  }

  // --- Heartbeat ---

  heartbeat(memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.state === "Dead") return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const error = this.validateMember(memberId, groupInstanceId);
    if (error !== ErrorCode.NONE) return error;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.scheduleSession(this.members.get(memberId)!);
    return this.state === "PreparingRebalance" ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  /** A valid member's offset commit counts as a sign of life. */
  touch(memberId: string): void {
    const m = this.members.get(memberId);
    if (m !== undefined) this.scheduleSession(m);
  }

  // --- LeaveGroup ---

  /** One leaving member; returns its error code and the member id it resolved to. */
  leave(memberId: string, groupInstanceId: string | null): { errorCode: number; memberId: string } {
    if (this.state === "Dead") return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId };
    let id = memberId;
    if (groupInstanceId !== null) {
      const known = this.staticMembers.get(groupInstanceId);
      if (known === undefined) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, memberId };
      if (id !== "" && id !== known) return { errorCode: ErrorCode.FENCED_INSTANCE_ID, memberId };
      id = known;
    }
    const pending = this.pendingMembers.get(id);
    if (pending !== undefined) {
      clearTimeout(pending);
      this.pendingMembers.delete(id);
      if (this.state === "PreparingRebalance") this.tryCompleteJoin();
      return { errorCode: ErrorCode.NONE, memberId: id };
    }
    const member = this.members.get(id);
    if (member === undefined) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, memberId: id };
    this.removeMemberAndUpdateGroup(member);
    return { errorCode: ErrorCode.NONE, memberId: id };
  }

  // --- membership ---

  private scheduleSession(member: ClassicMember): void {
    clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => this.expireSession(member), member.sessionTimeoutMs);
    member.sessionTimer.unref();
  }

  private expireSession(member: ClassicMember): void {
    if (this.members.get(member.memberId) !== member) return;
    // Members waiting on a JoinGroup or SyncGroup answer cannot heartbeat on that connection.
    if (member.joinWaiter !== undefined || member.syncWaiter !== undefined) {
      this.scheduleSession(member);
      return;
    }
    this.removeMemberAndUpdateGroup(member);
  }

  private removeMember(member: ClassicMember): void {
    clearTimeout(member.sessionTimer);
    member.sessionTimer = undefined;
    this.members.delete(member.memberId);
    this.pendingSync.delete(member.memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === member.memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === member.memberId) this.leaderId = this.members.keys().next().value ?? null;
  }

  private removeMemberAndUpdateGroup(member: ClassicMember): void {
    const joinWaiter = member.joinWaiter;
    const syncWaiter = member.syncWaiter;
    member.joinWaiter = member.syncWaiter = undefined;
    joinWaiter?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.memberId));
    syncWaiter?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    this.removeMember(member);
    if (this.is("Stable", "CompletingRebalance")) this.prepareRebalance();
    this.tryCompleteJoin();
  }

  /** The group is deleted (DeleteGroups, expiry) or the broker stops: answer every waiter, stop every timer. */
  shutdown(errorCode: number, dead: boolean): void {
    clearTimeout(this.joinTimer);
    clearTimeout(this.syncTimer);
    for (const t of this.pendingMembers.values()) clearTimeout(t);
    this.pendingMembers.clear();
    for (const m of this.members.values()) {
      clearTimeout(m.sessionTimer);
      const joinWaiter = m.joinWaiter;
      const syncWaiter = m.syncWaiter;
      m.joinWaiter = m.syncWaiter = undefined;
      joinWaiter?.(joinError(errorCode, m.memberId));
      syncWaiter?.(syncError(errorCode));
    }
    if (dead) {
      this.members.clear();
      this.staticMembers.clear();
      this.transition("Dead");
    }
  }

  // --- persistence ---

  toRecord(): GroupMetadataValue {
    return createGroupMetadataValue({
      protocolType: this.protocolType ?? "",
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestamp: BigInt(this.stateTimestamp),
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: m.metadataFor(this.protocolName),
        assignment: m.assignment,
      })),
    });
  }

  /** Restores a group read from `__consumer_offsets`: Stable with its members, or Empty. */
  restore(value: GroupMetadataValue): void {
    this.protocolType = value.protocolType === "" ? null : value.protocolType;
    this.generationId = value.generation;
    this.protocolName = value.protocol;
    this.leaderId = value.leader;
    if (value.currentStateTimestamp >= 0n) this.stateTimestamp = Number(value.currentStateTimestamp);
    this.members.clear();
    this.staticMembers.clear();
    for (const v of value.members) {
      const m = new ClassicMember(
        v.memberId,
        v.groupInstanceId,
        v.clientId,
        v.clientHost,
        v.sessionTimeout,
        v.rebalanceTimeout,
        value.protocolType,
        value.protocol !== null ? [{ name: value.protocol, metadata: v.subscription }] : [],
      );
      m.assignment = v.assignment;
      m.isNew = false;
      this.members.set(m.memberId, m);
      if (m.groupInstanceId !== null) this.staticMembers.set(m.groupInstanceId, m.memberId);
    }
    this.state = this.members.size > 0 ? "Stable" : "Empty";
  }

  /** After loading: members must heartbeat within their session timeout. */
  startSessions(): void {
    for (const m of this.members.values()) this.scheduleSession(m);
  }
}

/** Topics of a ConsumerProtocolSubscription (any version: int16 version, then an array of strings). */
export function readSubscriptionTopics(metadata: Buffer): string[] | undefined {
  try {
    let off = 2;
    const n = metadata.readInt32BE(off);
    off += 4;
    const topics: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = metadata.readInt16BE(off);
      off += 2;
      topics.push(metadata.toString("utf8", off, off + len));
      off += len;
    }
    return topics;
  } catch {
    return undefined;
  }
}
