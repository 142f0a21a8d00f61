import {
  ApiKey,
  ConsumerProtocolAssignmentCodec,
  Reader,
  createConsumerGroupDescribeRequest,
  createConsumerGroupHeartbeatRequest,
  createDescribeGroupsRequest,
  createHeartbeatRequest,
  createJoinGroupRequest,
  createLeaveGroupRequest,
  createSyncGroupRequest,
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

  /**
   * One KIP-848 heartbeat; `epoch` 0 joins, -1 leaves; `owned` (topic id to partitions) tells the broker
   * what the member holds now, so a revocation is acknowledged. Answers the epoch and the assignment by topic id.
   */
  async heartbeat(
    groupId: string,
    memberId: string,
    epoch: number,
    topics: readonly string[] | null,
    owned: ReadonlyMap<string, readonly number[]> | null = null,
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
        topicPartitions:
          epoch === 0
            ? []
            : owned === null
              ? null
              : [...owned].map(([topicId, p]) => ({ topicId, partitions: [...p] })),
      }),
      node,
    );
    check(res.errorCode, `heartbeat of ${groupId}`, res.errorMessage);
    const assignment =
      res.assignment === null ? null : new Map(res.assignment.topicPartitions.map((t) => [t.topicId, t.partitions]));
    return { epoch: res.memberEpoch, intervalMs: res.heartbeatIntervalMs, assignment };
  }

  /**
   * JoinGroup v9 of a classic consumer group: answers the error code (MEMBER_ID_REQUIRED first, KIP-394)
   * with the generation, the member id, the chosen protocol, and the members when this one leads.
   * The broker answers once the join phase ends, so it may wait up to the rebalance timeout.
   */
  async joinGroup(
    groupId: string,
    memberId: string,
    protocols: readonly { name: string; metadata: Buffer }[],
    timeouts: { sessionMs: number; rebalanceMs: number },
  ): Promise<{
    errorCode: number;
    generationId: number;
    memberId: string;
    leader: string;
    protocolName: string | null;
    members: { memberId: string; metadata: Buffer }[];
  }> {
    const node = await this.coordinator(groupId);
    const res = await this.call(
      ApiKey.JoinGroup,
      createJoinGroupRequest({
        groupId,
        sessionTimeoutMs: timeouts.sessionMs,
        rebalanceTimeoutMs: timeouts.rebalanceMs,
        memberId,
        groupInstanceId: null,
        protocolType: "consumer",
        protocols: protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        reason: null,
      }),
      node,
      timeouts.rebalanceMs + 10_000,
    );
    return {
      errorCode: res.errorCode,
      generationId: res.generationId,
      memberId: res.memberId,
      leader: res.leader,
      protocolName: res.protocolName,
      members: res.members.map((m) => ({ memberId: m.memberId, metadata: m.metadata })),
    };
  }

  /** SyncGroup v5: the leader sends every member's assignment; each member gets its own (error code and bytes). */
  async syncGroup(
    groupId: string,
    generationId: number,
    memberId: string,
    protocolName: string,
    assignments: readonly { memberId: string; assignment: Buffer }[],
    timeoutMs: number,
  ): Promise<{ errorCode: number; assignment: Buffer }> {
    const node = await this.coordinator(groupId);
    const res = await this.call(
      ApiKey.SyncGroup,
      createSyncGroupRequest({
        groupId,
        generationId,
        memberId,
        groupInstanceId: null,
        protocolType: "consumer",
        protocolName,
        assignments: [...assignments],
      }),
      node,
      timeoutMs,
    );
    return { errorCode: res.errorCode, assignment: res.assignment };
  }

  /** A classic member's Heartbeat v4: its error code (REBALANCE_IN_PROGRESS asks it to join again). */
  async groupHeartbeat(groupId: string, generationId: number, memberId: string): Promise<number> {
    const node = await this.coordinator(groupId);
    const res = await this.call(
      ApiKey.Heartbeat,
      createHeartbeatRequest({ groupId, generationId, memberId, groupInstanceId: null }),
      node,
    );
    return res.errorCode;
  }

  /** LeaveGroup v5 of one classic member. */
  async leaveGroup(groupId: string, memberId: string): Promise<void> {
    const node = await this.coordinator(groupId);
    const res = await this.call(
      ApiKey.LeaveGroup,
      createLeaveGroupRequest({
        groupId,
        memberId: "",
        members: [{ memberId, groupInstanceId: null, reason: "tskafka consume ends" }],
      }),
      node,
    );
    check(res.errorCode, `leave ${groupId}`);
  }

  /** A fresh member id for a KIP-848 consumer (v1 heartbeats: the client makes it). */
  static memberId(): string {
    return Buffer.from(randomUUID().replaceAll("-", ""), "hex").toString("base64url");
  }
}

/** Decodes a classic consumer's assignment bytes (a version, then the ConsumerProtocolAssignment). */
export function decodeAssignment(bytes: Buffer): { topic: string; partitions: number[] }[] {
  if (bytes.length < 2) return [];
  const version = Math.min(bytes.readInt16BE(0), 3);
  const a = ConsumerProtocolAssignmentCodec.decode(new Reader(bytes, 2, bytes.length), version);
  return a.assignedPartitions.map((t) => ({ topic: t.topic, partitions: [...t.partitions].sort((x, y) => x - y) }));
}
