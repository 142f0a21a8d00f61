import { createHash } from "node:crypto";
import type { StreamsGroupHeartbeatRequest, StreamsGroupMemberMetadataValue } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import {
  EpochGroup,
  EpochMember,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  STABLE,
} from "../group/epoch-group.js";
import { assignTasks } from "./assignor.js";
import {
  currentMemberRecord,
  groupRecord,
  memberRecord,
  targetMemberRecord,
  targetMetadataRecord,
  topologyRecord,
  type CurrentAssignment,
  type StreamsRecord,
} from "./records.js";
import {
  KINDS,
  eachTask,
  fromWire,
  has,
  intersect,
  isEmpty,
  minus,
  noTasks,
  sameTasks,
  taskKey,
  taskMapOf,
  type TaskMap,
  type Tasks,
} from "./tasks.js";
import {
  Status,
  configureTopology,
  externalSources,
  fromRequest,
  topologyTopics,
  type ConfiguredTopology,
  type InternalTopic,
  type StatusEntry,
  type Topology,
} from "./topology.js";

/**
 * A streams group (KIP-1071) after Kafka 4.4's StreamsGroup and its CurrentAssignmentBuilder. Members
 * (stream threads, each with its own member id; threads of one instance share a process id) join with
 * epoch 0 and the application's topology; the first one sets the group's topology. The group epoch moves
 * when members come or go or change what the assignment depends on (process, rack, client tags), when
 * the topology or the topics it reads change, or when the number of standbys changes; a target
 * assignment of tasks (`assignor.ts`) is then computed at that epoch, once the topology is ready
 * (`topology.ts`: nothing missing or wrongly partitioned). Each member converges to its target on its
 * own heartbeats: tasks it must give up are revoked first (its epoch stays until it reports them gone),
 * and an active task still running in another process, or a standby still active in its own process,
 * is given only once released. Every change is also given as Kafka's streams group records, written
 * to `__consumer_offsets` and replayed at start-up.
 */

/** Member states as Kafka stores them in StreamsGroupCurrentMemberAssignmentValue. */
export const MemberState = { STABLE, UNREVOKED_TASKS: 1, UNRELEASED_TASKS: 2 } as const;

export type StreamsGroupState = "Empty" | "NotReady" | "Assigning" | "Reconciling" | "Stable" | "Dead";

/** What a group reads of its settings, at each use (group configs may change). */
export interface StreamsSettings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  numStandbys: number;
  initialRebalanceDelayMs: number;
  assignmentIntervalMs: number;
  maxSize: number;
}

export interface StreamsGroupHost {
  settings(groupId: string): StreamsSettings;
  /** The partition count of a topic, undefined when it does not exist. */
  partitionsOf(name: string): number | undefined;
  topicNames(): string[];
  /** Appends the group's records in order; resolves to an error code once they are written. */
  persist(group: StreamsGroup, records: StreamsRecord[]): Promise<number>;
  log(message: string): void;
}

export interface Endpoint {
  host: string;
  port: number;
}

export class StreamsMember extends EpochMember {
  topologyEpoch = 0;
  processId = "";
  userEndpoint: Endpoint | null = null;
  clientTags: { key: string; value: string }[] = [];
  state: number = MemberState.STABLE;
  assigned: Tasks = noTasks();
  pendingRevocation: Tasks = noTasks();
  /** The member epoch at which each active task (assigned or pending revocation) was given: commits of older epochs may name it. */
  activeEpochs = new Map<string, number>();
  taskOffsets: { subtopologyId: string; partition: number; offset: bigint }[] = [];
  taskEndOffsets: { subtopologyId: string; partition: number; offset: bigint }[] = [];
}

export interface StreamsHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  member?: StreamsMember;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  status: StatusEntry[];
  /** The member's tasks when the answer carries them. */
  tasks: Tasks | null;
  endpointInformationEpoch: number;
  /** Every member's endpoint and partitions, when the member's view of them is out of date. */
  endpoints: { endpoint: Endpoint; active: Map<string, number[]>; standby: Map<string, number[]> }[] | null;
  /** Internal topics the topology needs that do not exist: the caller creates them (Kafka's KafkaApis does). */
  creatableTopics: InternalTopic[];
  /** The heartbeat's records written (an error code): it is answered after, as Kafka answers. */
  written?: Promise<number>;
}

/** A heartbeat answered with an error: nothing else in it. */
export function streamsFailure(errorCode: number, errorMessage: string | null): StreamsHeartbeatResult {
  return {
    errorCode,
    errorMessage,
    memberEpoch: 0,
    heartbeatIntervalMs: 0,
    status: [],
    tasks: null,
    endpointInformationEpoch: 0,
    endpoints: null,
    creatableTopics: [],
  };
}

export class StreamsGroup extends EpochGroup<StreamsMember> {
  readonly kind = "streams";
  metadataHash = 0n;
  validatedTopologyEpoch = -1;
  topology: Topology | undefined;
  configured: ConfiguredTopology | undefined;
  private target = new Map<string, Tasks>();
  /** The member that asked for the application to shut down, until the group is empty. */
  shutdownRequestedBy: string | undefined;
  /** Moves when any member's endpoint or tasks change, so that members learn the new map. */
  endpointInformationEpoch = 0;
  /** When the first assignment may be computed (group.streams.initial.rebalance.delay.ms). */
  private firstAssignmentAt: number | undefined;
  /** When the last assignment was computed (the next one waits group.streams.assignment.interval.ms). */
  private lastAssignmentAt: number | undefined;

  constructor(
    groupId: string,
    private readonly host: StreamsGroupHost,
  ) {
    super(groupId);
  }

  get state(): StreamsGroupState {
    if (this.dead) return "Dead";
    if (this.members.size === 0) return "Empty";
    if (this.configured?.tasks === undefined) return "NotReady";
    if (this.groupEpoch > this.assignmentEpoch) return "Assigning";
    return this.reconciled() ? "Stable" : "Reconciling";
  }

  targetOf(memberId: string): Tasks {
    return this.target.get(memberId) ?? noTasks();
  }

  /** The source topics (external and repartition) of the topology: an offset for them counts as "subscribed". */
  subscribedTopics(): Set<string> {
    const out = new Set<string>();
    for (const s of this.topology?.subtopologies ?? []) {
      for (const n of externalSources(s, this.host.topicNames())) out.add(n);
      for (const r of s.repartitionSourceTopics) out.add(r.name);
    }
    return out;
  }

  /**
   * OffsetCommit's check, as Kafka 4.4's: the member's epoch, or an older one for partitions of active
   * tasks it was given at that epoch or before (a member still committing after a rebalance moved on).
   */
  validateCommit(memberId: string, memberEpoch: number): number | ((topic: string, partition: number) => number) {
    const m = this.members.get(memberId);
    if (m === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    // A newer epoch than the member's is stale too, as Kafka 4.4 answers a streams member's commit.
    if (memberEpoch > m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    if (memberEpoch === m.memberEpoch) return ErrorCode.NONE;
    const names = this.host.topicNames();
    return (topic, partition) => {
      for (const s of this.topology?.subtopologies ?? []) {
        const sources = [...externalSources(s, names), ...s.repartitionSourceTopics.map((r) => r.name)];
        if (!sources.includes(topic)) continue;
        const given = m.activeEpochs.get(taskKey(s.subtopologyId, partition));
        if (given !== undefined && given <= memberEpoch) return ErrorCode.NONE;
      }
      return ErrorCode.STALE_MEMBER_EPOCH;
    };
  }

  heartbeat(req: StreamsGroupHeartbeatRequest, clientId: string, clientHost: string): StreamsHeartbeatResult {
    if (this.dead) return streamsFailure(ErrorCode.COORDINATOR_NOT_AVAILABLE, "The coordinator is not available.");
    const epoch = req.memberEpoch;
    if (epoch === LEAVE_GROUP_MEMBER_EPOCH || epoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return this.leave(req);
    const settings = this.host.settings(this.groupId);
    const records: StreamsRecord[] = [];
    const status: StatusEntry[] = [];
    let member: StreamsMember;
    let bump = false;
    if (epoch === 0) {
      const joined = this.join(req, settings, records);
      if (!("bump" in joined)) return joined;
      member = joined.member;
      bump = joined.bump;
    } else {
      const existing = this.members.get(req.memberId);
      if (existing === undefined)
        return streamsFailure(
          ErrorCode.UNKNOWN_MEMBER_ID,
          `Member ${req.memberId} is not a member of group ${this.groupId}.`,
        );
      if (epoch !== existing.memberEpoch) {
        // A member that missed our last answer may come back with its previous epoch, owning a subset.
        const owned = this.ownedTasks(req);
        const subset =
          owned !== null &&
          KINDS.every((k) => [...eachTask(owned[k])].every(([s, p]) => has(existing.assigned[k], s, p)));
        if (epoch > existing.memberEpoch || epoch !== existing.previousMemberEpoch || !subset)
          return streamsFailure(
            ErrorCode.FENCED_MEMBER_EPOCH,
            `The received member epoch ${epoch} does not match the expected member epoch ${existing.memberEpoch}.`,
          );
      }
      member = existing;
    }
    if (this.updateMember(member, req, clientId, clientHost)) bump = true;
    if (bump || epoch === 0) records.push(memberRecord(this.groupId, member.memberId, this.memberValue(member)));
    if (req.shutdownApplication && this.shutdownRequestedBy === undefined) {
      this.shutdownRequestedBy = member.memberId;
      this.host.log(`group ${this.groupId}: member ${member.memberId} requested the shutdown of the application`);
    }

    // The topics the topology reads may have changed (or the internal ones been created).
    const hash = this.topicsHash();
    if (hash !== this.metadataHash || this.configured === undefined) {
      if (hash !== this.metadataHash) bump = true;
      this.metadataHash = hash;
      this.configure();
    }
    if (this.lastStandbys !== settings.numStandbys) {
      if (this.lastStandbys !== undefined) bump = true;
      this.lastStandbys = settings.numStandbys;
    }
    if (bump) this.bumpEpoch(records);
    const delayed = this.maybeComputeTarget(settings, records);

    const before = member.assigned;
    this.reconcile(member, this.ownedTasks(req), records);
    this.scheduleSession(member, settings.sessionTimeoutMs);
    const written = this.host.persist(this, records);

    status.push(...(this.configured?.status ?? []));
    if (delayed !== undefined)
      status.push({
        statusCode: Status.ASSIGNMENT_DELAYED,
        statusDetail: `Assignment delayed due to the configured ${delayed}.`,
      });
    if (this.shutdownRequestedBy !== undefined)
      status.push({
        statusCode: Status.SHUTDOWN_APPLICATION,
        statusDetail: `Streams group member ${this.shutdownRequestedBy} encountered a fatal error and requested a shutdown for the entire application.`,
      });
    if (this.topology !== undefined && member.topologyEpoch < this.topology.epoch)
      status.push({
        statusCode: Status.STALE_TOPOLOGY,
        statusDetail: `The member's topology epoch ${member.topologyEpoch} is behind the group's topology epoch ${this.topology.epoch}.`,
      });

    const changed = !sameTasks(before, member.assigned);
    if (changed) this.endpointInformationEpoch++;
    const owned = this.ownedTasks(req);
    const full = epoch === 0 || changed || (owned !== null && !sameTasks(owned, member.assigned));
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      member,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      status,
      tasks: full ? member.assigned : null,
      endpointInformationEpoch: this.endpointInformationEpoch,
      endpoints: req.endpointInformationEpoch === this.endpointInformationEpoch ? null : this.endpoints(),
      creatableTopics: this.configured?.toCreate ?? [],
      written,
    };
  }

  private lastStandbys: number | undefined;
  /** Whether the join being handled set the group's topology. */
  private topologyChanged = false;

  /** The tasks a heartbeat says its member owns; null when it did not say (unchanged). */
  private ownedTasks(req: StreamsGroupHeartbeatRequest): Tasks | null {
    if (req.activeTasks === null && req.standbyTasks === null && req.warmupTasks === null) return null;
    return {
      active: fromWire(req.activeTasks ?? []),
      standby: fromWire(req.standbyTasks ?? []),
      warmup: fromWire(req.warmupTasks ?? []),
    };
  }

  private join(
    req: StreamsGroupHeartbeatRequest,
    settings: StreamsSettings,
    records: StreamsRecord[],
  ): { member: StreamsMember; bump: boolean } | StreamsHeartbeatResult {
    let member = this.members.get(req.memberId);
    const empty = this.members.size === 0;
    let successor = false;
    if (member === undefined && req.instanceId !== null) {
      const oldId = this.staticMembers.get(req.instanceId);
      const old = oldId === undefined ? undefined : this.members.get(oldId);
      if (old !== undefined) {
        if (old.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH)
          return streamsFailure(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${req.memberId} with instance id ${req.instanceId} cannot join the group because the instance id is owned by ${old.memberId} member.`,
          );
        member = this.succeed(old, req.memberId, records);
        successor = true;
      }
    }
    if (member === undefined && this.members.size >= settings.maxSize)
      return streamsFailure(
        ErrorCode.GROUP_MAX_SIZE_REACHED,
        `The streams group has reached its maximum capacity of ${settings.maxSize} members.`,
      );
    const topology = fromRequest(req.topology!);
    this.topologyChanged = false;
    if (this.topology === undefined || empty || topology.epoch > this.topology.epoch) {
      this.topologyChanged = true;
      const first = this.topology === undefined;
      this.topology = topology;
      this.configured = undefined;
      records.push(topologyRecord(this.groupId, topology));
      this.host.log(
        `group ${this.groupId}: ${first ? "initialized" : "updated"} the topology at epoch ${topology.epoch}`,
      );
    } else if (topology.epoch < this.topology.epoch) {
      this.host.log(`group ${this.groupId}: member ${req.memberId} joined with stale topology epoch ${topology.epoch}`);
    }
    if (member === undefined) {
      member = new StreamsMember(req.memberId);
    } else if (!successor && (member.memberEpoch !== 0 || !isEmpty(member.assigned))) {
      // Rejoining with epoch 0 (after being fenced): it has let go of everything.
      member.assigned = noTasks();
      member.pendingRevocation = noTasks();
      member.activeEpochs = new Map();
      member.state = MemberState.STABLE;
      member.memberEpoch = 0;
      member.previousMemberEpoch = -1;
    }
    member.topologyEpoch = topology.epoch;
    member.instanceId = req.instanceId;
    if (req.instanceId !== null) this.staticMembers.set(req.instanceId, member.memberId);
    this.members.set(member.memberId, member);
    // A successor changes nothing the assignment depends on: no rebalance, as Kafka.
    return { member, bump: !successor || this.topologyChanged };
  }

  /**
   * A static member that left temporarily (-2) is replaced by a new member with its instance id: the
   * successor takes its place, epoch, tasks and target, as Kafka 4.4 does.
   */
  private succeed(old: StreamsMember, memberId: string, records: StreamsRecord[]): StreamsMember {
    const m = new StreamsMember(memberId);
    for (const key of [
      "rackId",
      "rebalanceTimeoutMs",
      "topologyEpoch",
      "processId",
      "userEndpoint",
      "clientTags",
    ] as const)
      (m as unknown as Record<string, unknown>)[key] = old[key];
    m.assigned = old.assigned;
    m.pendingRevocation = old.pendingRevocation;
    m.activeEpochs = old.activeEpochs;
    m.state = old.state;
    m.memberEpoch = old.previousMemberEpoch;
    m.previousMemberEpoch = old.previousMemberEpoch;
    const target = this.target.get(old.memberId);
    this.removeMember(old, records);
    if (target !== undefined) {
      this.target.set(memberId, target);
      records.push(targetMemberRecord(this.groupId, memberId, target));
    }
    records.push(currentMemberRecord(this.groupId, memberId, this.currentValue(m)));
    return m;
  }

  /** Applies what the heartbeat says of its member; whether the group epoch must move. */
  private updateMember(
    m: StreamsMember,
    req: StreamsGroupHeartbeatRequest,
    clientId: string,
    clientHost: string,
  ): boolean {
    let bump = false;
    m.clientId = clientId;
    m.clientHost = clientHost;
    if (req.rebalanceTimeoutMs > 0) m.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    if (req.rackId !== null && req.rackId !== m.rackId) {
      m.rackId = req.rackId;
      bump = true;
    }
    if (req.processId !== null && req.processId !== m.processId) {
      m.processId = req.processId;
      bump = true;
    }
    if (req.clientTags !== null) {
      const tags = req.clientTags
        .map((t) => ({ key: t.key, value: t.value }))
        .sort((a, b) => a.key.localeCompare(b.key));
      if (JSON.stringify(tags) !== JSON.stringify(m.clientTags)) {
        m.clientTags = tags;
        bump = true;
      }
    }
    if (req.userEndpoint !== null) {
      const e = { host: req.userEndpoint.host, port: req.userEndpoint.port };
      if (m.userEndpoint?.host !== e.host || m.userEndpoint.port !== e.port) {
        m.userEndpoint = e;
        this.endpointInformationEpoch++;
      }
    }
    if (req.taskOffsets !== null) m.taskOffsets = req.taskOffsets.map((t) => ({ ...t }));
    if (req.taskEndOffsets !== null) m.taskEndOffsets = req.taskEndOffsets.map((t) => ({ ...t }));
    return bump;
  }

  private leave(req: StreamsGroupHeartbeatRequest): StreamsHeartbeatResult {
    const member = this.members.get(req.memberId);
    if (member === undefined)
      return streamsFailure(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${req.memberId} is not a member of group ${this.groupId}.`,
      );
    const records: StreamsRecord[] = [];
    const settings = this.host.settings(this.groupId);
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH && member.instanceId !== null) {
      // A static member leaving temporarily keeps its tasks until it comes back or its session ends.
      member.previousMemberEpoch = member.memberEpoch;
      member.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      this.scheduleSession(member, settings.sessionTimeoutMs);
    } else {
      this.removeMember(member, records);
      this.bumpEpoch(records);
    }
    const written = this.host.persist(this, records);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberEpoch: req.memberEpoch,
      heartbeatIntervalMs: 0,
      status: [],
      tasks: null,
      endpointInformationEpoch: this.endpointInformationEpoch,
      endpoints: null,
      creatableTopics: [],
      written,
    };
  }

  /** Session or revocation timeout: the member is fenced out of the group. */
  fence(member: StreamsMember, why: string): void {
    if (this.members.get(member.memberId) !== member) return;
    this.host.log(`group ${this.groupId}: member ${member.memberId} fenced: ${why}`);
    const records: StreamsRecord[] = [];
    this.removeMember(member, records);
    this.bumpEpoch(records);
    void this.host.persist(this, records);
  }

  private removeMember(member: StreamsMember, records: StreamsRecord[]): void {
    clearTimeout(member.sessionTimer);
    clearTimeout(member.revocationTimer);
    this.members.delete(member.memberId);
    if (this.target.delete(member.memberId)) records.push(targetMemberRecord(this.groupId, member.memberId, null));
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === member.memberId)
      this.staticMembers.delete(member.instanceId);
    records.push(currentMemberRecord(this.groupId, member.memberId, null));
    records.push(memberRecord(this.groupId, member.memberId, null));
    this.endpointInformationEpoch++;
    if (this.members.size === 0) this.shutdownRequestedBy = undefined;
  }

  private bumpEpoch(records: StreamsRecord[]): void {
    this.groupEpoch++;
    this.stateTimestamp = Date.now();
    records.push(groupRecord(this.groupId, this.groupValue()));
  }

  groupValue(): { epoch: number; metadataHash: bigint; validatedTopologyEpoch: number } {
    return {
      epoch: this.groupEpoch,
      metadataHash: this.metadataHash,
      validatedTopologyEpoch: this.validatedTopologyEpoch,
    };
  }

  /** A hash of the topics the topology uses, as they exist now (name, partitions): a change moves the epoch. */
  private topicsHash(): bigint {
    if (this.topology === undefined) return 0n;
    const parts = topologyTopics(this.topology, this.host.topicNames()).map(
      (n) => `${n}:${this.host.partitionsOf(n) ?? -1}`,
    );
    return createHash("sha256").update(parts.join(",")).digest().readBigInt64BE(0);
  }

  /** Configures the topology against the topics now (the missing internal topics are named in it). */
  private configure(): void {
    if (this.topology === undefined) return;
    const names = this.host.topicNames();
    this.configured = configureTopology(this.topology, (n) => this.host.partitionsOf(n), names);
    if (this.configured.tasks !== undefined) this.validatedTopologyEpoch = this.topology.epoch;
  }

  /**
   * A new target assignment when the group epoch moved: after the initial rebalance delay for a group's
   * first one, and no sooner than the assignment interval after the last one. What delays it, if anything.
   */
  private maybeComputeTarget(
    settings: StreamsSettings,
    records: StreamsRecord[],
  ): "initial rebalance delay" | "assignment interval" | undefined {
    if (this.assignmentEpoch >= this.groupEpoch) return undefined;
    const now = Date.now();
    if (this.assignmentEpoch === 0 && settings.initialRebalanceDelayMs > 0) {
      this.firstAssignmentAt ??= now + settings.initialRebalanceDelayMs;
      if (now < this.firstAssignmentAt) return "initial rebalance delay";
    }
    if (this.lastAssignmentAt !== undefined && now < this.lastAssignmentAt + settings.assignmentIntervalMs)
      return "assignment interval";
    this.lastAssignmentAt = now;
    const tasks = this.configured?.tasks ?? new Map<string, number>();
    const target = assignTasks({
      members: [...this.members.values()]
        .filter((m) => m.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH || m.instanceId !== null)
        .map((m) => ({
          memberId: m.memberId,
          processId: m.processId,
          previous: {
            active: taskMapOf([...eachTask(m.assigned.active), ...eachTask(m.pendingRevocation.active)]),
            standby: m.assigned.standby,
            warmup: m.assigned.warmup,
          },
        })),
      tasks,
      stateful: this.configured?.stateful ?? new Set(),
      numStandbys: settings.numStandbys,
    });
    for (const [memberId, t] of target) {
      if (!sameTasks(t, this.targetOf(memberId))) records.push(targetMemberRecord(this.groupId, memberId, t));
    }
    this.target = target;
    this.assignmentEpoch = this.groupEpoch;
    records.push(targetMetadataRecord(this.groupId, this.assignmentEpoch, now));
    return undefined;
  }

  /** Whether another member holds the task in a way that keeps it from `member` (see the class comment). */
  private unreleased(kind: "active" | "standby" | "warmup", s: string, p: number, member: StreamsMember): boolean {
    for (const other of this.members.values()) {
      if (other === member) continue;
      const activeThere = has(other.assigned.active, s, p) || has(other.pendingRevocation.active, s, p);
      if (kind === "active" && activeThere && other.processId !== member.processId) return true;
      if (kind !== "active" && activeThere && other.processId === member.processId) return true;
    }
    return false;
  }

  /** Kafka's CurrentAssignmentBuilder for streams: one step of a member towards its target. */
  private reconcile(member: StreamsMember, owned: Tasks | null, records: StreamsRecord[]): void {
    if (member.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return;
    const ownsAny = (t: Tasks): boolean =>
      owned === null ? !isEmpty(t) : KINDS.some((k) => [...eachTask(t[k])].some(([s, p]) => has(owned[k], s, p)));
    if (member.state === MemberState.UNREVOKED_TASKS && ownsAny(member.pendingRevocation)) return;
    if (member.state === MemberState.STABLE && member.memberEpoch === this.assignmentEpoch) return;
    const target = this.targetOf(member.memberId);
    const kept = noTasks();
    const revoke = noTasks();
    const next = noTasks();
    let unreleased = false;
    for (const k of KINDS) {
      kept[k] = intersect(member.assigned[k], target[k]);
      revoke[k] = minus(member.assigned[k], target[k]);
      const free: [string, number][] = [];
      for (const [s, p] of eachTask(minus(target[k], member.assigned[k]))) {
        if (this.unreleased(k, s, p, member)) unreleased = true;
        else free.push([s, p]);
      }
      next[k] = taskMapOf([...eachTask(kept[k]), ...free]);
    }
    if (!isEmpty(revoke) && ownsAny(revoke)) {
      member.assigned = kept;
      member.pendingRevocation = revoke;
      member.state = MemberState.UNREVOKED_TASKS;
      clearTimeout(member.revocationTimer);
      member.revocationTimer = setTimeout(
        () => this.fence(member, `it did not revoke its tasks within ${member.rebalanceTimeoutMs} ms`),
        member.rebalanceTimeoutMs,
      );
      member.revocationTimer.unref();
    } else {
      clearTimeout(member.revocationTimer);
      member.assigned = next;
      member.pendingRevocation = noTasks();
      member.state = unreleased ? MemberState.UNRELEASED_TASKS : MemberState.STABLE;
      if (member.memberEpoch !== this.assignmentEpoch) {
        member.previousMemberEpoch = member.memberEpoch;
        member.memberEpoch = this.assignmentEpoch;
      }
      const epochs = new Map<string, number>();
      for (const [s, p] of eachTask(next.active))
        epochs.set(taskKey(s, p), member.activeEpochs.get(taskKey(s, p)) ?? member.memberEpoch);
      member.activeEpochs = epochs;
    }
    records.push(currentMemberRecord(this.groupId, member.memberId, this.currentValue(member)));
  }

  private scheduleSession(member: StreamsMember, sessionTimeoutMs: number): void {
    clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(
      () => this.fence(member, `its session timed out (${sessionTimeoutMs} ms)`),
      sessionTimeoutMs,
    );
    member.sessionTimer.unref();
  }

  /** Members' endpoints with the source partitions of their tasks (Interactive Queries). */
  private endpoints(): StreamsHeartbeatResult["endpoints"] {
    const topology = this.topology;
    if (topology === undefined) return [];
    const names = this.host.topicNames();
    const partitions = (tasks: TaskMap): Map<string, number[]> => {
      const pairs = new Map<string, Set<number>>();
      for (const [s, p] of eachTask(tasks)) {
        const sub = topology.subtopologies.find((x) => x.subtopologyId === s);
        if (sub === undefined) continue;
        for (const t of [...externalSources(sub, names), ...sub.repartitionSourceTopics.map((r) => r.name)]) {
          if (p >= (this.host.partitionsOf(t) ?? 0)) continue;
          let set = pairs.get(t);
          if (set === undefined) pairs.set(t, (set = new Set()));
          set.add(p);
        }
      }
      return new Map([...pairs].map(([t, set]) => [t, [...set].sort((a, b) => a - b)]));
    };
    const out: NonNullable<StreamsHeartbeatResult["endpoints"]> = [];
    for (const m of this.members.values()) {
      if (m.userEndpoint === null) continue;
      out.push({
        endpoint: m.userEndpoint,
        active: partitions(m.assigned.active),
        standby: partitions(taskMapOf([...eachTask(m.assigned.standby), ...eachTask(m.assigned.warmup)])),
      });
    }
    return out;
  }

  // --- persistence ---

  memberValue(m: StreamsMember): StreamsGroupMemberMetadataValue {
    return {
      instanceId: m.instanceId,
      rackId: m.rackId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      topologyEpoch: m.topologyEpoch,
      processId: m.processId,
      userEndpoint: m.userEndpoint,
      clientTags: m.clientTags,
    };
  }

  currentValue(m: StreamsMember): CurrentAssignment {
    return {
      memberEpoch: m.memberEpoch,
      previousMemberEpoch: m.previousMemberEpoch,
      state: m.state,
      assigned: m.assigned,
      pendingRevocation: m.pendingRevocation,
      activeEpochs: m.activeEpochs,
    };
  }

  /** The records that delete the (empty) group. */
  tombstones(): StreamsRecord[] {
    return [
      targetMetadataRecord(this.groupId, null, 0),
      groupRecord(this.groupId, null),
      topologyRecord(this.groupId, null),
    ];
  }

  restoreGroup(v: { epoch: number; metadataHash: bigint; validatedTopologyEpoch: number }): void {
    this.groupEpoch = v.epoch;
    this.metadataHash = v.metadataHash;
    this.validatedTopologyEpoch = v.validatedTopologyEpoch;
  }

  restoreTopology(t: Topology | null): void {
    this.topology = t ?? undefined;
  }

  restoreMember(memberId: string, v: StreamsGroupMemberMetadataValue | null): void {
    if (v === null) {
      this.members.delete(memberId);
      return;
    }
    const m = this.members.get(memberId) ?? new StreamsMember(memberId);
    m.instanceId = v.instanceId;
    m.rackId = v.rackId;
    m.clientId = v.clientId;
    m.clientHost = v.clientHost;
    m.rebalanceTimeoutMs = v.rebalanceTimeoutMs;
    m.topologyEpoch = v.topologyEpoch;
    m.processId = v.processId;
    m.userEndpoint = v.userEndpoint === null ? null : { host: v.userEndpoint.host, port: v.userEndpoint.port };
    m.clientTags = v.clientTags.map((t) => ({ key: t.key, value: t.value }));
    this.members.set(memberId, m);
  }

  restoreCurrent(memberId: string, v: CurrentAssignment | null): void {
    if (v === null) return;
    const m = this.members.get(memberId) ?? new StreamsMember(memberId);
    m.memberEpoch = v.memberEpoch;
    m.previousMemberEpoch = v.previousMemberEpoch;
    m.state = v.state;
    m.assigned = v.assigned;
    m.pendingRevocation = v.pendingRevocation;
    m.activeEpochs = v.activeEpochs;
    this.members.set(memberId, m);
  }

  restoreTarget(memberId: string, t: Tasks | null): void {
    if (t === null) this.target.delete(memberId);
    else this.target.set(memberId, t);
  }

  restoreAssignmentEpoch(epoch: number | null): void {
    this.assignmentEpoch = epoch ?? 0;
  }

  /** After loading: members' sessions start; the topology is configured again at the next heartbeat. */
  finishLoad(): void {
    const settings = this.host.settings(this.groupId);
    this.lastStandbys = settings.numStandbys;
    for (const m of this.members.values()) {
      if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
      this.scheduleSession(m, settings.sessionTimeoutMs);
    }
  }
}
