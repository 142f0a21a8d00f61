#!/usr/bin/env node
// `npm test` after the build: fetches what the tests need into .cache/ (scripts/test-deps/fetch.sh;
// quick when already there), then runs every compiled `*.test.js` of the workspaces with Node's test
// runner, two files at a time (TSKAFKA_TEST_CONCURRENCY to change; see schedule() for the order).
// Files are passed one by one: Node 20 has no glob arguments, and given a directory named `test` it
// would run every file in it as a test. Works the same on Node 20.19+, 22 and 24.
//
// Options (the rest go to `node --test`, e.g. --test-name-pattern=kcat):
//   --no-fetch   skip the fetch step (also TSKAFKA_NO_FETCH=1)
//   --only=a,b   run only the test files whose path contains one of these words
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(repo);

const args = process.argv.slice(2);
const noFetch = args.includes("--no-fetch") || process.env.TSKAFKA_NO_FETCH === "1";
const only = args
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",")
  .filter((w) => w !== "");
const extra = args.filter((a) => a !== "--no-fetch" && !a.startsWith("--only="));

if (!noFetch) {
  const fetched = spawnSync("bash", [join("scripts", "test-deps", "fetch.sh")], { stdio: "inherit" });
  if (fetched.error !== undefined)
    console.error(`run-tests: could not run scripts/test-deps/fetch.sh: ${fetched.error.message}`);
}

const roots = ["generated/dist/test", "codegen/dist/test", "broker/dist/test"];
let files = [];
function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith(".test.js")) files.push(p);
  }
}
for (const r of roots) if (existsSync(r)) walk(r);
if (files.length === 0) {
  console.error("run-tests: no compiled tests found; run `npx tsc -b` first");
  process.exit(1);
}
if (only !== undefined) files = files.filter((f) => only.some((w) => f.includes(w)));

// The order in which the runner's pool takes files: slowest first, so that the lanes finish close
// together, and no two files that start JVMs (Kafka's Java client and tools) side by side where
// another file can run instead, as two JVMs starting at once on two cores slow each other down most.
// Times are those of the last run when there are some, else a guess.
const timesFile = join(".cache", "test-deps", "file-times.txt");
const lastTimes = new Map();
if (existsSync(timesFile)) {
  for (const line of readFileSync(timesFile, "utf8").split("\n")) {
    const m = /^\s*([\d.]+)\s+(\S+\.test\.js)/.exec(line);
    if (m !== null) lastTimes.set(m[2], Number(m[1]));
  }
}
const JVM = /["']java["']|\bjava\(|\bhaveJava|\bkafkaLib\(|\bKAFKA_LIB\b|clients\/java\/|apache-kafka|kafka-tools/;
const usesJvm = new Set(files.filter((f) => JVM.test(readFileSync(f, "utf8"))));
const estimate = (f) =>
  lastTimes.get(relative(repo, resolve(f))) ?? (usesJvm.has(f) ? 40 : f.startsWith("broker") ? 15 : 5);
const concurrency = Number(process.env.TSKAFKA_TEST_CONCURRENCY ?? Math.max(2, availableParallelism() - 1));
files = schedule(files, concurrency);

/** Simulates the pool with the estimates and returns the files in the order it should take them. */
function schedule(pending, lanes) {
  pending = [...pending].sort((a, b) => estimate(b) - estimate(a) || a.localeCompare(b));
  const running = []; // { file, end }
  const order = [];
  let now = 0;
  while (pending.length > 0) {
    while (running.length < lanes && pending.length > 0) {
      const jvmBusy = running.some((r) => usesJvm.has(r.file));
      const i = jvmBusy
        ? Math.max(
            0,
            pending.findIndex((f) => !usesJvm.has(f)),
          )
        : 0;
      const [file] = pending.splice(i, 1);
      order.push(file);
      running.push({ file, end: now + estimate(file) });
    }
    running.sort((a, b) => a.end - b.end);
    now = running.shift().end;
  }
  return order;
}

mkdirSync(dirname(timesFile), { recursive: true });
const failuresFile = join(".cache", "test-deps", `failures-${process.pid}.txt`);
const reporters = [
  // What Node 20 picks by itself; Node 23+ would pick spec everywhere. Same output on every version.
  `--test-reporter=${process.stdout.isTTY ? "spec" : "tap"}`,
  "--test-reporter-destination=stdout",
  `--test-reporter=${join(repo, "scripts", "test-deps", "file-times.mjs")}`,
  `--test-reporter-destination=${only === undefined ? timesFile : `${timesFile}.partial`}`,
  `--test-reporter=${join(repo, "scripts", "test-deps", "failures.mjs")}`,
  `--test-reporter-destination=${failuresFile}`,
];
const r = spawnSync(
  process.execPath,
  ["--test", `--test-concurrency=${concurrency}`, ...reporters, ...extra, ...files],
  { stdio: "inherit" },
);
// Repeated last, as a CI log may keep only the end of the output.
if (existsSync(failuresFile)) {
  const text = readFileSync(failuresFile, "utf8");
  rmSync(failuresFile);
  if (text !== "") console.log(`\n${text}`);
}
process.exit(r.status ?? 1);
