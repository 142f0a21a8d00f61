// Kafka's own performance tools run as child JVMs, with their output parsed into numbers.
// The client JVMs get the same heap and settings against both brokers.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kafkaClasspath } from "../kafka/apache-kafka.js";
import { REPO_ROOT } from "./brokers.js";

export interface ToolRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

export interface JavaTools {
  producerPerf(
    bootstrap: string,
    topic: string,
    records: number,
    recordSize: number,
    acks: string,
  ): Promise<ProducerResult>;
  consumerPerf(bootstrap: string, topic: string, records: number): Promise<ConsumerResult>;
  endToEndLatency(
    bootstrap: string,
    topic: string,
    messages: number,
    acks: string,
    size: number,
  ): Promise<LatencyResult>;
}

export interface ProducerResult {
  recordsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
}
export interface ConsumerResult {
  recordsPerSec: number;
  mbPerSec: number;
}
export interface LatencyResult {
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

const CLIENT_HEAP = "-Xmx512m";
const TIMEOUT_MS = 300_000;

/** Prepares the classpath and a quiet log4j config. */
export function javaTools(workDir: string): JavaTools {
  const lib = kafkaClasspath();
  mkdirSync(workDir, { recursive: true });
  const log4j = join(workDir, "client-log4j.properties");
  writeFileSync(
    log4j,
    [
      "log4j.rootLogger=WARN, stderr",
      "log4j.appender.stderr=org.apache.log4j.ConsoleAppender",
      "log4j.appender.stderr.Target=System.err",
      "log4j.appender.stderr.layout=org.apache.log4j.PatternLayout",
      "log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n",
      "",
    ].join("\n"),
  );
  const java = (mainClass: string, args: string[]): Promise<ToolRun> =>
    run("java", [CLIENT_HEAP, `-Dlog4j.configuration=file:${log4j}`, "-cp", lib, mainClass, ...args]);

  return {
    async producerPerf(bootstrap, topic, records, recordSize, acks) {
      const out = await java("org.apache.kafka.tools.ProducerPerformance", [
        "--topic",
        topic,
        "--num-records",
        String(records),
        "--record-size",
        String(recordSize),
        "--throughput",
        "-1",
        "--producer-props",
        `bootstrap.servers=${bootstrap}`,
        `acks=${acks}`,
        "client.id=bench-producer",
      ]);
      // The summary line: "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, a ms 50th, b ms 95th, c ms 99th, d ms 99.9th."
      const m =
        /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\).*?(\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(
          out.stdout,
        );
      if (m === null || Number(m[1]) !== records) throw toolError("ProducerPerformance", out);
      return { recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]), p50Ms: Number(m[4]), p99Ms: Number(m[6]) };
    },
    async consumerPerf(bootstrap, topic, records) {
      const out = await java("org.apache.kafka.tools.ConsumerPerformance", [
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--messages",
        String(records),
        "--timeout",
        "30000",
        "--group",
        `bench-${topic}-${Date.now()}`,
      ]);
      // CSV: start, end, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec.
      const line = out.stdout.trim().split("\n").pop() ?? "";
      const cols = line.split(",").map((c) => c.trim());
      if (cols.length < 10 || Number(cols[4]) < records) throw toolError("ConsumerPerformance", out);
      // The fetch rates leave out joining the group.
      return { mbPerSec: Number(cols[8]), recordsPerSec: Number(cols[9]) };
    },
    async endToEndLatency(bootstrap, topic, messages, acks, size) {
      const out = await java("org.apache.kafka.tools.EndToEndLatency", [
        bootstrap,
        topic,
        String(messages),
        acks,
        String(size),
      ]);
      // It may fail after printing, when closing its consumer needs a group coordinator.
      const avg = /Avg latency: ([\d.]+) ms/.exec(out.stdout);
      const pct = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(out.stdout);
      if (avg === null || pct === null) throw toolError("EndToEndLatency", out);
      return { avgMs: Number(avg[1]), p50Ms: Number(pct[1]), p99Ms: Number(pct[2]), p999Ms: Number(pct[3]) };
    },
  };
}

function toolError(tool: string, out: ToolRun): Error {
  const tail = (s: string): string => s.trim().split("\n").slice(-15).join("\n");
  return new Error(`${tool} failed (exit ${out.code}):\n${tail(out.stdout)}\n${tail(out.stderr)}`);
}

/** Runs a command to completion (bounded), collecting its output. */
export function run(
  cmd: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ToolRun> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: REPO_ROOT,
      env: options.env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? TIMEOUT_MS);
    child.once("error", (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      done({ stdout, stderr, code });
    });
  });
}
