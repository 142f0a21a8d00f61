import type { ConsumerGroupHeartbeatRequest, StreamsGroupHeartbeatRequest } from "@tskafka/protocol";
import { streamsFailure, type StreamsHeartbeatResult } from "../streams/streams-group.js";
import { invalidHeartbeat } from "../streams/heartbeat-checks.js";
import type { Leadership, RoleChange } from "../cluster/leadership.js";
import type { ClusterMetadata } from "../cluster/metadata.js";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { AppendOptions } from "../log/partition-log.js";
import type { Logger } from "../logger.js";
import type { TxnMarker } from "../txn/marker.js";
import type { JoinParams, JoinResult, SyncResult } from "./classic-group.js";
import type { HeartbeatResult } from "./consumer-group.js";
import { OffsetExpiry } from "./expiry.js";
import { GroupLogWriter } from "./log-writer.js";
import { OffsetStore, type CommitRequest, type FetchedOffsets, type TopicPartitionErrors } from "./offset-store.js";
import { OFFSETS_TOPIC, type OffsetsTopic } from "./offsets-topic.js";
import { groupTombstone } from "./records.js";
import { GroupRegistry, type Group, type GroupListing } from "./registry.js";
import { commitTxnOffsets, type TxnCommitRequest, type TxnOffsetCommitHost } from "./txn-offsets.js";

/**
 * The group coordinator of this node: it coordinates the groups of the `__consumer_offsets` partitions
 * led here, loading a partition's groups and offsets when it becomes leader and dropping them when it
 * stops (NOT_COORDINATOR for groups of partitions led elsewhere). The requests of both group protocols and of
 * offsets are checked here and routed to their parts, which it wires together and starts and stops:
 * the groups (`registry.ts`), their committed offsets (`offset-store.ts`) and transactional ones
 * (`txn-offsets.ts`), offset expiry (`expiry.ts`), all of them writing to `__consumer_offsets` through
 * one ordered writer (`log-writer.ts`) and reloaded from it at start-up (`offsets-topic.ts`).
 */

export type { Group, GroupListing } from "./registry.js";
export type { CommitRequest, CommittedOffset, FetchedOffsets, TopicPartitionErrors } from "./offset-store.js";
export type { TxnCommitRequest } from "./txn-offsets.js";

/** What the coordinator uses of the broker. */
export interface CoordinatorHost {
  /** The config in force (read at each use: group settings may change). */
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: Pick<ClusterMetadata, "topic" | "topicById" | "topics"> &
    Partial<Pick<ClusterMetadata, "groupConfigs">>;
  /**
   * This broker's role in each partition: the groups of a `__consumer_offsets` partition are coordinated
   * here while it is led here. Absent (unit tests): every group is.
   */
  readonly leadership?: Pick<Leadership, "role" | "onChange">;
  /**
   * The transaction coordinator's part in a TxnOffsetCommit, asked before its write when present (Kafka's
   * transaction verification, KIP-890): from v5 (transactions v2) it adds `__consumer_offsets-<partition>`
   * to the producer's transaction, as AddOffsetsToTxn does in v1. Resolves to an error code (NONE: go on),
   * which every partition of the request then carries. Absent: offsets are written unchecked.
   */
  verifyTxnOffsetCommit?(req: TxnCommitRequest, offsetsPartition: number): Promise<number>;
}

/** What the coordinator uses of `__consumer_offsets`: creation, placement, appends, and the replay at start-up. */
export type CoordinatorTopic = Pick<
  OffsetsTopic,
  "ensureCreated" | "partitionFor" | "append" | "appendTxn" | "appendMarker" | "load" | "partitions"
>;

/** The coordinator's operations that handlers use. */
export type GroupService = Pick<
  GroupCoordinator,
  | "join"
  | "sync"
  | "heartbeat"
  | "leave"
  | "consumerHeartbeat"
  | "streamsHeartbeat"
  | "commitOffsets"
  | "commitTxnOffsets"
  | "completeTransaction"
  | "fetchOffsets"
  | "deleteOffsets"
  | "list"
  | "group"
  | "deleteGroup"
  | "ensureOffsetsTopic"
  | "coordinatorError"
>;

export class GroupCoordinator {
  private readonly writer: GroupLogWriter;
  private readonly registry: GroupRegistry;
  private readonly offsets: OffsetStore;
  private readonly expiry: OffsetExpiry<Group>;
  private readonly txnHost: TxnOffsetCommitHost;
  /** `__consumer_offsets` partitions whose groups are being loaded (COORDINATOR_LOAD_IN_PROGRESS). */
  private readonly loading = new Map<number, Promise<void>>();
  /** Partitions whose groups are loaded here. */
  private readonly loaded = new Set<number>();
  private unfollow: (() => void) | undefined;

  constructor(
    private readonly host: CoordinatorHost,
    private readonly topic: CoordinatorTopic,
  ) {
    const writer = new GroupLogWriter(topic, host.log);
    const write = writer.write.bind(writer);
    const registry = new GroupRegistry({
      get config() {
        return host.config;
      },
      log: host.log,
      metadata: host.metadata,
      write,
    });
    const offsets = new OffsetStore({
      get config() {
        return host.config;
      },
      metadata: host.metadata,
      group: (groupId) => registry.get(groupId),
      createSimpleGroup: (groupId) => {
        registry.createClassic(groupId);
      },
      write,
    });
    this.expiry = new OffsetExpiry<Group>({
      get config() {
        return host.config;
      },
      log: host.log,
      offsets,
      groups: () => registry.all(),
      removeGroup: (group) => this.remove(group),
      write,
    });
    this.writer = writer;
    this.registry = registry;
    this.offsets = offsets;
    this.txnHost = this.makeTxnHost();
  }

  private makeTxnHost(): TxnOffsetCommitHost {
    const { host, topic, writer, registry, offsets } = this;
    const txnHost: TxnOffsetCommitHost = {
      get config() {
        return host.config;
      },
      metadata: host.metadata,
      store: offsets,
      group: (groupId) => registry.get(groupId),
      createSimpleGroup: (groupId) => void registry.createClassic(groupId),
      writeTxn: (groupId, records, producerId, producerEpoch) =>
        writer.run(topic.partitionFor(groupId), `group ${groupId}`, () =>
          topic.appendTxn(groupId, records, producerId, producerEpoch),
        ),
    };
    if (host.verifyTxnOffsetCommit !== undefined)
      txnHost.verify = (req) => host.verifyTxnOffsetCommit!(req, topic.partitionFor(req.groupId));
    return txnHost;
  }

  private get props(): BrokerConfig["props"] {
    return this.host.config.props;
  }

  /** A group of either protocol, as DescribeGroups and ConsumerGroupDescribe show it. */
  group(groupId: string): Group | undefined {
    return this.registry.get(groupId);
  }

  /** Creates `__consumer_offsets` on first use, as Kafka does when a coordinator is first looked up. */
  ensureOffsetsTopic(): Promise<void> {
    return this.topic.ensureCreated();
  }

  // --- start and stop ---

  /** Loads the groups of every `__consumer_offsets` partition led here (at start-up, before serving). */
  async load(): Promise<void> {
    const started = Date.now();
    const partitions = new Set<number>();
    for (let p = 0; p < this.topic.partitions; p++) if (this.leads(p)) partitions.add(p);
    const n = await this.loadPartitions(partitions);
    if (n > 0)
      this.host.log.info(
        `loaded ${this.registry.size} groups from ${n} records of ${partitions.size} offsets partitions in ${Date.now() - started} ms`,
      );
  }

  private leads(partition: number): boolean {
    return this.host.leadership === undefined || this.host.leadership.role(OFFSETS_TOPIC, partition) === "leader";
  }

  /** Replays the partitions' records into the groups and offsets; answers how many records there were. */
  private async loadPartitions(partitions: ReadonlySet<number>): Promise<number> {
    const inScope = (g: string) => partitions.has(this.topic.partitionFor(g));
    const n = await this.topic.load(
      {
        record: (r, producerId) => {
          if (r.type === "offset") this.offsets.replay(r.group, r.topic, r.partition, r.value, producerId);
          else this.registry.replay(r);
        },
        marker: (partition, producerId, committed) =>
          void this.offsets.completeTxn(producerId, committed, (g) => this.topic.partitionFor(g) === partition),
      },
      partitions,
    );
    // Offsets staged without a marker stay staged: the transaction coordinator completes them after its load.
    const ids = [...this.offsets.groupIds(), ...this.offsets.pending.groupIds()].filter(inScope);
    this.registry.finishLoad(new Set(ids), inScope);
    for (const p of partitions) this.loaded.add(p);
    return n;
  }

  /**
   * Whether this broker coordinates `groupId`: NONE, NOT_COORDINATOR when its `__consumer_offsets`
   * partition is led elsewhere, COORDINATOR_LOAD_IN_PROGRESS while its groups are being loaded. Before
   * the topic exists any broker takes the group (its first write creates the topic).
   */
  coordinatorError(groupId: string): number {
    if (this.host.leadership === undefined || this.host.metadata.topic(OFFSETS_TOPIC) === undefined)
      return ErrorCode.NONE;
    const p = this.topic.partitionFor(groupId);
    if (!this.leads(p)) return ErrorCode.NOT_COORDINATOR;
    return this.loading.has(p) ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
  }

  /** A `__consumer_offsets` partition's leadership changed: load its groups, or drop them. */
  private onRoleChange(c: RoleChange): void {
    if (c.topic !== OFFSETS_TOPIC) return;
    const p = c.partition;
    if (c.role === "leader" && !this.loaded.has(p) && !this.loading.has(p)) {
      const started = Date.now();
      const loading = this.loadPartitions(new Set([p]))
        .then((n) => {
          if (n > 0) this.host.log.info(`loaded ${n} records of ${OFFSETS_TOPIC}-${p} in ${Date.now() - started} ms`);
        })
        .catch((e: Error) => this.host.log.error(`loading ${OFFSETS_TOPIC}-${p}: ${e.message}`))
        .finally(() => this.loading.delete(p));
      this.loading.set(p, loading);
    } else if (c.role !== "leader" && this.loaded.has(p)) {
      this.loaded.delete(p);
      const inScope = (g: string) => this.topic.partitionFor(g) === p;
      this.registry.unload(inScope);
      for (const g of [...this.offsets.groupIds()]) if (inScope(g)) this.offsets.drop(g);
      this.host.log.info(`${OFFSETS_TOPIC}-${p} is led elsewhere now: its groups are no longer coordinated here`);
    }
  }

  start(): void {
    this.expiry.start();
    this.unfollow = this.host.leadership?.onChange((c) => this.onRoleChange(c));
  }

  /** Answers every waiting JoinGroup/SyncGroup (NOT_COORDINATOR, as Kafka does on unload) and stops every timer. */
  stop(): void {
    this.unfollow?.();
    this.expiry.stop();
    this.registry.shutdown();
  }

  /** Waits for queued writes (before the logs close). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  // --- classic protocol ---

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
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return fail(notHere);
    if (
      p.sessionTimeoutMs < this.props["group.min.session.timeout.ms"] ||
      p.sessionTimeoutMs > this.props["group.max.session.timeout.ms"]
    ) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    const group = this.registry.classic(groupId, p.memberId === "");
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
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return fail(notHere);
    const group = this.registry.classic(groupId, false);
    if (typeof group === "number") return fail(group);
    return group.sync(memberId, groupInstanceId, generationId, protocolType, protocolName, assignments);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (groupId === "") return ErrorCode.INVALID_GROUP_ID;
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return notHere;
    const group = this.registry.classic(groupId, false);
    if (typeof group === "number") return group;
    return group.heartbeat(memberId, groupInstanceId, generationId);
  }

  leave(
    groupId: string,
    members: readonly { memberId: string; groupInstanceId: string | null }[],
  ): { errorCode: number; members: { memberId: string; groupInstanceId: string | null; errorCode: number }[] } {
    if (groupId === "") return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return { errorCode: notHere, members: [] };
    const group = this.registry.classic(groupId, false);
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

  /** `describable`: the topics the member's principal may describe, when an authorizer is configured. */
  consumerHeartbeat(
    req: ConsumerGroupHeartbeatRequest,
    clientId: string,
    clientHost: string,
    describable?: (topic: string) => boolean,
  ): HeartbeatResult {
    const fail = (errorCode: number, errorMessage: string): HeartbeatResult => ({
      errorCode,
      errorMessage,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    if (req.groupId === "") return fail(ErrorCode.INVALID_REQUEST, "GroupId can't be empty.");
    const notHere = this.coordinatorError(req.groupId);
    if (notHere !== ErrorCode.NONE) return fail(notHere, COORDINATOR_MESSAGE[notHere] ?? "");
    if (req.instanceId === "") return fail(ErrorCode.INVALID_REQUEST, "InstanceId can't be empty.");
    if (req.rackId === "") return fail(ErrorCode.INVALID_REQUEST, "RackId can't be empty.");
    if (req.memberEpoch < -2) return fail(ErrorCode.INVALID_REQUEST, `MemberEpoch is invalid: ${req.memberEpoch}.`);
    if (req.memberEpoch !== 0 && req.memberId === "")
      return fail(ErrorCode.INVALID_REQUEST, "MemberId can't be empty.");
    if (req.memberEpoch === 0 && req.rebalanceTimeoutMs === -1)
      return fail(ErrorCode.INVALID_REQUEST, "RebalanceTimeoutMs must be provided in first request.");
    const found = this.registry.consumer(req.groupId, req.memberEpoch);
    if ("errorCode" in found) return fail(found.errorCode, found.errorMessage);
    const result = found.group.heartbeat(req, clientId, clientHost, describable);
    // A join that failed leaves no group behind (Kafka creates it only with its first member).
    if (found.created && result.errorCode !== ErrorCode.NONE) this.registry.discardIfUnborn(found.group);
    return result;
  }

  // --- streams protocol (KIP-1071) ---

  /**
   * A StreamsGroupHeartbeat: checked as Kafka checks it, then to the group (created by a first join);
   * answered once its records are in `__consumer_offsets`.
   */
  async streamsHeartbeat(
    req: StreamsGroupHeartbeatRequest,
    clientId: string,
    clientHost: string,
  ): Promise<StreamsHeartbeatResult> {
    const invalid = invalidHeartbeat(req);
    if (invalid !== undefined) return streamsFailure(invalid.errorCode, invalid.errorMessage);
    const notHere = this.coordinatorError(req.groupId);
    if (notHere !== ErrorCode.NONE) return streamsFailure(notHere, COORDINATOR_MESSAGE[notHere] ?? null);
    const found = this.registry.streams(req.groupId, req.memberEpoch);
    if ("errorCode" in found) return streamsFailure(found.errorCode, found.errorMessage);
    const result = found.group.heartbeat(req, clientId, clientHost);
    if (found.created && result.errorCode !== ErrorCode.NONE) this.registry.discardIfUnborn(found.group);
    const error = (await result.written) ?? ErrorCode.NONE;
    if (error !== ErrorCode.NONE) return streamsFailure(error, null);
    return result;
  }

  // --- offsets ---

  commitOffsets(req: CommitRequest): Promise<TopicPartitionErrors[]> {
    const notHere = this.coordinatorError(req.groupId);
    if (notHere !== ErrorCode.NONE) return Promise.resolve(everyPartition(req.topics, notHere));
    return this.offsets.commit(req);
  }

  /** OffsetFetch; `requireStable` (v7+): UNSTABLE_OFFSET_COMMIT for partitions a transaction has yet to decide. */
  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
    member: { memberId: string | null; memberEpoch: number } | null,
    requireStable = false,
  ): FetchedOffsets {
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) {
      // Each partition asked for carries it too (OffsetFetch v0-1 have no group error).
      const none = { committedOffset: -1n, committedLeaderEpoch: -1, metadata: "", errorCode: notHere };
      const asked = (topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, ...none })),
      }));
      return { errorCode: notHere, topics: asked };
    }
    return this.offsets.fetch(groupId, topics, member, requireStable);
  }

  // --- transactional offsets ---

  /**
   * TxnOffsetCommit: checked as Kafka checks it, written to the group's `__consumer_offsets` partition as
   * one transactional batch of the producer, then staged until `completeTransaction`. The producer is not
   * looked up: the log fences an older epoch (INVALID_PRODUCER_EPOCH).
   */
  commitTxnOffsets(req: TxnCommitRequest): Promise<TopicPartitionErrors[]> {
    const notHere = this.coordinatorError(req.groupId);
    if (notHere !== ErrorCode.NONE) return Promise.resolve(everyPartition(req.topics, notHere));
    return commitTxnOffsets(this.txnHost, req);
  }

  /**
   * Ends `marker.producerId`'s transaction on `__consumer_offsets-<offsetsPartition>`: appends the marker
   * (after every write queued on the partition), then its staged offsets of the groups there become
   * committed offsets (COMMIT) or go (ABORT). Resolves to the marker's error code; on an error nothing
   * changes (the transaction coordinator retries). `opts` go to the log's `appendMarker` (the
   * transaction version, which decides the marker's epoch check).
   */
  async completeTransaction(offsetsPartition: number, marker: TxnMarker, opts?: AppendOptions): Promise<number> {
    const error = await this.writer.run(offsetsPartition, `marker on partition ${offsetsPartition}`, () =>
      this.topic.appendMarker(offsetsPartition, marker, opts),
    );
    if (error !== ErrorCode.NONE) return error;
    const inScope = (groupId: string) => this.topic.partitionFor(groupId) === offsetsPartition;
    for (const groupId of this.offsets.completeTxn(marker.producerId, marker.committed, inScope)) {
      // A group removed meanwhile comes back as a simple group, as Kafka makes one for offsets of an unknown group.
      if (this.registry.get(groupId) === undefined) this.registry.createClassic(groupId);
    }
    return ErrorCode.NONE;
  }

  /** OffsetDelete: only for topics the group is not consuming. */
  deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly { partitionIndex: number }[] }[],
  ): Promise<{ errorCode: number; topics: TopicPartitionErrors[] }> {
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return Promise.resolve({ errorCode: notHere, topics: [] });
    return this.offsets.deleteOffsets(groupId, topics);
  }

  /** One expiration pass (see `expiry.ts`); returns how many offsets expired. */
  expireOffsets(now = Date.now()): Promise<number> {
    return this.expiry.expire(now);
  }

  /** Every committed offset, by group, topic and partition (the lag metrics read them when scraped). */
  *committedOffsets(): Generator<{ groupId: string; topic: string; partition: number; offset: bigint }> {
    for (const groupId of this.offsets.groupIds()) {
      for (const [topic, partitions] of this.offsets.committed(groupId) ?? []) {
        for (const [partition, o] of partitions) yield { groupId, topic, partition, offset: o.offset };
      }
    }
  }

  // --- administration ---

  list(): GroupListing[] {
    return this.registry.list();
  }

  async deleteGroup(groupId: string): Promise<number> {
    const notHere = this.coordinatorError(groupId);
    if (notHere !== ErrorCode.NONE) return notHere;
    const group = this.registry.get(groupId);
    if (group === undefined || group.state === "Dead") return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    const records = [
      ...this.offsets.tombstones(groupId),
      ...(group.kind === "streams" ? group.tombstones() : [groupTombstone(group.kind, groupId)]),
    ];
    const error = await this.writer.write(groupId, records);
    if (error !== ErrorCode.NONE) return error;
    this.remove(group);
    return ErrorCode.NONE;
  }

  /** A group and its offsets go (deleted or expired). */
  private remove(group: Group): void {
    this.registry.remove(group);
    this.offsets.drop(group.groupId);
  }
}

/** The same error for every partition of a request. */
function everyPartition(
  topics: readonly { name: string; partitions: readonly { partitionIndex: number }[] }[],
  errorCode: number,
): TopicPartitionErrors[] {
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
  }));
}

/** Kafka's messages of the errors that say a group is not coordinated here (yet). */
export const COORDINATOR_MESSAGE: Readonly<Record<number, string>> = {
  [ErrorCode.NOT_COORDINATOR]: "This is not the correct coordinator.",
  [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]: "The coordinator is loading and hence can't process requests.",
};
