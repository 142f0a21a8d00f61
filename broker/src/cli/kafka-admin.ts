import {
  ApiKey,
  buildRecordBatch,
  createCreateTopicsRequest,
  createDeleteTopicsRequest,
  createDescribeAclsRequest,
  createDescribeConfigsRequest,
  createDescribeLogDirsRequest,
  createDescribeUserScramCredentialsRequest,
  createFetchRequest,
  createProduceRequest,
  decodeRecordBatches,
  isControlBatch,
  type SimpleRecord,
} from "@tskafka/protocol";
import { check, type TopicInfo } from "./kafka-client.js";
import { KafkaGroups } from "./kafka-groups.js";

export { EARLIEST, LATEST, KafkaError, errorName, splitHostPort } from "./kafka-client.js";
export type { BrokerInfo, ClusterInfo, PartitionInfo, TopicInfo } from "./kafka-client.js";
export type { GroupDescription, GroupListing, GroupMember, PartitionLag } from "./kafka-groups.js";

/**
 * The client the `tskafka` CLI and the web console share: topics, configs, sizes, records and security
 * listings here; groups (kafka-groups.ts) and connections, versions and metadata (kafka-client.ts) below it.
 */

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

/** DescribeConfigs resource types. */
export const ResourceType = { topic: 2, broker: 4 } as const;

export class KafkaAdmin extends KafkaGroups {
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

  /**
   * Bytes on disk per `topic/partition` of `topics` (DescribeLogDirs, summed over log directories), as
   * the partition's leader holds them: each broker lists only its own replicas.
   */
  async sizes(topics: readonly TopicInfo[]): Promise<Map<string, bigint>> {
    const single = this.brokers.size <= 1;
    const leaders = new Set(topics.flatMap((t) => t.partitions.map((p) => p.leader)).filter((l) => l >= 0));
    const nodes = single ? [undefined] : [...leaders];
    const lists = await Promise.all(
      nodes.map(async (node) => ({
        node,
        res: await this.call(ApiKey.DescribeLogDirs, createDescribeLogDirsRequest({ topics: null }), node),
      })),
    );
    const leaderOf = new Map(topics.flatMap((t) => t.partitions.map((p) => [`${t.name}/${p.partition}`, p.leader])));
    const out = new Map<string, bigint>();
    for (const { node, res } of lists)
      for (const d of res.results)
        for (const t of d.topics)
          for (const p of t.partitions) {
            const k = `${t.name}/${p.partitionIndex}`;
            if (node !== undefined && leaderOf.get(k) !== node) continue;
            out.set(k, (out.get(k) ?? 0n) + p.partitionSize);
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
    const request = (node: number | undefined) =>
      this.call(
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
        node,
      );
    const p = await this.atLeader(topic, partition, async (node) => (await request(node)).responses[0]!.partitions[0]!);
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
    const request = (node: number | undefined) =>
      this.call(
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
        node,
      );
    const p = await this.atLeader(
      topic,
      partition,
      async (node) => (await request(node)).responses[0]!.partitionResponses[0]!,
    );
    check(p.errorCode, `produce to ${topic}-${partition}`, p.errorMessage);
    return p.baseOffset;
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
