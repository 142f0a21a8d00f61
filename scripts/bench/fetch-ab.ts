// `npx tsx scripts/bench/fetch-ab.ts [--variants a,b] [--rounds N] [--seconds S] [--client ceiling|java]
// [--partitions N] [--records N] [--flags variant=--flag,...]`: compares builds of our
// fetch path against each other in one run. The ceiling's batches are ingested once; then, round after
// round, a broker is started on that data for each variant (the variant's name in TSKAFKA_EXPERIMENT,
// which the code under trial reads) and serves the ceiling's Fetch load: MB/s, broker CPU s per GB, peak
// RSS. Variants alternate (A B A B), so that the machine's load falls on all of them alike.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT, startBroker, variantFlags } from "./brokers.js";
import { BATCH_SHAPES, CEILING_PARTITIONS, ingestInto, serveFrom } from "./ceiling.js";
import { javaTools } from "./java-tools.js";
import { cpuSeconds, cpuSplit, memoryMiB } from "./proc.js";
import { median } from "./report.js";
import { ensureTopics } from "./wire.js";

const { values } = parseArgs({
  options: {
    variants: { type: "string", default: "base,next" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "4" },
    /** ceiling: the ceiling's raw Fetch load; java: ConsumerPerformance passes over 100 B records. */
    client: { type: "string", default: "ceiling" },
    partitions: { type: "string", default: "8" },
    records: { type: "string", default: "600000" },
    /** name=--flag[,--flag...]: node flags of one variant's broker (e.g. V8 heap sizes). */
    flags: { type: "string", multiple: true, default: [] },
  },
  strict: true,
});
const variants = values.variants.split(",");
const flagsOf = variantFlags(values.flags);
const timing = { seconds: Number(values.seconds), warmUpSeconds: 1 };
const work = join(REPO_ROOT, "bench", "work", "fetch-ab");
const dataDir = join(work, "broker");
rmSync(work, { recursive: true, force: true });

if (values.client === "java") {
  await javaRounds();
  process.exit(0);
}

/** The same alternation with ConsumerPerformance (fresh JVM per pass) over ProducerPerformance's 100 B records. */
async function javaRounds(): Promise<void> {
  const partitions = Number(values.partitions);
  const records = Number(values.records);
  const tools = javaTools(join(work, "tools"));
  const producing = await startBroker("tskafka", { dataDir, partitions });
  try {
    await ensureTopics(producing.port, ["ab"], partitions);
    await tools.producerPerf(producing.bootstrap, "ab", records, 100, "1");
  } finally {
    await producing.stop();
  }
  const seen = new Map<string, { mbps: number[]; cpu: number[] }>();
  try {
    for (let round = 1; round <= Number(values.rounds); round++) {
      for (const variant of variants) {
        process.env.TSKAFKA_EXPERIMENT = variant;
        const broker = await startBroker("tskafka", { dataDir, partitions, nodeFlags: flagsOf(variant) });
        try {
          const cpu = cpuSeconds(broker.pid);
          const r = await tools.consumerPerf(broker.bootstrap, "ab", records);
          const perGb = (cpuSeconds(broker.pid) - cpu) / ((records * 100) / 1e9);
          const f = seen.get(variant) ?? { mbps: [], cpu: [] };
          f.mbps.push(r.mbPerSec);
          f.cpu.push(perGb);
          seen.set(variant, f);
          console.log(
            `[fetch-ab] round ${round} ${variant}: ${r.mbPerSec.toFixed(1)} MB/s, ${perGb.toFixed(2)} CPU s/GB`,
          );
        } finally {
          await broker.stop();
          delete process.env.TSKAFKA_EXPERIMENT;
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nConsumerPerformance, ${records} x 100 B over ${partitions} partitions; medians of ${values.rounds}`);
  for (const [variant, f] of seen)
    console.log(
      `| ${variant} | ${median(f.mbps).toFixed(1)} [${Math.min(...f.mbps).toFixed(1)}-${Math.max(...f.mbps).toFixed(1)}] MB/s | ${median(f.cpu).toFixed(2)} CPU s/GB |`,
    );
}

const sizes = new Map<string, number>();
const ingesting = await startBroker("tskafka", { dataDir, partitions: CEILING_PARTITIONS });
try {
  for (const shape of BATCH_SHAPES)
    sizes.set(shape.id, (await ingestInto(ingesting, shape, `ceiling-${shape.id}`, timing)).batchBytes);
} finally {
  await ingesting.stop();
}

const figures = new Map<string, { mbps: number[]; cpu: number[]; rss: number[]; split: number[][] }>();
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const variant of variants) {
      process.env.TSKAFKA_EXPERIMENT = variant;
      const broker = await startBroker("tskafka", {
        dataDir,
        partitions: CEILING_PARTITIONS,
        nodeFlags: flagsOf(variant),
      });
      try {
        for (const shape of BATCH_SHAPES) {
          const before = cpuSplit(broker.pid);
          const r = await serveFrom(broker, shape, `ceiling-${shape.id}`, sizes.get(shape.id)!, timing);
          const after = cpuSplit(broker.pid);
          const key = `${variant}|${shape.label}`;
          const f = figures.get(key) ?? { mbps: [], cpu: [], rss: [], split: [] };
          f.mbps.push(r.mbPerSec);
          f.cpu.push(r.cpuPerGb);
          // Over the whole serve call (warm-up included), per GB moved: main thread user/system, other threads.
          const gb = (r.mbPerSec * (timing.seconds + timing.warmUpSeconds)) / 1000;
          const mainUser = after.mainUser - before.mainUser;
          const mainSystem = after.mainSystem - before.mainSystem;
          const rest = after.user + after.system - before.user - before.system - mainUser - mainSystem;
          f.split.push([mainUser / gb, mainSystem / gb, rest / gb]);
          figures.set(key, f);
          console.log(
            `[fetch-ab] round ${round} ${variant} serve ${shape.label}: ${r.mbPerSec.toFixed(0)} MB/s, ${r.cpuPerGb.toFixed(2)} CPU s/GB, p99 ${r.p99Ms.toFixed(1)} ms`,
          );
        }
        const peak = memoryMiB(broker.pid).VmHWM!;
        for (const shape of BATCH_SHAPES) figures.get(`${variant}|${shape.label}`)!.rss.push(peak);
      } finally {
        await broker.stop();
        delete process.env.TSKAFKA_EXPERIMENT;
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`\nmedians of ${values.rounds} round(s), ${timing.seconds} s per figure`);
console.log(
  "| variant | batches | MB/s | broker CPU s/GB | main thread user / system, other threads (s/GB, approx.) | peak RSS MiB |\n|---|---|---:|---:|---|---:|",
);
for (const [key, f] of figures) {
  const [variant, shape] = key.split("|");
  console.log(
    `| ${variant} | ${shape} | ${median(f.mbps).toFixed(0)} [${Math.min(...f.mbps).toFixed(0)}-${Math.max(...f.mbps).toFixed(0)}] | ${median(f.cpu).toFixed(2)} [${Math.min(...f.cpu).toFixed(2)}-${Math.max(...f.cpu).toFixed(2)}] | ${[0, 1, 2].map((i) => median(f.split.map((x) => x[i]!)).toFixed(2)).join(" / ")} | ${median(f.rss).toFixed(0)} |`,
  );
}
