import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, freePort } from "../harness.js";
import { KAFKA44_LIB, kafkaClusterId } from "./java/kafka44.js";
import { BROKER_NODE_FLAGS } from "../../src/node-flags.js";

/**
 * The broker process of the security tests' targets (security-target.ts, acl-target.ts): by default the
 * broker under test (broker/dist/src/main.js with `--config`); with TSKAFKA_SEC_TARGET=kafka, Apache Kafka
 * 4.4.0 from its jars in KRaft mode (one node, broker and controller, its data directory formatted first).
 * Both read the same server.properties keys, log to one file, and are stopped within bounds.
 */

export type SecTargetKind = "tskafka" | "kafka";
export const SEC_TARGET_KIND: SecTargetKind = process.env.TSKAFKA_SEC_TARGET === "kafka" ? "kafka" : "tskafka";

/** How long a target may take to be ready: Kafka starts a JVM and a KRaft quorum. */
export const READY_TIMEOUT_MS = SEC_TARGET_KIND === "kafka" ? 120_000 : 30_000;

export interface BrokerProcessOptions {
  /** A folder of its own: server.properties, log4j2.properties, broker.log and data/ go there. */
  readonly root: string;
  /** server.properties: the listeners and the security keys, the same for both brokers. */
  readonly properties: Readonly<Record<string, string>>;
  /** Kafka only: the security protocol of its controller listener, and keys that listener needs. */
  readonly controllerProtocol: "PLAINTEXT" | "SASL_PLAINTEXT";
  readonly kafkaProperties?: Readonly<Record<string, string>>;
  /** A SCRAM credential made before the first start (`--add-scram` of kafka-storage format, and ours). */
  readonly addScram?: string;
  /** Java system properties for Apache Kafka (such as its allowed OAuth URLs). */
  readonly kafkaSystemProperties?: Readonly<Record<string, string>>;
  /** Loggers Apache Kafka logs at DEBUG (what tskafka logs at info). */
  readonly kafkaDebugLoggers?: readonly string[];
}

const propsText = (props: Readonly<Record<string, string>>): string =>
  Object.entries(props)
    .map(([k, v]) => `${k}=${v}\n`)
    .join("");

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for `p` at most `ms`, without keeping the process alive once `p` settled. */
function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}

/** A one-node KRaft cluster's keys around the shared ones: small topics, quick to start. */
function kafkaServerProperties(
  o: BrokerProcessOptions,
  dataDir: string,
  controllerPort: number,
): Record<string, string> {
  const props = o.properties;
  return {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": `1@127.0.0.1:${controllerPort}`,
    "controller.listener.names": "CONTROLLER",
    "log.dirs": dataDir,
    "num.partitions": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
    "num.network.threads": "2",
    "num.io.threads": "2",
    ...props,
    listeners: `${props.listeners},CONTROLLER://127.0.0.1:${controllerPort}`,
    "listener.security.protocol.map": `${props["listener.security.protocol.map"]},CONTROLLER:${o.controllerProtocol}`,
    ...o.kafkaProperties,
  };
}

function writeLog4j2(file: string, debugLoggers: readonly string[]): void {
  const lines = [
    "appender.out.type = Console",
    "appender.out.name = OUT",
    "appender.out.layout.type = PatternLayout",
    "appender.out.layout.pattern = [%d] %p %m (%c)%n",
    "rootLogger.level = INFO",
    "rootLogger.appenderRef.out.ref = OUT",
    ...debugLoggers.flatMap((name, i) => [`logger.debug${i}.name = ${name}`, `logger.debug${i}.level = DEBUG`]),
    "",
  ];
  writeFileSync(file, lines.join("\n"));
}

/** Writes Kafka's config, formats its data directory; answers the command that runs it. */
function prepareKafka(o: BrokerProcessOptions, dataDir: string, controllerPort: number): [string, string[]] {
  const propsFile = join(o.root, "server.properties");
  writeFileSync(propsFile, propsText(kafkaServerProperties(o, dataDir, controllerPort)));
  const log4j = join(o.root, "log4j2.properties");
  writeLog4j2(log4j, o.kafkaDebugLoggers ?? []);
  const cp = join(KAFKA44_LIB, "*");
  const scram = o.addScram === undefined ? [] : ["--add-scram", o.addScram];
  const format = spawnSync(
    "java",
    [
      "-cp",
      cp,
      `-Dlog4j2.configurationFile=${log4j}`,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      kafkaClusterId(),
      "-c",
      propsFile,
      ...scram,
    ],
    { encoding: "utf8", timeout: 90_000 },
  );
  if (format.status !== 0)
    throw new Error(`kafka-storage format failed (${format.status}):\n${format.stdout}\n${format.stderr}`);
  const system = Object.entries(o.kafkaSystemProperties ?? {}).map(([k, v]) => `-D${k}=${v}`);
  return [
    "java",
    [
      "-Xmx512m",
      "-XX:+UseG1GC",
      "-XX:TieredStopAtLevel=1",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${log4j}`,
      `-Dkafka.logs.dir=${o.root}`,
      ...system,
      "-cp",
      cp,
      "kafka.Kafka",
      propsFile,
    ],
  ];
}

/** Writes our config; answers the command that runs the broker under test. */
function prepareTskafka(o: BrokerProcessOptions, dataDir: string): [string, string[]] {
  const propsFile = join(o.root, "server.properties");
  writeFileSync(propsFile, propsText(o.properties));
  const main = join(REPO_ROOT, "broker", "dist", "src", "main.js");
  // `--add-scram`: the equivalent of Kafka's `kafka-storage format --add-scram`.
  const scram = o.addScram === undefined ? [] : ["--add-scram", o.addScram];
  return [
    process.execPath,
    [...BROKER_NODE_FLAGS, main, "--data-dir", dataDir, "--config", propsFile, "--log-level", "info", ...scram],
  ];
}

/** The running broker of a target; `restart` runs it again on the same data and config. */
export class BrokerProcess {
  private child: ChildProcess;
  private readonly logFile: string;
  private readonly killOnExit = (): void => void this.child.kill("SIGKILL");

  private constructor(
    private readonly root: string,
    private readonly command: readonly [string, string[]],
  ) {
    this.logFile = join(root, "broker.log");
    this.child = this.spawn();
    process.on("exit", this.killOnExit);
  }

  /** Writes the config (and formats Kafka's data directory), then starts the broker. */
  static async start(o: BrokerProcessOptions): Promise<BrokerProcess> {
    const dataDir = join(o.root, "data");
    mkdirSync(dataDir, { recursive: true });
    const command =
      SEC_TARGET_KIND === "kafka" ? prepareKafka(o, dataDir, await freePort()) : prepareTskafka(o, dataDir);
    return new BrokerProcess(o.root, command);
  }

  private spawn(): ChildProcess {
    const out = openSync(this.logFile, "a");
    const child = spawn(this.command[0], this.command[1], { stdio: ["ignore", out, out] });
    closeSync(out);
    return child;
  }

  /** True while the broker process runs. */
  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything it printed or logged. */
  log(): string {
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  logTail(chars = 4000): string {
    return this.log().slice(-chars);
  }

  /**
   * Polls `probe` every 250 ms until it answers ready (undefined; otherwise why not, or it throws) within
   * `timeoutMs`; fails at once when the broker exits.
   */
  async waitReady(probe: () => Promise<string | undefined>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no attempt";
    for (;;) {
      if (!this.alive()) throw new Error(`the broker exited before it was ready:\n${this.logTail(3000)}`);
      try {
        const notReady = await probe();
        if (notReady === undefined) return;
        last = notReady;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(`the broker was not ready in ${timeoutMs} ms (${last}):\n${this.logTail(3000)}`);
      await delay(250);
    }
  }

  /** SIGTERM, then SIGKILL when it has not left in 20 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!this.alive()) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    await within(exited, 20_000);
    if (this.alive()) child.kill("SIGKILL");
    await within(exited, 5_000);
  }

  /** Stops the broker and starts it again on the same data and config. */
  async restart(): Promise<void> {
    await this.stop();
    this.child = this.spawn();
  }

  /** Stops the broker and removes its folder. */
  async cleanup(): Promise<void> {
    await this.stop();
    process.removeListener("exit", this.killOnExit);
    rmSync(this.root, { recursive: true, force: true });
  }
}
