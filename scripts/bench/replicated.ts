// The replicated rows: three brokers on this machine and topics of three replicas with
// min.insync.replicas=2, produced to with acks=all. Apache Kafka runs three KRaft nodes (broker and
// controller each, scripts/kafka/apache-kafka-cluster.ts); tskafka runs etcd and three brokers
// (scripts/cluster/cluster.ts). One system at a time, each from empty folders.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ApiKey, createCreateTopicsRequest } from "@tskafka/protocol";
import { RawClient } from "../../broker/test/clients/raw-client.js";
import { startApacheKafkaCluster } from "../kafka/apache-kafka-cluster.js";
import { freeLoopbackPort } from "../kafka/apache-kafka.js";
import { runCluster } from "../cluster/cluster.js";
import { BROKER_KINDS, BROKER_LABEL, type BrokerKind } from "./brokers.js";
import type { JavaTools } from "./java-tools.js";
import { cpuSeconds } from "./proc.js";
import { AT_LEAST_KAFKA, HALF_OF_KAFKA, NO_TARGET, NO_WORSE_THAN_KAFKA, type Metrics } from "./report.js";

export const REPLICATED_PARTITIONS = [1, 8] as const;
export const REPLICATED_SIZE = 1024;
const REPLICAS = 3;
const MIN_INSYNC = "2";
const WARM_UP_RECORDS = 50_000;
const TIMEOUT_MS = 120_000;
const CLIENT_ID = "tskafka-bench";
/** Produces one at a time: the acks=all round trip itself, to sub-millisecond precision. */
const SEQUENTIAL_CLIENT = "raw Produce v9, one 1-record batch at a time";

export interface ReplicatedLoad {
  /** Records of REPLICATED_SIZE per ProducerPerformance run. */
  readonly records: number;
  readonly e2eMessages: number;
  readonly sequentialProduces: number;
}

export interface ReplicatedContext {
  readonly metrics: Metrics;
  readonly tools: JavaTools;
  readonly load: ReplicatedLoad;
  readonly runs: number;
  readonly workDir: string;
  readonly fail: (what: string, err: unknown) => void;
  readonly log: (line: string) => void;
}

/** Three brokers of one kind, started and ready to create topics. */
interface ReplicatedCluster {
  readonly bootstrap: string;
  /** The processes whose CPU the rows count: the brokers, and etcd for tskafka. */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

async function startCluster(kind: BrokerKind, dir: string): Promise<ReplicatedCluster> {
  if (kind === "kafka") {
    // The single-broker rows' settings (scripts/kafka/apache-kafka.ts, 1 GiB heap), on each node.
    const kafka = await startApacheKafkaCluster({
      nodes: REPLICAS,
      dataDir: dir,
      heap: "1g",
      properties: { "offsets.topic.replication.factor": String(REPLICAS) },
    });
    return { bootstrap: kafka.bootstrap, pids: kafka.nodes.map((n) => n.pid), stop: () => kafka.stop() };
  }
  const cluster = await runCluster({
    brokers: REPLICAS,
    basePort: await freeLoopbackPort(),
    dataDir: dir,
    racks: 0,
    logLevel: "warn",
    // As scripts/bench/brokers.ts configures a single broker.
    properties: {
      "group.initial.rebalance.delay.ms": "0",
      "offsets.topic.num.partitions": "1",
      "offsets.topic.replication.factor": String(REPLICAS),
    },
  });
  return {
    bootstrap: cluster.bootstrap,
    pids: [...cluster.brokers.map((b) => b.pid), cluster.etcdPid],
    stop: () => cluster.stop(),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

const portOf = (bootstrap: string): number => Number(bootstrap.split(",")[0]!.split(":")[1]);

/**
 * Creates the topics with three replicas and min.insync.replicas=2 (retrying while fewer than three
 * brokers are registered), waits until every partition has a leader and all three replicas in sync, and
 * produces one record with acks=all to each, so that no measured run pays for any of it. Answers the port
 * of each partition's leader.
 */
async function createTopics(bootstrap: string, topics: ReadonlyMap<string, number>): Promise<Map<string, number[]>> {
  const client = await RawClient.connect(portOf(bootstrap), { requestTimeoutMs: 30_000, clientId: CLIENT_ID });
  const deadline = Date.now() + TIMEOUT_MS;
  const waitOr = async (what: () => string): Promise<void> => {
    if (Date.now() > deadline) throw new Error(what());
    await delay(200);
  };
  try {
    const missing = new Set(topics.keys());
    while (missing.size > 0) {
      const res = await client.request(
        ApiKey.CreateTopics,
        7,
        createCreateTopicsRequest({
          timeoutMs: 30_000,
          topics: [...missing].map((name) => ({
            name,
            numPartitions: topics.get(name)!,
            replicationFactor: REPLICAS,
            assignments: [],
            configs: [{ name: "min.insync.replicas", value: MIN_INSYNC }],
          })),
        }),
      );
      const errors: string[] = [];
      for (const t of res.topics) {
        if (t.errorCode === 0 || t.errorCode === 36 /* TOPIC_ALREADY_EXISTS */) missing.delete(t.name);
        else errors.push(`${t.name}: ${t.errorCode} ${t.errorMessage ?? ""}`);
      }
      if (missing.size > 0) await waitOr(() => `CreateTopics: ${errors.join("; ")}`);
    }
    for (;;) {
      const md = await client.metadata([...topics.keys()]);
      const ports = new Map(md.brokers.map((b) => [b.nodeId, b.port]));
      const leaders = new Map<string, number[]>();
      for (const t of md.topics) {
        const parts = [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex);
        const ready =
          t.errorCode === 0 &&
          parts.length === topics.get(t.name!) &&
          parts.every((p) => p.errorCode === 0 && ports.has(p.leaderId) && p.isrNodes.length === REPLICAS);
        if (ready)
          leaders.set(
            t.name!,
            parts.map((p) => ports.get(p.leaderId)!),
          );
      }
      if (leaders.size === topics.size) {
        await prime(leaders, deadline);
        return leaders;
      }
      await waitOr(() => `topics not ready with ${REPLICAS} replicas in sync after ${TIMEOUT_MS} ms`);
    }
  } finally {
    client.close();
  }
}

async function prime(leaders: ReadonlyMap<string, number[]>, deadline: number): Promise<void> {
  const clients = new Map<number, RawClient>();
  try {
    for (const [topic, ports] of leaders) {
      for (const [partition, port] of ports.entries()) {
        let client = clients.get(port);
        if (client === undefined) {
          client = await RawClient.connect(port, { requestTimeoutMs: 30_000, clientId: CLIENT_ID });
          clients.set(port, client);
        }
        for (;;) {
          const { errorCode } = await client.produce(topic, partition, [{ value: "prime" }], -1);
          if (errorCode === 0) break;
          if (Date.now() > deadline) throw new Error(`${topic}-${partition} still answers error ${errorCode}`);
          await delay(100);
        }
      }
    }
  } finally {
    for (const c of clients.values()) c.close();
  }
}

/** Round trips of `n` acks=all produces of one record, one at a time, to the partition's leader, in ms. */
async function sequentialProduces(leaderPort: number, topic: string, n: number): Promise<number[]> {
  const client = await RawClient.connect(leaderPort, { requestTimeoutMs: 30_000, clientId: CLIENT_ID });
  const value = Buffer.alloc(REPLICATED_SIZE, "x");
  const once = async (): Promise<number> => {
    const started = process.hrtime.bigint();
    const { errorCode } = await client.produce(topic, 0, [{ value }], -1);
    if (errorCode !== 0) throw new Error(`acks=all produce to ${topic} answered error ${errorCode}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  try {
    for (let i = 0; i < 100; i++) await once(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push(await once());
    return times.sort((a, b) => a - b);
  } finally {
    client.close();
  }
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

const where = (partitions: number): string => `RF=${REPLICAS}, ${partitions} partition${partitions === 1 ? "" : "s"}`;

export async function replicatedRows(ctx: ReplicatedContext): Promise<void> {
  for (const kind of BROKER_KINDS) {
    const dir = join(ctx.workDir, `replicated-${kind}`);
    rmSync(dir, { recursive: true, force: true });
    ctx.log(`== ${BROKER_LABEL[kind]}, ${REPLICAS} brokers, topics of ${REPLICAS} replicas`);
    let cluster: ReplicatedCluster;
    try {
      cluster = await startCluster(kind, dir);
    } catch (err) {
      ctx.fail(`starting ${REPLICAS} brokers of ${BROKER_LABEL[kind]}`, err);
      continue;
    }
    try {
      await measure(kind, cluster, ctx);
    } catch (err) {
      ctx.fail(`${BROKER_LABEL[kind]}, ${REPLICAS} brokers`, err);
    } finally {
      await cluster.stop();
      // The records are no longer needed; the brokers' own logs stay for diagnosis.
      for (const sub of ["node-1", "node-2", "node-3", "broker-1", "broker-2", "broker-3"])
        for (const data of ["logs", "data"]) rmSync(join(dir, sub, data), { recursive: true, force: true });
      rmSync(join(dir, "etcd", "data"), { recursive: true, force: true });
    }
  }
}

async function measure(kind: BrokerKind, cluster: ReplicatedCluster, ctx: ReplicatedContext): Promise<void> {
  const { metrics, tools, load } = ctx;
  const topics = new Map<string, number>([["repl-warm-up", REPLICAS]]);
  for (let r = 1; r <= ctx.runs; r++) {
    for (const p of REPLICATED_PARTITIONS) topics.set(`repl-p${p}-r${r}`, p);
    topics.set(`repl-e2e-r${r}`, 1);
    topics.set(`repl-seq-r${r}`, 1);
  }
  const leaders = await createTopics(cluster.bootstrap, topics);
  const cpu = (): number => cluster.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  // Unmeasured: lets every broker compile its produce, replication and fetch paths first.
  await tools.producerPerf(cluster.bootstrap, "repl-warm-up", WARM_UP_RECORDS, REPLICATED_SIZE, "all");

  for (let r = 1; r <= ctx.runs; r++) {
    const produced = { cpu: 0, bytes: 0 };
    for (const partitions of REPLICATED_PARTITIONS) {
      const label = `replicated: produce 1 KiB acks=all, ${where(partitions)}`;
      try {
        const before = cpu();
        const res = await tools.producerPerf(
          cluster.bootstrap,
          `repl-p${partitions}-r${r}`,
          load.records,
          REPLICATED_SIZE,
          "all",
        );
        produced.cpu += cpu() - before;
        produced.bytes += load.records * REPLICATED_SIZE;
        metrics.add(
          `repl-produce-p${partitions}`,
          label,
          `Java ProducerPerformance, ${REPLICAS} brokers, min.insync.replicas=${MIN_INSYNC}`,
          "MB/s",
          AT_LEAST_KAFKA,
          kind,
          res.mbPerSec,
        );
        ctx.log(
          `${label} run ${r}: ${res.mbPerSec.toFixed(1)} MB/s, ${res.recordsPerSec.toFixed(0)} records/s, p50 ${res.p50Ms} p99 ${res.p99Ms} ms`,
        );
      } catch (err) {
        ctx.fail(`${BROKER_LABEL[kind]} ${label} run ${r}`, err);
      }
    }
    if (produced.bytes > 0) {
      const perGb = produced.cpu / (produced.bytes / 1e9);
      metrics.add(
        "repl-cpu-produce",
        `replicated: CPU s per GB produced, sum of the ${REPLICAS} brokers, RF=${REPLICAS}`,
        "Java ProducerPerformance (1 and 8 partitions); tskafka's etcd included",
        "CPU s/GB",
        HALF_OF_KAFKA,
        kind,
        perGb,
      );
      ctx.log(
        `replicated: CPU per GB produced run ${r}: ${perGb.toFixed(2)} s (${produced.cpu.toFixed(2)} s over ${(produced.bytes / 1e6).toFixed(0)} MB)`,
      );
    }
    try {
      const e2e = await tools.endToEndLatency(
        cluster.bootstrap,
        `repl-e2e-r${r}`,
        load.e2eMessages,
        "all",
        REPLICATED_SIZE,
      );
      const what = `replicated: end-to-end latency 1 KiB acks=all, ${where(1)}`;
      metrics.add("repl-e2e-p50", `${what}, p50`, "Java EndToEndLatency", "ms", NO_TARGET, kind, e2e.p50Ms);
      metrics.add("repl-e2e-p99", `${what}, p99`, "Java EndToEndLatency", "ms", NO_WORSE_THAN_KAFKA, kind, e2e.p99Ms);
      ctx.log(`replicated: end-to-end run ${r}: mean ${e2e.avgMs} ms, p50 ${e2e.p50Ms}, p99 ${e2e.p99Ms}`);
    } catch (err) {
      ctx.fail(`${BROKER_LABEL[kind]} replicated EndToEndLatency run ${r}`, err);
    }
    try {
      const topic = `repl-seq-r${r}`;
      const times = await sequentialProduces(leaders.get(topic)![0]!, topic, load.sequentialProduces);
      const [p50, p99] = [percentile(times, 0.5), percentile(times, 0.99)];
      const what = `replicated: produce latency 1 KiB acks=all, ${where(1)}`;
      metrics.add("repl-seq-p50", `${what}, p50`, SEQUENTIAL_CLIENT, "ms", NO_TARGET, kind, p50);
      metrics.add("repl-seq-p99", `${what}, p99`, SEQUENTIAL_CLIENT, "ms", NO_WORSE_THAN_KAFKA, kind, p99);
      ctx.log(`replicated: sequential acks=all produce run ${r}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
    } catch (err) {
      ctx.fail(`${BROKER_LABEL[kind]} replicated sequential produce run ${r}`, err);
    }
  }
}

/** The settings line of the report. */
export function replicatedSettings(load: ReplicatedLoad): string {
  return (
    `replicated: ${REPLICAS} brokers on this machine, topics created with ${REPLICAS} replicas and min.insync.replicas=${MIN_INSYNC}; ` +
    `Apache Kafka 3.9.1 as ${REPLICAS} KRaft nodes (broker and controller each, 1 GiB heap each), tskafka as ${REPLICAS} brokers and one etcd; ` +
    `ProducerPerformance acks=all, ${load.records.toLocaleString("en")} × 1 KiB per run to 1 and to 8 partitions (bootstrap: all three brokers); ` +
    `CPU s/GB sums utime+stime of the ${REPLICAS} broker processes (and etcd's for tskafka) over both calls of a run; ` +
    `EndToEndLatency ${load.e2eMessages} messages of 1 KiB, acks=all; ` +
    `produce latency: ${load.sequentialProduces} produces of one 1 KiB record with acks=all, one at a time, to the partition's leader after 100 unmeasured`
  );
}
