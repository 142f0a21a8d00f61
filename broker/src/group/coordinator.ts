import { ZERO_UUID, type ConsumerGroupHeartbeatRequest } from "@tskafka/protocol";
import { hasPartition, type ClusterMetadata } from "../cluster/metadata.js";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import {
  ClassicGroup,
  type ClassicGroupHost,
  type ClassicState,
  type JoinParams,
  type JoinResult,
  type SyncResult,
} from "./classic-group.js";
import { ConsumerGroup, type ConsumerGroupHost, type HeartbeatResult, type TopicView } from "./consumer-group.js";
import type { OffsetsTopic } from "./offsets-topic.js";
import {
  consumerGroupMetadataRecord,
  groupMetadataRecord,
  offsetCommitRecord,
  type CoordinatorRecord,
  type DecodedRecord,
} from "./records.js";

/**
 * The group coordinator of this node (the only one): owns every group of either protocol and their
 * committed offsets, keeps them in `__consumer_offsets`, reloads them at start, and expires old
 * offsets of empty groups after `offsets.retention.minutes`.
 */

export type Group = ClassicGroup | ConsumerGroup;

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Set only by OffsetCommit v1-4 with an explicit retention; -1 otherwise. */
  expireTimestamp: number;
}

export interface CommitRequest {
  groupId: string;
  /** -1 for commits from outside group management. */
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  retentionTimeMs: bigint;
  topics: {
    name: string;
    partitions: {
      partitionIndex: number;
      committedOffset: bigint;
      committedLeaderEpoch: number;
      committedMetadata: string | null;
    }[];
  }[];
  apiVersion: number;
}

export interface TopicPartitionErrors {
  name: string;
  partitions: { partitionIndex: number; errorCode: number }[];
}

export interface FetchedOffsets {
  errorCode: number;
  topics: {
    name: string;
    partitions: {
      partitionIndex: number;
      committedOffset: bigint;
      committedLeaderEpoch: number;
      metadata: string | null;
      errorCode: number;
    }[];
  }[];
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: "classic" | "consumer";
}

/** What the coordinator uses of the broker. */
export interface CoordinatorHost {
  /** The config in force (read at each use: group settings may change). */
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: Pick<ClusterMetadata, "topic" | "topicById" | "topics">;
}

/** The coordinator's operations that handlers use. */
export type GroupService = Pick<
  GroupCoordinator,
  | "join"
  | "sync"
  | "heartbeat"
  | "leave"
  | "consumerHeartbeat"
  | "commitOffsets"
  | "fetchOffsets"
  | "deleteOffsets"
  | "list"
  | "group"
  | "deleteGroup"
  | "ensureOffsetsTopic"
>;

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  /** group -> topic -> partition -> offset */
  private readonly offsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  private readonly writes = new Map<number, Promise<unknown>>();
  private expireTimer: NodeJS.Timeout | undefined;
  private readonly classicHost: ClassicGroupHost;
  private readonly consumerHost: ConsumerGroupHost;

  constructor(
    private readonly host: CoordinatorHost,
    private readonly topic: OffsetsTopic,
  ) {
    const props = host.config.props;
    const metadata = host.metadata;
    this.classicHost = {
      initialRebalanceDelayMs: props["group.initial.rebalance.delay.ms"],
      store: (group) => this.append(group.groupId, [groupMetadataRecord(group.groupId, group.toRecord())]),
      onStateChange: (group, from) =>
        this.host.log.debug(`group ${group.groupId}: ${from} -> ${group.state} (generation ${group.generationId})`),
    };
    const topics: TopicView = {
      byName: (name) => {
        const t = metadata.topic(name);
        return t === undefined ? undefined : { id: t.id, partitions: t.partitions };
      },
      nameOf: (id) => metadata.topicById(id)?.name,
      names: () => metadata.topics().map((t) => t.name),
    };
    this.consumerHost = {
      sessionTimeoutMs: props["group.consumer.session.timeout.ms"],
      heartbeatIntervalMs: props["group.consumer.heartbeat.interval.ms"],
      topics,
      persist: (group, records) => void this.append(group.groupId, records),
      onStateChange: () => undefined,
    };
  }

  private get props(): BrokerConfig["props"] {
    return this.host.config.props;
  }

  /** A group of either protocol, as DescribeGroups and ConsumerGroupDescribe show it. */
  group(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  /** Creates `__consumer_offsets` on first use, as Kafka does when a coordinator is first looked up. */
  ensureOffsetsTopic(): Promise<void> {
    return this.topic.ensureCreated();
  }

  /** Appends in order per `__consumer_offsets` partition. */
  private append(groupId: string, records: CoordinatorRecord[]): Promise<number> {
    if (records.length === 0) return Promise.resolve(ErrorCode.NONE);
    const partition = this.topic.partitionFor(groupId);
    const previous = this.writes.get(partition) ?? Promise.resolve();
    const next = previous
      .then(() => this.topic.append(groupId, records))
      .catch((e: unknown) => {
        this.host.log.error(`group ${groupId}: ${(e as Error).message}`);
        return ErrorCode.UNKNOWN_SERVER_ERROR;
      });
    this.writes.set(partition, next);
    void next.then(() => {
      if (this.writes.get(partition) === next) this.writes.delete(partition);
    });
    return next;
  }

  // --- start and stop ---

  async load(): Promise<void> {
    const started = Date.now();
    const n = await this.topic.load((r) => this.replay(r));
    for (const group of this.groups.values()) {
      if (group.kind === "classic") group.startSessions();
      else group.finishLoad();
    }
    for (const id of this.offsets.keys())
      if (!this.groups.has(id)) this.groups.set(id, new ClassicGroup(id, this.classicHost));
    if (n > 0)
      this.host.log.info(
        `loaded ${this.groups.size} groups from ${n} records of ${this.topic.partitions} offsets partitions in ${Date.now() - started} ms`,
      );
  }

  private replay(r: DecodedRecord): void {
    switch (r.type) {
      case "offset": {
        if (r.value === null) {
          this.deleteOffset(r.group, r.topic, r.partition);
          return;
        }
        const v = r.value;
        this.setOffset(r.group, r.topic, r.partition, {
          offset: v.offset,
          leaderEpoch: v.leaderEpoch,
          metadata: v.metadata,
          commitTimestamp: Number(v.commitTimestamp),
          expireTimestamp: Number(v.expireTimestamp),
        });
        return;
      }
      case "group": {
        if (r.value === null) {
          if (this.groups.get(r.group)?.kind === "classic") this.groups.delete(r.group);
          return;
        }
        const group = new ClassicGroup(r.group, this.classicHost);
        group.restore(r.value);
        this.groups.set(r.group, group);
        return;
      }
      case "consumer-group": {
        if (r.value === null) {
          if (this.groups.get(r.group)?.kind === "consumer") this.groups.delete(r.group);
          return;
        }
        this.consumerGroupForLoad(r.group).groupEpoch = r.value.epoch;
        return;
      }
      case "consumer-member":
        this.consumerGroupForLoad(r.group).restoreMember(r.memberId, r.value);
        return;
      case "consumer-assignment":
        if (r.value !== null) this.consumerGroupForLoad(r.group).restoreAssignment(r.memberId, r.value);
        return;
    }
  }

  private consumerGroupForLoad(groupId: string): ConsumerGroup {
    const g = this.groups.get(groupId);
    if (g?.kind === "consumer") return g;
    const created = new ConsumerGroup(groupId, this.consumerHost);
    this.groups.set(groupId, created);
    return created;
  }

  start(): void {
    if (this.expireTimer !== undefined) return;
    this.expireTimer = setInterval(() => void this.expireOffsets(), this.props["offsets.retention.check.interval.ms"]);
    this.expireTimer.unref();
  }

  /** Answers every waiting JoinGroup/SyncGroup (NOT_COORDINATOR, as Kafka does on unload) and stops every timer. */
  stop(): void {
    clearInterval(this.expireTimer);
    this.expireTimer = undefined;
    for (const g of this.groups.values()) {
      if (g.kind === "classic") g.shutdown(ErrorCode.NOT_COORDINATOR, false);
      else g.shutdown(false);
    }
  }

  /** Waits for queued writes (before the logs close). */
  async flush(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }

  // --- classic protocol ---

  private classicGroupFor(groupId: string, create: boolean): ClassicGroup | number {
    const g = this.groups.get(groupId);
    if (g === undefined) {
      if (!create) return ErrorCode.UNKNOWN_MEMBER_ID;
      const created = new ClassicGroup(groupId, this.classicHost);
      this.groups.set(groupId, created);
      return created;
    }
    if (g.kind === "classic") return g;
    // An empty consumer group may be taken over by the classic protocol, as Kafka allows.
    if (create && g.members.size === 0) {
      void this.append(groupId, [consumerGroupMetadataRecord(groupId, null)]);
      g.shutdown(true);
      const created = new ClassicGroup(groupId, this.classicHost);
      this.groups.set(groupId, created);
      return created;
    }
    return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
  }

  join(groupId: string, p: JoinParams): JoinResult | Promise<JoinResult> {
    const fail = (errorCode: number): JoinResult => ({
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: "",
      memberId: p.memberId,
      skipAssignment: false,
      members: [],
    });
    if (groupId === "") return fail(ErrorCode.INVALID_GROUP_ID);
    if (
      p.sessionTimeoutMs < this.props["group.min.session.timeout.ms"] ||
      p.sessionTimeoutMs > this.props["group.max.session.timeout.ms"]
    ) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    const group = this.classicGroupFor(groupId, p.memberId === "");
    if (typeof group === "number") return fail(group);
    const isNew = p.memberId === "" || group.pendingMembers.has(p.memberId);
    if (isNew && p.groupInstanceId === null && group.members.size >= this.props["group.max.size"])
      return fail(ErrorCode.GROUP_MAX_SIZE_REACHED);
    return group.join(p);
  }

  sync(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    protocolType: string | null,
    protocolName: string | null,
    assignments: ReadonlyMap<string, Buffer>,
  ): SyncResult | Promise<SyncResult> {
    const fail = (errorCode: number): SyncResult => ({
      errorCode,
      protocolType: null,
      protocolName: null,
      assignment: Buffer.alloc(0),
    });
    if (groupId === "") return fail(ErrorCode.INVALID_GROUP_ID);
    const group = this.classicGroupFor(groupId, false);
    if (typeof group === "number") return fail(group);
    return group.sync(memberId, groupInstanceId, generationId, protocolType, protocolName, assignments);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (groupId === "") return ErrorCode.INVALID_GROUP_ID;
    const group = this.classicGroupFor(groupId, false);
    if (typeof group === "number") return group;
    return group.heartbeat(memberId, groupInstanceId, generationId);
  }

  leave(
    groupId: string,
    members: readonly { memberId: string; groupInstanceId: string | null }[],
  ): { errorCode: number; members: { memberId: string; groupInstanceId: string | null; errorCode: number }[] } {
    if (groupId === "") return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.classicGroupFor(groupId, false);
    if (typeof group === "number") {
      return {
        errorCode: ErrorCode.NONE,
        members: members.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      members: members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        errorCode: group.leave(m.memberId, m.groupInstanceId).errorCode,
      })),
    };
  }

  // --- consumer protocol (KIP-848) ---

  consumerHeartbeat(req: ConsumerGroupHeartbeatRequest, clientId: string, clientHost: string): HeartbeatResult {
    const fail = (errorCode: number, errorMessage: string): HeartbeatResult => ({
      errorCode,
      errorMessage,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    if (req.groupId === "") return fail(ErrorCode.INVALID_REQUEST, "GroupId can't be empty.");
    if (req.instanceId === "") return fail(ErrorCode.INVALID_REQUEST, "InstanceId can't be empty.");
    if (req.rackId === "") return fail(ErrorCode.INVALID_REQUEST, "RackId can't be empty.");
    if (req.memberEpoch < -2) return fail(ErrorCode.INVALID_REQUEST, `MemberEpoch is invalid: ${req.memberEpoch}.`);
    if (req.memberEpoch !== 0 && req.memberId === "")
      return fail(ErrorCode.INVALID_REQUEST, "MemberId can't be empty.");
    if (req.memberEpoch === 0 && req.rebalanceTimeoutMs === -1)
      return fail(ErrorCode.INVALID_REQUEST, "RebalanceTimeoutMs must be provided in first request.");
    let group = this.groups.get(req.groupId);
    let created = false;
    if (group === undefined || (group.kind === "classic" && group.members.size === 0 && req.memberEpoch === 0)) {
      if (req.memberEpoch !== 0) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${req.groupId} not found.`);
      if (group !== undefined) {
        group.shutdown(ErrorCode.NOT_COORDINATOR, true);
        void this.append(req.groupId, [groupMetadataRecord(req.groupId, null)]);
      }
      group = new ConsumerGroup(req.groupId, this.consumerHost);
      this.groups.set(req.groupId, group);
      created = true;
    }
    if (group.kind !== "consumer")
      return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group.`);
    const result = group.heartbeat(req, clientId, clientHost);
    // A join that failed leaves no group behind (Kafka creates it only with its first member).
    if (created && result.errorCode !== ErrorCode.NONE && group.members.size === 0) this.groups.delete(req.groupId);
    return result;
  }

  // --- offsets ---

  private setOffset(groupId: string, topic: string, partition: number, o: CommittedOffset): void {
    let byTopic = this.offsets.get(groupId);
    if (byTopic === undefined) this.offsets.set(groupId, (byTopic = new Map()));
    let byPartition = byTopic.get(topic);
    if (byPartition === undefined) byTopic.set(topic, (byPartition = new Map()));
    byPartition.set(partition, o);
  }

  /** Drops one committed offset, and the maps that become empty with it. */
  private deleteOffset(groupId: string, topic: string, partition: number): void {
    const byTopic = this.offsets.get(groupId);
    const byPartition = byTopic?.get(topic);
    if (byTopic === undefined || byPartition === undefined) return;
    byPartition.delete(partition);
    if (byPartition.size === 0) byTopic.delete(topic);
    if (byTopic.size === 0) this.offsets.delete(groupId);
  }

  /** The group-level check of a commit: an error for every partition, or NONE. */
  private validateCommit(req: CommitRequest): number {
    const epoch = req.generationIdOrMemberEpoch;
    let group = this.groups.get(req.groupId);
    if (group === undefined) {
      // Commits from outside group management create a "simple" group.
      if (epoch >= 0) return req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
      group = new ClassicGroup(req.groupId, this.classicHost);
      this.groups.set(req.groupId, group);
      return ErrorCode.NONE;
    }
    if (group.kind === "consumer") {
      if (group.state === "Dead") return ErrorCode.COORDINATOR_NOT_AVAILABLE;
      if (epoch < 0 && group.members.size === 0) return ErrorCode.NONE;
      return group.validateMemberEpoch(req.memberId, epoch);
    }
    if (group.state === "Dead") return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (epoch < 0 && group.state === "Empty") return ErrorCode.NONE;
    if (epoch >= 0 || req.memberId !== "" || req.groupInstanceId !== null) {
      const error = group.validateMember(req.memberId, req.groupInstanceId);
      if (error !== ErrorCode.NONE) return error;
      if (epoch !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (group.state !== "Empty") {
      // Neither a member nor a generation, but the group has members: not one of them.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (group.state === "CompletingRebalance") return ErrorCode.REBALANCE_IN_PROGRESS;
    group.touch(req.memberId);
    return ErrorCode.NONE;
  }

  async commitOffsets(req: CommitRequest): Promise<TopicPartitionErrors[]> {
    const groupError = req.groupId === "" && req.apiVersion > 0 ? ErrorCode.INVALID_GROUP_ID : this.validateCommit(req);
    const result: TopicPartitionErrors[] = [];
    const records: CoordinatorRecord[] = [];
    const applied: { topic: string; partition: number; value: CommittedOffset; out: { errorCode: number } }[] = [];
    const now = Date.now();
    const maxMetadata = this.props["offset.metadata.max.bytes"];
    const retention = req.retentionTimeMs;
    for (const t of req.topics) {
      const partitions: TopicPartitionErrors["partitions"] = [];
      result.push({ name: t.name, partitions });
      const info = this.host.metadata.topic(t.name);
      for (const p of t.partitions) {
        const out = { partitionIndex: p.partitionIndex, errorCode: groupError };
        partitions.push(out);
        if (groupError !== ErrorCode.NONE) continue;
        if (!hasPartition(info, p.partitionIndex)) {
          out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        const metadata = p.committedMetadata ?? "";
        if (Buffer.byteLength(metadata) > maxMetadata) {
          out.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
          continue;
        }
        const value: CommittedOffset = {
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata,
          commitTimestamp: now,
          expireTimestamp: retention >= 0n ? now + Number(retention) : -1,
        };
        records.push(
          offsetCommitRecord(req.groupId, t.name, p.partitionIndex, {
            offset: value.offset,
            leaderEpoch: value.leaderEpoch,
            metadata,
            commitTimestamp: BigInt(now),
            expireTimestamp: BigInt(value.expireTimestamp),
            topicId: ZERO_UUID,
          }),
        );
        applied.push({ topic: t.name, partition: p.partitionIndex, value, out });
      }
    }
    if (records.length > 0) {
      const error = await this.append(req.groupId, records);
      for (const a of applied) {
        if (error === ErrorCode.NONE) this.setOffset(req.groupId, a.topic, a.partition, a.value);
        else a.out.errorCode = error;
      }
    }
    return result;
  }

  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
    member: { memberId: string | null; memberEpoch: number } | null,
  ): FetchedOffsets {
    const group = this.groups.get(groupId);
    if (member !== null && member.memberEpoch >= 0 && group?.kind === "consumer") {
      const error = group.validateMemberEpoch(member.memberId ?? "", member.memberEpoch);
      if (error !== ErrorCode.NONE) return { errorCode: error, topics: [] };
    }
    const committed = this.offsets.get(groupId);
    const out: FetchedOffsets["topics"] = [];
    if (topics === null) {
      for (const [name, parts] of committed ?? []) {
        if (parts.size === 0) continue;
        out.push({
          name,
          partitions: [...parts].map(([partitionIndex, o]) => ({
            partitionIndex,
            committedOffset: o.offset,
            committedLeaderEpoch: o.leaderEpoch,
            metadata: o.metadata,
            errorCode: ErrorCode.NONE,
          })),
        });
      }
      return { errorCode: ErrorCode.NONE, topics: out };
    }
    for (const t of topics) {
      const parts = committed?.get(t.name);
      out.push({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          const o = parts?.get(partitionIndex);
          return {
            partitionIndex,
            committedOffset: o?.offset ?? -1n,
            committedLeaderEpoch: o?.leaderEpoch ?? -1,
            metadata: o?.metadata ?? "",
            errorCode: ErrorCode.NONE,
          };
        }),
      });
    }
    return { errorCode: ErrorCode.NONE, topics: out };
  }

  /** OffsetDelete: only for topics the group is not consuming. */
  async deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly { partitionIndex: number }[] }[],
  ): Promise<{ errorCode: number; topics: TopicPartitionErrors[] }> {
    const group = this.groups.get(groupId);
    if (group === undefined || group.state === "Dead") return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    let subscribed: Set<string>;
    if (group.kind === "consumer") subscribed = group.subscribedTopics();
    else if (group.state === "Empty") subscribed = new Set();
    else {
      const s = group.subscribedTopics();
      if (s === undefined) return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
      subscribed = s;
    }
    const records: CoordinatorRecord[] = [];
    const removed: { topic: string; partition: number }[] = [];
    const result: TopicPartitionErrors[] = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map(({ partitionIndex }) => {
        if (this.host.metadata.topic(t.name) === undefined)
          return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        if (subscribed.has(t.name)) return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
        if (this.offsets.get(groupId)?.get(t.name)?.has(partitionIndex) === true) {
          records.push(offsetCommitRecord(groupId, t.name, partitionIndex, null));
          removed.push({ topic: t.name, partition: partitionIndex });
        }
        return { partitionIndex, errorCode: ErrorCode.NONE };
      }),
    }));
    const error = await this.append(groupId, records);
    if (error !== ErrorCode.NONE) return { errorCode: error, topics: [] };
    for (const r of removed) this.deleteOffset(groupId, r.topic, r.partition);
    return { errorCode: ErrorCode.NONE, topics: result };
  }

  // --- administration ---

  list(): GroupListing[] {
    const out: GroupListing[] = [];
    for (const g of this.groups.values()) {
      if (g.state === "Dead") continue;
      out.push(
        g.kind === "classic"
          ? { groupId: g.groupId, protocolType: g.protocolType ?? "", state: g.state, type: "classic" }
          : { groupId: g.groupId, protocolType: "consumer", state: g.state, type: "consumer" },
      );
    }
    return out;
  }

  async deleteGroup(groupId: string): Promise<number> {
    const group = this.groups.get(groupId);
    if (group === undefined || group.state === "Dead") return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    const error = await this.append(groupId, this.deletionRecords(group));
    if (error !== ErrorCode.NONE) return error;
    this.remove(group);
    return ErrorCode.NONE;
  }

  private deletionRecords(group: Group): CoordinatorRecord[] {
    const records: CoordinatorRecord[] = [];
    for (const [topic, parts] of this.offsets.get(group.groupId) ?? []) {
      for (const partition of parts.keys()) records.push(offsetCommitRecord(group.groupId, topic, partition, null));
    }
    records.push(
      group.kind === "classic"
        ? groupMetadataRecord(group.groupId, null)
        : consumerGroupMetadataRecord(group.groupId, null),
    );
    return records;
  }

  private remove(group: Group): void {
    if (group.kind === "classic") group.shutdown(ErrorCode.COORDINATOR_NOT_AVAILABLE, true);
    else group.shutdown(true);
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
    this.offsets.delete(group.groupId);
  }

  /** One expiration pass: offsets of empty groups past retention; an empty group left without offsets goes too. */
  async expireOffsets(now = Date.now()): Promise<number> {
    const retentionMs = this.props["offsets.retention.minutes"] * 60_000;
    let expired = 0;
    for (const group of [...this.groups.values()]) {
      const committed = this.offsets.get(group.groupId);
      // Members still to come back with the id they were given are members too.
      const empty = group.members.size === 0 && (group.kind === "consumer" || group.pendingMembers.size === 0);
      let subscribed: Set<string> | undefined;
      if (!empty) subscribed = group.subscribedTopics();
      if (!empty && subscribed === undefined) continue;
      const records: CoordinatorRecord[] = [];
      const doomed: { topic: string; partition: number }[] = [];
      for (const [topic, parts] of committed ?? []) {
        if (subscribed?.has(topic) === true) continue;
        for (const [partition, o] of parts) {
          const base =
            empty && group.kind === "classic" && group.protocolType !== null
              ? Math.max(group.stateTimestamp, o.commitTimestamp)
              : o.commitTimestamp;
          const expiresAt = o.expireTimestamp >= 0 ? o.expireTimestamp : base + retentionMs;
          if (now < expiresAt) continue;
          records.push(offsetCommitRecord(group.groupId, topic, partition, null));
          doomed.push({ topic, partition });
        }
      }
      for (const d of doomed) this.deleteOffset(group.groupId, d.topic, d.partition);
      expired += doomed.length;
      const left = this.offsets.has(group.groupId);
      const idle = empty && (group.kind === "consumer" || (group.state as ClassicState) === "Empty");
      if (idle && !left) {
        records.push(
          group.kind === "classic"
            ? groupMetadataRecord(group.groupId, null)
            : consumerGroupMetadataRecord(group.groupId, null),
        );
        this.remove(group);
      }
      if (records.length > 0) await this.append(group.groupId, records);
    }
    if (expired > 0) this.host.log.info(`expired ${expired} committed offsets`);
    return expired;
  }
}
