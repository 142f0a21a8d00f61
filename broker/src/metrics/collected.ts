import { Gauge, type Registry } from "prom-client";

/** A partition's log as the metrics see it. */
export interface PartitionView {
  readonly topic: string;
  readonly partition: number;
  /** Bytes of its segment files. */
  readonly size: number;
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  readonly highWatermark: bigint;
}

/** A committed offset of a consumer group. */
export interface CommittedPosition {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** What the metrics read from the broker, when scraped and to name topics given by id. */
export interface MetricsSource {
  /** Every partition this node holds a log of. */
  partitions(): Iterable<PartitionView>;
  /** Every committed offset of every group. */
  committedOffsets(): Iterable<CommittedPosition>;
  /** A topic's name by its id (Produce v13, Fetch v13+), undefined when unknown. */
  topicName(topicId: string): string | undefined;
}

/**
 * The metrics computed at scrape time from the broker's state rather than counted: partitions, their
 * log sizes and offsets, and consumer group lag (the high watermark minus the committed offset, never
 * below 0, as kafka-consumer-groups.sh shows it).
 */
export function collectedMetrics(registry: Registry, source: MetricsSource): void {
  const registers = [registry];
  new Gauge({
    name: "tskafka_partitions",
    help: "Partitions on this node.",
    registers,
    collect() {
      let n = 0;
      for (const _ of source.partitions()) n++;
      this.set(n);
    },
  });
  perPartition(
    registers,
    "tskafka_partition_log_size_bytes",
    "Bytes of a partition's log segments.",
    source,
    (p) => p.size,
  );
  perPartition(registers, "tskafka_partition_log_end_offset", "A partition's log end offset.", source, (p) =>
    Number(p.logEndOffset),
  );
  perPartition(registers, "tskafka_partition_log_start_offset", "A partition's log start offset.", source, (p) =>
    Number(p.logStartOffset),
  );
  new Gauge({
    name: "tskafka_consumer_group_lag",
    help: "High watermark minus the group's committed offset, per group and partition.",
    labelNames: ["group", "topic", "partition"],
    registers,
    collect() {
      this.reset();
      const logs = new Map<string, PartitionView>();
      for (const p of source.partitions()) logs.set(`${p.topic}\0${p.partition}`, p);
      for (const c of source.committedOffsets()) {
        const p = logs.get(`${c.topic}\0${c.partition}`);
        if (p === undefined || c.offset < 0n) continue;
        const behind = p.highWatermark - c.offset;
        this.set({ group: c.groupId, topic: c.topic, partition: c.partition }, Number(behind > 0n ? behind : 0n));
      }
    },
  });
}

/** A gauge per partition, computed afresh at each scrape (series of deleted partitions go). */
function perPartition(
  registers: Registry[],
  name: string,
  help: string,
  source: MetricsSource,
  value: (p: PartitionView) => number,
): void {
  new Gauge({
    name,
    help,
    labelNames: ["topic", "partition"],
    registers,
    collect() {
      this.reset();
      for (const p of source.partitions()) this.set({ topic: p.topic, partition: p.partition }, value(p));
    },
  });
}
