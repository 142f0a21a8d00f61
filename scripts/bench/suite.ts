// The bench itself, in parts (each selectable alone with --only): for 1 and then 8 partitions, each
// broker in turn runs the same producer, consumer, latency and KafkaJS workloads ("single"); the
// raw-protocol ceilings; the scale rows; three brokers with replicated topics ("replicated"); cold
// start-up (with "single": Kafka's reuses its folder); then a CPU profile of our broker.
// Brokers never run at the same time; each phase starts from an empty data folder.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import {
  BROKER_KINDS,
  BROKER_LABEL,
  REPO_ROOT,
  peakRssKb,
  prepareColdStart,
  startBroker,
  stopChild,
  type BrokerKind,
  type RunningBroker,
} from "./brokers.js";
import { javaTools, run, type JavaTools } from "./java-tools.js";
import { BATCH_SHAPES, CEILING_PARTITIONS, ceilingOf, machineLimits, type MachineLimits } from "./ceiling.js";
import { cpuSeconds } from "./proc.js";
import { measureScale, parseConfig } from "./scale.js";
import { runProfile } from "./profile.js";
import { replicatedRows, replicatedSettings, type ReplicatedLoad } from "./replicated.js";
import {
  AT_LEAST_KAFKA,
  HALF_OF_KAFKA,
  Metrics,
  NO_TARGET,
  NO_WORSE_THAN_KAFKA,
  QUARTER_OF_KAFKA,
  UNDER_A_SECOND,
  consoleTable,
  markdown,
  median,
  rows,
  svgChart,
  type Target,
} from "./report.js";
import { ensureTopics, firstProduceMs } from "./wire.js";
import { BROKER_NODE_FLAGS } from "../../broker/src/node-flags.js";

export const PARTS = ["single", "ceiling", "scale", "replicated", "profile"] as const;
export type Part = (typeof PARTS)[number];

export interface SuiteOptions {
  readonly quick: boolean;
  readonly runs: number;
  /** What to run; results of a subset are written beside the full run's (`<parts>-latest.md`). */
  readonly parts: ReadonlySet<Part>;
  readonly kafkajs: boolean;
}

export interface Workload {
  /** Records per ProducerPerformance run, by record size. */
  readonly records: ReadonlyMap<number, number>;
  readonly e2eMessages: number;
  readonly kafkajsRecords: number;
  readonly replicated: ReplicatedLoad;
}

const WORK = join(REPO_ROOT, "bench", "work");
const RESULTS = join(REPO_ROOT, "bench", "results");
const PARTITIONS = [1, 8] as const;
const ACKS = ["1", "all"] as const;
const E2E_SIZE = 1024;
const WARM_UP_RECORDS = 50_000;
const KAFKAJS_SIZE = 1024;
/** Consumers read in a group; their rates leave out joining it (ConsumerPerformance's fetch rate). */
const CONSUMER_CLIENT = "Java ConsumerPerformance (group; fetch rate)";

export function workload(quick: boolean): Workload {
  return quick
    ? {
        records: new Map([
          [1024, 50_000],
          [100, 150_000],
        ]),
        e2eMessages: 1_000,
        kafkajsRecords: 20_000,
        replicated: { records: 50_000, e2eMessages: 1_000, sequentialProduces: 300 },
      }
    : {
        records: new Map([
          [1024, 200_000],
          [100, 600_000],
        ]),
        e2eMessages: 3_000,
        kafkajsRecords: 60_000,
        replicated: { records: 200_000, e2eMessages: 3_000, sequentialProduces: 1_000 },
      };
}

const sizeLabel = (size: number): string => (size >= 1024 ? `${size / 1024} KiB` : `${size} B`);
const perfTopic = (p: number, size: number, acks: string, r: number): string => `perf-p${p}-s${size}-a${acks}-r${r}`;

function log(line: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

export async function runSuite(options: SuiteOptions): Promise<void> {
  const load = workload(options.quick);
  rmSync(join(WORK, "run"), { recursive: true, force: true });
  mkdirSync(join(WORK, "run"), { recursive: true });
  const tools = javaTools(WORK);
  const metrics = new Metrics();
  const notes: string[] = [];
  const fail = (what: string, err: unknown): void => {
    // Results are committed: paths are given relative to the repository.
    const first = (err as Error).message.split("\n")[0] ?? "";
    const text = `${what} failed: ${first.replaceAll(`${REPO_ROOT}/`, "")}`;
    log(text);
    notes.push(text);
  };

  if (availableParallelism() <= 2) {
    notes.push(
      `This machine has ${availableParallelism()} CPUs: the broker and the client JVM share them, so throughput figures partly measure how much CPU each broker leaves to its client; expect run-to-run spread (see "Every run").`,
    );
  }
  const parts = options.parts;
  let kafkaTemplate: string | undefined;
  for (const partitions of parts.has("single") ? PARTITIONS : []) {
    for (const kind of BROKER_KINDS) {
      const dir = join(WORK, "run", `${kind}-p${partitions}`);
      log(`== ${BROKER_LABEL[kind]}, topics of ${partitions} partition(s)`);
      let broker: RunningBroker;
      try {
        broker = await startBroker(kind, { dataDir: dir, partitions });
      } catch (err) {
        fail(`starting ${BROKER_LABEL[kind]}`, err);
        continue;
      }
      if (kind === "kafka") kafkaTemplate ??= dir;
      try {
        await phase(broker, partitions, { tools, metrics, load, runs: options.runs, kafkajs: options.kafkajs, fail });
      } catch (err) {
        fail(`${BROKER_LABEL[kind]} with ${partitions} partition(s)`, err);
      } finally {
        const rss = peakRssKb(broker.pid);
        if (rss > 0)
          metrics
            .metric("rss", "peak RSS, whole workload", "all of the above", "MiB", QUARTER_OF_KAFKA, "max")
            .values[kind].push(rss / 1024);
        log(`peak RSS ${(rss / 1024).toFixed(0)} MiB`);
        await broker.stop();
        // The records are no longer needed; the broker's own log stays for diagnosis.
        rmSync(join(dir, kind === "kafka" ? "logs" : "data"), { recursive: true, force: true });
      }
    }
  }
  if (parts.has("single") && !options.kafkajs) notes.push("KafkaJS rows skipped (--skip-kafkajs).");

  if (parts.has("ceiling")) await ceilings(metrics, options, notes, fail);
  if (parts.has("scale")) await scaleRows(metrics, options.quick, fail);
  if (parts.has("replicated"))
    await replicatedRows({
      metrics,
      tools,
      load: load.replicated,
      runs: options.runs,
      workDir: join(WORK, "run"),
      fail,
      log,
    });
  if (parts.has("single")) await coldStarts(metrics, options.runs, kafkaTemplate, fail);

  const rowsNow = rows(metrics);
  console.log(`\n${consoleTable(rowsNow)}\n`);

  let profileMd: string | undefined;
  if (parts.has("profile")) {
    try {
      profileMd = await runProfile(tools, join(WORK, "profile"), load);
    } catch (err) {
      fail("profiling", err);
    }
  }
  writeResults(metrics, notes, options, load, profileMd);
}

interface PhaseContext {
  readonly tools: JavaTools;
  readonly metrics: Metrics;
  readonly load: Workload;
  readonly runs: number;
  readonly kafkajs: boolean;
  readonly fail: (what: string, err: unknown) => void;
}

async function phase(broker: RunningBroker, partitions: number, ctx: PhaseContext): Promise<void> {
  const { tools, metrics, load, runs } = ctx;
  const kind = broker.kind;
  const one = partitions === 1;
  const topics: string[] = [];
  for (let r = 1; r <= runs; r++) {
    for (const size of load.records.keys()) for (const acks of ACKS) topics.push(perfTopic(partitions, size, acks, r));
    if (one) topics.push(`e2e-r${r}`, `kafkajs-r${r}`);
  }
  await ensureTopics(broker.port, [...topics, "warm-up"], partitions);
  // Unmeasured: lets both runtimes compile their produce and fetch paths before the first figure.
  await tools.producerPerf(broker.bootstrap, "warm-up", WARM_UP_RECORDS, 1024, "1");
  await tools.consumerPerf(broker.bootstrap, "warm-up", WARM_UP_RECORDS);

  for (let r = 1; r <= runs; r++) {
    const produced = { cpu: 0, bytes: 0 };
    const consumed = { cpu: 0, bytes: 0 };
    for (const [size, records] of load.records) {
      for (const acks of ACKS) {
        const label = `produce ${sizeLabel(size)} acks=${acks}, ${partitions} partition${one ? "" : "s"}`;
        try {
          const cpu = cpuSeconds(broker.pid);
          const res = await tools.producerPerf(
            broker.bootstrap,
            perfTopic(partitions, size, acks, r),
            records,
            size,
            acks,
          );
          produced.cpu += cpuSeconds(broker.pid) - cpu;
          produced.bytes += records * size;
          metrics.add(
            `produce-${size}-${acks}-p${partitions}`,
            label,
            "Java ProducerPerformance",
            "MB/s",
            AT_LEAST_KAFKA,
            kind,
            res.mbPerSec,
          );
          log(`${label} run ${r}: ${res.mbPerSec.toFixed(1)} MB/s, ${res.recordsPerSec.toFixed(0)} records/s`);
        } catch (err) {
          ctx.fail(`${BROKER_LABEL[kind]} ${label} run ${r}`, err);
        }
      }
    }
    for (const [size, records] of load.records) {
      const label = `consume ${sizeLabel(size)}, ${partitions} partition${one ? "" : "s"}`;
      const topic = perfTopic(partitions, size, "1", r);
      try {
        const cpu = cpuSeconds(broker.pid);
        const res = await tools.consumerPerf(broker.bootstrap, topic, records);
        consumed.cpu += cpuSeconds(broker.pid) - cpu;
        consumed.bytes += records * size;
        metrics.add(
          `consume-${size}-p${partitions}`,
          label,
          CONSUMER_CLIENT,
          "MB/s",
          AT_LEAST_KAFKA,
          kind,
          res.mbPerSec,
        );
        log(`${label} run ${r}: ${res.mbPerSec.toFixed(1)} MB/s, ${res.recordsPerSec.toFixed(0)} records/s`);
      } catch (err) {
        ctx.fail(`${BROKER_LABEL[kind]} ${label} run ${r}`, err);
      }
    }
    cpuPerGb(ctx.metrics, kind, partitions, produced, consumed);
    if (one) {
      try {
        const e2e = await tools.endToEndLatency(broker.bootstrap, `e2e-r${r}`, load.e2eMessages, "1", E2E_SIZE);
        const client = "Java EndToEndLatency";
        const what = `end-to-end latency ${sizeLabel(E2E_SIZE)} acks=1`;
        metrics.add("e2e-avg", `${what}, mean`, client, "ms", NO_TARGET, kind, e2e.avgMs);
        metrics.add("e2e-p50", `${what}, p50`, client, "ms", NO_TARGET, kind, e2e.p50Ms);
        metrics.add("e2e-p99", `${what}, p99`, client, "ms", NO_WORSE_THAN_KAFKA, kind, e2e.p99Ms);
        metrics.add("e2e-p999", `${what}, p99.9`, client, "ms", NO_TARGET, kind, e2e.p999Ms);
        log(`end-to-end run ${r}: mean ${e2e.avgMs} ms, p50 ${e2e.p50Ms}, p99 ${e2e.p99Ms}, p99.9 ${e2e.p999Ms}`);
      } catch (err) {
        ctx.fail(`${BROKER_LABEL[kind]} EndToEndLatency run ${r}`, err);
      }
      if (ctx.kafkajs) await kafkajsRun(broker, `kafkajs-r${r}`, r, ctx);
    }
  }
}

/** Broker CPU seconds per GB of record bytes over one run's ProducerPerformance and ConsumerPerformance calls. */
function cpuPerGb(
  metrics: Metrics,
  kind: BrokerKind,
  partitions: number,
  produced: { cpu: number; bytes: number },
  consumed: { cpu: number; bytes: number },
): void {
  const where = `${partitions} partition${partitions === 1 ? "" : "s"}`;
  for (const [dir, x, client] of [
    ["produce", produced, "Java ProducerPerformance (all sizes and acks)"],
    ["consume", consumed, CONSUMER_CLIENT],
  ] as const) {
    if (x.bytes === 0) continue;
    const perGb = x.cpu / (x.bytes / 1e9);
    metrics.add(
      `cpu-${dir}-p${partitions}`,
      `broker CPU s per GB ${dir === "produce" ? "produced" : "consumed"}, ${where}`,
      client,
      "CPU s/GB",
      HALF_OF_KAFKA,
      kind,
      perGb,
    );
    log(
      `broker CPU per GB ${dir}d, ${where}: ${perGb.toFixed(2)} s (${x.cpu.toFixed(2)} s over ${(x.bytes / 1e6).toFixed(0)} MB)`,
    );
  }
}

async function kafkajsRun(broker: RunningBroker, topic: string, r: number, ctx: PhaseContext): Promise<void> {
  const client = join(REPO_ROOT, "scripts", "bench", "kafkajs-client.ts");
  const node = (args: string[]): Promise<{ records: number; bytes: number; ms: number }> =>
    run(process.execPath, ["--import", "tsx", client, ...args]).then((out) => {
      const line = out.stdout.trim().split("\n").pop() ?? "";
      if (out.code !== 0 || !line.startsWith("{"))
        throw new Error(`kafkajs-client exit ${out.code}: ${out.stderr.trim().split("\n").slice(-5).join(" | ")}`);
      return JSON.parse(line) as { records: number; bytes: number; ms: number };
    });
  const records = ctx.load.kafkajsRecords;
  const mbps = (x: { bytes: number; ms: number }): number => x.bytes / (1024 * 1024) / (x.ms / 1000);
  try {
    const res = await node(["produce", broker.bootstrap, topic, String(records), String(KAFKAJS_SIZE)]);
    ctx.metrics.add(
      "kafkajs-produce",
      `produce ${sizeLabel(KAFKAJS_SIZE)} acks=1, 1 partition`,
      "KafkaJS producer (100/batch, 4 in flight)",
      "MB/s",
      AT_LEAST_KAFKA,
      broker.kind,
      mbps(res),
    );
    log(`KafkaJS produce run ${r}: ${mbps(res).toFixed(1)} MB/s`);
  } catch (err) {
    ctx.fail(`${BROKER_LABEL[broker.kind]} KafkaJS produce run ${r}`, err);
    return;
  }
  try {
    const res = await node(["consume", broker.bootstrap, topic, String(records)]);
    ctx.metrics.add(
      "kafkajs-consume",
      `consume ${sizeLabel(KAFKAJS_SIZE)}, 1 partition`,
      "KafkaJS consumer (group)",
      "MB/s",
      AT_LEAST_KAFKA,
      broker.kind,
      mbps(res),
    );
    log(`KafkaJS consume run ${r}: ${mbps(res).toFixed(1)} MB/s`);
  } catch (err) {
    ctx.fail(`${BROKER_LABEL[broker.kind]} KafkaJS consume run ${r}`, err);
  }
}

/**
 * The raw-protocol ceiling (scripts/bench/ceiling.ts) of each broker, on a fresh broker per run, with
 * this machine's page-cache write and loopback TCP limits measured before each run.
 */
async function ceilings(
  metrics: Metrics,
  options: SuiteOptions,
  notes: string[],
  fail: (what: string, err: unknown) => void,
): Promise<void> {
  const timing = options.quick ? { seconds: 2, warmUpSeconds: 0.5 } : { seconds: 5, warmUpSeconds: 1 };
  const limits: MachineLimits[] = [];
  // Read when the report is made, so that it holds the median over every run's measurement.
  const halfPageCache: Target = {
    text: "≥ half the page-cache write rate",
    met: (_k, t) => t >= median(limits.map((l) => l.pageCacheWriteMBps)) / 2,
  };
  for (let r = 1; r <= options.runs; r++) {
    try {
      const l = await machineLimits(join(WORK, "run", "limits"), options.quick ? 256 : 1024);
      limits.push(l);
      log(
        `machine: page-cache writes ${l.pageCacheWriteMBps.toFixed(0)} MB/s, loopback TCP ${l.loopbackMBps.toFixed(0)} MB/s`,
      );
    } catch (err) {
      fail("measuring the machine's limits", err);
    }
    for (const kind of BROKER_KINDS) {
      const dir = join(WORK, "run", `ceiling-${kind}-${r}`);
      let broker: RunningBroker;
      try {
        broker = await startBroker(kind, { dataDir: dir, partitions: CEILING_PARTITIONS });
      } catch (err) {
        fail(`starting ${BROKER_LABEL[kind]} for the ceiling`, err);
        continue;
      }
      try {
        for (const shape of BATCH_SHAPES) {
          const f = await ceilingOf(broker, shape, `ceiling-${shape.id}`, timing);
          for (const [dir, res] of [
            ["ingest", f.ingest],
            ["serve", f.serve],
          ] as const) {
            const what = `${dir} ${shape.label} batches`;
            const client =
              dir === "ingest"
                ? `raw Produce v9 acks=1, ${CEILING_PARTITIONS} connections × ${shape.inFlight} in flight`
                : `raw Fetch v11 1 MiB, ${CEILING_PARTITIONS} connections × 4 in flight`;
            metrics
              .metric(
                `ceiling-${dir}-${shape.id}`,
                `ceiling: ${what}`,
                client,
                "MB/s",
                dir === "ingest" ? halfPageCache : AT_LEAST_KAFKA,
              )
              .values[kind].push(res.mbPerSec);
            metrics.add(
              `ceiling-cpu-${dir}-${shape.id}`,
              `ceiling: broker CPU s per GB, ${what}`,
              client,
              "CPU s/GB",
              HALF_OF_KAFKA,
              kind,
              res.cpuPerGb,
            );
            log(
              `${BROKER_LABEL[kind]} ceiling ${what} run ${r}: ${res.mbPerSec.toFixed(0)} MB/s, ${res.cpuPerGb.toFixed(2)} CPU s/GB, p99 ${res.p99Ms.toFixed(1)} ms`,
            );
          }
        }
      } catch (err) {
        fail(`${BROKER_LABEL[kind]} ceiling run ${r}`, err);
      } finally {
        await broker.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  if (limits.length > 0)
    notes.push(
      `This machine's limits (median of ${limits.length}): sequential writes into the page cache ${median(limits.map((l) => l.pageCacheWriteMBps)).toFixed(0)} MB/s (1 MiB writes, no fsync), one loopback TCP stream between two Node processes ${median(limits.map((l) => l.loopbackMBps)).toFixed(0)} MB/s. The ceiling rows drive each broker with pre-built frames, many in flight (scripts/bench/ceiling.ts, also \`npm run bench:ceiling\`).`,
    );
}

/** Configurations of the scale rows (scripts/bench/scale.ts): partitions x connections x record size. */
const SCALE_CONFIGS = ["10x10x1k", "100x100x1k", "1000x1000x1k", "10x10x1m"];

/**
 * Produce latency and broker memory at 10, 100 and 1,000 partitions and connections, and the rate with
 * 1 MiB records: one run per configuration and broker (each takes a fresh broker and, at 1,000
 * partitions, a minute of topic creation for Kafka).
 */
async function scaleRows(metrics: Metrics, quick: boolean, fail: (what: string, err: unknown) => void): Promise<void> {
  const workDir = join(WORK, "run", "scale");
  for (const text of SCALE_CONFIGS) {
    const config = parseConfig(text);
    const where = `${config.partitions} partitions, ${config.connections} connections, ${config.label}`;
    const client = `raw Produce v9 acks=1, one at a time per connection`;
    for (const kind of BROKER_KINDS) {
      try {
        const row = await measureScale(kind, config, { seconds: quick ? 2 : 5, workDir });
        if (config.recordBytes >= 1 << 20)
          metrics.add(
            `scale-mbps-${text}`,
            `scale: produce, ${where}`,
            client,
            "MB/s",
            AT_LEAST_KAFKA,
            kind,
            row.mbPerSec,
          );
        else
          metrics.add(
            `scale-p99-${text}`,
            `scale: produce p99, ${where}`,
            client,
            "ms",
            NO_WORSE_THAN_KAFKA,
            kind,
            row.p99,
          );
        metrics
          .metric(`scale-rss-${text}`, `scale: peak RSS, ${where}`, client, "MiB", QUARTER_OF_KAFKA, "max")
          .values[kind].push(row.peakRss);
        log(
          `${BROKER_LABEL[kind]} scale ${where}: ${row.mbPerSec.toFixed(0)} MB/s, p50 ${row.p50.toFixed(1)} p99 ${row.p99.toFixed(1)} ms, RSS idle ${row.idleRss.toFixed(0)} peak ${row.peakRss.toFixed(0)} MiB`,
        );
      } catch (err) {
        fail(`${BROKER_LABEL[kind]} scale ${where}`, err);
      }
    }
  }
}

async function coldStarts(
  metrics: Metrics,
  runs: number,
  kafkaTemplate: string | undefined,
  fail: (what: string, err: unknown) => void,
): Promise<void> {
  for (let r = 1; r <= runs; r++) {
    for (const kind of BROKER_KINDS) {
      const dir = join(WORK, "run", `cold-${kind}-${r}`);
      try {
        const cold = await prepareColdStart(kind, dir, kafkaTemplate);
        const t0 = Date.now();
        const child = cold.spawn();
        try {
          const ms = await firstProduceMs(cold.port, "startup-probe", t0);
          const rss = peakRssKb(child.pid!);
          metrics.add(
            "startup",
            "start-up to first accepted produce",
            "raw Produce v9 probe",
            "ms",
            UNDER_A_SECOND,
            kind,
            ms,
          );
          metrics.add("idle-rss", "peak RSS right after start-up", "—", "MiB", QUARTER_OF_KAFKA, kind, rss / 1024);
          log(`${BROKER_LABEL[kind]} cold start ${r}: first produce after ${ms} ms, ${(rss / 1024).toFixed(0)} MiB`);
        } finally {
          await stopChild(child, 30_000);
        }
      } catch (err) {
        fail(`${BROKER_LABEL[kind]} cold start ${r}`, err);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

function machine(): string[] {
  const java = spawnSync("java", ["-version"], { encoding: "utf8" }).stderr.split("\n")[0] ?? "?";
  const free = spawnSync("free", ["-h"], { encoding: "utf8" }).stdout.split("\n")[1]?.replace(/\s+/g, " ") ?? "";
  return [
    `nproc: ${availableParallelism()} (${cpus()[0]?.model ?? "?"})`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB (free -h: \`${free.trim()}\`)`,
    `Linux ${release()}, Node ${process.version}, ${java}`,
  ];
}

function writeResults(
  metrics: Metrics,
  notes: string[],
  options: SuiteOptions,
  load: Workload,
  profileMd: string | undefined,
): void {
  const date = new Date().toISOString().slice(0, 10);
  const records = [...load.records].map(([size, n]) => `${n.toLocaleString("en")} × ${sizeLabel(size)}`).join(", ");
  const settings: [Part | "all", string][] = [
    ["all", `${options.quick ? "QUICK smoke run" : "full run"}: ${options.runs} run(s) of each figure`],
    [
      "single",
      `ProducerPerformance: --throughput -1, ${records} per run, acks=1 and acks=all, default producer settings otherwise; a fresh topic per run`,
    ],
    ["single", `consumers read what the acks=1 producer run wrote: ${CONSUMER_CLIENT}`],
    [
      "single",
      `EndToEndLatency: ${load.e2eMessages} messages of ${sizeLabel(E2E_SIZE)}, acks=1, one partition (the tool reports whole milliseconds)`,
    ],
    [
      "single",
      `KafkaJS: ${load.kafkajsRecords.toLocaleString("en")} records of ${sizeLabel(KAFKAJS_SIZE)}, acks=1, 100 per send, 4 sends in flight`,
    ],
    [
      "single",
      "topics are auto-created up front (Metadata with auto-creation, broker num.partitions = 1 or 8), and the run waits for their leaders",
    ],
    [
      "all",
      "Apache Kafka 3.9.1: KRaft combined mode, -Xmx1g G1, 2 network and 2 I/O threads (scripts/kafka/apache-kafka.ts); client JVMs -Xmx512m",
    ],
    [
      "all",
      `tskafka: \`node ${BROKER_NODE_FLAGS.join(" ")} broker/dist/src/main.js\` (as \`npm start\`), log level warn`,
    ],
    [
      "single",
      "peak RSS is VmHWM of the broker process at the end of each phase (1 and 8 partitions), the larger of the two",
    ],
    [
      "single",
      "broker CPU s per GB: utime+stime of the broker process (/proc/<pid>/stat, all its threads) over each ProducerPerformance / ConsumerPerformance call of a run, divided by the records' bytes (record size × count)",
    ],
    [
      "scale",
      `scale: scripts/bench/scale.ts, one run per configuration (${SCALE_CONFIGS.join(", ")}: partitions x connections x 16 × 1 KiB or one 1 MiB record per batch), a fresh broker each with message.max.bytes=2 MiB, partitions over topics of 10, each connection producing one batch at a time to its own partition for ${options.quick ? 2 : 5} s after 1 s of warm-up`,
    ],
    [
      "ceiling",
      `ceiling: scripts/bench/ceiling.ts on a fresh broker per run (${CEILING_PARTITIONS} partitions), Produce v9 acks=1 then Fetch v11 of 1 MiB per request over what was produced, ${options.quick ? "2 s after 0.5 s" : "5 s after 1 s"} of warm-up per figure; MB/s of record batches acked (ingest) or of answers received (serve)`,
    ],
    ["replicated", replicatedSettings(load.replicated)],
    [
      "single",
      "start-up: clock starts just before spawning the process (Kafka's data folder formatted beforehand, as its operators do); a raw client connects, sends Metadata with auto-creation and Produce (acks=1) until one is accepted",
    ],
  ];
  const all = rows(metrics);
  // A subset of the parts is written beside the full run's results, not over them.
  const subset = PARTS.some((p) => p !== "profile" && !options.parts.has(p));
  const tag = subset ? [...options.parts].filter((p) => p !== "profile").join("+") || "profile" : "";
  const latest = subset ? `${tag}-latest` : "latest";
  const md = markdown(all, {
    date,
    machine: machine(),
    settings: settings.filter(([part]) => part === "all" || options.parts.has(part)).map(([, text]) => text),
    notes,
    chart: `${latest}.svg`,
  });
  mkdirSync(RESULTS, { recursive: true });
  const name = `${date}${subset ? `-${tag}` : ""}${options.quick ? "-quick" : ""}.md`;
  writeFileSync(join(RESULTS, name), md);
  writeFileSync(join(RESULTS, `${latest}.md`), md);
  writeFileSync(
    join(RESULTS, `${latest}.svg`),
    svgChart(
      all,
      `tskafka vs Apache Kafka 3.9.1, ${date}${subset ? `, ${tag}` : ""}${options.quick ? " (quick)" : ""}`,
    ),
  );
  if (profileMd !== undefined) writeFileSync(join(RESULTS, "profile-latest.md"), profileMd);
  log(
    `wrote bench/results/${name}, ${latest}.md, ${latest}.svg${profileMd !== undefined ? ", profile-latest.md" : ""}`,
  );
}
