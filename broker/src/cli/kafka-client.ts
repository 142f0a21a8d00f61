import {
  ApiKey,
  createApiVersionsRequest,
  createFindCoordinatorRequest,
  createListOffsetsRequest,
  createMetadataRequest,
  type ApiRequests,
  type ApiResponses,
} from "@tskafka/protocol";
import { KafkaConnection } from "./kafka-connection.js";
import { check, KafkaError } from "./kafka-error.js";
import { PLAINTEXT, type ClientSecurity } from "./client-security.js";

export { check, errorName, KafkaError } from "./kafka-error.js";

/**
 * The base of the small Kafka client the `tskafka` CLI and the web console share: connections, versions,
 * metadata, offsets and coordinators, over our codecs.
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
  [ApiKey.JoinGroup]: 9,
  [ApiKey.SyncGroup]: 5,
  [ApiKey.Heartbeat]: 4,
  [ApiKey.LeaveGroup]: 5,
  [ApiKey.OffsetFetch]: 8,
  [ApiKey.OffsetCommit]: 9,
  [ApiKey.DescribeAcls]: 3,
  [ApiKey.DescribeUserScramCredentials]: 0,
} as const satisfies Partial<Record<ApiKey, number>>;
type Api = keyof typeof VERSIONS & keyof ApiRequests & keyof ApiResponses;

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

const UNKNOWN_TOPIC_OR_PARTITION = 3;
const LEADER_NOT_AVAILABLE = 5;
const NOT_LEADER_OR_FOLLOWER = 6;
/** Answers of a broker that does not lead a partition (any longer): refresh the leaders and ask again. */
const STALE_LEADER: ReadonlySet<number> = new Set([
  UNKNOWN_TOPIC_OR_PARTITION,
  LEADER_NOT_AVAILABLE,
  NOT_LEADER_OR_FOLLOWER,
]);
const LEADER_ATTEMPTS = 5;
/** How long a topic that a producer's metadata named may take to appear. */
const AUTO_CREATE_WAIT_MS = 5_000;
/** COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR. */
export const RETRIABLE_COORDINATOR: ReadonlySet<number> = new Set([14, 15, 16]);
const COORDINATOR_WAIT_MS = 15_000;

export const EARLIEST = -2n;
export const LATEST = -1n;

export class KafkaClient {
  /** Connections to other nodes, as promises: concurrent calls to one node share one connection. */
  private readonly conns = new Map<number, Promise<KafkaConnection>>();
  private readonly versions = new Map<number, [number, number]>();
  protected readonly brokers = new Map<number, BrokerInfo>();
  /** Each topic's partition leaders as the last metadata answer gave them. */
  private readonly leaders = new Map<string, Map<number, number>>();

  /** Use `connect`: it reads the versions the broker serves. */
  constructor(
    private readonly bootstrap: KafkaConnection,
    private readonly clientId: string,
    private readonly security: ClientSecurity,
  ) {}

  /** Connects to `host:port` (every broker with `security`) and reads the versions it serves. */
  static async connect<T extends KafkaClient>(
    this: new (bootstrap: KafkaConnection, clientId: string, security: ClientSecurity) => T,
    bootstrap: string,
    clientId = "tskafka-cli",
    security: ClientSecurity = PLAINTEXT,
  ): Promise<T> {
    const { host, port } = splitHostPort(bootstrap);
    const conn = await KafkaConnection.open(host, port, clientId, security);
    const client = new this(conn, clientId, security);
    try {
      await client.readVersions(conn);
    } catch (e) {
      conn.close();
      throw e;
    }
    return client;
  }

  private async readVersions(conn: KafkaConnection): Promise<void> {
    const res = await conn.send(
      ApiKey.ApiVersions,
      3,
      createApiVersionsRequest({ clientSoftwareName: "tskafka-cli", clientSoftwareVersion: "0.1.0" }),
    );
    check(res.errorCode, "ApiVersions");
    for (const a of res.apiKeys) this.versions.set(a.apiKey, [a.minVersion, a.maxVersion]);
  }
  close(): void {
    this.bootstrap.close();
    for (const c of this.conns.values())
      void c.then(
        (conn) => conn.close(),
        () => undefined,
      );
    this.conns.clear();
  }

  get isClosed(): boolean {
    return this.bootstrap.closed;
  }

  /** One request at this client's version of the API, to node `node` (else the bootstrap broker). */
  protected async call<K extends Api>(
    apiKey: K,
    body: ApiRequests[K],
    node?: number,
    timeoutMs?: number,
  ): Promise<ApiResponses[K]> {
    const version = VERSIONS[apiKey];
    const range = this.versions.get(apiKey);
    if (range === undefined || version < range[0] || version > range[1])
      throw new Error(
        `the broker does not serve API ${apiKey} v${version} (it serves ${range ? range.join("-") : "none"})`,
      );
    return (await this.connection(node)).send(apiKey, version, body, timeoutMs);
  }

  /** The bootstrap connection, or one to node `node` (leaders and coordinators on other brokers). */
  private async connection(node: number | undefined): Promise<KafkaConnection> {
    if (node === undefined) return this.bootstrap;
    const open = this.conns.get(node);
    if (open !== undefined) {
      const conn = await open.catch(() => undefined);
      if (conn !== undefined && !conn.closed) return conn;
      if (this.conns.get(node) === open) this.conns.delete(node);
      return this.connection(node);
    }
    const opening = this.open(node);
    this.conns.set(node, opening);
    return opening;
  }

  private async open(node: number): Promise<KafkaConnection> {
    if (!this.brokers.has(node)) await this.cluster([]);
    const b = this.brokers.get(node);
    if (b === undefined) throw new Error(`broker ${node} is not in the metadata`);
    return KafkaConnection.open(b.host, b.port, this.clientId, this.security);
  }

  /**
   * Metadata: brokers, controller and topics (all of them when `topics` is undefined); `autoCreate` lets
   * the broker create the named topics when auto.create.topics.enable says so, as a producer's metadata does.
   */
  async cluster(topics?: readonly string[], autoCreate = false): Promise<ClusterInfo> {
    const res = await this.call(
      ApiKey.Metadata,
      createMetadataRequest({
        topics: topics === undefined ? null : topics.map((name) => ({ name, topicId: "AAAAAAAAAAAAAAAAAAAAAA" })),
        allowAutoTopicCreation: autoCreate,
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
    for (const t of out) this.leaders.set(t.name, new Map(t.partitions.map((p) => [p.partition, p.leader])));
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

  /**
   * A topic to produce to: created by the broker if it may auto-create it (as Kafka's producers let it),
   * waited for while it is being created: Apache Kafka answers UNKNOWN_TOPIC_OR_PARTITION until its
   * controller made it, then LEADER_NOT_AVAILABLE until a leader is elected. A broker that does not
   * create it keeps answering UNKNOWN_TOPIC_OR_PARTITION, which is reported after a few seconds.
   */
  async topicToProduce(name: string): Promise<TopicInfo> {
    const started = Date.now();
    for (;;) {
      try {
        const t = (await this.cluster([name], true)).topics[0]!;
        if (t.partitions.every((p) => p.leader >= 0) || Date.now() - started > COORDINATOR_WAIT_MS) return t;
      } catch (e) {
        const waited = Date.now() - started;
        const creating =
          e instanceof KafkaError &&
          ((e.code === LEADER_NOT_AVAILABLE && waited < COORDINATOR_WAIT_MS) ||
            (e.code === UNKNOWN_TOPIC_OR_PARTITION && waited < AUTO_CREATE_WAIT_MS));
        if (!creating) throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Where requests about `partitions` of `topic` go: partitions grouped by their leader's node
   * (undefined: the bootstrap broker, when it is the only one). `refresh` reads the metadata again.
   */
  protected async byLeader(
    topic: string,
    partitions: readonly number[],
    refresh: boolean,
  ): Promise<Map<number | undefined, number[]>> {
    if (refresh || partitions.some((p) => this.leaders.get(topic)?.get(p) === undefined)) await this.cluster([topic]);
    const single = this.brokers.size <= 1;
    const out = new Map<number | undefined, number[]>();
    for (const p of partitions) {
      const leader = this.leaders.get(topic)?.get(p) ?? -1;
      if (leader < 0) throw new KafkaError(LEADER_NOT_AVAILABLE, `${topic}-${p} has no leader`);
      const node = single ? undefined : leader;
      out.set(node, [...(out.get(node) ?? []), p]);
    }
    return out;
  }

  /**
   * `ask` sent to the leader of `topic`-`partition`, and again (metadata read anew) while the answer
   * says that broker does not lead it, as Kafka's clients retry after a leadership change.
   */
  protected async atLeader<T extends { errorCode: number }>(
    topic: string,
    partition: number,
    ask: (node: number | undefined) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const last = attempt === LEADER_ATTEMPTS;
      try {
        const [node] = (await this.byLeader(topic, [partition], attempt > 1)).keys();
        const answer = await ask(node);
        if (last || !STALE_LEADER.has(answer.errorCode)) return answer;
      } catch (e) {
        if (last || !noLeaderYet(e)) throw e;
      }
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }

  /**
   * ListOffsets for each partition at `timestamp` (EARLIEST, LATEST, or milliseconds), asked of each
   * partition's leader as Kafka's clients do (only the leader answers), again after a leadership change.
   */
  async offsets(topic: string, partitions: readonly number[], timestamp: bigint): Promise<Map<number, bigint>> {
    const out = new Map<number, bigint>();
    let pending = [...partitions];
    for (let attempt = 1; pending.length > 0; attempt++) {
      const last = attempt === LEADER_ATTEMPTS;
      let groups: Map<number | undefined, number[]>;
      try {
        groups = await this.byLeader(topic, pending, attempt > 1);
      } catch (e) {
        if (last || !noLeaderYet(e)) throw e;
        await new Promise((r) => setTimeout(r, 100 * attempt));
        continue;
      }
      const answers = await Promise.all([...groups].map(([node, ps]) => this.listOffsets(topic, ps, timestamp, node)));
      pending = [];
      for (const p of answers.flat()) {
        if (STALE_LEADER.has(p.errorCode) && !last) {
          pending.push(p.partitionIndex);
          continue;
        }
        check(p.errorCode, `offsets of ${topic}-${p.partitionIndex}`);
        out.set(p.partitionIndex, p.offset);
      }
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 100 * attempt));
    }
    return out;
  }

  private async listOffsets(topic: string, partitions: readonly number[], timestamp: bigint, node?: number) {
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
      node,
    );
    return res.topics.flatMap((t) => t.partitions);
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
}

/** A partition without a leader yet (byLeader's error); an unknown topic is final. */
function noLeaderYet(e: unknown): boolean {
  return e instanceof KafkaError && e.code === LEADER_NOT_AVAILABLE;
}

export function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s.trim());
  if (m === null) throw new Error(`expected HOST:PORT, got ${s}`);
  return { host: m[1]!, port: Number(m[2]) };
}
