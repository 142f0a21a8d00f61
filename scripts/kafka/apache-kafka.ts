// Runs a real Apache Kafka broker (KRaft, combined broker+controller, one node) from the
// Maven jars that scripts/kafka/fetch.sh caches: 3.x (log4j 1.x through reload4j) or 4.x
// (log4j2; KRaft is its only mode). Used to capture golden fixtures and as a reference broker
// in tests and benchmarks. Loopback only; every wait is bounded.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, openSync, closeSync, writeFileSync, existsSync } from "node:fs";
import { connect, createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const DEFAULT_KAFKA_VERSION = "3.9.1";

export interface ApacheKafkaOptions {
  /** Loopback port of the PLAINTEXT listener clients connect to. */
  port: number;
  /** Loopback port of the KRaft controller listener. */
  controllerPort: number;
  /** Folder for server.properties, the log dirs and the broker's own log (kafka.log). */
  dataDir: string;
  /** JVM heap, e.g. '1g'. */
  heap?: string;
  /**
   * Port put in advertised.listeners, when clients must reach the broker through something
   * else (the capture proxy). Defaults to `port`.
   */
  advertisedPort?: number;
  /** Kafka version to fetch and run (3.x or 4.x); DEFAULT_KAFKA_VERSION when absent. */
  version?: string;
  /** Extra server.properties entries, overriding the defaults. */
  properties?: Record<string, string>;
  /** How long to wait for the broker to serve Metadata with itself in it. */
  startTimeoutMs?: number;
  /** The cluster id to format with (the same for every node of a cluster); a random one when absent. */
  clusterId?: string;
}

export interface ApacheKafka {
  port: number;
  /** The Kafka version running. */
  version: string;
  pid: number;
  /** The broker's stdout/stderr, for diagnosing a failed run. */
  logFile: string;
  stop(): Promise<void>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Downloads (once) and returns the folder of jars for `version`. */
export function kafkaLibDir(version: string = DEFAULT_KAFKA_VERSION): string {
  const fetch = join(repoRoot, "scripts", "kafka", "fetch.sh");
  const run = spawnSync("bash", [fetch, version], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (run.status !== 0) throw new Error(`scripts/kafka/fetch.sh ${version} failed (exit ${run.status})`);
  const lib = run.stdout.trim().split("\n").pop() ?? "";
  if (!existsSync(lib)) throw new Error(`fetch.sh printed no lib folder: ${run.stdout}`);
  return lib;
}

/** A classpath of every jar in the lib folder, in the form java expands itself. */
export function kafkaClasspath(version: string = DEFAULT_KAFKA_VERSION): string {
  return join(kafkaLibDir(version), "*");
}

/** A port free on 127.0.0.1 right now, for the listeners of a broker about to start. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export async function startApacheKafka(options: ApacheKafkaOptions): Promise<ApacheKafka> {
  const { port, controllerPort, dataDir } = options;
  const heap = options.heap ?? "1g";
  const version = options.version ?? DEFAULT_KAFKA_VERSION;
  const classpath = kafkaClasspath(version);
  const dir = resolve(dataDir);
  mkdirSync(join(dir, "logs"), { recursive: true });

  const propsFile = join(dir, "server.properties");
  writeFileSync(propsFile, serverProperties(options, dir));
  const logging = loggingOption(version, dir, "INFO", "stdout");

  // A Kafka Uuid is 16 random bytes in URL-safe base64 without padding; as Kafka's Uuid.randomUuid, never
  // one starting with "-" (the tool would take it for an option).
  let clusterId = options.clusterId ?? randomBytes(16).toString("base64url");
  while (clusterId.startsWith("-")) clusterId = randomBytes(16).toString("base64url");
  const format = spawnSync(
    "java",
    [
      "-cp",
      classpath,
      logging,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      clusterId,
      "-c",
      propsFile,
      "--ignore-formatted",
    ],
    // A JVM start on a loaded machine (several test runs at once) can take over a minute.
    { encoding: "utf8", timeout: 180_000 },
  );
  if (format.status !== 0) {
    throw new Error(`kafka StorageTool format failed (exit ${format.status}):\n${format.stdout}\n${format.stderr}`);
  }

  const logFile = join(dir, "kafka.log");
  const out = openSync(logFile, "a");
  const child = spawn(
    "java",
    [
      `-Xmx${heap}`,
      "-XX:+UseG1GC",
      "-Djava.awt.headless=true",
      logging,
      `-Dkafka.logs.dir=${dir}`,
      "-cp",
      classpath,
      "kafka.Kafka",
      propsFile,
    ],
    { stdio: ["ignore", out, out] },
  );
  closeSync(out);
  if (child.pid === undefined) throw new Error("could not spawn java");
  const pid = child.pid;

  // If our process exits without calling stop(), do not leave a broker behind.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once("exit", () => done());
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener("exit", killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      if (!(await within(exited, 20_000))) {
        child.kill("SIGKILL");
        await within(exited, 5_000);
      }
    })();
    return stopping;
  };

  try {
    await waitForBroker(port, child, options.startTimeoutMs ?? 90_000, logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, version, pid, logFile, stop };
}

function serverProperties(options: ApacheKafkaOptions, dir: string): string {
  const { port, controllerPort } = options;
  const props: Record<string, string> = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${options.advertisedPort ?? port}`,
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "log.dirs": join(dir, "logs"),
    "num.partitions": "1",
    "default.replication.factor": "1",
    "offsets.topic.replication.factor": "1",
    // One partition each: internal topics come up in a fraction of the time of the default 50.
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
    "auto.create.topics.enable": "true",
    // The machine has two cores.
    "num.network.threads": "2",
    "num.io.threads": "2",
    "num.recovery.threads.per.data.dir": "1",
    ...options.properties,
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}\n`)
    .join("");
}

/** The major version of a Kafka release, e.g. 4 for '4.4.0'. */
export function kafkaMajor(version: string): number {
  return Number(version.split(".")[0]);
}

/**
 * Writes a logging configuration for the Kafka line of `version` into `dir` and returns the JVM
 * option that selects it: Kafka 3 logs through log4j 1.x (reload4j), Kafka 4 through log4j2.
 * Everything at `level` and above goes to `target` (stdout or stderr).
 */
export function loggingOption(
  version: string,
  dir: string,
  level: "INFO" | "WARN",
  target: "stdout" | "stderr",
): string {
  mkdirSync(dir, { recursive: true });
  if (kafkaMajor(version) >= 4) {
    const file = join(dir, `log4j2-${level.toLowerCase()}-${target}.properties`);
    writeFileSync(
      file,
      [
        "status = warn",
        "appender.out.type = Console",
        "appender.out.name = OUT",
        `appender.out.target = ${target === "stdout" ? "SYSTEM_OUT" : "SYSTEM_ERR"}`,
        "appender.out.layout.type = PatternLayout",
        "appender.out.layout.pattern = [%d] %p %m (%c)%n",
        `rootLogger.level = ${level}`,
        "rootLogger.appenderRef.out.ref = OUT",
        "",
      ].join("\n"),
    );
    return `-Dlog4j2.configurationFile=${file}`;
  }
  const file = join(dir, `log4j-${level.toLowerCase()}-${target}.properties`);
  writeFileSync(
    file,
    [
      `log4j.rootLogger=${level}, out`,
      "log4j.appender.out=org.apache.log4j.ConsoleAppender",
      `log4j.appender.out.Target=System.${target === "stdout" ? "out" : "err"}`,
      "log4j.appender.out.layout=org.apache.log4j.PatternLayout",
      "log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n",
      "",
    ].join("\n"),
  );
  return `-Dlog4j.configuration=file:${file}`;
}

function within(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), ms);
    void p.then(() => {
      clearTimeout(timer);
      done(true);
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * Ready means the broker answers a Metadata request listing at least one broker: only then
 * has it registered with the controller and can clients produce.
 */
async function waitForBroker(port: number, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "no attempt";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Apache Kafka exited early (${child.exitCode ?? child.signalCode}); see ${logFile}`);
    }
    try {
      if ((await metadataBrokerCount(port, 2_000)) > 0) return;
      lastError = "no broker registered yet";
    } catch (err) {
      lastError = (err as Error).message;
    }
    await delay(250);
  }
  throw new Error(
    `Apache Kafka did not become ready on 127.0.0.1:${port} in ${timeoutMs} ms (${lastError}); see ${logFile}`,
  );
}

/** Sends Metadata v1 for all topics and returns the length of its brokers array. */
function metadataBrokerCount(port: number, timeoutMs: number): Promise<number> {
  const clientId = Buffer.from("tskafka-ready");
  // Header v1: apiKey 3, apiVersion 1, correlationId, clientId; body: topics = null (-1).
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4);
  let o = body.writeInt16BE(3, 0);
  o = body.writeInt16BE(1, o);
  o = body.writeInt32BE(1, o);
  o = body.writeInt16BE(clientId.length, o);
  o += clientId.copy(body, o);
  body.writeInt32BE(-1, o);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);

  return new Promise((done, fail) => {
    const socket = connect({ host: "127.0.0.1", port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      fail(new Error("metadata timed out"));
    }, timeoutMs);
    socket.on("connect", () => socket.write(Buffer.concat([size, body])));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      // Response: size, correlationId, brokers count.
      if (received.length >= 12) {
        clearTimeout(timer);
        socket.destroy();
        done(received.readInt32BE(8));
      }
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      fail(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      fail(new Error("connection closed"));
    });
  });
}

// Run by hand: `npx tsx scripts/kafka/apache-kafka.ts [port] [controllerPort] [dataDir] [version]`.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 9092);
  const controllerPort = Number(process.argv[3] ?? 9093);
  const dataDir = process.argv[4] ?? join(repoRoot, ".cache", "kafka-data");
  const version = process.argv[5] ?? DEFAULT_KAFKA_VERSION;
  const kafka = await startApacheKafka({ port, controllerPort, dataDir, version });
  console.log(`Apache Kafka ${kafka.version} ready on 127.0.0.1:${kafka.port} (pid ${kafka.pid}); Ctrl-C stops it`);
  const shutdown = (): void => {
    void kafka.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
