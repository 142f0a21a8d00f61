// `npx tsx scripts/bench/memory.ts [--runs N] [--records N] [--passes N] [--partitions N] [--size B] [--acks A]
// [--no-workload] [--node-flag F]...`: our broker's memory and CPU under one produce and consume row of the bench
// (the 8-partition 100 B one unless told), without Apache Kafka. Each run starts a fresh broker, reads its
// resident set after start-up, then ProducerPerformance writes the records and ConsumerPerformance reads
// them back `passes` times. Reports VmRSS/VmHWM from
// /proc/<pid>/status and the broker's CPU seconds (utime+stime from /proc/<pid>/stat) per phase: CPU
// time is much steadier than MB/s on a shared machine. Medians and ranges over the runs.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT, startBroker } from "./brokers.js";
import { javaTools } from "./java-tools.js";
import { ensureTopics } from "./wire.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    records: { type: "string", default: "600000" },
    passes: { type: "string", default: "2" },
    partitions: { type: "string", default: "8" },
    size: { type: "string", default: "100" },
    acks: { type: "string", default: "1" },
    "no-workload": { type: "boolean", default: false },
    "node-flag": { type: "string", multiple: true, default: [] },
  },
  strict: true,
});
const RUNS = Number(values.runs);
const RECORDS = Number(values.records);
const PASSES = Number(values.passes);
const PARTITIONS = Number(values.partitions);
const SIZE = Number(values.size);
const WORK = join(REPO_ROOT, "bench", "work", "memory");
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of readFileSync(`/proc/${pid}/status`, "utf8").matchAll(/^(Vm\w+|Rss\w+):\s+(\d+) kB/gm))
    out[m[1]!] = Number(m[2]) / 1024;
  return out;
}

/** utime + stime of `pid`, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

interface RunFigures {
  startRss: number;
  startAnon: number;
  startCpu: number;
  produceCpu: number;
  consumeCpu: number;
  consumeMBps: number;
  peakRss: number;
  endRss: number;
}

async function oneRun(run: number): Promise<RunFigures> {
  const dataDir = join(WORK, `run-${run}`);
  rmSync(dataDir, { recursive: true, force: true });
  const broker = await startBroker("tskafka", {
    dataDir,
    partitions: PARTITIONS,
    nodeFlags: values["node-flag"],
  });
  const tools = javaTools(join(WORK, "tools"));
  try {
    await delay(1_000); // let start-up's garbage settle the way it would before a client arrives
    const start = status(broker.pid);
    const figures: RunFigures = {
      startRss: start.VmRSS!,
      startAnon: start.RssAnon!,
      startCpu: cpuSeconds(broker.pid),
      produceCpu: 0,
      consumeCpu: 0,
      consumeMBps: 0,
      peakRss: start.VmHWM!,
      endRss: start.VmRSS!,
    };
    if (values["no-workload"]) return figures;
    const topic = `mem-${run}`;
    await ensureTopics(broker.port, [topic], PARTITIONS);
    let cpu = cpuSeconds(broker.pid);
    await tools.producerPerf(broker.bootstrap, topic, RECORDS, SIZE, values.acks);
    figures.produceCpu = cpuSeconds(broker.pid) - cpu;
    cpu = cpuSeconds(broker.pid);
    const rates: number[] = [];
    for (let pass = 0; pass < PASSES; pass++)
      rates.push((await tools.consumerPerf(broker.bootstrap, topic, RECORDS)).mbPerSec);
    figures.consumeCpu = (cpuSeconds(broker.pid) - cpu) / PASSES;
    figures.consumeMBps = median(rates);
    const end = status(broker.pid);
    figures.peakRss = end.VmHWM!;
    figures.endRss = end.VmRSS!;
    return figures;
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const runs: RunFigures[] = [];
for (let run = 0; run < RUNS; run++) {
  const figures = await oneRun(run);
  console.log(
    `[memory] run ${run + 1}/${RUNS}: ${JSON.stringify(figures, (_, v) => (typeof v === "number" ? +v.toFixed(2) : v))}`,
  );
  runs.push(figures);
}
console.log(
  `\n${RUNS} run(s), ${values["no-workload"] ? "start-up only" : `${RECORDS} x ${SIZE} B into ${PARTITIONS} partitions, ${PASSES} consume pass(es)`}; load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
);
console.log("| figure | median | min | max |\n|---|---:|---:|---:|");
for (const [key, label] of [
  ["startRss", "RSS after start-up (MiB)"],
  ["startAnon", "anonymous RSS after start-up (MiB)"],
  ["startCpu", "CPU s to start"],
  ["produceCpu", "broker CPU s, produce"],
  ["consumeCpu", "broker CPU s per consume pass"],
  ["consumeMBps", "consume MB/s (fetch rate)"],
  ["peakRss", "peak RSS, VmHWM (MiB)"],
  ["endRss", "RSS at the end (MiB)"],
] as const) {
  const xs = runs.map((r) => r[key]);
  console.log(
    `| ${label} | ${median(xs).toFixed(2)} | ${Math.min(...xs).toFixed(2)} | ${Math.max(...xs).toFixed(2)} |`,
  );
}
