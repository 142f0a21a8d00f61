// `npx tsx scripts/bench/ingest-ab.ts [--variants a,b] [--rounds N] [--seconds S] [--client ceiling|java]
// [--partitions N] [--records N] [--flags variant=--flag,...] [--sizes 1024,100]`: compares builds of our produce path against each
// other in one run. A fresh broker is started for each variant (the variant's name in TSKAFKA_EXPERIMENT,
// which the code under trial reads), all at once; then, round after round, each takes in turn a short
// burst of the ceiling's Produce load (1 MiB and 1 KiB batches) or a ProducerPerformance run (acks=1), so
// that the machine's load (other work on two shared cores) falls on all of them alike. Reported: MB/s,
// broker CPU s per GB and how the CPU splits between the main thread and the others, peak RSS.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT, startBroker, variantFlags, type RunningBroker } from "./brokers.js";
import { BATCH_SHAPES, CEILING_PARTITIONS, ingestInto } from "./ceiling.js";
import { javaTools } from "./java-tools.js";
import { cpuSplit, memoryMiB } from "./proc.js";
import { median } from "./report.js";
import { ensureTopics } from "./wire.js";

const { values } = parseArgs({
  options: {
    variants: { type: "string", default: "base,next" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "4" },
    /** ceiling: the ceiling's raw Produce load; java: ProducerPerformance, acks=1. */
    client: { type: "string", default: "ceiling" },
    partitions: { type: "string", default: "1" },
    records: { type: "string", default: "200000" },
    sizes: { type: "string", default: "1024,100" },
    /** name=--flag[,--flag...]: node flags of one variant's broker (e.g. V8 heap sizes). */
    flags: { type: "string", multiple: true, default: [] },
  },
  strict: true,
});
const variants = values.variants.split(",");
const flagsOf = variantFlags(values.flags);
const timing = { seconds: Number(values.seconds), warmUpSeconds: 0 };
const work = join(REPO_ROOT, "bench", "work", "ingest-ab");
rmSync(work, { recursive: true, force: true });

interface Figures {
  mbps: number[];
  cpu: number[];
  split: number[][];
  rss: number[];
}
const figures = new Map<string, Figures>();

/** Records one measurement: MB/s, and the CPU between two cpuSplit readings per GB moved. */
function record(key: string, mbps: number, gb: number, before: CpuSplit, after: CpuSplit, rss: number): void {
  const mainUser = after.mainUser - before.mainUser;
  const mainSystem = after.mainSystem - before.mainSystem;
  const all = after.user + after.system - before.user - before.system;
  const f = figures.get(key) ?? { mbps: [], cpu: [], split: [], rss: [] };
  f.mbps.push(mbps);
  f.cpu.push(all / gb);
  f.split.push([mainUser / gb, mainSystem / gb, (all - mainUser - mainSystem) / gb]);
  f.rss.push(rss);
  figures.set(key, f);
  console.log(`[ingest-ab] ${key}: ${mbps.toFixed(1)} MB/s, ${(all / gb).toFixed(2)} CPU s/GB`);
}
type CpuSplit = ReturnType<typeof cpuSplit>;

/** One fresh broker per variant, all running at once, so that each burst of load can go to each in turn. */
async function startAll(partitions: number): Promise<Map<string, RunningBroker>> {
  const brokers = new Map<string, RunningBroker>();
  for (const variant of variants) {
    process.env.TSKAFKA_EXPERIMENT = variant;
    try {
      brokers.set(
        variant,
        await startBroker("tskafka", { dataDir: join(work, variant), partitions, nodeFlags: flagsOf(variant) }),
      );
    } finally {
      delete process.env.TSKAFKA_EXPERIMENT;
    }
  }
  return brokers;
}

const partitions = values.client === "java" ? Number(values.partitions) : CEILING_PARTITIONS;
const brokers = await startAll(partitions);
try {
  const tools = values.client === "java" ? javaTools(join(work, "tools")) : undefined;
  const records = Number(values.records);
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const [variant, broker] of brokers) {
      if (values.client === "java") {
        for (const size of values.sizes.split(",").map(Number)) {
          const topic = `ab-${size}-${round}`;
          await ensureTopics(broker.port, [topic], partitions);
          const before = cpuSplit(broker.pid);
          const r = await tools!.producerPerf(broker.bootstrap, topic, records, size, "1");
          const after = cpuSplit(broker.pid);
          const rss = memoryMiB(broker.pid).VmHWM!;
          record(`${variant}|${size} B records`, r.mbPerSec, (records * size) / 1e9, before, after, rss);
        }
      } else {
        for (const shape of BATCH_SHAPES) {
          // No warm-up inside the burst: every byte and CPU second between the two readings counts.
          const before = cpuSplit(broker.pid);
          const { ingest: r } = await ingestInto(broker, shape, `ceiling-${shape.id}`, timing);
          const after = cpuSplit(broker.pid);
          const rss = memoryMiB(broker.pid).VmHWM!;
          record(`${variant}|${shape.label} batches`, r.mbPerSec, r.bytes / 1e9, before, after, rss);
        }
      }
    }
  }
} finally {
  for (const b of brokers.values()) await b.stop();
  rmSync(work, { recursive: true, force: true });
}

const range = (xs: number[], digits: number): string =>
  `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}]`;
console.log(`\n${values.client}: medians of ${values.rounds} round(s)`);
console.log(
  "| variant | load | MB/s | broker CPU s/GB | main user / main system / other threads (s/GB) | peak RSS MiB |\n|---|---|---:|---:|---|---:|",
);
for (const [key, f] of figures) {
  const [variant, load] = key.split("|");
  const split = [0, 1, 2].map((i) => median(f.split.map((x) => x[i]!)).toFixed(2)).join(" / ");
  console.log(
    `| ${variant} | ${load} | ${range(f.mbps, 1)} | ${range(f.cpu, 2)} | ${split} | ${median(f.rss).toFixed(0)} |`,
  );
}
