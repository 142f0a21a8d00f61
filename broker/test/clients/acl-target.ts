import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiKey,
  createApiVersionsRequest,
  createSaslAuthenticateRequest,
  createSaslHandshakeRequest,
} from "@tskafka/protocol";
import { REPO_ROOT, freePort } from "../harness.js";
import { KAFKA44_LIB, kafkaClusterId } from "./java/kafka44.js";
import { RawClient } from "./raw-client.js";
import { SEC_TARGET_KIND, type SecTargetKind } from "./security-target.js";

/**
 * The broker of the ACL tests (security-acls.test.ts): one SASL_PLAINTEXT listener with PLAIN users from its
 * JAAS line, and, when asked, Kafka's KRaft authorizer with `admin` as the super user. By default the broker
 * under test; with TSKAFKA_SEC_TARGET=kafka, Apache Kafka 4.4.0 from its jars (one node, broker and
 * controller; its controller listener authenticates as `admin` too, since a KRaft node with
 * StandardAuthorizer must find its own principal among super.users). Either can be restarted on its data.
 */

/** The PLAIN users of the run (made up here, for loopback test brokers only). */
export const ACL_USERS = {
  admin: { name: "admin", password: "admin-pw-1" },
  alice: { name: "alice", password: "alice-pw-2" },
} as const;

export const STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

export interface AclTarget {
  readonly kind: SecTargetKind;
  /** host:port of the SASL_PLAINTEXT listener. */
  readonly bootstrap: string;
  readonly port: number;
  /** Stops the broker and starts it again on the same data and config. */
  restart(): Promise<void>;
  /** Everything it printed or logged. */
  log(): string;
  cleanup(): Promise<void>;
}

const jaas = (): string =>
  "org.apache.kafka.common.security.plain.PlainLoginModule required " +
  `username="${ACL_USERS.admin.name}" password="${ACL_USERS.admin.password}" ` +
  `user_${ACL_USERS.admin.name}="${ACL_USERS.admin.password}" user_${ACL_USERS.alice.name}="${ACL_USERS.alice.password}";`;

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SaslHandshake v1 and SaslAuthenticate v2 with PLAIN; throws when the broker refuses. */
export async function saslPlain(client: RawClient, user: string, password: string): Promise<void> {
  const h = await client.request(ApiKey.SaslHandshake, 1, createSaslHandshakeRequest({ mechanism: "PLAIN" }));
  if (h.errorCode !== 0) throw new Error(`SaslHandshake: error ${h.errorCode}`);
  const a = await client.request(
    ApiKey.SaslAuthenticate,
    2,
    createSaslAuthenticateRequest({ authBytes: Buffer.from(`\u0000${user}\u0000${password}`) }),
  );
  if (a.errorCode !== 0) throw new Error(`SaslAuthenticate: error ${a.errorCode} ${a.errorMessage ?? ""}`);
}

/** A raw client on the listener, authenticated as `user`. */
export async function rawAs(port: number, user: { name: string; password: string }): Promise<RawClient> {
  const c = await RawClient.connect(port, { requestTimeoutMs: 15_000 });
  try {
    await saslPlain(c, user.name, user.password);
  } catch (e) {
    c.close();
    throw e;
  }
  return c;
}

/** Waits until the listener authenticates the super user (Kafka opens its listeners once the node is up). */
async function waitReady(port: number, alive: () => boolean, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no attempt";
  for (;;) {
    if (!alive()) throw new Error(`the broker exited before it was ready:\n${log().slice(-3000)}`);
    try {
      const c = await RawClient.connect(port, { requestTimeoutMs: 3_000, connectTimeoutMs: 2_000 });
      try {
        await c.request(ApiKey.ApiVersions, 3, createApiVersionsRequest({}));
        await saslPlain(c, ACL_USERS.admin.name, ACL_USERS.admin.password);
        return;
      } finally {
        c.close();
      }
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`not ready in ${timeoutMs} ms (${last}):\n${log().slice(-3000)}`);
    await delay(250);
  }
}

const propsText = (props: Record<string, string>): string =>
  Object.entries(props)
    .map(([k, v]) => `${k}=${v}\n`)
    .join("");

/** server.properties of both brokers: the listener, its PLAIN users and the authorizer keys. */
function commonProps(port: number, authorizer: boolean): Record<string, string> {
  return {
    listeners: `SASL_PLAINTEXT://127.0.0.1:${port}`,
    "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT",
    "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas(),
    ...(authorizer
      ? { "authorizer.class.name": STANDARD_AUTHORIZER, "super.users": `User:${ACL_USERS.admin.name}` }
      : {}),
  };
}

/** Kafka 4.4 in KRaft mode: formats the data directory the first time, then runs kafka.Kafka. */
function kafkaProps(root: string, port: number, controllerPort: number, authorizer: boolean): string {
  const props = commonProps(port, authorizer);
  const all: Record<string, string> = {
    ...props,
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": `1@127.0.0.1:${controllerPort}`,
    "controller.listener.names": "CONTROLLER",
    listeners: `${props.listeners},CONTROLLER://127.0.0.1:${controllerPort}`,
    "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
    "inter.broker.listener.name": "SASL_PLAINTEXT",
    "sasl.mechanism.inter.broker.protocol": "PLAIN",
    "sasl.mechanism.controller.protocol": "PLAIN",
    "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
    "listener.name.controller.plain.sasl.jaas.config": jaas(),
    "log.dirs": join(root, "data"),
    "num.partitions": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "num.network.threads": "2",
    "num.io.threads": "2",
  };
  const file = join(root, "server.properties");
  writeFileSync(file, propsText(all));
  const log4j = join(root, "log4j2.properties");
  writeFileSync(
    log4j,
    [
      "appender.out.type = Console",
      "appender.out.name = OUT",
      "appender.out.layout.type = PatternLayout",
      "appender.out.layout.pattern = [%d] %p %m (%c)%n",
      "rootLogger.level = INFO",
      "rootLogger.appenderRef.out.ref = OUT",
      "",
    ].join("\n"),
  );
  const format = spawnSync(
    "java",
    [
      "-cp",
      join(KAFKA44_LIB, "*"),
      `-Dlog4j2.configurationFile=${log4j}`,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      kafkaClusterId(),
      "-c",
      file,
    ],
    { encoding: "utf8", timeout: 90_000 },
  );
  if (format.status !== 0)
    throw new Error(`kafka-storage format failed (${format.status}):\n${format.stdout}\n${format.stderr}`);
  return file;
}

function spawnLogged(root: string, command: string, args: readonly string[]): ChildProcess {
  const out = openSync(join(root, "broker.log"), "a");
  const child = spawn(command, args, { stdio: ["ignore", out, out] });
  closeSync(out);
  return child;
}

/** Starts the target; `authorizer` turns Kafka's StandardAuthorizer on with `admin` as the super user. */
export async function startAclTarget(options: { authorizer: boolean }): Promise<AclTarget> {
  const root = mkdtempSync(join(tmpdir(), `tskafka-acl-${SEC_TARGET_KIND}-`));
  mkdirSync(join(root, "data"), { recursive: true });
  const port = await freePort();
  let start: () => ChildProcess;
  if (SEC_TARGET_KIND === "kafka") {
    const file = kafkaProps(root, port, await freePort(), options.authorizer);
    const log4j = join(root, "log4j2.properties");
    start = () =>
      spawnLogged(root, "java", [
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        `-Dlog4j2.configurationFile=${log4j}`,
        `-Dkafka.logs.dir=${root}`,
        "-cp",
        join(KAFKA44_LIB, "*"),
        "kafka.Kafka",
        file,
      ]);
  } else {
    const file = join(root, "server.properties");
    writeFileSync(file, propsText(commonProps(port, options.authorizer)));
    const main = join(REPO_ROOT, "broker", "dist", "src", "main.js");
    start = () =>
      spawnLogged(root, process.execPath, [
        main,
        "--data-dir",
        join(root, "data"),
        "--config",
        file,
        "--log-level",
        "info",
      ]);
  }
  let child = start();
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const killOnExit = (): void => void child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const log = (): string => {
    try {
      return readFileSync(join(root, "broker.log"), "utf8");
    } catch {
      return "";
    }
  };
  const stop = async (): Promise<void> => {
    if (!alive()) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  };
  const readyMs = SEC_TARGET_KIND === "kafka" ? 120_000 : 30_000;
  const cleanup = async (): Promise<void> => {
    await stop();
    process.removeListener("exit", killOnExit);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await waitReady(port, alive, readyMs, log);
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    kind: SEC_TARGET_KIND,
    bootstrap: `127.0.0.1:${port}`,
    port,
    async restart() {
      await stop();
      child = start();
      await waitReady(port, alive, readyMs, log);
    },
    log,
    cleanup,
  };
}
