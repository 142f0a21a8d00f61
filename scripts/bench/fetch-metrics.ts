// `npx tsx scripts/bench/fetch-metrics.ts [--broker tskafka|kafka] [--runs N] [--records N] [--partitions N] [--size B] [--idle N] [--node-flag F]...`:
// a consume row of the bench (100 B records over 8 partitions unless told) with ConsumerPerformance's own fetch metrics
// (--print-metrics: fetch size, latency and records per request), and the broker's CPU seconds per pass,
// to tell broker-bound from client-bound consumption.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { kafkaClasspath } from "../kafka/apache-kafka.js";
import { REPO_ROOT, startBroker, type BrokerKind } from "./brokers.js";
import { javaTools, run } from "./java-tools.js";
import { ensureTopics, growTopic } from "./wire.js";

const { values } = parseArgs({
  options: {
    broker: { type: "string", default: "tskafka" },
    runs: { type: "string", default: "3" },
    records: { type: "string", default: "600000" },
    partitions: { type: "string", default: "8" },
    size: { type: "string", default: "100" },
    /** Empty partitions added after producing: a consumer catching up while some of its partitions are idle. */
    idle: { type: "string", default: "0" },
    "node-flag": { type: "string", multiple: true, default: [] },
  },
  strict: true,
});
const kind = values.broker as BrokerKind;
const RECORDS = Number(values.records);
const PARTITIONS = Number(values.partitions);
const WORK = join(REPO_ROOT, "bench", "work", "fetch-metrics");
const METRICS = [
  "fetch-size-avg",
  "fetch-latency-avg",
  "fetch-latency-max",
  "records-per-request-avg",
  "fetch-rate",
  "fetch-total",
  "bytes-consumed-rate",
];

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

rmSync(WORK, { recursive: true, force: true });
const broker = await startBroker(kind, {
  dataDir: join(WORK, kind),
  partitions: PARTITIONS,
  nodeFlags: values["node-flag"],
});
try {
  const tools = javaTools(join(WORK, "tools"));
  await ensureTopics(broker.port, ["fm"], PARTITIONS);
  await tools.producerPerf(broker.bootstrap, "fm", RECORDS, Number(values.size), "1");
  if (Number(values.idle) > 0) await growTopic(broker.port, "fm", PARTITIONS + Number(values.idle));
  for (let i = 0; i < Number(values.runs); i++) {
    const cpu = cpuSeconds(broker.pid);
    const out = await run("java", [
      "-Xmx512m",
      `-Dlog4j.configuration=file:${join(WORK, "tools", "client-log4j.properties")}`,
      "-cp",
      kafkaClasspath(),
      "org.apache.kafka.tools.ConsumerPerformance",
      "--bootstrap-server",
      broker.bootstrap,
      "--topic",
      "fm",
      "--messages",
      String(RECORDS),
      "--timeout",
      "30000",
      "--group",
      `fm-${i}-${Date.now()}`,
      "--print-metrics",
    ]);
    const used = cpuSeconds(broker.pid) - cpu;
    const csv = out.stdout.split("\n").find((l) => /^\d{4}-/.test(l)) ?? "";
    // start, end, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
    const cols = csv.split(",").map((c) => c.trim());
    const picked = METRICS.map((m) => {
      const hit = new RegExp(`consumer-fetch-manager-metrics:${m}:\\{client-id=[^}]*\\}\\s*:\\s*([\\d.E+-]+)`).exec(
        out.stdout,
      );
      return `${m}=${hit ? Number(hit[1]).toFixed(1) : "?"}`;
    });
    console.log(
      `${kind} pass ${i + 1}: fetch MB/s ${cols[8]}; rebalance ${cols[6]} ms, fetching ${cols[7]} ms; broker CPU ${used.toFixed(2)} s; ${picked.join(" ")}`,
    );
  }
} finally {
  await broker.stop();
  rmSync(join(WORK, kind, "data"), { recursive: true, force: true }); // broker.log stays
}
