import type { FetchWaiters } from "../cluster/fetch-waiters.js";
import type { Leadership, RoleChange } from "../cluster/leadership.js";
import type { ClusterMetadata, TopicInfo } from "../cluster/metadata.js";
import type { PartitionLogs } from "../cluster/partition-logs.js";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { PartitionLog } from "../log/partition-log.js";
import type { Logger } from "../logger.js";
import { durationMs, groupConfig } from "./group-configs.js";
import type { MembershipLog } from "./membership-log.js";
import { OFFSETS_TOPIC } from "../group/offsets-topic.js";
import { ShareGroup, type HeartbeatOutcome } from "./share-group.js";
import type { SharePersister } from "./persister.js";
import { SharePartition, type AckBatch, type AcquiredRange } from "./share-partition.js";
import { ShareSessions } from "./share-sessions.js";
import type { ShareStateKey } from "./state-records.js";

/**
 * Share groups on this node (KIP-932): their membership (`share-group.ts`, as the group coordinator of the
 * group's `__consumer_offsets` partition), and, as the share-partition leader of the topic partitions led
 * here, the in-flight records of each share-partition (`share-partition.ts`), the members' share sessions
 * (`share-sessions.ts`) and the timer that releases expired locks. A share-partition's state is read from
 * its share coordinator (`state-coordinator.ts`, through `persister.ts`: here or on the broker leading its
 * `__share_group_state` partition) when it is first fetched after this broker became the partition's
 * leader, initialized there by share.auto.offset.reset when it has none, and each change is written there
 * (under the partition's leader epoch, so that a former leader's writes are fenced) before an
 * acknowledgement is answered. A partition led elsewhere now has its share-partitions dropped here.
 */

export interface ShareHost {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: Pick<ClusterMetadata, "topic" | "topicById" | "groupConfigs">;
  readonly partitions: Pick<PartitionLogs, "logOf">;
  readonly fetchWaiters: Pick<FetchWaiters, "notify">;
  /** The classic and consumer groups, whose ids share groups may not take (one namespace for every type). */
  readonly groups: { group(groupId: string): object | undefined };
  /** Who leads each topic partition, at which epoch: share-partitions live with their partition's leader. */
  readonly leadership: Pick<Leadership, "onChange" | "state" | "role">;
  /** The share coordinators, where share-partition state is kept. */
  readonly sharePersister: SharePersister;
  /** This node's share coordinator: the share-partitions of a group it keeps (offsets of a whole group). */
  readonly shareState: { keysOf(groupId: string): ShareStateKey[] };
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

/** A share-partition led here: its records, the epochs its writes carry, its writes in order. */
interface LedPartition {
  readonly sp: SharePartition;
  readonly topic: string;
  readonly leaderEpoch: number;
  readonly stateEpoch: number;
  writes: Promise<unknown>;
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
  private readonly states = new Map<string, LedPartition>();
  readonly sessions = new ShareSessions();
  /** Share-partitions being started (their start offset looked up), so that each starts once. */
  private readonly starting = new Map<string, Promise<SharePartition | undefined>>();
  private sweeper: NodeJS.Timeout | undefined;
  private unfollow: (() => void) | undefined;
  /** `__consumer_offsets` partitions whose share groups are being loaded. */
  private readonly loadingGroups = new Map<number, Promise<void>>();
  /** `__consumer_offsets` partitions whose share groups are loaded here. */
  private readonly loadedGroups = new Set<number>();

  constructor(
    private readonly host: ShareHost,
    private readonly membership: MembershipLog,
  ) {}

  private get props(): BrokerConfig["props"] {
    return this.host.config.props;
  }

  // --- start and stop ---

  /** The share groups of the `__consumer_offsets` partitions led here. */
  async load(): Promise<void> {
    const partitions = new Set<number>();
    const count = this.host.metadata.topic(OFFSETS_TOPIC)?.partitions ?? 0;
    for (let p = 0; p < count; p++) if (this.host.leadership.role(OFFSETS_TOPIC, p) === "leader") partitions.add(p);
    await this.loadMembership(partitions);
    for (const p of partitions) this.loadedGroups.add(p);
  }

  /**
   * Share groups and their members as the partitions of `__consumer_offsets` left them; members' sessions
   * start now.
   */
  private async loadMembership(partitions: ReadonlySet<number>): Promise<void> {
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
    await this.membership.load(partitions, (r) => {
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
      this.groups.get(groupId)?.shutdown();
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
    this.unfollow = this.host.leadership.onChange((c) => this.onRoleChange(c));
  }

  stop(): void {
    this.unfollow?.();
    clearInterval(this.sweeper);
    for (const g of this.groups.values()) g.shutdown();
  }

  async flush(): Promise<void> {
    await this.membership.flush();
    await Promise.all([...this.states.values()].map((e) => e.writes.catch(() => undefined)));
  }

  /**
   * A `__consumer_offsets` partition led here now: its share groups are loaded (led elsewhere: dropped). A
   * topic partition led elsewhere now (or again at a new epoch): its share-partitions are read again when
   * fetched.
   */
  private onRoleChange(c: RoleChange): void {
    if (c.topic === OFFSETS_TOPIC) return this.followGroups(c);
    for (const [key, entry] of this.states) {
      if (entry.topic !== c.topic || !key.endsWith(`\u0000${c.partition}`)) continue;
      if (c.role === "leader" && Math.max(0, c.state?.leaderEpoch ?? 0) === entry.leaderEpoch) continue;
      this.states.delete(key);
    }
  }

  private followGroups(c: RoleChange): void {
    const p = c.partition;
    if (c.role === "leader" && !this.loadedGroups.has(p) && !this.loadingGroups.has(p)) {
      const loading = this.loadMembership(new Set([p]))
        .then(() => {
          if (this.host.leadership.role(OFFSETS_TOPIC, p) === "leader") this.loadedGroups.add(p);
          else this.dropGroups(p); // led elsewhere again while it loaded
        })
        .catch((e: Error) => this.host.log.error(`loading share groups of ${OFFSETS_TOPIC}-${p}: ${e.message}`))
        .finally(() => this.loadingGroups.delete(p));
      this.loadingGroups.set(p, loading);
    } else if (c.role !== "leader" && this.loadedGroups.delete(p)) this.dropGroups(p);
  }

  /** Forgets the share groups of a `__consumer_offsets` partition (and stops their members' timers). */
  private dropGroups(p: number): void {
    for (const [groupId, group] of this.groups) {
      if (this.membership.partitionFor(groupId) !== p) continue;
      group.shutdown();
      this.groups.delete(groupId);
    }
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
    // A group coordinator that just became one answers once its share groups are loaded.
    await this.loadingGroups.get(this.membership.partitionFor(groupId));
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
    for (const key of this.knownKeys(groupId)) {
      this.states.delete(stateKey(groupId, key.topicId, key.partition));
      await this.host.sharePersister.delete(key);
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
   * The share-partitions of a group known here: led here, kept by this node's share coordinator, or
   * assigned to its members.
   */
  private knownKeys(groupId: string): ShareStateKey[] {
    const out = new Map<string, ShareStateKey>();
    const add = (topicId: string, partition: number) =>
      out.set(stateKey(groupId, topicId, partition), { groupId, topicId, partition });
    for (const key of this.states.keys()) {
      const [g, topicId, p] = key.split("\u0000") as [string, string, string];
      if (g === groupId) add(topicId, Number(p));
    }
    for (const k of this.host.shareState.keysOf(groupId)) add(k.topicId, k.partition);
    for (const m of this.groups.get(groupId)?.members.values() ?? [])
      for (const [topicId, partitions] of m.assignment) for (const p of partitions) add(topicId, p);
    return [...out.values()];
  }

  /**
   * DescribeShareGroupOffsets: each share-partition's start offset and lag (records from the start offset
   * to the high watermark not yet acknowledged or archived): live when it is led here, else its share
   * coordinator's summary; -1 for partitions the group has not started. `topics` null: every
   * share-partition of the group known here.
   */
  async offsets(
    groupId: string,
    topics: readonly { topicName: string; partitions: readonly number[] }[] | null,
  ): Promise<{ topic: string; topicId: string; partition: number; startOffset: number; lag: number }[]> {
    const wanted: { topic: TopicInfo | undefined; name: string; partition: number }[] = [];
    if (topics === null) {
      for (const k of this.knownKeys(groupId)) {
        const topic = this.host.metadata.topicById(k.topicId);
        if (topic !== undefined) wanted.push({ topic, name: topic.name, partition: k.partition });
      }
    } else {
      for (const t of topics)
        for (const partition of t.partitions)
          wanted.push({ topic: this.host.metadata.topic(t.topicName), name: t.topicName, partition });
    }
    const out = await Promise.all(
      wanted.map(async ({ topic, name, partition }) => {
        const base = { topic: name, topicId: topic?.id ?? ZERO_TOPIC_ID, partition };
        const none = { ...base, startOffset: -1, lag: -1 };
        if (topic === undefined) return none;
        const log = this.host.partitions.logOf(topic, partition);
        const end = typeof log === "number" ? undefined : Number(log.highWatermark);
        const lagOf = (start: number, done: number) => (end === undefined ? -1 : Math.max(0, end - start - done));
        const entry = this.states.get(stateKey(groupId, topic.id, partition));
        if (entry !== undefined)
          return {
            ...base,
            startOffset: entry.sp.startOffset,
            lag: lagOf(entry.sp.startOffset, entry.sp.deliveryComplete),
          };
        const s = await this.host.sharePersister.summary({ groupId, topicId: topic.id, partition });
        if (!("deliveryComplete" in s) || s.startOffset < 0) return none;
        // A leader that never wrote its count (-1) has had nothing done since the state was initialized.
        return { ...base, startOffset: s.startOffset, lag: lagOf(s.startOffset, Math.max(0, s.deliveryComplete)) };
      }),
    );
    return topics === null ? out.filter((o) => o.startOffset >= 0) : out;
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
        const code = await this.reset(groupId, topic.id, p.partitionIndex, Number(p.startOffset));
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
      let error: OffsetsError = "NONE";
      for (let p = 0; p < topic.partitions; p++) {
        this.states.delete(stateKey(groupId, topic.id, p));
        const r = await this.host.sharePersister.delete({ groupId, topicId: topic.id, partition: p });
        if (r.errorCode !== ErrorCode.NONE) error = "UNKNOWN_SERVER_ERROR";
      }
      out.push({ topic: name, topicId: topic.id, error });
    }
    return out;
  }

  /**
   * A share-partition starts again at `startOffset`, nothing in flight: its state initialized under the
   * next state epoch (a leader still holding the old state is fenced at its next write).
   */
  private async reset(groupId: string, topicId: string, partition: number, startOffset: number): Promise<number> {
    const key = { groupId, topicId, partition };
    this.states.delete(stateKey(groupId, topicId, partition));
    const now = await this.host.sharePersister.summary(key);
    const stateEpoch = "stateEpoch" in now && now.startOffset >= 0 ? now.stateEpoch + 1 : 0;
    return (await this.host.sharePersister.initialize(key, stateEpoch, startOffset)).errorCode;
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

  /**
   * A share-partition of a partition led here, from its share coordinator's state; one without state starts
   * where share.auto.offset.reset says, written there at once (as Kafka initializes share group state).
   * Undefined when this broker does not lead the partition or the coordinator cannot be reached (the next
   * fetch tries again).
   */
  private async startPartition(
    groupId: string,
    topic: TopicInfo,
    partition: number,
  ): Promise<SharePartition | undefined> {
    const led = this.host.leadership.state(topic.name, partition);
    const log = this.host.partitions.logOf(topic, partition);
    if (led?.leader !== this.host.config.nodeId || typeof log === "number") return undefined;
    const leaderEpoch = Math.max(0, led.leaderEpoch);
    const key = { groupId, topicId: topic.id, partition };
    const read = await this.host.sharePersister.read(key, leaderEpoch);
    let sp: SharePartition;
    let stateEpoch = 0;
    if ("batches" in read && read.startOffset >= 0) {
      sp = SharePartition.fromState(read.startOffset, read.batches);
      stateEpoch = read.stateEpoch;
    } else if ("batches" in read || read.errorCode === ErrorCode.INVALID_REQUEST) {
      // No state yet (Kafka's coordinator answers INVALID_REQUEST), or state without a start offset.
      if ("batches" in read) stateEpoch = read.stateEpoch;
      const configs = this.host.metadata.groupConfigs(groupId).configs;
      const start = Number(await startOffset(log, groupConfig(configs, "share.auto.offset.reset", this.host.config)));
      const init = await this.host.sharePersister.initialize(key, stateEpoch, start);
      if (init.errorCode !== ErrorCode.NONE) return this.unstarted(key, init.errorCode);
      sp = new SharePartition(start);
    } else return this.unstarted(key, read.errorCode);
    // The leadership may have moved while the state was read.
    if (this.host.leadership.state(topic.name, partition)?.leaderEpoch !== led.leaderEpoch) return undefined;
    this.states.set(stateKey(groupId, topic.id, partition), {
      sp,
      topic: topic.name,
      leaderEpoch,
      stateEpoch,
      writes: Promise.resolve(),
    });
    return sp;
  }

  private unstarted(key: ShareStateKey, errorCode: number): undefined {
    this.host.log.warn(
      `share-partition ${key.groupId}:${key.topicId}:${key.partition}: its state cannot be read (error ${errorCode})`,
    );
    return undefined;
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
    const code = await this.persist(groupId, topic.id, partition, entry);
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
  private changed(key: string, entry: LedPartition): void {
    const [groupId, topicId, p] = key.split("\u0000") as [string, string, string];
    this.host.fetchWaiters.notify(entry.topic, Number(p));
    void this.persist(groupId, topicId, Number(p), entry);
  }

  /**
   * Writes what changed to the share coordinator, after the writes before it; a write fenced there (a newer
   * leader, or offsets reset) drops the share-partition here. Resolves to an error code.
   */
  private async persist(groupId: string, topicId: string, partition: number, entry: LedPartition): Promise<number> {
    const state = {
      stateEpoch: entry.stateEpoch,
      leaderEpoch: entry.leaderEpoch,
      startOffset: entry.sp.startOffset,
      batches: entry.sp.takeChanges(),
      deliveryComplete: entry.sp.deliveryComplete,
    };
    const key = { groupId, topicId, partition };
    const run = () => this.host.sharePersister.write(key, state);
    const written = entry.writes.then(run, run);
    entry.writes = written;
    const { errorCode } = await written;
    if (errorCode === ErrorCode.FENCED_LEADER_EPOCH || errorCode === ErrorCode.FENCED_STATE_EPOCH) {
      const k = stateKey(groupId, topicId, partition);
      if (this.states.get(k) === entry) this.states.delete(k);
    }
    if (errorCode !== ErrorCode.NONE)
      this.host.log.warn(
        `share-partition ${groupId}:${topicId}:${partition}: writing its state failed: error ${errorCode}`,
      );
    return errorCode;
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
