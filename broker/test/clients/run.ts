import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import { join } from "node:path";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Readable } from "node:stream";
import { REPO_ROOT, haveCommand } from "../harness.js";
import { VENV_PYTHON } from "./venv.js";

/** Runs outside clients (kcat, java, python) as processes, bounded in time. */

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  /** Writes `input` (text) one line at a time, this long apart, for a client that must run a while. */
  inputEveryMs?: number;
  /** With `inputEveryMs` and no `input`: writes the lines this gives (the i-th line) until it gives undefined. */
  inputLine?: (i: number) => string | undefined;
}

/** Writes the lines `line` gives to `stdin` `ms` apart, then ends it. */
function paced(stdin: NodeJS.WritableStream, line: (i: number) => string | undefined, ms: number): void {
  const next = (i: number): void => {
    const l = line(i);
    if (l === undefined) {
      stdin.end();
      return;
    }
    stdin.write(`${l}\n`);
    setTimeout(() => next(i + 1), ms);
  };
  next(0);
}

function linesOf(text: string): (i: number) => string | undefined {
  const lines = text.split("\n").filter((l) => l !== "");
  return (i) => lines[i];
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timeoutMs = options.timeoutMs ?? 20_000;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL")
        reject(new Error(`${command} ${args.join(" ")} killed after ${timeoutMs} ms\n${stderr.slice(-2000)}`));
      else resolve({ code, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    if (options.inputEveryMs !== undefined)
      paced(child.stdin, options.inputLine ?? linesOf(String(options.input ?? "")), options.inputEveryMs);
    else child.stdin.end(options.input ?? "");
  });
}

/** Like `run` but fails on a non-zero exit, with the client's output in the message. */
export async function runOk(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await run(command, args, options);
  if (r.code !== 0)
    throw new Error(
      `${command} ${args.join(" ")} exited ${r.code}\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-1000)}`,
    );
  return r;
}

// --- the Java client and Kafka's tools ---

/** Apache Kafka's jars of one version, as `scripts/kafka/fetch.sh <version>` leaves them (3.9.1, 4.4.0). */
export function kafkaLib(version: string): string {
  return join(REPO_ROOT, ".cache", "kafka", version, "lib");
}
/** True when the jars of that version are complete (the marker fetch.sh writes last) and java runs. */
export const haveKafkaLib = (version: string): boolean =>
  existsSync(join(kafkaLib(version), ".complete")) && haveCommand("java", ["-version"]);

export const KAFKA_LIB = kafkaLib("3.9.1");
export const haveJava = (): boolean =>
  existsSync(join(KAFKA_LIB, "kafka-tools-3.9.1.jar")) && haveCommand("java", ["-version"]);

let log4jFile: string | undefined;
function log4j(): string {
  if (log4jFile === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "tskafka-log4j-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    log4jFile = join(dir, "log4j.properties");
    writeFileSync(
      log4jFile,
      "log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\n" +
        "log4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n" +
        "log4j.appender.stderr.layout.ConversionPattern=%p %m (%c)%n\n",
    );
  }
  return log4jFile;
}

/** The JVM arguments every run of Kafka 3.9.1's jars gets here: a small heap, a quick start, warnings only. */
function javaArgs(mainClass: string, args: readonly string[]): string[] {
  return [
    "-Xmx256m",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    `-Dlog4j.configuration=file:${log4j()}`,
    "-cp",
    join(KAFKA_LIB, "*"),
    mainClass,
    ...args,
  ];
}

/** Runs a main class from Kafka's jars; fails on a non-zero exit. */
export function java(
  mainClass: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return runOk("java", javaArgs(mainClass, args), options);
}

/** Like `java`, resolving with the exit code and output whatever they are (for tools expected to fail). */
export function javaResult(
  mainClass: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return run("java", javaArgs(mainClass, args), options);
}

/** Starts a main class from Kafka's jars that runs until stopped (a consumer streaming events); the caller stops it. */
export function spawnJava(mainClass: string, args: readonly string[]): ChildProcessByStdio<null, Readable, Readable> {
  return spawn("java", javaArgs(mainClass, args), { stdio: ["ignore", "pipe", "pipe"] });
}

// --- kafka-python (Debian's python3-kafka lives in the system interpreter) ---

/** True when the command runs and exits 0 (haveCommand only asks whether it runs at all). */
function succeeds(command: string, args: readonly string[]): boolean {
  const r = spawnSync(command, args, { stdio: "ignore", timeout: 10_000 });
  return r.error === undefined && r.status === 0;
}

export const SYSTEM_PYTHON = "/usr/bin/python3";
export const haveKafkaPython = (): boolean => succeeds(SYSTEM_PYTHON, ["-c", "import kafka"]);

// --- the project's virtualenv (.cache/venv: confluent-kafka 2.16, kafka-python 3.x; see ./venv.ts) ---

export { VENV_PYTHON };
/** True when the venv's interpreter imports `module` (e.g. "confluent_kafka", "kafka"). */
export const haveVenvPython = (module: string): boolean =>
  existsSync(VENV_PYTHON) && succeeds(VENV_PYTHON, ["-c", `import ${module}`]);

// --- Node 24 (.cache/node/24, the npm package `node@24`), for tests that run a client on another Node ---

export const NODE24 = join(REPO_ROOT, ".cache", "node", "24", "node_modules", "node", "bin", "node");
let node24: boolean | undefined;
export function haveNode24(): boolean {
  if (node24 === undefined) {
    const r = spawnSync(NODE24, ["-v"], { encoding: "utf8", timeout: 10_000 });
    node24 = r.status === 0 && r.stdout.startsWith("v24.");
  }
  return node24;
}

// --- our Go programs (scripts/clients/<name>/, built by the test set-up) ---

/** Path of the Go program built from scripts/clients/<name>/. */
export function goBin(name: string): string {
  return join(REPO_ROOT, ".cache", "go", "bin", name);
}
export const haveGoBin = (name: string): boolean => existsSync(goBin(name));

// --- kcat ---

export const haveKcat = (): boolean => haveCommand("kcat", ["-V"]);

/** One record as kcat prints it with KCAT_FORMAT. */
export interface KcatRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: string;
}

/** Fields separated by unit separators so values may hold anything printable. */
export const KCAT_FORMAT = "%p\x1f%o\x1f%k\x1f%s\x1f%h\x1e";

export function parseKcat(out: string): KcatRecord[] {
  return out
    .split("\x1e")
    .filter((r) => r.length > 0 && r !== "\n")
    .map((r) => {
      const [p, o, k, s, h] = r.split("\x1f");
      return { partition: Number(p), offset: Number(o), key: k ?? "", value: s ?? "", headers: h ?? "" };
    });
}

/** Reads partitions from the beginning to their end with kcat (no group). */
export async function kcatConsume(
  bootstrap: string,
  topic: string,
  partition: number,
  extra: readonly string[] = [],
): Promise<KcatRecord[]> {
  const r = await runOk("kcat", [
    "-b",
    bootstrap,
    "-C",
    "-t",
    topic,
    "-p",
    String(partition),
    "-o",
    "beginning",
    "-e",
    "-q",
    "-X",
    "fetch.wait.max.ms=20",
    "-f",
    KCAT_FORMAT,
    ...extra,
  ]);
  return parseKcat(r.stdout);
}
