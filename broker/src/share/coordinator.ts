import type { FetchWaiters } from "../cluster/fetch-waiters.js";
import type { ClusterMetadata, TopicInfo } from "../cluster/metadata.js";
import type { PartitionLogs } from "../cluster/partition-logs.js";
import type { BrokerConfig } from "../config.js";
import type { PartitionLog } from "../log/partition-log.js";
import type { Logger } from "../logger.js";
import { durationMs, groupConfig } from "./group-configs.js";
import type { MembershipLog } from "./membership-log.js";
import { ShareGroup, type HeartbeatOutcome } from "./share-group.js";
import { SharePartition, type AckBatch, type AcquiredRange, type StateBatch } from "./share-partition.js";
import { ShareSessions } from "./share-sessions.js";
import type { ShareStateRecord } from "./state-records.js";
import type { ShareStateTopic } from "./state-topic.js";

/**
 * The share coordinator of this node (KIP-932): share groups' membership (`share-group.ts`), the state
 * of every share-partition (`share-partition.ts`) persisted in `__share_group_state` (`state-topic.ts`),
 * the members' share sessions (`share-sessions.ts`), and the timer that releases expired locks. Kafka
 * splits this between the group coordinator, the share-partition leader and the share coordinator;
 * on one node they are one service, reached (like the group coordinator) through the group's
 * `__consumer_offsets` partition for membership and the share-partition's `__share_group_state`
 * partition for state.
 */

export interface ShareHost {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: Pick<ClusterMetadata, "topic" | "topicById" | "groupConfigs">;
  readonly partitions: Pick<PartitionLogs, "logOf">;
  readonly fetchWaiters: Pick<FetchWaiters, "notify">;
  /** The classic and consumer groups, whose ids share groups may not take (one namespace for every type). */
  readonly groups: { group(groupId: string): object | undefined };
}

export interface ShareGroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: "share";
}

/** A group-level refusal of an offsets change. */
export interface GroupCheck {
  groupError: "GROUP_ID_NOT_FOUND" | "NON_EMPTY_GROUP";
  message: string;
}

/** How one topic or partition of an offsets change went. */
export type OffsetsError = "NONE" | "UNKNOWN_TOPIC_OR_PARTITION" | "UNKNOWN_SERVER_ERROR";

const ZERO_TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAA";

/** How often expired acquisition locks are looked for. */
const LOCK_SWEEP_MS = 100;

/** A persisted share-partition state being rebuilt at load. */
interface LoadedState {
  startOffset: number;
  snapshotEpoch: number;
  batches: Map<number, StateBatch>;
}

export type ShareService = Pick<
  ShareCoordinator,
  | "heartbeat"
  | "group"
  | "list"
  | "sessions"
  | "acquire"
  | "unacquire"
  | "acknowledge"
  | "closeSession"
  | "lockDurationMs"
  | "hasAvailable"
  | "offsets"
  | "deleteGroup"
  | "alterOffsets"
  | "deleteOffsets"
>;

export class ShareCoordinator {
  private readonly groups = new Map<string, ShareGroup>();
  private readonly states = new Map<string, { sp: SharePartition; updates: number; snapshotEpoch: number }>();
  readonly sessions = new ShareSessions();
  /** Share-partitions being started (their start offset looked up), so that each starts once. */
  private readonly starting = new Map<string, Promise<SharePartition | undefined>>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: ShareHost,
    private readonly topic: ShareStateTopic,
    private readonly membership: MembershipLog,
  ) {}

  private get props(): BrokerConfig["props"] {
    return this.host.config.props;
  }

  // --- start and stop ---

  async load(): Promise<void> {
    await this.loadMembership();
    const loaded = new Map<string, LoadedState>();
    const n = await this.topic.load((r) => {
      const key = stateKey(r.groupId, r.topicId, r.partition);
      if (r.kind === "delete") {
        loaded.delete(key);
        return;
      }
      let s = loaded.get(key);
      if (r.kind === "snapshot" || s === undefined) {
        s = { startOffset: r.startOffset, snapshotEpoch: r.snapshotEpoch, batches: new Map() };
        loaded.set(key, s);
      }
      s.startOffset = r.startOffset;
      for (const b of r.batches) for (let o = b.first; o <= b.last; o++) s.batches.set(o, { ...b, first: o, last: o });
    });
    for (const [key, s] of loaded) {
      const batches = [...s.batches.values()].filter((b) => b.first >= s.startOffset).sort((a, b) => a.first - b.first);
      this.states.set(key, {
        sp: SharePartition.fromState(s.startOffset, batches),
        updates: 0,
        snapshotEpoch: s.snapshotEpoch,
      });
    }
    if (n > 0) this.host.log.info(`loaded ${loaded.size} share-partitions from ${n} records of __share_group_state`);
  }

  /** Share groups and their members as `__consumer_offsets` left them; members' sessions start now. */
  private async loadMembership(): Promise<void> {
    const epochs = new Map<string, number>();
    type Meta = { rackId: string | null; clientId: string; clientHost: string; subscribedTopicNames: string[] };
    const members = new Map<string, Map<string, { meta?: Meta; epoch: number; assignment: Map<string, number[]> }>>();
    const of = (g: string, m: string) => {
      let byMember = members.get(g);
      if (byMember === undefined) members.set(g, (byMember = new Map()));
      let entry = byMember.get(m);
      if (entry === undefined) byMember.set(m, (entry = { epoch: 0, assignment: new Map() }));
      return entry;
    };
    await this.membership.load((r) => {
      if (r.type === "group") {
        if (r.epoch === null) epochs.delete(r.groupId);
        else epochs.set(r.groupId, r.epoch);
      } else if (r.type === "member") {
        if (r.value === null) members.get(r.groupId)?.delete(r.memberId);
        else of(r.groupId, r.memberId).meta = r.value;
      } else if (r.memberEpoch !== null) {
        const entry = of(r.groupId, r.memberId);
        entry.epoch = r.memberEpoch;
        entry.assignment = r.assignment;
      }
    });
    for (const [groupId, epoch] of epochs) {
      const group = this.newGroup(groupId);
      for (const [memberId, m] of members.get(groupId) ?? [])
        if (m.meta !== undefined) group.restore(memberId, m.meta, m.epoch, m.assignment);
      group.restoreEpoch(epoch);
    }
    if (epochs.size > 0) this.host.log.info(`loaded ${epochs.size} share groups from __consumer_offsets`);
  }

  start(): void {
    this.sweeper = setInterval(() => this.expireLocks(Date.now()), LOCK_SWEEP_MS);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
    for (const g of this.groups.values()) g.shutdown();
  }

  async flush(): Promise<void> {
    await this.membership.flush();
    await this.topic.flush();
  }

  // --- membership ---

  /** A heartbeat, answered once the changes it made are written to `__consumer_offsets`. */
  async heartbeat(
    groupId: string,
    memberId: string,
    memberEpoch: number,
    rackId: string | null,
    subscribed: string[] | null,
    clientId: string,
    clientHost: string,
  ): Promise<HeartbeatOutcome | "NOT_SHARE_GROUP"> {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      if (this.host.groups.group(groupId) !== undefined) return "NOT_SHARE_GROUP";
      if (memberEpoch !== 0)
        return {
          errorCode: "UNKNOWN_MEMBER_ID",
          errorMessage: `Member ${memberId} is not a member of group ${groupId}.`,
          member: undefined,
          sendAssignment: false,
        };
      group = this.newGroup(groupId);
    }
    const outcome = group.heartbeat(memberId, memberEpoch, rackId, subscribed, clientId, clientHost);
    await this.writeMembership(group);
    return outcome;
  }

  private async writeMembership(group: ShareGroup): Promise<void> {
    const error = await this.membership.write(group.groupId, group.takeRecords());
    if (error !== 0) this.host.log.warn(`share group ${group.groupId}: writing its membership failed: error ${error}`);
  }

  private newGroup(groupId: string): ShareGroup {
    const group = new ShareGroup(groupId, {
      topic: (name) => this.host.metadata.topic(name),
      sessionTimeoutMs: this.props["group.share.session.timeout.ms"],
      maxSize: this.props["group.share.max.size"],
      memberGone: (g, m) => {
        this.closeSession(g, m);
        const group = this.groups.get(g);
        if (group !== undefined) void this.writeMembership(group);
      },
      assigned: (g, topicId, p) => void this.state(g, this.host.metadata.topicById(topicId), p),
    });
    this.groups.set(groupId, group);
    return group;
  }

  /**
   * DeleteGroups of a share group: only an empty one; its membership records and every share-partition's
   * state are tombstoned. Undefined when there is no such share group.
   */
  async deleteGroup(groupId: string): Promise<"NONE" | "NON_EMPTY_GROUP" | "UNKNOWN_SERVER_ERROR" | undefined> {
    const group = this.groups.get(groupId);
    if (group === undefined) return undefined;
    if (group.members.size > 0) return "NON_EMPTY_GROUP";
    const written = await this.membership.write(groupId, group.deletion());
    if (written !== 0) return "UNKNOWN_SERVER_ERROR";
    this.groups.delete(groupId);
    for (const key of [...this.states.keys()]) {
      const [g, topicId, p] = key.split("\u0000") as [string, string, string];
      if (g !== groupId) continue;
      this.states.delete(key);
      await this.topic.delete({ groupId, topicId, partition: Number(p) });
    }
    return "NONE";
  }

  group(groupId: string): ShareGroup | undefined {
    return this.groups.get(groupId);
  }

  list(): ShareGroupListing[] {
    return [...this.groups.values()].map((g) => ({
      groupId: g.groupId,
      protocolType: "share",
      state: g.state,
      type: "share",
    }));
  }

  /**
   * DescribeShareGroupOffsets: each share-partition's start offset and lag (records from the start offset
   * to the high watermark not yet acknowledged or archived); -1 for partitions the group has not started.
   * `topics` null: every share-partition of the group.
   */
  offsets(
    groupId: string,
    topics: readonly { topicName: string; partitions: readonly number[] }[] | null,
  ): { topic: string; topicId: string; partition: number; startOffset: number; lag: number }[] {
    const wanted: { topic: TopicInfo | undefined; name: string; partition: number }[] = [];
    if (topics === null) {
      for (const key of this.states.keys()) {
        const [g, topicId, p] = key.split("\u0000") as [string, string, string];
        const topic = this.host.metadata.topicById(topicId);
        if (g === groupId && topic !== undefined) wanted.push({ topic, name: topic.name, partition: Number(p) });
      }
    } else {
      for (const t of topics)
        for (const partition of t.partitions)
          wanted.push({ topic: this.host.metadata.topic(t.topicName), name: t.topicName, partition });
    }
    return wanted.map(({ topic, name, partition }) => {
      const entry = topic === undefined ? undefined : this.states.get(stateKey(groupId, topic.id, partition));
      const log = this.host.partitions.logOf(topic, partition);
      const base = { topic: name, topicId: topic?.id ?? ZERO_TOPIC_ID, partition };
      if (entry === undefined || typeof log === "number") return { ...base, startOffset: -1, lag: -1 };
      const sp = entry.sp;
      const lag = Math.max(0, Number(log.highWatermark) - sp.startOffset - sp.deliveryComplete);
      return { ...base, startOffset: sp.startOffset, lag };
    });
  }

  /**
   * AlterShareGroupOffsets: an empty share group's share-partitions start again at the offsets given,
   * nothing in flight. Answers a group error, or per topic and partition an error name (NONE).
   */
  async alterOffsets(
    groupId: string,
    topics: readonly { topicName: string; partitions: readonly { partitionIndex: number; startOffset: bigint }[] }[],
  ): Promise<
    GroupCheck | { topic: string; topicId: string; partitions: { partition: number; error: OffsetsError }[] }[]
  > {
    const check = this.emptyGroup(groupId);
    if (check !== undefined) return check;
    const out: { topic: string; topicId: string; partitions: { partition: number; error: OffsetsError }[] }[] = [];
    for (const t of topics) {
      const topic = this.host.metadata.topic(t.topicName);
      const partitions: { partition: number; error: OffsetsError }[] = [];
      for (const p of t.partitions) {
        if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
          partitions.push({ partition: p.partitionIndex, error: "UNKNOWN_TOPIC_OR_PARTITION" });
          continue;
        }
        const entry = { sp: new SharePartition(Number(p.startOffset)), updates: 0, snapshotEpoch: 0 };
        this.states.set(stateKey(groupId, topic.id, p.partitionIndex), entry);
        const code = await this.persist(groupId, topic.id, p.partitionIndex, entry, true);
        partitions.push({ partition: p.partitionIndex, error: code === 0 ? "NONE" : "UNKNOWN_SERVER_ERROR" });
      }
      out.push({ topic: t.topicName, topicId: topic?.id ?? ZERO_TOPIC_ID, partitions });
    }
    return out;
  }

  /**
   * DeleteShareGroupOffsets: an empty share group forgets its share-partitions of these topics (they start
   * again by share.auto.offset.reset). Answers a group error, or an error name per topic.
   */
  async deleteOffsets(
    groupId: string,
    topicNames: readonly string[],
  ): Promise<GroupCheck | { topic: string; topicId: string; error: OffsetsError }[]> {
    const check = this.emptyGroup(groupId);
    if (check !== undefined) return check;
    const out: { topic: string; topicId: string; error: OffsetsError }[] = [];
    for (const name of topicNames) {
      const topic = this.host.metadata.topic(name);
      if (topic === undefined) {
        out.push({ topic: name, topicId: ZERO_TOPIC_ID, error: "UNKNOWN_TOPIC_OR_PARTITION" });
        continue;
      }
      for (let p = 0; p < topic.partitions; p++) {
        if (!this.states.delete(stateKey(groupId, topic.id, p))) continue;
        await this.topic.delete({ groupId, topicId: topic.id, partition: p });
      }
      out.push({ topic: name, topicId: topic.id, error: "NONE" });
    }
    return out;
  }

  /** Why a group's offsets may not change now (unknown, or with members), or undefined. */
  private emptyGroup(groupId: string): GroupCheck | undefined {
    const group = this.groups.get(groupId);
    if (group === undefined) return { groupError: "GROUP_ID_NOT_FOUND", message: `Group ${groupId} not found.` };
    if (group.members.size > 0) return { groupError: "NON_EMPTY_GROUP", message: `The group ${groupId} is not empty.` };
    return undefined;
  }

  // --- share-partitions ---

  /** The group's lock duration: its share.record.lock.duration.ms, else the broker's. */
  lockDurationMs(groupId: string): number {
    return Number(
      groupConfig(this.host.metadata.groupConfigs(groupId).configs, "share.record.lock.duration.ms", this.host.config),
    );
  }

  /**
   * The share-partition of `groupId` over `topic`-`partition`, started where share.auto.offset.reset says
   * when it has no state yet (that start is written at once, as Kafka initializes share group state).
   */
  private async state(
    groupId: string,
    topic: TopicInfo | undefined,
    partition: number,
  ): Promise<SharePartition | undefined> {
    if (topic === undefined) return undefined;
    const key = stateKey(groupId, topic.id, partition);
    const found = this.states.get(key);
    if (found !== undefined) return found.sp;
    let starting = this.starting.get(key);
    if (starting === undefined) {
      starting = this.startPartition(groupId, topic, partition).finally(() => this.starting.delete(key));
      this.starting.set(key, starting);
    }
    return starting;
  }

  private async startPartition(
    groupId: string,
    topic: TopicInfo,
    partition: number,
  ): Promise<SharePartition | undefined> {
    const log = this.host.partitions.logOf(topic, partition);
    if (typeof log === "number") return undefined;
    const configs = this.host.metadata.groupConfigs(groupId).configs;
    const start = await startOffset(log, groupConfig(configs, "share.auto.offset.reset", this.host.config));
    const sp = new SharePartition(Number(start));
    const entry = { sp, updates: 0, snapshotEpoch: 0 };
    this.states.set(stateKey(groupId, topic.id, partition), entry);
    void this.persist(groupId, topic.id, partition, entry, true);
    return sp;
  }

  /** Acquires records of a share-partition for a member; undefined when the partition is unknown. */
  async acquire(
    groupId: string,
    memberId: string,
    topic: TopicInfo,
    partition: number,
    maxRecords: number,
  ): Promise<AcquiredRange[] | undefined> {
    const sp =
      this.states.get(stateKey(groupId, topic.id, partition))?.sp ?? (await this.state(groupId, topic, partition));
    const log = this.host.partitions.logOf(topic, partition);
    if (sp === undefined || typeof log === "number") return undefined;
    return sp.acquire(memberId, {
      endOfLog: Number(log.highWatermark),
      logStart: Number(log.logStartOffset),
      maxRecords,
      maxInFlight: this.props["group.share.partition.max.record.locks"],
      lockMs: this.lockDurationMs(groupId),
      now: Date.now(),
    });
  }

  unacquire(groupId: string, topic: TopicInfo, partition: number, ranges: readonly AcquiredRange[]): void {
    if (ranges.length === 0) return;
    this.states.get(stateKey(groupId, topic.id, partition))?.sp.unacquire(ranges);
  }

  hasAvailable(groupId: string, topicId: string, partition: number): boolean {
    return this.states.get(stateKey(groupId, topicId, partition))?.sp.hasAvailable ?? false;
  }

  /**
   * Applies a member's acknowledgements on one share-partition and writes the change to
   * `__share_group_state` before answering: an error name, or undefined.
   */
  async acknowledge(
    groupId: string,
    memberId: string,
    topic: TopicInfo,
    partition: number,
    batches: readonly AckBatch[],
  ): Promise<string | undefined> {
    const entry = this.states.get(stateKey(groupId, topic.id, partition));
    if (entry === undefined) return "INVALID_RECORD_STATE";
    const error = entry.sp.acknowledge(
      memberId,
      batches,
      this.props["group.share.delivery.count.limit"],
      this.lockDurationMs(groupId),
      Date.now(),
    );
    if (error !== undefined) return error;
    if (entry.sp.hasAvailable) this.host.fetchWaiters.notify(topic.name, partition);
    const code = await this.persist(groupId, topic.id, partition, entry, false);
    return code === 0 ? undefined : "UNKNOWN_SERVER_ERROR";
  }

  /** Ends a member's share session: the records it holds are available again at once. */
  closeSession(groupId: string, memberId: string): void {
    this.sessions.close(groupId, memberId);
    const limit = this.props["group.share.delivery.count.limit"];
    for (const [key, entry] of this.states) {
      if (!key.startsWith(`${groupId}\u0000`)) continue;
      if (entry.sp.releaseMember(memberId, limit)) this.changed(key, entry);
    }
  }

  private expireLocks(now: number): void {
    const limit = this.props["group.share.delivery.count.limit"];
    for (const [key, entry] of this.states) if (entry.sp.expireLocks(now, limit)) this.changed(key, entry);
  }

  /** Records were released: fetches waiting on the partition may take them; the change is written. */
  private changed(key: string, entry: { sp: SharePartition; updates: number; snapshotEpoch: number }): void {
    const [groupId, topicId, p] = key.split("\u0000") as [string, string, string];
    const topic = this.host.metadata.topicById(topicId);
    if (topic !== undefined) this.host.fetchWaiters.notify(topic.name, Number(p));
    void this.persist(groupId, topicId, Number(p), entry, false);
  }

  /** Writes a ShareUpdate with what changed, or a ShareSnapshot every so many updates (and at the start). */
  private persist(
    groupId: string,
    topicId: string,
    partition: number,
    entry: { sp: SharePartition; updates: number; snapshotEpoch: number },
    snapshot: boolean,
  ): Promise<number> {
    const perSnapshot = this.props["share.coordinator.snapshot.update.records.per.snapshot"];
    const whole = snapshot || entry.updates >= perSnapshot;
    if (whole) {
      entry.updates = 0;
      entry.snapshotEpoch++;
    } else entry.updates++;
    const record: ShareStateRecord = {
      kind: whole ? "snapshot" : "update",
      groupId,
      topicId,
      partition,
      snapshotEpoch: entry.snapshotEpoch,
      startOffset: entry.sp.startOffset,
      batches: whole ? entry.sp.snapshot() : entry.sp.takeChanges(),
    };
    return this.topic.write(record);
  }
}

/**
 * Where a share-partition without state starts (share.auto.offset.reset): the log start, the high
 * watermark, or the first record no older than the duration (the high watermark when there is none).
 */
async function startOffset(log: PartitionLog, reset: string): Promise<bigint> {
  if (reset === "earliest") return log.logStartOffset;
  const ms = reset.startsWith("by_duration:") ? durationMs(reset.slice("by_duration:".length)) : undefined;
  if (ms === undefined) return log.highWatermark;
  const found = await log.offsetForTimestamp(BigInt(Date.now() - ms));
  return found === null || found.offset > log.highWatermark ? log.highWatermark : found.offset;
}

function stateKey(groupId: string, topicId: string, partition: number): string {
  return `${groupId}\u0000${topicId}\u0000${partition}`;
}
