// `npm run bench [-- --quick] [-- --runs N] [-- --only PART,...] [-- --skip-profile] [-- --skip-kafkajs]
// [-- --no-build]`: tskafka side by side with Apache Kafka on this machine. Parts: single (one broker:
// produce, consume, latency, KafkaJS, start-up), ceiling, scale, replicated (three brokers), profile; all
// by default (`npm run bench:replicated` is `--only replicated`). Fetches the Kafka jars when missing and
// builds the broker first, then runs the suite (which needs the built protocol package).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { kafkaLibDir } from "../kafka/apache-kafka.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    only: { type: "string" },
    "skip-profile": { type: "boolean", default: false },
    "skip-kafkajs": { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
  },
  strict: true,
});

console.log(`Kafka jars: ${kafkaLibDir()}`);
if (!values["no-build"]) {
  const build = spawnSync("npx", ["tsc", "-b"], { stdio: "inherit", cwd: new URL("../..", import.meta.url) });
  if (build.status !== 0) {
    // tsc -b still emits what compiles; a type error elsewhere (tests being written) need not stop a bench.
    if (!existsSync(new URL("../../broker/dist/src/main.js", import.meta.url)))
      throw new Error("npx tsc -b failed and there is no built broker");
    console.warn("bench: npx tsc -b reported errors (above); benching the broker as emitted");
  }
}

const { PARTS, runSuite } = await import("./suite.js");
type Part = (typeof PARTS)[number];
const parts = new Set<Part>(PARTS);
if (values.only !== undefined) {
  parts.clear();
  for (const p of values.only.split(",")) {
    if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only ${p}: the parts are ${PARTS.join(", ")}`);
    parts.add(p as Part);
  }
}
if (values["skip-profile"]) parts.delete("profile");
await runSuite({
  quick: values.quick,
  runs: values.runs !== undefined ? Number(values.runs) : values.quick ? 1 : 3,
  parts,
  kafkajs: !values["skip-kafkajs"],
});
