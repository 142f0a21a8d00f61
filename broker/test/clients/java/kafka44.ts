import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { REPO_ROOT, haveCommand, startBroker, type StartOptions } from "../../harness.js";
import { run, runOk, type RunResult } from "../run.js";

/**
 * Apache Kafka 4.4's Java client, tools and Kafka Streams for the broker tests: the jars that
 * `scripts/kafka/fetch.sh 4.4.0` puts in `.cache/kafka/4.4.0/lib`, and our own small Java programs
 * (the `.java` files beside this one), compiled at test time into a temporary folder.
 */

export const KAFKA44_VERSION = "4.4.0";
export const KAFKA44_LIB = join(REPO_ROOT, ".cache", "kafka", KAFKA44_VERSION, "lib");
/** Where the Java sources live (they are not copied to dist). */
export const JAVA_SOURCES = join(REPO_ROOT, "broker", "test", "clients", "java");

export const haveKafka44 = (): boolean =>
  existsSync(join(KAFKA44_LIB, `kafka-tools-${KAFKA44_VERSION}.jar`)) &&
  existsSync(join(KAFKA44_LIB, `kafka-streams-${KAFKA44_VERSION}.jar`)) &&
  haveCommand("java", ["-version"]) &&
  haveCommand("javac", ["-version"]);

export const KAFKA44_REQUIREMENT = `Java 17 (java and javac) and Kafka ${KAFKA44_VERSION}'s jars (scripts/kafka/fetch.sh ${KAFKA44_VERSION})`;

let workDir: string | undefined;
/** A temporary folder for this test process, removed when it exits. */
function work(): string {
  if (workDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "tskafka-java44-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    workDir = dir;
  }
  return workDir;
}

let log4j2File: string | undefined;
/** Kafka 4 logs through log4j2: warnings and errors to stderr, nothing else. */
export function log4j2(): string {
  if (log4j2File === undefined) {
    const file = join(work(), "log4j2.properties");
    writeFileSync(
      file,
      [
        "status = warn",
        "appender.err.type = Console",
        "appender.err.name = err",
        "appender.err.target = SYSTEM_ERR",
        "appender.err.layout.type = PatternLayout",
        "appender.err.layout.pattern = %p %m (%c)%n",
        "rootLogger.level = WARN",
        "rootLogger.appenderRef.err.ref = err",
        "",
      ].join("\n"),
    );
    log4j2File = file;
  }
  return log4j2File;
}

const compiledSets = new Map<string, string>();
/** Compiles these programs of ours (`.java` files beside this one) once per test process; returns their classes folder. */
export function compileJava(sources: readonly string[]): string {
  const key = sources.join(" ");
  let out = compiledSets.get(key);
  if (out === undefined) {
    out = join(work(), `classes-${compiledSets.size}`);
    const r = spawnSync(
      "javac",
      [
        "-nowarn",
        "-encoding",
        "UTF-8",
        "-cp",
        join(KAFKA44_LIB, "*"),
        "-d",
        out,
        ...sources.map((f) => join(JAVA_SOURCES, f)),
      ],
      { encoding: "utf8", timeout: 180_000 },
    );
    if (r.status !== 0) throw new Error(`javac failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
    compiledSets.set(key, out);
  }
  return out;
}

/** The programs of the client and Streams tests, compiled; returns the classes folder. */
export function compiledPrograms(): string {
  return compileJava(["GroupSplit.java", "ToolBatch.java", "WordCountApp.java"]);
}

function javaArgs(mainClass: string, args: readonly string[], heap: string, classpath: string): string[] {
  return [
    `-Xmx${heap}`,
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-Xshare:auto",
    `-Dlog4j2.configurationFile=${log4j2()}`,
    "-cp",
    classpath,
    mainClass,
    ...args,
  ];
}

export interface JavaOptions {
  input?: string;
  timeoutMs?: number;
  /** Feeds `input` one line at a time, this long apart. */
  inputEveryMs?: number;
  /** With `inputEveryMs`: the lines to feed, the i-th at a time, until it gives undefined. */
  inputLine?: (i: number) => string | undefined;
  heap?: string;
}

/** Runs a main class from Kafka 4.4's jars (a tool); fails on a non-zero exit. */
export function tool44(mainClass: string, args: readonly string[], options: JavaOptions = {}): Promise<RunResult> {
  return runOk("java", javaArgs(mainClass, args, options.heap ?? "256m", join(KAFKA44_LIB, "*")), options);
}

/** Like `tool44`, resolving with the exit code and output whatever they are. */
export function tool44Result(
  mainClass: string,
  args: readonly string[],
  options: JavaOptions = {},
): Promise<RunResult> {
  return run("java", javaArgs(mainClass, args, options.heap ?? "256m", join(KAFKA44_LIB, "*")), options);
}

/** Runs one of our programs (compiled from the sources beside this file) against Kafka 4.4's jars. */
export function program44(mainClass: string, args: readonly string[], options: JavaOptions = {}): Promise<RunResult> {
  const classpath = [compiledPrograms(), join(KAFKA44_LIB, "*")].join(delimiter);
  return run("java", javaArgs(mainClass, args, options.heap ?? "256m", classpath), options);
}

export interface ToolRun {
  /** The command, for failure messages. */
  command: string;
  code: number;
  /** How long it ran. */
  ms: number;
  /** stdout then stderr. */
  out: string;
}

/**
 * Runs Kafka tools one after another in one JVM (ToolBatch.java): each command is a main class and its
 * arguments, run as its script would run it, or `["sleep", ms]`; resolves with each one's exit code and output.
 */
export async function toolBatch(commands: readonly (readonly string[])[], timeoutMs = 90_000): Promise<ToolRun[]> {
  for (const c of commands)
    for (const w of c)
      if (/[\t\n]/.test(w)) throw new Error(`a tool argument may not hold a tab or newline: ${JSON.stringify(w)}`);
  const r = await program44("ToolBatch", [], { input: commands.map((c) => c.join("\t")).join("\n") + "\n", timeoutMs });
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("RESULT "));
  if (r.code !== 0 || lines.length !== commands.length) {
    throw new Error(
      `ToolBatch exited ${r.code} after ${lines.length} of ${commands.length} commands\n${r.stderr.slice(-3000)}`,
    );
  }
  return lines.map((l, i) => {
    const [, code, ms, out, err] = l.split(" ");
    const text = Buffer.from(out ?? "", "base64").toString() + Buffer.from(err ?? "", "base64").toString();
    return { command: commands[i]!.join(" "), code: Number(code), ms: Number(ms), out: text };
  });
}

export interface Target {
  readonly bootstrap: string;
  cleanup(): Promise<void>;
}

/**
 * The broker under test, started as a process; or, when TSKAFKA_REFERENCE_BOOTSTRAP names one, an outside
 * broker such as Apache Kafka 4.4.0 run from its jars (scripts/kafka/), to check that the tests'
 * expectations are Kafka's own. Against an outside broker names must not repeat between runs: `unique`
 * gives each run's topics and groups a suffix then.
 */
export async function startTarget(options: StartOptions = {}): Promise<Target> {
  const outside = process.env.TSKAFKA_REFERENCE_BOOTSTRAP;
  if (outside !== undefined && outside !== "") return { bootstrap: outside, cleanup: async () => undefined };
  const broker = await startBroker(options);
  return {
    bootstrap: broker.bootstrap,
    async cleanup() {
      await broker.stop();
      await broker.cleanup();
    },
  };
}

const suffix = process.env.TSKAFKA_REFERENCE_BOOTSTRAP ? `-${Date.now().toString(36)}` : "";
/** A topic or group name, made unique per run against an outside broker. */
export const unique = (name: string): string => name + suffix;

/** Runs one of our programs compiled from `sources` (files beside this one) against Kafka 4.4's jars. */
export function programFrom(
  sources: readonly string[],
  mainClass: string,
  args: readonly string[],
  options: JavaOptions = {},
): Promise<RunResult> {
  const classpath = [compileJava(sources), join(KAFKA44_LIB, "*")].join(delimiter);
  return run("java", javaArgs(mainClass, args, options.heap ?? "256m", classpath), options);
}

/**
 * A new cluster id for `kafka-storage format -t`: a Kafka Uuid (16 random bytes, URL-safe base64), never
 * one starting with "-", which the tool would take for an option (Kafka's Uuid.randomUuid avoids them too).
 */
export function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}
