// How produce latency and broker memory grow with partitions, connections and record size, for both
// brokers. Each configuration gets a fresh broker: P partitions over P/10 topics of 10 partitions, C
// connections each producing one batch at a time (acks=1) to its own partition (connection c to partition
// c mod P), for a fixed time. Reports the round-trip latency of those produces, the broker's resident set
// with the partitions created and no load, and its peak (VmHWM) under the load.
//
// `npm run bench:scale [-- --seconds S] [-- --broker kafka|tskafka] [-- --configs 10x10x1k,1000x1000x1m]
//   [-- --prop KEY=VALUE]...`
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  ApiKey,
  ZERO_UUID,
  buildRecordBatch,
  createProduceRequest,
  encodeRequestFrame,
  type ProduceResponse,
} from "@tskafka/protocol";
import { BROKER_KINDS, BROKER_LABEL, REPO_ROOT, startBroker, type BrokerKind } from "./brokers.js";
import { runLoad } from "./load.js";
import { memoryMiB } from "./proc.js";
import { ensureTopics, primePartitions } from "./wire.js";

const PARTITIONS_PER_TOPIC = 10;
/** Room for a 1 MiB record and its batch header (Kafka's default message.max.bytes is 1 MiB + 12). */
const MESSAGE_MAX_BYTES = 2 * 1024 * 1024;

export interface Config {
  readonly partitions: number;
  readonly connections: number;
  /** Records per batch and their size: 16 x 1 KiB, or one record of 1 MiB. */
  readonly records: number;
  readonly recordBytes: number;
  readonly label: string;
}

export function parseConfig(text: string): Config {
  const m = /^(\d+)x(\d+)x(1k|1m)$/.exec(text);
  if (m === null) throw new Error(`config "${text}" is not PARTITIONSxCONNECTIONSx(1k|1m)`);
  const big = m[3] === "1m";
  const partitions = Number(m[1]);
  if (partitions % PARTITIONS_PER_TOPIC !== 0) throw new Error(`partitions must be a multiple of 10: ${text}`);
  return {
    partitions,
    connections: Number(m[2]),
    records: big ? 1 : 16,
    recordBytes: big ? 1 << 20 : 1024,
    label: big ? "1 MiB records" : "16 x 1 KiB records",
  };
}

export const DEFAULT_CONFIGS = ["10x10x1k", "100x100x1k", "1000x1000x1k", "10x10x1m", "100x100x1m"];

export interface ScaleRow {
  kind: BrokerKind;
  config: Config;
  /** RSS with the partitions created, before the load; peak is VmHWM after it (MiB). */
  idleRss: number;
  peakRss: number;
  mbPerSec: number;
  p50: number;
  p99: number;
  max: number;
}

function topicOf(i: number): string {
  return `scale-${String(i).padStart(3, "0")}`;
}

export interface ScaleOptions {
  readonly seconds: number;
  readonly workDir: string;
  /** More server.properties for the broker. */
  readonly properties?: Readonly<Record<string, string>>;
}

/** One configuration on a fresh broker of `kind`. */
export async function measureScale(kind: BrokerKind, config: Config, options: ScaleOptions): Promise<ScaleRow> {
  const dir = join(options.workDir, `${kind}-${config.partitions}-${config.connections}-${config.recordBytes}`);
  rmSync(dir, { recursive: true, force: true });
  const broker = await startBroker(kind, {
    dataDir: dir,
    partitions: PARTITIONS_PER_TOPIC,
    properties: { "message.max.bytes": String(MESSAGE_MAX_BYTES), ...options.properties },
  });
  try {
    const topics = Array.from({ length: config.partitions / PARTITIONS_PER_TOPIC }, (_, i) => topicOf(i));
    for (let i = 0; i < topics.length; i += 20)
      await ensureTopics(broker.port, topics.slice(i, i + 20), PARTITIONS_PER_TOPIC, 180_000);
    await primePartitions(broker.port, topics, PARTITIONS_PER_TOPIC);
    const idleRss = memoryMiB(broker.pid).VmRSS!;
    const value = randomBytes(config.recordBytes);
    const batch = buildRecordBatch(Array.from({ length: config.records }, () => ({ value })));
    const frames = new Map<number, Buffer>();
    const frameOf = (conn: number): Buffer => {
      const g = conn % config.partitions;
      let f = frames.get(g);
      if (f === undefined) {
        f = encodeRequestFrame(
          { requestApiKey: ApiKey.Produce, requestApiVersion: 9, correlationId: 1, clientId: "tskafka-scale" },
          createProduceRequest({
            acks: 1,
            timeoutMs: 30_000,
            topicData: [
              {
                name: topicOf(Math.floor(g / PARTITIONS_PER_TOPIC)),
                topicId: ZERO_UUID,
                partitionData: [{ index: g % PARTITIONS_PER_TOPIC, records: batch }],
              },
            ],
          }),
        );
        frames.set(g, f);
      }
      return f;
    };
    const r = await runLoad({
      port: broker.port,
      pid: broker.pid,
      connections: config.connections,
      inFlight: 1,
      seconds: options.seconds,
      warmUpSeconds: 1,
      frame: frameOf,
      payloadBytes: () => batch.length,
      apiKey: ApiKey.Produce,
      apiVersion: 9,
      check: (body) => {
        const p = (body as ProduceResponse).responses[0]?.partitionResponses[0];
        return p?.errorCode === 0 ? undefined : `produce answered error ${p?.errorCode}`;
      },
      checkEvery: 64,
    });
    const mem = memoryMiB(broker.pid);
    return {
      kind,
      config,
      idleRss,
      peakRss: mem.VmHWM!,
      mbPerSec: r.mbPerSec,
      p50: r.p50Ms,
      p99: r.p99Ms,
      max: r.maxMs,
    };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "5" },
      broker: { type: "string", multiple: true },
      configs: { type: "string", default: DEFAULT_CONFIGS.join(",") },
      /** More server.properties for both brokers, KEY=VALUE (e.g. num.io.threads=8 for Kafka). */
      prop: { type: "string", multiple: true, default: [] },
    },
    strict: true,
  });
  const seconds = Number(values.seconds);
  const kinds = (values.broker ?? BROKER_KINDS) as BrokerKind[];
  const configs = values.configs.split(",").map(parseConfig);
  const work = join(REPO_ROOT, "bench", "work", "scale");
  const extraProps = Object.fromEntries(
    values.prop.map((kv) => {
      const at = kv.indexOf("=");
      if (at <= 0) throw new Error(`--prop ${kv} is not KEY=VALUE`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );

  const rows: ScaleRow[] = [];
  for (const config of configs) {
    for (const kind of kinds) {
      const row = await measureScale(kind, config, { seconds, workDir: work, properties: extraProps });
      rows.push(row);
      console.log(
        `[scale] ${BROKER_LABEL[kind]}: ${config.partitions} partitions, ${config.connections} connections, ${config.label}: ` +
          `${row.mbPerSec.toFixed(0)} MB/s, latency p50 ${row.p50.toFixed(1)} p99 ${row.p99.toFixed(1)} max ${row.max.toFixed(0)} ms, ` +
          `RSS idle ${row.idleRss.toFixed(0)} MiB, peak ${row.peakRss.toFixed(0)} MiB`,
      );
    }
  }
  console.log(
    `\n${seconds} s per row after 1 s of warm-up; each connection one produce (acks=1) at a time; ` +
      `load average ${(await import("node:os"))
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")}`,
  );
  console.log(
    "| partitions | connections | records | broker | MB/s | p50 ms | p99 ms | RSS idle MiB | peak RSS MiB |\n|---:|---:|---|---|---:|---:|---:|---:|---:|",
  );
  for (const r of rows)
    console.log(
      `| ${r.config.partitions} | ${r.config.connections} | ${r.config.label} | ${BROKER_LABEL[r.kind]} | ${r.mbPerSec.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.idleRss.toFixed(0)} | ${r.peakRss.toFixed(0)} |`,
    );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
