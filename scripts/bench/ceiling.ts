// The broker's own ceiling: what it ingests (Produce v9, acks=1) and serves (Fetch v11) when the client is
// not the bottleneck (scripts/bench/load.ts: pre-built frames, many requests in flight, several
// connections), with 1 MiB record batches and 1 KiB ones, next to this machine's limits (sequential writes
// into the page cache, one loopback TCP stream between two Node processes).
//
// `npm run bench:ceiling [-- --runs N] [-- --seconds S] [-- --broker kafka|tskafka]`
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import {
  ApiKey,
  ZERO_UUID,
  buildRecordBatch,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createProduceRequest,
  encodeRequestFrame,
  type FetchResponse,
  type ProduceResponse,
} from "@tskafka/protocol";
import { RawClient } from "../../broker/test/clients/raw-client.js";
import type { RunningBroker } from "./brokers.js";
import { runLoad, type LoadResult } from "./load.js";
import { ensureTopics, primePartitions } from "./wire.js";

/** The two batch shapes: 64 records of 16,000 B (about 1 MiB, under Kafka's default message.max.bytes) and one record of 960 B. */
export const BATCH_SHAPES = [
  { label: "1 MiB", id: "1m", records: 64, valueBytes: 16_000, inFlight: 4 },
  { label: "1 KiB", id: "1k", records: 1, valueBytes: 960, inFlight: 128 },
] as const;
export type BatchShape = (typeof BATCH_SHAPES)[number];

export const CEILING_PARTITIONS = 4;
const CONNECTIONS = 4;
const FETCH_PARTITION_BYTES = 1 << 20;
const CLIENT_ID = "tskafka-ceiling";

export interface CeilingTiming {
  readonly seconds: number;
  readonly warmUpSeconds: number;
}

export interface CeilingFigures {
  readonly shape: BatchShape;
  readonly batchBytes: number;
  readonly ingest: LoadResult;
  readonly serve: LoadResult;
}

function produceFrame(topic: string, partition: number, batch: Buffer): Buffer {
  return encodeRequestFrame(
    { requestApiKey: ApiKey.Produce, requestApiVersion: 9, correlationId: 1, clientId: CLIENT_ID },
    createProduceRequest({
      acks: 1,
      timeoutMs: 30_000,
      topicData: [{ name: topic, topicId: ZERO_UUID, partitionData: [{ index: partition, records: batch }] }],
    }),
  );
}

function fetchFrame(topic: string, partition: number, fetchOffset: bigint): Buffer {
  return encodeRequestFrame(
    { requestApiKey: ApiKey.Fetch, requestApiVersion: 11, correlationId: 1, clientId: CLIENT_ID },
    createFetchRequest({
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 50 << 20,
      topics: [
        createFetchRequestFetchTopic({
          topic,
          partitions: [
            createFetchRequestFetchPartition({ partition, fetchOffset, partitionMaxBytes: FETCH_PARTITION_BYTES }),
          ],
        }),
      ],
    }),
  );
}

function checkProduce(body: unknown): string | undefined {
  const p = (body as ProduceResponse).responses[0]?.partitionResponses[0];
  return p?.errorCode === 0 ? undefined : `produce answered error ${p?.errorCode}`;
}

function checkFetch(body: unknown): string | undefined {
  const p = (body as FetchResponse).responses[0]?.partitions[0];
  if (p?.errorCode !== 0) return `fetch answered error ${p?.errorCode}`;
  return (p.records?.length ?? 0) > 0 ? undefined : "fetch answered no records";
}

/** Ingest then serve with one batch shape, into a fresh topic of CEILING_PARTITIONS partitions. */
export async function ceilingOf(
  broker: RunningBroker,
  shape: BatchShape,
  topic: string,
  timing: CeilingTiming,
): Promise<CeilingFigures> {
  const { batchBytes, ingest } = await ingestInto(broker, shape, topic, timing);
  const serve = await serveFrom(broker, shape, topic, batchBytes, timing);
  return { shape, batchBytes, ingest, serve };
}

/** Produces `shape` batches into a fresh topic for `timing`; returns the batch size and the figures. */
export async function ingestInto(
  broker: RunningBroker,
  shape: BatchShape,
  topic: string,
  timing: CeilingTiming,
): Promise<{ batchBytes: number; ingest: LoadResult }> {
  await ensureTopics(broker.port, [topic], CEILING_PARTITIONS);
  await primePartitions(broker.port, [topic], CEILING_PARTITIONS);
  const value = randomBytes(shape.valueBytes);
  const batch = buildRecordBatch(Array.from({ length: shape.records }, () => ({ value })));
  const frames = Array.from({ length: CEILING_PARTITIONS }, (_, p) => produceFrame(topic, p, batch));
  const ingest = await runLoad({
    port: broker.port,
    pid: broker.pid,
    connections: CONNECTIONS,
    inFlight: shape.inFlight,
    ...timing,
    frame: (conn) => frames[conn % CEILING_PARTITIONS]!,
    payloadBytes: () => batch.length,
    apiKey: ApiKey.Produce,
    apiVersion: 9,
    check: checkProduce,
  });
  return { batchBytes: batch.length, ingest };
}

/** Fetches what `ingestInto` wrote, round and round, for `timing`. */
export async function serveFrom(
  broker: RunningBroker,
  shape: BatchShape,
  topic: string,
  batchBytes: number,
  timing: CeilingTiming,
): Promise<LoadResult> {
  // Serve what was ingested, round and round: each fetch asks for about 1 MiB from a batch boundary.
  const client = await RawClient.connect(broker.port, { connectTimeoutMs: 5_000, requestTimeoutMs: 30_000 });
  const fetches: Buffer[][] = [];
  try {
    const batchesPerFetch = Math.max(1, Math.floor(FETCH_PARTITION_BYTES / batchBytes));
    const step = BigInt(batchesPerFetch * shape.records);
    for (let p = 0; p < CEILING_PARTITIONS; p++) {
      const end = await topUp(client, shape, topic, p, step);
      const list: Buffer[] = [];
      for (let o = 0n; o + step <= end; o += step) list.push(fetchFrame(topic, p, o));
      fetches.push(list);
    }
  } finally {
    client.close();
  }
  return runLoad({
    port: broker.port,
    pid: broker.pid,
    connections: CONNECTIONS,
    inFlight: 4,
    ...timing,
    frame: (conn, seq) => {
      const list = fetches[conn % CEILING_PARTITIONS]!;
      return list[(seq + conn * 7) % list.length]!;
    },
    apiKey: ApiKey.Fetch,
    apiVersion: 11,
    check: checkFetch,
    checkEvery: 64,
  });
}

/**
 * A partition's high watermark once it holds at least `records` (one fetch's worth): a broker that
 * ingested little in the measured seconds (a loaded machine) gets more of the same batches, one at a time.
 */
async function topUp(client: RawClient, shape: BatchShape, topic: string, p: number, records: bigint): Promise<bigint> {
  const value = randomBytes(shape.valueBytes);
  let end = await client.highWatermark(topic, p);
  while (end < records) {
    const r = await client.produce(
      topic,
      p,
      Array.from({ length: shape.records }, () => ({ value })),
      1,
    );
    if (r.errorCode !== 0) throw new Error(`topping up ${topic}-${p}: produce answered error ${r.errorCode}`);
    end = await client.highWatermark(topic, p);
  }
  return end;
}

/** Sequential writes of 1 MiB into a new file (page cache, no fsync), in MB/s. */
export function pageCacheWriteMBps(dir: string, mb: number): number {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "page-cache-probe");
  const buf = randomBytes(1 << 20);
  const fd = openSync(file, "w");
  const t0 = performance.now();
  try {
    for (let i = 0; i < mb; i++) writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
  const secs = (performance.now() - t0) / 1000;
  unlinkSync(file);
  return (mb * (1 << 20)) / 1e6 / secs;
}

/** Writes to a sink in another Node process over one loopback TCP connection, in MB/s. */
export async function loopbackMBps(mb: number): Promise<number> {
  const total = mb * (1 << 20);
  const sink = spawn(
    process.execPath,
    [
      "-e",
      `const n=require("node:net");const s=n.createServer(c=>{let got=0;c.on("data",d=>{got+=d.length;if(got>=${total})c.end()})});` +
        `s.listen(0,"127.0.0.1",()=>console.log(s.address().port));process.stdin.on("end",()=>process.exit(0));process.stdin.resume();`,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      sink.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      sink.once("exit", (code) => reject(new Error(`loopback sink exited (${code})`)));
    });
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const buf = randomBytes(1 << 20);
    const t0 = performance.now();
    const ended = new Promise<void>((resolve) => socket.once("end", resolve));
    socket.resume();
    for (let i = 0; i < mb; i++) {
      if (!socket.write(buf)) await new Promise((r) => socket.once("drain", r));
    }
    await ended;
    const secs = (performance.now() - t0) / 1000;
    socket.destroy();
    return total / 1e6 / secs;
  } finally {
    sink.stdin!.end();
    sink.kill();
  }
}

export interface MachineLimits {
  readonly pageCacheWriteMBps: number;
  readonly loopbackMBps: number;
}

export async function machineLimits(dir: string, mb: number): Promise<MachineLimits> {
  const page = pageCacheWriteMBps(dir, mb);
  rmSync(join(dir, "page-cache-probe"), { force: true });
  return { pageCacheWriteMBps: page, loopbackMBps: await loopbackMBps(mb) };
}

async function main(): Promise<void> {
  const { parseArgs } = await import("node:util");
  const { REPO_ROOT, BROKER_KINDS, BROKER_LABEL, startBroker } = await import("./brokers.js");
  const { median } = await import("./report.js");
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "1" },
      seconds: { type: "string", default: "5" },
      broker: { type: "string", multiple: true },
      "limit-mb": { type: "string", default: "1024" },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  const timing: CeilingTiming = { seconds: Number(values.seconds), warmUpSeconds: 1 };
  const kinds = (values.broker ?? BROKER_KINDS) as typeof BROKER_KINDS;
  const work = join(REPO_ROOT, "bench", "work", "ceiling");
  rmSync(work, { recursive: true, force: true });
  const limits: MachineLimits[] = [];
  const figures = new Map<string, { mbps: number[]; cpu: number[]; p99: number[] }>();
  const add = (key: string, r: LoadResult): void => {
    const f = figures.get(key) ?? { mbps: [], cpu: [], p99: [] };
    f.mbps.push(r.mbPerSec);
    f.cpu.push(r.cpuPerGb);
    f.p99.push(r.p99Ms);
    figures.set(key, f);
  };
  for (let run = 1; run <= runs; run++) {
    const l = await machineLimits(work, Number(values["limit-mb"]));
    limits.push(l);
    console.log(
      `[ceiling] run ${run}: page-cache writes ${l.pageCacheWriteMBps.toFixed(0)} MB/s, loopback TCP ${l.loopbackMBps.toFixed(0)} MB/s`,
    );
    for (const kind of kinds) {
      const broker = await startBroker(kind, { dataDir: join(work, `${kind}-${run}`), partitions: CEILING_PARTITIONS });
      try {
        for (const shape of BATCH_SHAPES) {
          const f = await ceilingOf(broker, shape, `ceiling-${shape.id}`, timing);
          for (const [dir, r] of [
            ["ingest", f.ingest],
            ["serve", f.serve],
          ] as const) {
            add(`${kind} ${dir} ${shape.label}`, r);
            console.log(
              `[ceiling] run ${run} ${BROKER_LABEL[kind]} ${dir} ${shape.label} batches (${f.batchBytes} B): ` +
                `${r.mbPerSec.toFixed(0)} MB/s, ${r.cpuPerGb.toFixed(2)} CPU s/GB, ${r.requests} requests, ` +
                `latency p50 ${r.p50Ms.toFixed(1)} p99 ${r.p99Ms.toFixed(1)} ms`,
            );
          }
        }
      } finally {
        await broker.stop();
        rmSync(join(work, `${kind}-${run}`), { recursive: true, force: true });
      }
    }
  }
  console.log(`\n${runs} run(s) of ${timing.seconds} s per figure; medians`);
  console.log(
    `this machine: sequential page-cache writes ${median(limits.map((l) => l.pageCacheWriteMBps)).toFixed(0)} MB/s, ` +
      `one loopback TCP stream (Node to Node) ${median(limits.map((l) => l.loopbackMBps)).toFixed(0)} MB/s`,
  );
  console.log("| broker | figure | MB/s | broker CPU s/GB | p99 ms |\n|---|---|---:|---:|---:|");
  for (const [key, f] of figures) {
    const [kind, ...rest] = key.split(" ");
    console.log(
      `| ${BROKER_LABEL[kind as (typeof kinds)[number]]} | ${rest.join(" ")} batches | ${median(f.mbps).toFixed(0)} | ${median(f.cpu).toFixed(2)} | ${median(f.p99).toFixed(1)} |`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
