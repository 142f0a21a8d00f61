import type { OffsetCommitValue } from "@tskafka/protocol";
import { hasPartition, type ClusterMetadata } from "../cluster/metadata.js";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { ClassicState } from "./classic-group.js";
import type { ConsumerGroupState } from "./consumer-group.js";
import { committedOffsetRecord, offsetCommitRecord, type CoordinatorRecord } from "./records.js";
import { PendingTxnOffsets } from "./txn-offsets.js";

/**
 * The committed offsets of every group: OffsetCommit, OffsetFetch and OffsetDelete with Kafka's checks,
 * over an in-memory map that `__consumer_offsets` is the durable copy of. A commit is in the map only
 * once its record is written; the group-level checks (generation, member epoch) ask the group.
 * Transactional offsets wait in `pending` (see `txn-offsets.ts`) until their transaction's marker.
 */

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Set only by OffsetCommit v1-4 with an explicit retention; -1 otherwise. */
  expireTimestamp: number;
  /**
   * Where its record lies in the log order of its `__consumer_offsets` partition (larger: later), given
   * when it is applied or staged. A transaction's commit replaces only an offset written before its own
   * (Kafka compares record offsets), so a plain commit made while the transaction was open stays.
   */
  order?: number;
}

export interface CommitRequest {
  groupId: string;
  /** -1 for commits from outside group management. */
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  retentionTimeMs: bigint;
  topics: CommitTopicOffsets[];
  apiVersion: number;
}

/** The offsets a commit (OffsetCommit, TxnOffsetCommit) gives for one topic. */
export interface CommitTopicOffsets {
  name: string;
  partitions: {
    partitionIndex: number;
    committedOffset: bigint;
    committedLeaderEpoch: number;
    committedMetadata: string | null;
  }[];
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

/** What the offset store sees of a classic group (ClassicGroup is one). */
export interface ClassicOffsetGroup {
  readonly kind: "classic";
  readonly state: ClassicState;
  readonly generationId: number;
  readonly members: { readonly size: number };
  /** UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID or NONE. */
  validateMember(memberId: string, groupInstanceId: string | null): number;
  /** A valid member's commit counts as a sign of life. */
  touch(memberId: string): void;
  /** The consumer protocol's subscribed topics, or undefined when not known. */
  subscribedTopics(): Set<string> | undefined;
}

/** What the offset store sees of a consumer-protocol group (ConsumerGroup is one). */
export interface ConsumerOffsetGroup {
  readonly kind: "consumer";
  readonly state: ConsumerGroupState;
  readonly members: { readonly size: number };
  /** UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, STALE_MEMBER_EPOCH or NONE. */
  validateMemberEpoch(memberId: string, memberEpoch: number): number;
  subscribedTopics(): Set<string>;
}

/** What the offset store sees of a streams group (StreamsGroup is one): checked as a consumer group is. */
export interface StreamsOffsetGroup {
  readonly kind: "streams";
  readonly state: string;
  readonly members: { readonly size: number };
  /** UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, STALE_MEMBER_EPOCH or NONE. */
  validateMemberEpoch(memberId: string, memberEpoch: number): number;
  /**
   * A commit's check: an error for every partition, or (a member committing with an older epoch, as
   * Kafka 4.4 allows) a check per partition (STALE_MEMBER_EPOCH or NONE).
   */
  validateCommit(memberId: string, memberEpoch: number): number | ((topic: string, partition: number) => number);
  subscribedTopics(): Set<string>;
}

export type OffsetGroup = ClassicOffsetGroup | ConsumerOffsetGroup | StreamsOffsetGroup;

/** What the offset store uses: settings, topics, the groups' own checks, and the ordered writer. */
export interface OffsetStoreHost {
  /** Read at each use. */
  readonly config: { readonly props: Pick<BrokerConfig["props"], "offset.metadata.max.bytes"> };
  readonly metadata: Pick<ClusterMetadata, "topic">;
  group(groupId: string): OffsetGroup | undefined;
  /** A commit from outside group management to an unknown group makes a "simple" (classic, empty) group. */
  createSimpleGroup(groupId: string): void;
  /** Appends to `__consumer_offsets` in order; resolves to an error code. */
  write(groupId: string, records: CoordinatorRecord[]): Promise<number>;
}

/** A partition whose offset a transaction has yet to decide (OffsetFetch with requireStable). */
function unstable(partitionIndex: number): FetchedOffsets["topics"][number]["partitions"][number] {
  return {
    partitionIndex,
    committedOffset: -1n,
    committedLeaderEpoch: -1,
    metadata: "",
    errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
  };
}

export class OffsetStore {
  /** group -> topic -> partition -> offset */
  private readonly offsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  /** Transactional offsets not committed yet, by producer. */
  readonly pending = new PendingTxnOffsets();
  /**
   * The log order of applied and staged offsets: records are applied in the order they reach their
   * partition's log (writes to a partition are chained; loading replays in log order).
   */
  private clock = 0;

  constructor(private readonly host: OffsetStoreHost) {}

  // --- the map ---

  /** The offsets of one group, by topic and partition (read-only use). */
  committed(groupId: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> | undefined {
    return this.offsets.get(groupId);
  }

  has(groupId: string): boolean {
    return this.offsets.has(groupId);
  }

  groupIds(): IterableIterator<string> {
    return this.offsets.keys();
  }

  set(groupId: string, topic: string, partition: number, o: CommittedOffset): void {
    let byTopic = this.offsets.get(groupId);
    if (byTopic === undefined) this.offsets.set(groupId, (byTopic = new Map()));
    let byPartition = byTopic.get(topic);
    if (byPartition === undefined) byTopic.set(topic, (byPartition = new Map()));
    byPartition.set(partition, o.order === undefined ? { ...o, order: ++this.clock } : o);
  }

  /** Drops one committed offset, and the maps that become empty with it; a tombstone drops staged ones too. */
  delete(groupId: string, topic: string, partition: number): void {
    this.pending.remove(groupId, topic, partition);
    const byTopic = this.offsets.get(groupId);
    const byPartition = byTopic?.get(topic);
    if (byTopic === undefined || byPartition === undefined) return;
    byPartition.delete(partition);
    if (byPartition.size === 0) byTopic.delete(topic);
    if (byTopic.size === 0) this.offsets.delete(groupId);
  }

  /** Forgets every offset of a group, committed or staged (once its deletion is written). */
  drop(groupId: string): void {
    this.offsets.delete(groupId);
    this.pending.dropGroup(groupId);
  }

  /** The tombstones that delete every offset of a group, staged ones included (one per partition). */
  tombstones(groupId: string): CoordinatorRecord[] {
    const records: CoordinatorRecord[] = [];
    const committed = this.offsets.get(groupId);
    for (const [topic, parts] of committed ?? []) {
      for (const partition of parts.keys()) records.push(offsetCommitRecord(groupId, topic, partition, null));
    }
    for (const [topic, parts] of this.pending.partitionsOf(groupId)) {
      for (const partition of parts) {
        if (committed?.get(topic)?.has(partition) !== true)
          records.push(offsetCommitRecord(groupId, topic, partition, null));
      }
    }
    return records;
  }

  /**
   * An offset record read back from `__consumer_offsets` (null: a tombstone); `producerId` is the
   * producer of a transactional batch, whose offsets are staged until its marker.
   */
  replay(groupId: string, topic: string, partition: number, v: OffsetCommitValue | null, producerId = -1n): void {
    if (v === null) {
      this.delete(groupId, topic, partition);
      return;
    }
    const o: CommittedOffset = {
      offset: v.offset,
      leaderEpoch: v.leaderEpoch,
      metadata: v.metadata,
      commitTimestamp: Number(v.commitTimestamp),
      expireTimestamp: Number(v.expireTimestamp),
    };
    if (producerId >= 0n) this.stage(producerId, groupId, topic, partition, o);
    else this.set(groupId, topic, partition, o);
  }

  // --- transactional offsets ---

  /** Stages an offset of a producer's transaction (written, not visible). */
  stage(producerId: bigint, groupId: string, topic: string, partition: number, o: CommittedOffset): void {
    this.pending.stage(producerId, groupId, topic, partition, { ...o, order: ++this.clock });
  }

  /**
   * A producer's transaction ended (its marker is written) on the partition whose groups `inScope`
   * accepts: on commit its staged offsets become the committed ones, unless a commit written after them
   * is there; on abort they go. Returns the groups that got offsets.
   */
  completeTxn(producerId: bigint, committed: boolean, inScope: (groupId: string) => boolean): string[] {
    const taken = this.pending.take(producerId, inScope);
    if (!committed) return [];
    for (const [groupId, topics] of taken) {
      for (const [topic, parts] of topics) {
        for (const [partition, o] of parts) {
          const existing = this.offsets.get(groupId)?.get(topic)?.get(partition);
          if (existing !== undefined && (existing.order ?? 0) > (o.order ?? 0)) continue;
          this.set(groupId, topic, partition, o);
        }
      }
    }
    return [...taken.keys()];
  }

  /** Whether a transaction has an offset staged for the partition of the group. */
  hasPending(groupId: string, topic: string, partition: number): boolean {
    return this.pending.has(groupId, topic, partition);
  }

  /** Whether the group has a transaction open. */
  hasPendingGroup(groupId: string): boolean {
    return this.pending.hasGroup(groupId);
  }

  // --- OffsetCommit ---

  /** The group-level check of a commit: an error for every partition, NONE, or a check per partition. */
  private validateCommit(req: CommitRequest): number | ((topic: string, partition: number) => number) {
    const epoch = req.generationIdOrMemberEpoch;
    const group = this.host.group(req.groupId);
    if (group === undefined) {
      // Commits from outside group management create a "simple" group.
      if (epoch >= 0) return req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
      this.host.createSimpleGroup(req.groupId);
      return ErrorCode.NONE;
    }
    if (group.kind === "consumer" || group.kind === "streams") {
      if (group.state === "Dead") return ErrorCode.COORDINATOR_NOT_AVAILABLE;
      if (epoch < 0 && group.members.size === 0) return ErrorCode.NONE;
      // Streams members commit with their member epoch, which only OffsetCommit v9+ carries (as Kafka 4.4).
      if (group.kind === "streams")
        return req.apiVersion < 9 ? ErrorCode.UNSUPPORTED_VERSION : group.validateCommit(req.memberId, epoch);
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

  async commit(req: CommitRequest): Promise<TopicPartitionErrors[]> {
    const check = req.groupId === "" && req.apiVersion > 0 ? ErrorCode.INVALID_GROUP_ID : this.validateCommit(req);
    const groupError = typeof check === "number" ? check : ErrorCode.NONE;
    const result: TopicPartitionErrors[] = [];
    const records: CoordinatorRecord[] = [];
    const applied: { topic: string; partition: number; value: CommittedOffset; out: { errorCode: number } }[] = [];
    const now = Date.now();
    const maxMetadata = this.host.config.props["offset.metadata.max.bytes"];
    const retention = req.retentionTimeMs;
    for (const t of req.topics) {
      const partitions: TopicPartitionErrors["partitions"] = [];
      result.push({ name: t.name, partitions });
      const info = this.host.metadata.topic(t.name);
      for (const p of t.partitions) {
        const out = {
          partitionIndex: p.partitionIndex,
          errorCode: typeof check === "number" ? groupError : check(t.name, p.partitionIndex),
        };
        partitions.push(out);
        if (out.errorCode !== ErrorCode.NONE) continue;
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
        records.push(committedOffsetRecord(req.groupId, t.name, p.partitionIndex, value));
        applied.push({ topic: t.name, partition: p.partitionIndex, value, out });
      }
    }
    if (records.length > 0) {
      const error = await this.host.write(req.groupId, records);
      for (const a of applied) {
        if (error === ErrorCode.NONE) this.set(req.groupId, a.topic, a.partition, a.value);
        else a.out.errorCode = error;
      }
    }
    return result;
  }

  // --- OffsetFetch ---

  /**
   * OffsetFetch. With `requireStable` (v7+), a partition with a transactional offset staged answers
   * UNSTABLE_OFFSET_COMMIT (the client retries until the transaction ends), as Kafka does.
   */
  fetch(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
    member: { memberId: string | null; memberEpoch: number } | null,
    requireStable = false,
  ): FetchedOffsets {
    const group = this.host.group(groupId);
    if (member !== null && member.memberEpoch >= 0 && (group?.kind === "consumer" || group?.kind === "streams")) {
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
          partitions: [...parts].map(([partitionIndex, o]) =>
            requireStable && this.pending.has(groupId, name, partitionIndex)
              ? unstable(partitionIndex)
              : {
                  partitionIndex,
                  committedOffset: o.offset,
                  committedLeaderEpoch: o.leaderEpoch,
                  metadata: o.metadata,
                  errorCode: ErrorCode.NONE,
                },
          ),
        });
      }
      return { errorCode: ErrorCode.NONE, topics: out };
    }
    for (const t of topics) {
      const parts = committed?.get(t.name);
      out.push({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          if (requireStable && this.pending.has(groupId, t.name, partitionIndex)) return unstable(partitionIndex);
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

  // --- OffsetDelete ---

  /** OffsetDelete: only for topics the group is not consuming. */
  async deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly { partitionIndex: number }[] }[],
  ): Promise<{ errorCode: number; topics: TopicPartitionErrors[] }> {
    const group = this.host.group(groupId);
    if (group === undefined || group.state === "Dead") return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    let subscribed: Set<string>;
    if (group.kind === "consumer" || group.kind === "streams") subscribed = group.subscribedTopics();
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
        // A staged offset gets its tombstone too (Kafka's replay drops staged offsets with it).
        if (
          this.offsets.get(groupId)?.get(t.name)?.has(partitionIndex) === true ||
          this.pending.has(groupId, t.name, partitionIndex)
        ) {
          records.push(offsetCommitRecord(groupId, t.name, partitionIndex, null));
          removed.push({ topic: t.name, partition: partitionIndex });
        }
        return { partitionIndex, errorCode: ErrorCode.NONE };
      }),
    }));
    const error = await this.host.write(groupId, records);
    if (error !== ErrorCode.NONE) return { errorCode: error, topics: [] };
    for (const r of removed) this.delete(groupId, r.topic, r.partition);
    return { errorCode: ErrorCode.NONE, topics: result };
  }
}
