import type { ClusterMetadata } from "../cluster/metadata.js";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import { StreamsGroup, type StreamsGroupHost } from "../streams/streams-group.js";
import type { DecodedStreamsRecord } from "../streams/records.js";
import { ClassicGroup, type ClassicGroupHost } from "./classic-group.js";
import { ConsumerGroup, type ConsumerGroupHost, type TopicView } from "./consumer-group.js";
import { groupMetadataRecord, groupTombstone, type CoordinatorRecord, type DecodedRecord } from "./records.js";

/**
 * The groups of this coordinator, of either protocol, by id: finding or creating the group a request
 * names, switching an empty group from one protocol to the other as Kafka allows, removing groups, and
 * rebuilding them from the group records of `__consumer_offsets` at start-up. Each group gets the
 * host its protocol needs (settings, topics, and the ordered writer for its records).
 */

export type Group = ClassicGroup | ConsumerGroup | StreamsGroup;

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: "classic" | "consumer" | "streams";
}

/** What the registry uses: group settings (read when it is made), topics, a log, and the ordered writer. */
export interface GroupRegistryHost {
  readonly config: {
    readonly props: Pick<
      BrokerConfig["props"],
      | "group.initial.rebalance.delay.ms"
      | "group.consumer.session.timeout.ms"
      | "group.consumer.heartbeat.interval.ms"
      | StreamsBrokerKey
    >;
  };
  readonly log: Pick<Logger, "debug">;
  readonly metadata: Pick<ClusterMetadata, "topic" | "topicById" | "topics"> &
    Partial<Pick<ClusterMetadata, "groupConfigs">>;

  /** Appends to `__consumer_offsets` in order; resolves to an error code. */
  write(groupId: string, records: CoordinatorRecord[]): Promise<number>;
}

/** The broker keys streams groups read. */
type StreamsBrokerKey =
  | "group.streams.session.timeout.ms"
  | "group.streams.heartbeat.interval.ms"
  | "group.streams.num.standby.replicas"
  | "group.streams.initial.rebalance.delay.ms"
  | "group.streams.assignment.interval.ms"
  | "group.streams.max.size";

/** The streams group a StreamsGroupHeartbeat goes to, or why there is none. */
export type StreamsGroupLookup =
  { group: StreamsGroup; created: boolean } | { errorCode: number; errorMessage: string };

/** The consumer group a ConsumerGroupHeartbeat goes to, or why there is none. */
export type ConsumerGroupLookup =
  { group: ConsumerGroup; created: boolean } | { errorCode: number; errorMessage: string };

export class GroupRegistry {
  private readonly groups = new Map<string, Group>();
  private readonly classicHost: ClassicGroupHost;
  private readonly consumerHost: ConsumerGroupHost;
  private readonly streamsHost: StreamsGroupHost;

  constructor(private readonly host: GroupRegistryHost) {
    const props = host.config.props;
    const metadata = host.metadata;
    this.classicHost = {
      initialRebalanceDelayMs: props["group.initial.rebalance.delay.ms"],
      store: (group) => this.host.write(group.groupId, [groupMetadataRecord(group.groupId, group.toRecord())]),
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
      persist: (group, records) => void this.host.write(group.groupId, records),
      onStateChange: () => undefined,
    };
    this.streamsHost = this.makeStreamsHost();
  }

  private makeStreamsHost(): StreamsGroupHost {
    const host = this.host;
    return {
      settings: (groupId) => {
        const props = host.config.props;
        const own = host.metadata.groupConfigs?.(groupId).configs ?? {};
        const int = (key: string, fallback: number) => (own[key] !== undefined ? Number(own[key]) : fallback);
        return {
          sessionTimeoutMs: int("streams.session.timeout.ms", props["group.streams.session.timeout.ms"]),
          heartbeatIntervalMs: int("streams.heartbeat.interval.ms", props["group.streams.heartbeat.interval.ms"]),
          numStandbys: int("streams.num.standby.replicas", props["group.streams.num.standby.replicas"]),
          initialRebalanceDelayMs: props["group.streams.initial.rebalance.delay.ms"],
          assignmentIntervalMs: props["group.streams.assignment.interval.ms"],
          maxSize: props["group.streams.max.size"],
        };
      },
      partitionsOf: (name) => host.metadata.topic(name)?.partitions,
      topicNames: () => host.metadata.topics().map((t) => t.name),
      persist: (group, records) => host.write(group.groupId, records),
      log: (message) => host.log.debug(message),
    };
  }

  get size(): number {
    return this.groups.size;
  }

  get(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  /** Every group now (a copy). */
  all(): Group[] {
    return [...this.groups.values()];
  }

  /** A new empty classic group, as a commit from outside group management makes ("simple" groups). */
  createClassic(groupId: string): ClassicGroup {
    const created = new ClassicGroup(groupId, this.classicHost);
    this.groups.set(groupId, created);
    return created;
  }

  /**
   * The classic group of a JoinGroup/SyncGroup/Heartbeat/LeaveGroup: created when `create` (a join
   * without a member id); an empty consumer group is taken over by the classic protocol, as Kafka allows.
   * UNKNOWN_MEMBER_ID when there is no group, INCONSISTENT_GROUP_PROTOCOL when it is a consumer group.
   */
  classic(groupId: string, create: boolean): ClassicGroup | number {
    const g = this.groups.get(groupId);
    if (g === undefined) return create ? this.createClassic(groupId) : ErrorCode.UNKNOWN_MEMBER_ID;
    if (g.kind === "classic") return g;
    if (create && g.members.size === 0) {
      void this.host.write(groupId, g.kind === "streams" ? g.tombstones() : [groupTombstone("consumer", groupId)]);
      g.shutdown(true);
      return this.createClassic(groupId);
    }
    return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
  }

  /**
   * The consumer group of a ConsumerGroupHeartbeat: a joining member (epoch 0) creates it, or takes over
   * an empty classic group; any other epoch needs the group to exist.
   */
  consumer(groupId: string, memberEpoch: number): ConsumerGroupLookup {
    const group = this.groups.get(groupId);
    if (group === undefined || (group.kind === "classic" && group.members.size === 0 && memberEpoch === 0)) {
      if (memberEpoch !== 0)
        return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Consumer group ${groupId} not found.` };
      if (group !== undefined) {
        group.shutdown(ErrorCode.NOT_COORDINATOR, true);
        void this.host.write(groupId, [groupTombstone("classic", groupId)]);
      }
      const created = new ConsumerGroup(groupId, this.consumerHost);
      this.groups.set(groupId, created);
      return { group: created, created: true };
    }
    if (group.kind !== "consumer")
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a consumer group.` };
    return { group, created: false };
  }

  /**
   * The streams group of a StreamsGroupHeartbeat: a joining member (epoch 0) creates it, or takes over an
   * empty classic group; any other epoch needs the group to exist.
   */
  streams(groupId: string, memberEpoch: number): StreamsGroupLookup {
    const group = this.groups.get(groupId);
    if (group === undefined || (group.kind === "classic" && group.members.size === 0 && memberEpoch === 0)) {
      if (memberEpoch !== 0)
        return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Streams group ${groupId} not found.` };
      if (group !== undefined) {
        group.shutdown(ErrorCode.NOT_COORDINATOR, true);
        void this.host.write(groupId, [groupTombstone("classic", groupId)]);
      }
      const created = new StreamsGroup(groupId, this.streamsHost);
      this.groups.set(groupId, created);
      return { group: created, created: true };
    }
    if (group.kind !== "streams")
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a streams group.` };
    return { group, created: false };
  }

  /** Forgets a group whose first join failed (Kafka creates a group only with its first member). */
  discardIfUnborn(group: ConsumerGroup | StreamsGroup): void {
    if (group.members.size === 0 && this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  /** Removes a group (deleted or expired): every waiter is answered, every timer stopped. */
  remove(group: Group): void {
    if (group.kind === "classic") group.shutdown(ErrorCode.COORDINATOR_NOT_AVAILABLE, true);
    else group.shutdown(true);
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
  }

  list(): GroupListing[] {
    const out: GroupListing[] = [];
    for (const g of this.groups.values()) {
      if (g.state === "Dead") continue;
      out.push(
        g.kind === "classic"
          ? { groupId: g.groupId, protocolType: g.protocolType ?? "", state: g.state, type: "classic" }
          : { groupId: g.groupId, protocolType: g.kind, state: g.state, type: g.kind },
      );
    }
    return out;
  }

  // --- start and stop ---

  /** A group record read back from `__consumer_offsets`, in log order. */
  replay(r: Exclude<DecodedRecord, { type: "offset" }>): void {
    if (r.type.startsWith("streams-")) {
      this.replayStreams(r as DecodedStreamsRecord);
      return;
    }
    switch (r.type) {
      case "group": {
        if (r.value === null) {
          if (this.groups.get(r.group)?.kind === "classic") this.groups.delete(r.group);
          return;
        }
        this.createClassic(r.group).restore(r.value);
        return;
      }
      case "consumer-group": {
        if (r.value === null) {
          if (this.groups.get(r.group)?.kind === "consumer") this.groups.delete(r.group);
          return;
        }
        this.consumerForLoad(r.group).groupEpoch = r.value.epoch;
        return;
      }
      case "consumer-member":
        this.consumerForLoad(r.group).restoreMember(r.memberId, r.value);
        return;
      case "consumer-assignment":
        if (r.value !== null) this.consumerForLoad(r.group).restoreAssignment(r.memberId, r.value);
        return;
    }
  }

  private replayStreams(r: DecodedStreamsRecord): void {
    if (r.type === "streams-group" && r.value === null) {
      if (this.groups.get(r.group)?.kind === "streams") this.groups.delete(r.group);
      return;
    }
    const existing = this.groups.get(r.group);
    // Tombstones of a group already deleted (or of members of one) need no group.
    if (existing?.kind !== "streams" && r.value === null) return;
    const g = this.streamsForLoad(r.group);
    switch (r.type) {
      case "streams-group":
        g.restoreGroup(r.value!);
        return;
      case "streams-topology":
        g.restoreTopology(r.value);
        return;
      case "streams-member":
        g.restoreMember(r.memberId, r.value);
        return;
      case "streams-target-metadata":
        g.restoreAssignmentEpoch(r.value);
        return;
      case "streams-target-member":
        g.restoreTarget(r.memberId, r.value);
        return;
      case "streams-current-member":
        g.restoreCurrent(r.memberId, r.value);
        return;
    }
  }

  private streamsForLoad(groupId: string): StreamsGroup {
    const g = this.groups.get(groupId);
    if (g?.kind === "streams") return g;
    const created = new StreamsGroup(groupId, this.streamsHost);
    this.groups.set(groupId, created);
    return created;
  }

  private consumerForLoad(groupId: string): ConsumerGroup {
    const g = this.groups.get(groupId);
    if (g?.kind === "consumer") return g;
    const created = new ConsumerGroup(groupId, this.consumerHost);
    this.groups.set(groupId, created);
    return created;
  }

  /**
   * After loading: members' sessions start, and a group that has only committed offsets (a simple
   * group) is an empty classic group.
   */
  finishLoad(offsetGroupIds: Iterable<string>, inScope: (groupId: string) => boolean = () => true): void {
    for (const group of this.groups.values()) {
      if (!inScope(group.groupId)) continue;
      if (group.kind === "classic") group.startSessions();
      else group.finishLoad();
    }
    for (const id of offsetGroupIds) if (!this.groups.has(id)) this.createClassic(id);
  }

  /**
   * Drops the groups `inScope` selects, as Kafka unloads a partition whose leadership moved: waiters are
   * answered NOT_COORDINATOR, timers stop, nothing is written (the new coordinator has the records).
   */
  unload(inScope: (groupId: string) => boolean): void {
    for (const g of [...this.groups.values()]) {
      if (!inScope(g.groupId)) continue;
      if (g.kind === "classic") g.shutdown(ErrorCode.NOT_COORDINATOR, false);
      else g.shutdown(false);
      this.groups.delete(g.groupId);
    }
  }

  /** Answers every waiting JoinGroup/SyncGroup (NOT_COORDINATOR, as Kafka does on unload) and stops every timer. */
  shutdown(): void {
    for (const g of this.groups.values()) {
      if (g.kind === "classic") g.shutdown(ErrorCode.NOT_COORDINATOR, false);
      else g.shutdown(false);
    }
  }
}
