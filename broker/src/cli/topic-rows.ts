import { EARLIEST, LATEST, ResourceType, type ConfigEntry, type KafkaAdmin, type TopicInfo } from "./kafka-admin.js";

/** The rows of the topic tables that `tskafka topics` and the console both show, read once for both. */

export interface TopicSummary {
  readonly name: string;
  readonly topicId: string;
  readonly partitionIds: readonly number[];
  readonly replicas: number;
  /** Bytes on disk over every partition, as its leader holds them (DescribeLogDirs). */
  readonly size: bigint;
}

/** Every topic (internal ones only when asked), sorted by name, with its size. */
export async function topicSummaries(admin: KafkaAdmin, internal: boolean): Promise<TopicSummary[]> {
  const { topics } = await admin.cluster();
  const sizes = await admin.sizes(topics);
  return topics
    .filter((t) => internal || !t.internal)
    .map((t) => ({
      name: t.name,
      topicId: t.topicId,
      partitionIds: t.partitions.map((p) => p.partition),
      replicas: t.partitions[0]?.replicas.length ?? 0,
      size: t.partitions.reduce((s, p) => s + (sizes.get(`${t.name}/${p.partition}`) ?? 0n), 0n),
    }));
}

/** Records between the earliest and the latest offset of every partition. */
export async function messageCount(admin: KafkaAdmin, t: TopicSummary): Promise<bigint> {
  const [lo, hi] = await Promise.all([
    admin.offsets(t.name, t.partitionIds, EARLIEST),
    admin.offsets(t.name, t.partitionIds, LATEST),
  ]);
  let n = 0n;
  for (const p of t.partitionIds) n += (hi.get(p) ?? 0n) - (lo.get(p) ?? 0n);
  return n;
}

export interface PartitionRow {
  readonly partition: number;
  readonly leader: number;
  readonly replicas: string;
  readonly isr: string;
  readonly earliest: bigint | undefined;
  readonly latest: bigint | undefined;
  readonly size: bigint;
}

/** One topic: its metadata, a row per partition (offsets, size) and its configs. */
export async function topicDetails(
  admin: KafkaAdmin,
  name: string,
): Promise<{ topic: TopicInfo; partitions: PartitionRow[]; configs: ConfigEntry[] }> {
  const topic = await admin.topic(name);
  const ids = topic.partitions.map((p) => p.partition);
  const [earliest, latest, sizes, configs] = await Promise.all([
    admin.offsets(name, ids, EARLIEST),
    admin.offsets(name, ids, LATEST),
    admin.sizes([topic]),
    admin.configs(ResourceType.topic, name),
  ]);
  const partitions = topic.partitions.map((p) => ({
    partition: p.partition,
    leader: p.leader,
    replicas: p.replicas.join(","),
    isr: p.isr.join(","),
    earliest: earliest.get(p.partition),
    latest: latest.get(p.partition),
    size: sizes.get(`${name}/${p.partition}`) ?? 0n,
  }));
  return { topic, partitions, configs };
}

/** The columns of a partition row, as the console heads them (the CLI in capitals). */
export const PARTITION_HEADER = ["Partition", "Leader", "Replicas", "ISR", "Earliest", "Latest", "Size"] as const;
