import { randomUUID } from "node:crypto";
import {
  ApiKey,
  ConsumerProtocolAssignmentCodec,
  Reader,
  buildRecordBatch,
  createApiVersionsRequest,
  createConsumerGroupDescribeRequest,
  createConsumerGroupHeartbeatRequest,
  createCreateTopicsRequest,
  createDeleteTopicsRequest,
  createDescribeAclsRequest,
  createDescribeConfigsRequest,
  createDescribeGroupsRequest,
  createDescribeLogDirsRequest,
  createDescribeUserScramCredentialsRequest,
  createFetchRequest,
  createFindCoordinatorRequest,
  createListGroupsRequest,
  createListOffsetsRequest,
  createMetadataRequest,
  createOffsetCommitRequest,
  createOffsetFetchRequest,
  createProduceRequest,
  decodeRecordBatches,
  isControlBatch,
  type ApiRequests,
  type ApiResponses,
  type SimpleRecord,
} from "@tskafka/protocol";
import { KafkaConnection } from "./kafka-connection.js";

/**
 * A small admin/produce/consume client over our codecs, shared by the `tskafka` CLI and the web console.
 * Versions are fixed per API (ones Kafka 4.x and tskafka both serve) and checked once against the
 * broker's ApiVersions, so a broker that lacks one fails with a clear message instead of a bad decode.
 */

/** The version each call uses: names rather than topic ids, so one code path serves Kafka 3.x and 4.x. */
const VERSIONS = {
  [ApiKey.Metadata]: 12,
  [ApiKey.CreateTopics]: 7,
  [ApiKey.DeleteTopics]: 6,
  [ApiKey.DescribeConfigs]: 4,
  [ApiKey.DescribeLogDirs]: 4,
  [ApiKey.ListOffsets]: 8,
  [ApiKey.Fetch]: 12,
  [ApiKey.Produce]: 9,
  [ApiKey.FindCoordinator]: 4,
  [ApiKey.ListGroups]: 5,
  [ApiKey.DescribeGroups]: 5,
  [ApiKey.ConsumerGroupDescribe]: 0,
  [ApiKey.ConsumerGroupHeartbeat]: 1,
  [ApiKey.OffsetFetch]: 8,
  [ApiKey.OffsetCommit]: 9,
  [ApiKey.DescribeAcls]: 3,
  [ApiKey.DescribeUserScramCredentials]: 0,
} as const satisfies Partial<Record<ApiKey, number>>;
type Api = keyof typeof VERSIONS & keyof ApiRequests & keyof ApiResponses;

export class KafkaError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Kafka error names for the codes people meet here; others print as their number. */
const ERROR_NAMES: Record<number, string> = {
  1: "OFFSET_OUT_OF_RANGE",
  3: "UNKNOWN_TOPIC_OR_PARTITION",
  14: "COORDINATOR_LOAD_IN_PROGRESS",
  15: "COORDINATOR_NOT_AVAILABLE",
  16: "NOT_COORDINATOR",
  25: "UNKNOWN_MEMBER_ID",
  29: "TOPIC_AUTHORIZATION_FAILED",
  30: "GROUP_AUTHORIZATION_FAILED",
  31: "CLUSTER_AUTHORIZATION_FAILED",
  36: "TOPIC_ALREADY_EXISTS",
  37: "INVALID_PARTITIONS",
  38: "INVALID_REPLICATION_FACTOR",
  40: "INVALID_CONFIG",
  17: "INVALID_TOPIC_EXCEPTION",
  41: "NOT_CONTROLLER",
  69: "GROUP_ID_NOT_FOUND",
  68: "NON_EMPTY_GROUP",
  35: "UNSUPPORTED_VERSION",
  54: "SECURITY_DISABLED",
  58: "SASL_AUTHENTICATION_FAILED",
};

export function errorName(code: number): string {
  return ERROR_NAMES[code] ?? `error ${code}`;
}

function check(code: number, what: string, message?: string | null): void {
  if (code !== 0) throw new KafkaError(code, `${what}: ${errorName(code)}${message ? ` (${message})` : ""}`);
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}
export interface PartitionInfo {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}
export interface TopicInfo {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: PartitionInfo[];
}
export interface ClusterInfo {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicInfo[];
}
export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  sensitive: boolean;
  source: number;
}
export interface FetchedRecord {
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
  compression: number;
}
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

/** COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR. */
const RETRIABLE_COORDINATOR = new Set([14, 15, 16]);
const COORDINATOR_WAIT_MS = 15_000;

export const EARLIEST = -2n;
export const LATEST = -1n;
/** DescribeConfigs resource types. */
export const ResourceType = { topic: 2, broker: 4 } as const;

export class KafkaAdmin {
  private readonly conns = new Map<number, KafkaConnection>();
  private readonly versions = new Map<number, [number, number]>();
  private readonly brokers = new Map<number, BrokerInfo>();

  private constructor(
    private readonly bootstrap: KafkaConnection,
    private readonly clientId: string,
  ) {}

  /** Connects to `host:port` and reads the versions it serves. */
  static async connect(bootstrap: string, clientId = "tskafka-cli"): Promise<KafkaAdmin> {
    const { host, port } = splitHostPort(bootstrap);
    const conn = await KafkaConnection.open(host, port, clientId);
    const admin = new KafkaAdmin(conn, clientId);
    try {
      const res = await conn.send(
        ApiKey.ApiVersions,
        3,
        createApiVersionsRequest({ clientSoftwareName: "tskafka-cli", clientSoftwareVersion: "0.1.0" }),
      );
      check(res.errorCode, "ApiVersions");
      for (const a of res.apiKeys) admin.versions.set(a.apiKey, [a.minVersion, a.maxVersion]);
    } catch (e) {
      conn.close();
      throw e;
    }
    return admin;
  }

  close(): void {
    this.bootstrap.close();
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }

  get isClosed(): boolean {
    return this.bootstrap.closed;
  }

  private async call<K extends Api>(apiKey: K, body: ApiRequests[K], node?: number): Promise<ApiResponses[K]> {
    const version = VERSIONS[apiKey];
    const range = this.versions.get(apiKey);
    if (range === undefined || version < range[0] || version > range[1])
      throw new Error(
        `the broker does not serve API ${apiKey} v${version} (it serves ${range ? range.join("-") : "none"})`,
      );
    return (await this.connection(node)).send(apiKey, version, body);
  }

  /** The bootstrap connection, or one to node `node` (leaders and coordinators on other brokers). */
  private async connection(node: number | undefined): Promise<KafkaConnection> {
    if (node === undefined) return this.bootstrap;
    const open = this.conns.get(node);
    if (open !== undefined && !open.closed) return open;
    if (!this.brokers.has(node)) await this.cluster([]);
    const b = this.brokers.get(node);
    if (b === undefined) throw new Error(`broker ${node} is not in the metadata`);
    const conn = await KafkaConnection.open(b.host, b.port, this.clientId);
    this.conns.set(node, conn);
    return conn;
  }

  /** Metadata: brokers, controller and topics (all of them when `topics` is undefined). */
  async cluster(topics?: readonly string[]): Promise<ClusterInfo> {
    const res = await this.call(
      ApiKey.Metadata,
      createMetadataRequest({
        topics: topics === undefined ? null : topics.map((name) => ({ name, topicId: "AAAAAAAAAAAAAAAAAAAAAA" })),
        allowAutoTopicCreation: false,
      }),
    );
    for (const b of res.brokers)
      this.brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    const out: TopicInfo[] = [];
    for (const t of res.topics) {
      check(t.errorCode, `topic ${t.name ?? t.topicId}`);
      out.push({
        name: t.name ?? "",
        topicId: t.topicId,
        internal: t.isInternal,
        partitions: t.partitions
          .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, replicas: p.replicaNodes, isr: p.isrNodes }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    out.sort((a, b) => a.name.localeCompare(b.name));
    return {
      clusterId: res.clusterId,
      controllerId: res.controllerId,
      brokers: [...res.brokers].map((b) => this.brokers.get(b.nodeId)!).sort((a, b) => a.nodeId - b.nodeId),
      topics: out,
    };
  }

  async topic(name: string): Promise<TopicInfo> {
    return (await this.cluster([name])).topics[0]!;
  }

  async createTopic(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: Record<string, string> = {},
  ): Promise<void> {
    const res = await this.call(
      ApiKey.CreateTopics,
      createCreateTopicsRequest({
        topics: [
          {
            name,
            numPartitions: partitions,
            replicationFactor,
            assignments: [],
            configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
          },
        ],
        timeoutMs: 30_000,
      }),
    );
    const t = res.topics[0]!;
    check(t.errorCode, `create topic ${name}`, t.errorMessage);
  }

  async deleteTopic(name: string): Promise<void> {
    const res = await this.call(
      ApiKey.DeleteTopics,
      createDeleteTopicsRequest({ topics: [{ name, topicId: "AAAAAAAAAAAAAAAAAAAAAA" }], timeoutMs: 30_000 }),
    );
    const t = res.responses[0]!;
    check(t.errorCode, `delete topic ${name}`, t.errorMessage);
  }

  /** DescribeConfigs of one topic or broker, sorted by name. */
  async configs(resourceType: number, resourceName: string): Promise<ConfigEntry[]> {
    const res = await this.call(
      ApiKey.DescribeConfigs,
      createDescribeConfigsRequest({ resources: [{ resourceType, resourceName, configurationKeys: null }] }),
    );
    const r = res.results[0]!;
    check(r.errorCode, `configs of ${resourceName}`, r.errorMessage);
    return r.configs
      .map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        sensitive: c.isSensitive,
        source: c.configSource,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Bytes on disk per `topic/partition` (DescribeLogDirs), summed over log directories. */
  async sizes(): Promise<Map<string, bigint>> {
    const res = await this.call(ApiKey.DescribeLogDirs, createDescribeLogDirsRequest({ topics: null }));
    const out = new Map<string, bigint>();
    for (const d of res.results)
      for (const t of d.topics)
        for (const p of t.partitions) {
          const k = `${t.name}/${p.partitionIndex}`;
          out.set(k, (out.get(k) ?? 0n) + p.partitionSize);
        }
    return out;
  }

  /** ListOffsets for each partition at `timestamp` (EARLIEST, LATEST, or milliseconds). */
  async offsets(topic: string, partitions: readonly number[], timestamp: bigint): Promise<Map<number, bigint>> {
    const res = await this.call(
      ApiKey.ListOffsets,
      createListOffsetsRequest({
        replicaId: -1,
        topics: [
          {
            name: topic,
            partitions: partitions.map((p) => ({
              partitionIndex: p,
              currentLeaderEpoch: -1,
              timestamp,
              maxNumOffsets: 1,
            })),
          },
        ],
      }),
    );
    const out = new Map<number, bigint>();
    for (const t of res.topics)
      for (const p of t.partitions) {
        check(p.errorCode, `offsets of ${topic}-${p.partitionIndex}`);
        out.set(p.partitionIndex, p.offset);
      }
    return out;
  }

  /** Fetches from one partition at `offset`: the records at or after it (compressed batches decoded). */
  async fetch(
    topic: string,
    partition: number,
    offset: bigint,
    maxBytes = 1 << 20,
    maxWaitMs = 0,
  ): Promise<{ records: FetchedRecord[]; highWatermark: bigint }> {
    const res = await this.call(
      ApiKey.Fetch,
      createFetchRequest({
        replicaId: -1,
        maxWaitMs,
        minBytes: 1,
        maxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic,
            topicId: "AAAAAAAAAAAAAAAAAAAAAA",
            partitions: [
              {
                partition,
                currentLeaderEpoch: -1,
                fetchOffset: offset,
                lastFetchedEpoch: -1,
                logStartOffset: -1n,
                partitionMaxBytes: maxBytes,
                replicaDirectoryId: "AAAAAAAAAAAAAAAAAAAAAA",
                highWatermark: -1n,
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: "",
      }),
    );
    const p = res.responses[0]!.partitions[0]!;
    check(p.errorCode, `fetch ${topic}-${partition}`);
    const records: FetchedRecord[] = [];
    if (p.records !== null && p.records.length > 0) {
      // A fetch may end in a partial batch; decode only the whole ones.
      for (const b of decodeRecordBatches(trimPartial(p.records))) {
        if (isControlBatch(b)) continue;
        for (const r of b.records) {
          const o = b.baseOffset + BigInt(r.offsetDelta);
          if (o < offset) continue;
          records.push({
            partition,
            offset: o,
            timestamp: b.baseTimestamp + r.timestampDelta,
            key: r.key,
            value: r.value,
            headers: r.headers,
            compression: b.attributes & 7,
          });
        }
      }
    }
    return { records, highWatermark: p.highWatermark };
  }

  /** Produces one batch to a partition (acks=all); answers its base offset. */
  async produce(topic: string, partition: number, records: readonly SimpleRecord[]): Promise<bigint> {
    const info = await this.topic(topic);
    const leader = info.partitions.find((p) => p.partition === partition)?.leader;
    const res = await this.call(
      ApiKey.Produce,
      createProduceRequest({
        transactionalId: null,
        acks: -1,
        timeoutMs: 30_000,
        topicData: [
          {
            name: topic,
            topicId: "AAAAAAAAAAAAAAAAAAAAAA",
            partitionData: [{ index: partition, records: buildRecordBatch(records) }],
          },
        ],
      }),
      leader,
    );
    const p = res.responses[0]!.partitionResponses[0]!;
    check(p.errorCode, `produce to ${topic}-${partition}`, p.errorMessage);
    return p.baseOffset;
  }

  /**
   * The node coordinating `group`. A broker answers COORDINATOR_NOT_AVAILABLE or LOAD_IN_PROGRESS while
   * it creates or loads `__consumer_offsets`; Kafka's clients retry those, and so do we, for a while.
   */
  async coordinator(group: string): Promise<number> {
    const deadline = Date.now() + COORDINATOR_WAIT_MS;
    for (;;) {
      const res = await this.call(
        ApiKey.FindCoordinator,
        createFindCoordinatorRequest({ keyType: 0, coordinatorKeys: [group] }),
      );
      const c = res.coordinators[0]!;
      if (RETRIABLE_COORDINATOR.has(c.errorCode) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      check(c.errorCode, `coordinator of ${group}`, c.errorMessage);
      this.brokers.set(c.nodeId, { nodeId: c.nodeId, host: c.host, port: c.port, rack: null });
      return c.nodeId;
    }
  }

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

  async acls(): Promise<
    {
      resourceType: number;
      name: string;
      patternType: number;
      principal: string;
      host: string;
      operation: number;
      permission: number;
    }[]
  > {
    const res = await this.call(
      ApiKey.DescribeAcls,
      createDescribeAclsRequest({
        resourceTypeFilter: 1,
        resourceNameFilter: null,
        patternTypeFilter: 1,
        principalFilter: null,
        hostFilter: null,
        operation: 1,
        permissionType: 1,
      }),
    );
    check(res.errorCode, "describe ACLs", res.errorMessage);
    return res.resources.flatMap((r) =>
      r.acls.map((a) => ({
        resourceType: r.resourceType,
        name: r.resourceName,
        patternType: r.patternType,
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permission: a.permissionType,
      })),
    );
  }

  async scramUsers(): Promise<{ user: string; mechanisms: string[] }[]> {
    const res = await this.call(
      ApiKey.DescribeUserScramCredentials,
      createDescribeUserScramCredentialsRequest({ users: null }),
    );
    check(res.errorCode, "describe SCRAM users", res.errorMessage);
    return res.results.map((r) => ({
      user: r.user,
      mechanisms: r.credentialInfos.map(
        (c) =>
          `${c.mechanism === 1 ? "SCRAM-SHA-256" : c.mechanism === 2 ? "SCRAM-SHA-512" : c.mechanism}/${c.iterations}`,
      ),
    }));
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

/** The whole batches of a fetched record set (the last one may be cut at the size limit). */
function trimPartial(buf: Buffer): Buffer {
  let off = 0;
  while (off + 12 <= buf.length) {
    const end = off + 12 + buf.readInt32BE(off + 8);
    if (end > buf.length) break;
    off = end;
  }
  return buf.subarray(0, off);
}

export function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s.trim());
  if (m === null) throw new Error(`expected HOST:PORT, got ${s}`);
  return { host: m[1]!, port: Number(m[2]) };
}
