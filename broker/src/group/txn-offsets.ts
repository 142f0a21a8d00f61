import { hasPartition, type ClusterMetadata } from "../cluster/metadata.js";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type {
  CommitTopicOffsets,
  CommittedOffset,
  OffsetGroup,
  OffsetStore,
  TopicPartitionErrors,
} from "./offset-store.js";
import { committedOffsetRecord, type CoordinatorRecord } from "./records.js";

/**
 * Transactional offset commits (KIP-98, KIP-447): TxnOffsetCommit writes its offsets to the group's
 * `__consumer_offsets` partition as a transactional batch of the producer, and they wait, staged per
 * producer, invisible to OffsetFetch, until the producer's transaction marker on that partition makes
 * them committed offsets (COMMIT) or drops them (ABORT). Loading replays the same steps from the log,
 * so offsets staged without a marker yet stay staged for the transaction coordinator to complete.
 */

/** TxnOffsetCommit as the coordinator takes it (fields a version does not carry at their defaults). */
export interface TxnCommitRequest {
  transactionalId: string;
  groupId: string;
  producerId: bigint;
  producerEpoch: number;
  /** -1 below v3, and for commits from outside group management. */
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: CommitTopicOffsets[];
  apiVersion: number;
}

/** group -> topic -> partition -> offset */
export type GroupOffsets = Map<string, Map<string, Map<number, CommittedOffset>>>;

/** Staged transactional offsets, by producer and by group. */
export class PendingTxnOffsets {
  /** producer -> group -> topic -> partition -> staged offset */
  private readonly byProducer = new Map<bigint, GroupOffsets>();
  /** group -> the producers with offsets staged in it */
  private readonly byGroup = new Map<string, Set<bigint>>();

  /** Stages an offset (a later one of the same producer for the same partition replaces it). */
  stage(producerId: bigint, groupId: string, topic: string, partition: number, o: CommittedOffset): void {
    let groups = this.byProducer.get(producerId);
    if (groups === undefined) this.byProducer.set(producerId, (groups = new Map()));
    let topics = groups.get(groupId);
    if (topics === undefined) groups.set(groupId, (topics = new Map()));
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = new Map()));
    partitions.set(partition, o);
    let producers = this.byGroup.get(groupId);
    if (producers === undefined) this.byGroup.set(groupId, (producers = new Set()));
    producers.add(producerId);
  }

  /** The offset a producer staged for a partition of a group. */
  get(producerId: bigint, groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byProducer.get(producerId)?.get(groupId)?.get(topic)?.get(partition);
  }

  /** Whether any producer has an offset staged for the partition of the group. */
  has(groupId: string, topic: string, partition: number): boolean {
    for (const producerId of this.byGroup.get(groupId) ?? []) {
      if (this.get(producerId, groupId, topic, partition) !== undefined) return true;
    }
    return false;
  }

  /** Whether the group has a transaction open (offsets staged by some producer). */
  hasGroup(groupId: string): boolean {
    return this.byGroup.has(groupId);
  }

  groupIds(): IterableIterator<string> {
    return this.byGroup.keys();
  }

  /** The producers with offsets staged in a group. */
  producers(groupId: string): bigint[] {
    return [...(this.byGroup.get(groupId) ?? [])];
  }

  /** Every partition of a group with a staged offset, once each, by topic. */
  partitionsOf(groupId: string): Map<string, Set<number>> {
    const out = new Map<string, Set<number>>();
    for (const producerId of this.byGroup.get(groupId) ?? []) {
      for (const [topic, parts] of this.byProducer.get(producerId)?.get(groupId) ?? []) {
        let set = out.get(topic);
        if (set === undefined) out.set(topic, (set = new Set()));
        for (const p of parts.keys()) set.add(p);
      }
    }
    return out;
  }

  /** Removes and returns what a producer staged in the groups `inScope` accepts (a marker's partition). */
  take(producerId: bigint, inScope: (groupId: string) => boolean): GroupOffsets {
    const taken: GroupOffsets = new Map();
    const groups = this.byProducer.get(producerId);
    if (groups === undefined) return taken;
    for (const [groupId, topics] of groups) {
      if (!inScope(groupId)) continue;
      taken.set(groupId, topics);
      groups.delete(groupId);
      this.forget(groupId, producerId);
    }
    if (groups.size === 0) this.byProducer.delete(producerId);
    return taken;
  }

  /** A tombstone for a partition of a group removes what every producer staged for it (as Kafka's replay). */
  remove(groupId: string, topic: string, partition: number): void {
    for (const producerId of this.producers(groupId)) {
      const groups = this.byProducer.get(producerId);
      const topics = groups?.get(groupId);
      const parts = topics?.get(topic);
      if (groups === undefined || topics === undefined || parts === undefined) continue;
      parts.delete(partition);
      if (parts.size > 0) continue;
      topics.delete(topic);
      if (topics.size > 0) continue;
      groups.delete(groupId);
      this.forget(groupId, producerId);
      if (groups.size === 0) this.byProducer.delete(producerId);
    }
  }

  /** A deleted group loses what was staged in it. */
  dropGroup(groupId: string): void {
    for (const producerId of this.producers(groupId)) {
      const groups = this.byProducer.get(producerId);
      groups?.delete(groupId);
      if (groups?.size === 0) this.byProducer.delete(producerId);
    }
    this.byGroup.delete(groupId);
  }

  private forget(groupId: string, producerId: bigint): void {
    const producers = this.byGroup.get(groupId);
    producers?.delete(producerId);
    if (producers?.size === 0) this.byGroup.delete(groupId);
  }
}

/** What TxnOffsetCommit uses: settings, topics, the groups' own checks, the store, and the ordered writer. */
export interface TxnOffsetCommitHost {
  /** Read at each use. */
  readonly config: { readonly props: Pick<BrokerConfig["props"], "offset.metadata.max.bytes"> };
  readonly metadata: Pick<ClusterMetadata, "topic">;
  readonly store: Pick<OffsetStore, "stage">;
  group(groupId: string): OffsetGroup | undefined;
  /** A commit from outside group management to an unknown group makes a "simple" (classic, empty) group. */
  createSimpleGroup(groupId: string): void;
  /** The transaction coordinator's check before the write (optional); resolves to an error code. */
  verify?(req: TxnCommitRequest): Promise<number>;
  /** Appends records as one transactional batch of the producer, in order with the partition's writes. */
  writeTxn(groupId: string, records: CoordinatorRecord[], producerId: bigint, producerEpoch: number): Promise<number>;
}

/**
 * The group-level check of a TxnOffsetCommit, as Kafka's group coordinator (4.4) makes it: no check of
 * the group's state (a transactional commit may come during a rebalance), a generation or member epoch
 * only when one is given; v6 answers GROUP_ID_NOT_FOUND and STALE_MEMBER_EPOCH where older versions
 * answer ILLEGAL_GENERATION.
 */
export function validateTxnCommit(
  host: Pick<TxnOffsetCommitHost, "group" | "createSimpleGroup">,
  req: TxnCommitRequest,
): number {
  const epoch = req.generationIdOrMemberEpoch;
  const group = host.group(req.groupId);
  if (group === undefined) {
    if (epoch >= 0) return req.apiVersion >= 6 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
    host.createSimpleGroup(req.groupId);
    return ErrorCode.NONE;
  }
  if (group.state === "Dead") return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  const noMember = req.memberId === "" && req.groupInstanceId === null;
  if (group.kind === "consumer" || group.kind === "streams") {
    if (epoch < 0 && group.members.size === 0) return ErrorCode.NONE;
    if (epoch === -1 && noMember) return ErrorCode.NONE;
    const error = group.validateMemberEpoch(req.memberId, epoch);
    if (error !== ErrorCode.STALE_MEMBER_EPOCH && error !== ErrorCode.FENCED_MEMBER_EPOCH) return error;
    return req.apiVersion >= 6 ? ErrorCode.STALE_MEMBER_EPOCH : ErrorCode.ILLEGAL_GENERATION;
  }
  if (epoch < 0 && (group.state === "Empty" || noMember)) return ErrorCode.NONE;
  const error = group.validateMember(req.memberId, req.groupInstanceId);
  if (error !== ErrorCode.NONE) return error;
  return epoch === group.generationId ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
}

/** TxnOffsetCommit: checks, one transactional write, then the offsets are staged for the producer. */
export async function commitTxnOffsets(
  host: TxnOffsetCommitHost,
  req: TxnCommitRequest,
): Promise<TopicPartitionErrors[]> {
  const result: TopicPartitionErrors[] = [];
  const valid: { topic: string; partition: number; value: CommittedOffset; out: { errorCode: number } }[] = [];
  const now = Date.now();
  const maxMetadata = host.config.props["offset.metadata.max.bytes"];
  // Unknown partitions are answered before the group is looked at (Kafka checks them in KafkaApis).
  for (const t of req.topics) {
    const partitions: TopicPartitionErrors["partitions"] = [];
    result.push({ name: t.name, partitions });
    const info = host.metadata.topic(t.name);
    for (const p of t.partitions) {
      const out: { partitionIndex: number; errorCode: number } = { partitionIndex: p.partitionIndex, errorCode: 0 };
      partitions.push(out);
      if (!hasPartition(info, p.partitionIndex)) {
        out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        continue;
      }
      const metadata = p.committedMetadata ?? "";
      const value = { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata };
      valid.push({
        topic: t.name,
        partition: p.partitionIndex,
        out,
        value: { ...value, commitTimestamp: now, expireTimestamp: -1 },
      });
    }
  }
  if (valid.length === 0) return result;
  const fail = (errorCode: number) => {
    for (const v of valid) v.out.errorCode = errorCode;
    return result;
  };
  if (req.groupId === "") return fail(ErrorCode.INVALID_GROUP_ID);
  const groupError = validateTxnCommit(host, req);
  if (groupError !== ErrorCode.NONE) return fail(groupError);
  const records: CoordinatorRecord[] = [];
  const written: typeof valid = [];
  for (const v of valid) {
    if (Buffer.byteLength(v.value.metadata) > maxMetadata) {
      v.out.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
      continue;
    }
    records.push(committedOffsetRecord(req.groupId, v.topic, v.partition, v.value));
    written.push(v);
  }
  if (records.length === 0) return result;
  let error = host.verify === undefined ? ErrorCode.NONE : await host.verify(req);
  if (error === ErrorCode.NONE) error = await host.writeTxn(req.groupId, records, req.producerId, req.producerEpoch);
  for (const w of written) {
    if (error === ErrorCode.NONE) host.store.stage(req.producerId, req.groupId, w.topic, w.partition, w.value);
    else w.out.errorCode = error;
  }
  return result;
}
