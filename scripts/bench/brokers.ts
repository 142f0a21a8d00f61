// The two brokers under test, started the same way for every phase: ours (node) and Apache Kafka
// (java, KRaft combined mode), each as one process whose pid is the broker itself, so that
// /proc/<pid>/status tells its peak resident memory.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  DEFAULT_KAFKA_VERSION,
  freeLoopbackPort,
  kafkaClasspath,
  loggingOption,
  startApacheKafka,
} from "../kafka/apache-kafka.js";
import { askApiVersions } from "./wire.js";
import { BROKER_NODE_FLAGS } from "../../broker/src/node-flags.js";

export type BrokerKind = "kafka" | "tskafka";
export const BROKER_KINDS: readonly BrokerKind[] = ["kafka", "tskafka"];
export const BROKER_LABEL: Record<BrokerKind, string> = { kafka: "Apache Kafka 3.9.1", tskafka: "tskafka" };

export interface RunningBroker {
  readonly kind: BrokerKind;
  readonly port: number;
  readonly pid: number;
  readonly bootstrap: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Fresh folder for this broker's data and logs. */
  readonly dataDir: string;
  /** Partitions of auto-created topics (num.partitions): how the bench sizes its topics. */
  readonly partitions: number;
  /** Extra node flags for our broker (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[];
  /** Our broker's --log-level (default warn). */
  readonly logLevel?: string;
  /** More server.properties for either broker (e.g. message.max.bytes). */
  readonly properties?: Readonly<Record<string, string>>;
}

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
const MAIN = join(REPO_ROOT, "broker", "dist", "src", "main.js");

/** Peak resident set (VmHWM) of a live process, in KiB; 0 when it cannot be read. */
export function peakRssKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once("exit", () => done());
  });
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  const exited = exitOf(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Spawns our broker; does not wait for it. */
export function spawnTskafka(port: number, options: StartOptions): ChildProcess {
  mkdirSync(options.dataDir, { recursive: true });
  const props = join(options.dataDir, "bench.properties");
  // As scripts/kafka/apache-kafka.ts configures Kafka: no initial rebalance delay, one offsets partition.
  writeFileSync(
    props,
    [
      `num.partitions=${options.partitions}`,
      "auto.create.topics.enable=true",
      "group.initial.rebalance.delay.ms=0",
      "offsets.topic.num.partitions=1",
      ...Object.entries(options.properties ?? {}).map(([k, v]) => `${k}=${v}`),
      "",
    ].join("\n"),
  );
  const out = openSync(join(options.dataDir, "broker.log"), "a");
  const child = spawn(
    process.execPath,
    [
      ...BROKER_NODE_FLAGS,
      ...(options.nodeFlags ?? []),
      MAIN,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--data-dir",
      join(options.dataDir, "data"),
      "--config",
      props,
      "--log-level",
      options.logLevel ?? "warn",
    ],
    { stdio: ["ignore", out, out], cwd: options.dataDir },
  );
  closeSync(out);
  return child;
}

async function waitForApis(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`broker exited early (${child.exitCode ?? child.signalCode})`);
    try {
      await askApiVersions(port);
      return;
    } catch {
      await delay(20);
    }
  }
  throw new Error(`broker on ${port} did not answer ApiVersions in ${timeoutMs} ms`);
}

/**
 * The node flags of each A/B variant, from `--flags name=FLAG[,FLAG...]` options (a variant not named
 * gets none): how the A/B scripts compare V8 settings beside code paths.
 */
export function variantFlags(specs: readonly string[]): (variant: string) => string[] {
  const flags = new Map<string, string[]>();
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new Error(`--flags ${spec}: expected variant=--flag[,--flag...]`);
    flags.set(spec.slice(0, eq), spec.slice(eq + 1).split(","));
  }
  return (variant) => flags.get(variant) ?? [];
}

export async function startBroker(kind: BrokerKind, options: StartOptions): Promise<RunningBroker> {
  const port = await freeLoopbackPort();
  if (kind === "tskafka") {
    const child = spawnTskafka(port, options);
    const killOnExit = (): void => {
      child.kill("SIGKILL");
    };
    process.once("exit", killOnExit);
    try {
      await waitForApis(port, child, 30_000);
    } catch (err) {
      child.kill("SIGKILL");
      throw new Error(`${(err as Error).message}; see ${join(options.dataDir, "broker.log")}`);
    }
    return {
      kind,
      port,
      pid: child.pid!,
      bootstrap: `127.0.0.1:${port}`,
      stop: async () => {
        process.removeListener("exit", killOnExit);
        await stopChild(child, 30_000);
      },
    };
  }
  const kafka = await startApacheKafka({
    port,
    controllerPort: await freeLoopbackPort(),
    dataDir: options.dataDir,
    heap: "1g",
    properties: { "num.partitions": String(options.partitions), ...options.properties },
  });
  return { kind, port, pid: kafka.pid, bootstrap: `127.0.0.1:${port}`, stop: () => kafka.stop() };
}

/**
 * What "spawn" means for the start-up measurement: our broker gets an empty folder; Apache Kafka
 * gets a folder already formatted by its StorageTool (a step its operators run once, before the
 * first start), with the very server.properties the bench's other Kafka runs use. The returned
 * function spawns the broker and is what the clock starts at.
 */
export interface ColdStart {
  readonly port: number;
  spawn(): ChildProcess;
}

export async function prepareColdStart(
  kind: BrokerKind,
  dataDir: string,
  template: string | undefined,
): Promise<ColdStart> {
  if (kind === "tskafka") {
    const port = await freeLoopbackPort();
    return { port, spawn: () => spawnTskafka(port, { dataDir, partitions: 1 }) };
  }
  // The template is a folder a Kafka phase already ran in: reuse its properties with new ports.
  if (template === undefined) throw new Error("a Kafka cold start needs the folder of a previous Kafka run");
  mkdirSync(join(dataDir, "logs"), { recursive: true });
  const old = readFileSync(join(template, "server.properties"), "utf8");
  const oldPort = /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:(\d+),CONTROLLER:\/\/127\.0\.0\.1:(\d+)/m.exec(old);
  if (oldPort === null) throw new Error("unexpected listeners in the Kafka template server.properties");
  const port = await freeLoopbackPort();
  const controllerPort = await freeLoopbackPort();
  const props = old
    .replace(/^log\.dirs=.*$/m, `log.dirs=${join(dataDir, "logs")}`)
    .replaceAll(`127.0.0.1:${oldPort[1]!}`, `127.0.0.1:${port}`)
    .replaceAll(`127.0.0.1:${oldPort[2]!}`, `127.0.0.1:${controllerPort}`);
  writeFileSync(join(dataDir, "server.properties"), props);
  const classpath = kafkaClasspath();
  const log4j = loggingOption(DEFAULT_KAFKA_VERSION, dataDir, "WARN", "stderr");
  const format = spawnSync(
    "java",
    [
      "-cp",
      classpath,
      log4j,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      "YmVuY2hjbHVzdGVyMDAwMA",
      "-c",
      join(dataDir, "server.properties"),
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  if (format.status !== 0) throw new Error(`StorageTool format failed: ${format.stderr}`);
  return {
    port,
    spawn: () => {
      const out = openSync(join(dataDir, "kafka.log"), "a");
      // The command line of scripts/kafka/apache-kafka.ts.
      const child = spawn(
        "java",
        [
          "-Xmx1g",
          "-XX:+UseG1GC",
          "-Djava.awt.headless=true",
          log4j,
          `-Dkafka.logs.dir=${dataDir}`,
          "-cp",
          classpath,
          "kafka.Kafka",
          join(dataDir, "server.properties"),
        ],
        { stdio: ["ignore", out, out] },
      );
      closeSync(out);
      return child;
    },
  };
}

export { stopChild };
