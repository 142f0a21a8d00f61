import {
  ApiKey,
  ConsumerProtocolAssignmentCodec,
  Reader,
  createConsumerGroupDescribeRequest,
  createConsumerGroupHeartbeatRequest,
  createDescribeGroupsRequest,
  createListGroupsRequest,
  createOffsetCommitRequest,
  createOffsetFetchRequest,
} from "@tskafka/protocol";
import { randomUUID } from "node:crypto";
import { check, KafkaClient, LATEST } from "./kafka-client.js";

/** The group calls of the CLI's and the console's client: listings, descriptions, offsets, lag, membership. */

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: string;
}
export interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  assignment: { topic: string; partitions: number[] }[];
}
export interface GroupDescription {
  groupId: string;
  type: string;
  state: string;
  protocol: string;
  members: GroupMember[];
}
export interface PartitionLag {
  topic: string;
  partition: number;
  committed: bigint | null;
  end: bigint;
  lag: bigint | null;
}

export class KafkaGroups extends KafkaClient {
  /** ListGroups of every type (classic, consumer, share...), sorted by id. */
  async groups(): Promise<GroupListing[]> {
    const res = await this.call(ApiKey.ListGroups, createListGroupsRequest({ statesFilter: [], typesFilter: [] }));
    check(res.errorCode, "list groups");
    return res.groups
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType }))
      .sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  /** One group: classic groups through DescribeGroups, consumer (KIP-848) groups through ConsumerGroupDescribe. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const node = await this.coordinator(groupId);
    const listing = (await this.groups()).find((g) => g.groupId === groupId);
    if (listing?.type === "consumer") {
      const res = await this.call(
        ApiKey.ConsumerGroupDescribe,
        createConsumerGroupDescribeRequest({ groupIds: [groupId] }),
        node,
      );
      const g = res.groups[0]!;
      check(g.errorCode, `group ${groupId}`, g.errorMessage);
      return {
        groupId,
        type: "consumer",
        state: g.groupState,
        protocol: g.assignorName,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          assignment: m.assignment.topicPartitions.map((t) => ({
            topic: t.topicName,
            partitions: [...t.partitions].sort((a, b) => a - b),
          })),
        })),
      };
    }
    const res = await this.call(ApiKey.DescribeGroups, createDescribeGroupsRequest({ groups: [groupId] }), node);
    const g = res.groups[0]!;
    check(g.errorCode, `group ${groupId}`, g.errorMessage);
    return {
      groupId,
      type: listing?.type ?? "classic",
      state: g.groupState,
      protocol: g.protocolData,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: g.protocolType === "consumer" ? decodeAssignment(m.memberAssignment) : [],
      })),
    };
  }

  /** Committed offsets of a group, per topic and partition. */
  async committed(groupId: string): Promise<Map<string, Map<number, bigint>>> {
    const node = await this.coordinator(groupId);
    const res = await this.call(
      ApiKey.OffsetFetch,
      createOffsetFetchRequest({
        groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }],
        requireStable: false,
      }),
      node,
    );
    const g = res.groups[0]!;
    check(g.errorCode, `offsets of ${groupId}`);
    const out = new Map<string, Map<number, bigint>>();
    for (const t of g.topics)
      for (const p of t.partitions) {
        if (p.errorCode !== 0 || p.committedOffset < 0n) continue;
        let m = out.get(t.name);
        if (m === undefined) out.set(t.name, (m = new Map()));
        m.set(p.partitionIndex, p.committedOffset);
      }
    return out;
  }

  /** Lag per partition of the topics the group has offsets in or is assigned: end offset - committed. */
  async lag(
    groupId: string,
    assigned: readonly { topic: string; partitions: number[] }[] = [],
  ): Promise<PartitionLag[]> {
    const committed = await this.committed(groupId);
    const topics = new Set([...committed.keys(), ...assigned.map((a) => a.topic)]);
    const out: PartitionLag[] = [];
    for (const topic of [...topics].sort()) {
      const parts = new Set([
        ...(committed.get(topic)?.keys() ?? []),
        ...assigned.filter((a) => a.topic === topic).flatMap((a) => a.partitions),
      ]);
      const ends = await this.offsets(topic, [...parts], LATEST);
      for (const partition of [...parts].sort((a, b) => a - b)) {
        const c = committed.get(topic)?.get(partition) ?? null;
        const end = ends.get(partition) ?? 0n;
        out.push({ topic, partition, committed: c, end, lag: c === null ? null : end - c });
      }
    }
    return out;
  }

  /**
   * Commits `offsets` for a group as an admin does (generation -1, no member), so only an empty group
   * accepts it: Kafka answers UNKNOWN_MEMBER_ID while consumers are in it.
   */
  async commit(
    groupId: string,
    topic: string,
    offsets: ReadonlyMap<number, bigint>,
    member?: { id: string; epoch: number },
  ): Promise<void> {
    const node = await this.coordinator(groupId);
    const res = await this.call(
      ApiKey.OffsetCommit,
      createOffsetCommitRequest({
        groupId,
        generationIdOrMemberEpoch: member?.epoch ?? -1,
        memberId: member?.id ?? "",
        groupInstanceId: null,
        topics: [
          {
            name: topic,
            topicId: "AAAAAAAAAAAAAAAAAAAAAA",
            partitions: [...offsets].map(([partitionIndex, committedOffset]) => ({
              partitionIndex,
              committedOffset,
              committedLeaderEpoch: -1,
              committedMetadata: "",
              commitTimestamp: -1n,
            })),
          },
        ],
      }),
      node,
    );
    for (const t of res.topics)
      for (const p of t.partitions) check(p.errorCode, `commit ${groupId} ${t.name}-${p.partitionIndex}`);
  }

  /** One KIP-848 heartbeat; `epoch` 0 joins, -1 leaves. Answers the member's epoch and assignment by topic id. */
  async heartbeat(
    groupId: string,
    memberId: string,
    epoch: number,
    topics: readonly string[] | null,
  ): Promise<{ epoch: number; intervalMs: number; assignment: Map<string, number[]> | null }> {
    const node = await this.coordinator(groupId);
    const res = await this.call(
      ApiKey.ConsumerGroupHeartbeat,
      createConsumerGroupHeartbeatRequest({
        groupId,
        memberId,
        memberEpoch: epoch,
        rebalanceTimeoutMs: epoch === 0 ? 30_000 : -1,
        subscribedTopicNames: topics === null ? null : [...topics],
        topicPartitions: epoch === 0 ? [] : null,
      }),
      node,
    );
    check(res.errorCode, `heartbeat of ${groupId}`, res.errorMessage);
    const assignment =
      res.assignment === null ? null : new Map(res.assignment.topicPartitions.map((t) => [t.topicId, t.partitions]));
    return { epoch: res.memberEpoch, intervalMs: res.heartbeatIntervalMs, assignment };
  }

  /** A fresh member id for a KIP-848 consumer (v1 heartbeats: the client makes it). */
  static memberId(): string {
    return Buffer.from(randomUUID().replaceAll("-", ""), "hex").toString("base64url");
  }
}

/** Decodes a classic consumer's assignment bytes (a version, then the ConsumerProtocolAssignment). */
function decodeAssignment(bytes: Buffer): { topic: string; partitions: number[] }[] {
  if (bytes.length < 2) return [];
  const version = Math.min(bytes.readInt16BE(0), 3);
  const a = ConsumerProtocolAssignmentCodec.decode(new Reader(bytes, 2, bytes.length), version);
  return a.assignedPartitions.map((t) => ({ topic: t.topic, partitions: [...t.partitions].sort((x, y) => x - y) }));
}
