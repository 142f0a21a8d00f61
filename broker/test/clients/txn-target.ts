import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { REPO_ROOT, freePort, haveCommand, startBroker, type BrokerProcess } from "../harness.js";
import { run, type RunResult } from "./run.js";
import { KAFKA44_LIB, KAFKA44_VERSION, compileJava, log4j2 } from "./java/kafka44.js";

/**
 * The broker the transaction tests (txn-*.test.ts) run against, and the Java programs they use.
 *
 * By default the broker under test, started as a process (harness.ts). With TSKAFKA_TXN_TARGET=kafka,
 * Apache Kafka 4.4.0 instead, started from its jars in KRaft mode by scripts/kafka/apache-kafka.ts (as the
 * differential test's tool does): that is how the tests' expectations were checked to be Kafka's own.
 * Either can be killed with SIGKILL and restarted on the same data directory and port.
 */

export type TargetKind = "tskafka" | "kafka";
export const TARGET_KIND: TargetKind = process.env.TSKAFKA_TXN_TARGET === "kafka" ? "kafka" : "tskafka";

export interface TxnTarget {
  readonly kind: TargetKind;
  readonly bootstrap: string;
  /** SIGKILL: nothing flushed beyond what the OS has. */
  kill9(): Promise<void>;
  /** Starts it again on the same data directory and port (after kill9 or stop). */
  restart(): Promise<void>;
  /** Stops it, removes its data. */
  cleanup(): Promise<void>;
  /** The end of what it printed (tskafka) or logged (Kafka), for failure messages. */
  logTail(chars?: number): string;
}

const haveJava = (): boolean => haveCommand("java", ["-version"]) && haveCommand("javac", ["-version"]);

/** True when the target can be started here (Apache Kafka 4.4's jars and Java for the kafka target). */
export function haveTarget(): boolean {
  if (TARGET_KIND === "tskafka") return true;
  return existsSync(join(KAFKA44_LIB, ".complete")) && haveJava();
}
export const TARGET_REQUIREMENT = `Java and Apache Kafka ${KAFKA44_VERSION}'s jars (scripts/kafka/fetch.sh ${KAFKA44_VERSION}) for TSKAFKA_TXN_TARGET=kafka`;

/**
 * Starts the target with these server.properties keys (Kafka's names; tskafka ignores the ones it does not
 * know). The same keys are given to both so that both are configured alike.
 */
export async function startTxnTarget(
  properties: Record<string, string | number | boolean>,
  kind: TargetKind = TARGET_KIND,
): Promise<TxnTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), `tskafka-txn-${kind}-`));
  const port = await freePort();
  if (kind === "tskafka") {
    let broker: BrokerProcess = await startBroker({ dataDir, port, properties, timeoutMs: 30_000 });
    return {
      kind: "tskafka",
      bootstrap: broker.bootstrap,
      kill9: () => broker.kill9(),
      async restart() {
        broker = await startBroker({ dataDir, port, properties, timeoutMs: 60_000 });
      },
      async cleanup() {
        await broker.stop();
        await broker.cleanup();
        await rm(dataDir, { recursive: true, force: true });
      },
      logTail: (chars = 4000) => broker.output().slice(-chars),
    };
  }
  const controllerPort = await freePort();
  const props = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, String(v)]));
  let kafka = await launchKafka(dataDir, port, controllerPort, props);
  return {
    kind: "kafka",
    bootstrap: `127.0.0.1:${port}`,
    async kill9() {
      try {
        process.kill(kafka.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await kafka.exited;
    },
    async restart() {
      kafka = await launchKafka(dataDir, port, controllerPort, props, true);
    },
    async cleanup() {
      if (kafka.launcher.exitCode === null) kafka.launcher.kill("SIGTERM");
      await Promise.race([kafka.exited, new Promise((r) => setTimeout(r, 30_000))]);
      try {
        process.kill(kafka.pid, "SIGKILL");
      } catch {
        // stopped
      }
      await rm(dataDir, { recursive: true, force: true });
    },
    logTail: (chars = 4000) => {
      const r = spawnSync("tail", ["-c", String(chars), join(dataDir, "kafka.log")], { encoding: "utf8" });
      return r.stdout ?? "";
    },
  };
}

interface LaunchedKafka {
  launcher: ChildProcess;
  /** The JVM's process id. */
  pid: number;
  /** Resolves when the launcher is gone (it leaves when Kafka's JVM does). */
  exited: Promise<void>;
}

/**
 * A small Node process (run through tsx, as the differential tool is) that starts Apache Kafka 4.4 with
 * scripts/kafka/apache-kafka.ts, prints `READY <jvm pid>`, stops Kafka on SIGTERM and leaves when the JVM dies.
 */
const LAUNCHER = `
const { pathToFileURL } = await import("node:url");
const { spawn } = await import("node:child_process");
const { openSync } = await import("node:fs");
const { connect } = await import("node:net");
const [root, json, again] = process.argv.slice(-3);
const options = JSON.parse(json);
const apache = await import(pathToFileURL(root + "/scripts/kafka/apache-kafka.ts").href);
let pid, stop;
if (again !== "restart") {
  const kafka = await apache.startApacheKafka(options);
  pid = kafka.pid;
  stop = () => kafka.stop();
} else {
  // A restart on the formatted data directory: the same JVM command apache-kafka.ts runs, without the format.
  const dir = options.dataDir;
  const out = openSync(dir + "/kafka.log", "a");
  const child = spawn("java", ["-Xmx" + options.heap, "-XX:+UseG1GC", "-Djava.awt.headless=true",
    apache.loggingOption(options.version, dir, "INFO", "stdout"), "-Dkafka.logs.dir=" + dir,
    "-cp", apache.kafkaClasspath(options.version), "kafka.Kafka", dir + "/server.properties"],
    { stdio: ["ignore", out, out], detached: false });
  pid = child.pid;
  stop = () => new Promise((res) => { child.once("exit", res); child.kill("SIGTERM"); });
  const deadline = Date.now() + options.startTimeoutMs;
  for (;;) {
    const up = await new Promise((res) => {
      const s = connect({ host: "127.0.0.1", port: options.port });
      s.once("connect", () => { s.destroy(); res(true); });
      s.once("error", () => res(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) { console.log("FAILED to restart"); process.exit(1); }
    await new Promise((r) => setTimeout(r, 200));
  }
}
console.log("READY " + pid);
process.on("SIGTERM", () => void stop().then(() => process.exit(0)));
setInterval(() => { try { process.kill(pid, 0); } catch { process.exit(0); } }, 200);
`;

async function launchKafka(
  dataDir: string,
  port: number,
  controllerPort: number,
  properties: Record<string, string>,
  again = false,
): Promise<LaunchedKafka> {
  const options = {
    port,
    controllerPort,
    dataDir,
    version: KAFKA44_VERSION,
    heap: "768m",
    properties,
    startTimeoutMs: 120_000,
  };
  const launcher = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      LAUNCHER,
      "--",
      REPO_ROOT,
      JSON.stringify(options),
      again ? "restart" : "first",
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const exited = new Promise<void>((res) => launcher.once("exit", () => res()));
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      launcher.kill("SIGTERM");
      reject(new Error(`Apache Kafka did not start in 150 s:\n${out.slice(-3000)}`));
    }, 150_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    launcher.stdout!.on("data", onData);
    launcher.stderr!.on("data", onData);
    launcher.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the Apache Kafka launcher exited ${code}:\n${out.slice(-3000)}`));
    });
  });
  // If this test process ends without cleanup, do not leave a broker behind.
  process.once("exit", () => {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  });
  return { launcher, pid, exited };
}

// --- the Java programs of the transaction tests (TxnJava.java, TxnCountApp.java) ---

/** TxnJava.java and TxnCountApp.java, compiled; returns the classes folder. */
const compiled = (): string => compileJava(["TxnJava.java", "TxnCountApp.java"]);

/** The java command line of a main class: ours (compiled above) or Kafka's (tools), on Kafka 4.4's jars. */
export function javaCommand(mainClass: string, args: readonly string[], heap = "256m"): string[] {
  return [
    `-Xmx${heap}`,
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-Xshare:auto",
    `-Dlog4j2.configurationFile=${log4j2()}`,
    "-cp",
    [compiled(), join(KAFKA44_LIB, "*")].join(delimiter),
    mainClass,
    ...args,
  ];
}

/** Runs a main class to its end (bounded); the exit code and output whatever they are. */
export function javaRun(
  mainClass: string,
  args: readonly string[],
  options: { timeoutMs?: number; heap?: string; input?: string } = {},
): Promise<RunResult> {
  return run("java", javaCommand(mainClass, args, options.heap), {
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
}

/** Starts a main class that the caller watches (its stdout line by line) and waits for. */
export function javaSpawn(mainClass: string, args: readonly string[], heap = "256m"): ChildProcess {
  return spawn("java", javaCommand(mainClass, args, heap), { stdio: ["ignore", "pipe", "pipe"] });
}

/** Lines of a program's stdout that start with `tag ` (the rest of each line). */
export function tagged(stdout: string, tag: string): string[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith(`${tag} `))
    .map((l) => l.slice(tag.length + 1));
}

export interface Watched {
  /** Everything printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** The exit code once it ended (null when killed). */
  readonly exited: Promise<number | null>;
  /** Kills it (SIGKILL) if it still runs. */
  kill(): void;
}

/** Collects a started program's output; it is killed after `timeoutMs` whatever it is doing. */
export function watch(child: ChildProcess, timeoutMs: number): Watched {
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const exited = new Promise<number | null>((res) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      res(code);
    }),
  );
  return {
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
