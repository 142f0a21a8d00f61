import { spawnSync } from "node:child_process";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiKey,
  createAlterUserScramCredentialsRequest,
  createAlterUserScramCredentialsRequestScramCredentialUpsertion,
  createDescribeUserScramCredentialsRequest,
  createMetadataRequest,
} from "@tskafka/protocol";
import { freePort, haveCommand } from "../harness.js";
import { BrokerProcess, SEC_TARGET_KIND, type SecTargetKind } from "./broker-process.js";
import { KAFKA44_LIB } from "./java/kafka44.js";
import { RawClient } from "./raw-client.js";

export { SEC_TARGET_KIND, type SecTargetKind };

/**
 * The broker the security tests (security-*.test.ts) run against: three listeners (PLAINTEXT, SASL_SSL with
 * SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN on a PKCS12 keystore, SSL with client authentication required on a
 * PEM keystore), configured with Kafka's own server.properties keys, and certificates made for the run
 * with openssl in a temporary folder (never kept).
 *
 * By default the broker under test; with TSKAFKA_SEC_TARGET=kafka, Apache Kafka 4.4.0 from its jars in KRaft
 * mode (broker-process.ts), with the same keys: that is how the tests' expectations were checked to be
 * Kafka's own.
 */

/** The users and passwords of the run (made up here, for loopback test brokers only). */
export const USERS = {
  /** A SCRAM user (SHA-256 and SHA-512), the SHA-512 credential bootstrapped at start-up. */
  scram: { name: "alice", password: "alice-pw-1" },
  /** A PLAIN user from the listener's JAAS line. */
  plain: { name: "plainuser", password: "plain-pw-2" },
  /** The PLAIN admin of the JAAS line. */
  admin: { name: "admin", password: "admin-pw-3" },
} as const;

export const STORE_PASSWORD = "store-pw";
export const KEY_PASSWORD = "key-pw";
export const SCRAM_ITERATIONS = 4096;

export interface Certificates {
  readonly dir: string;
  /** The CA certificate (PEM): the truststore of the broker and of every client. */
  readonly ca: string;
  /** The server's key (encrypted PKCS#8, KEY_PASSWORD) and certificate in one PEM file. */
  readonly serverPem: string;
  /** The server's key and chain as a PKCS12 keystore (STORE_PASSWORD). */
  readonly serverP12: string;
  /** The client's certificate (PEM, CN=tskafka-client). */
  readonly clientCert: string;
  /** The client's key, unencrypted PEM (PKCS#8). */
  readonly clientKey: string;
  /** The client's key encrypted with KEY_PASSWORD (PKCS#8). */
  readonly clientKeyEncrypted: string;
  /** Key (encrypted, KEY_PASSWORD) and certificate of the client in one PEM file, for the Java client. */
  readonly clientPem: string;
  /** A certificate from another CA (self-signed), with its key: a client the broker must refuse. */
  readonly strangerCert: string;
  readonly strangerKey: string;
}

export const haveOpenssl = (): boolean => haveCommand("openssl", ["version"]);

function openssl(dir: string, args: readonly string[]): void {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed (${r.status ?? r.signal}):\n${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl. */
export function makeCertificates(dir: string): Certificates {
  mkdirSync(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=tskafka-test-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  writeFileSync(
    join(dir, "server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyAgreement\n",
  );
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyAgreement\n");
  for (const who of ["server", "client"] as const) {
    const cn = who === "server" ? "localhost" : "tskafka-client";
    openssl(dir, ["req", ...ec, "-keyout", `${who}.key`, "-out", `${who}.csr`, "-subj", `/O=tskafka-test/CN=${cn}`]);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${who}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${who}.pem`,
      "-days",
      "2",
      "-extfile",
      `${who}.ext`,
    ]);
    openssl(dir, [
      "pkcs8",
      "-topk8",
      "-in",
      `${who}.key`,
      "-out",
      `${who}-enc.key`,
      "-passout",
      `pass:${KEY_PASSWORD}`,
      "-v1",
      "PBE-SHA1-3DES",
    ]);
    openssl(dir, ["pkcs8", "-topk8", "-nocrypt", "-in", `${who}.key`, "-out", `${who}-p8.key`]);
    writeFileSync(
      join(dir, `${who}-keystore.pem`),
      readFileSync(join(dir, `${who}-enc.key`), "utf8") + readFileSync(join(dir, `${who}.pem`), "utf8"),
    );
  }
  openssl(dir, [
    "pkcs12",
    "-export",
    "-in",
    "server.pem",
    "-inkey",
    "server.key",
    "-certfile",
    "ca.pem",
    "-name",
    "server",
    "-out",
    "server.p12",
    "-passout",
    `pass:${STORE_PASSWORD}`,
  ]);
  openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "stranger.key",
    "-out",
    "stranger.pem",
    "-days",
    "2",
    "-subj",
    "/CN=tskafka-stranger",
  ]);
  return {
    dir,
    ca: join(dir, "ca.pem"),
    serverPem: join(dir, "server-keystore.pem"),
    serverP12: join(dir, "server.p12"),
    clientCert: join(dir, "client.pem"),
    clientKey: join(dir, "client-p8.key"),
    clientKeyEncrypted: join(dir, "client-enc.key"),
    clientPem: join(dir, "client-keystore.pem"),
    strangerCert: join(dir, "stranger.pem"),
    strangerKey: join(dir, "stranger.key"),
  };
}

export interface SecPorts {
  readonly plaintext: number;
  readonly saslSsl: number;
  readonly ssl: number;
}

/** The security part of server.properties: the same for Apache Kafka and for us. */
export function securityProperties(ports: SecPorts, certs: Certificates): Record<string, string> {
  const jaasPlain =
    "org.apache.kafka.common.security.plain.PlainLoginModule required " +
    `username="${USERS.admin.name}" password="${USERS.admin.password}" ` +
    `user_${USERS.admin.name}="${USERS.admin.password}" user_${USERS.plain.name}="${USERS.plain.password}";`;
  const jaasScram = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  return {
    listeners: `PLAINTEXT://127.0.0.1:${ports.plaintext},SASL_SSL://127.0.0.1:${ports.saslSsl},SSL://127.0.0.1:${ports.ssl}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${ports.plaintext},SASL_SSL://127.0.0.1:${ports.saslSsl},SSL://127.0.0.1:${ports.ssl}`,
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
    "listener.name.sasl_ssl.plain.sasl.jaas.config": jaasPlain,
    "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": jaasScram,
    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": jaasScram,
    // The SASL_SSL listener: a PKCS12 keystore of its own.
    "listener.name.sasl_ssl.ssl.keystore.type": "PKCS12",
    "listener.name.sasl_ssl.ssl.keystore.location": certs.serverP12,
    "listener.name.sasl_ssl.ssl.keystore.password": STORE_PASSWORD,
    "listener.name.sasl_ssl.ssl.key.password": STORE_PASSWORD,
    // Every other TLS listener (SSL): a PEM keystore (encrypted PKCS#8 key + certificate) from the global keys.
    "ssl.keystore.type": "PEM",
    "ssl.keystore.location": certs.serverPem,
    "ssl.key.password": KEY_PASSWORD,
    "ssl.truststore.type": "PEM",
    "ssl.truststore.location": certs.ca,
    "listener.name.ssl.ssl.client.auth": "required",
  };
}

/** More of what a test file may ask of its target. */
export interface SecTargetOptions {
  /** Listeners besides the three (name to protocol); their ports are in `SecTarget.extraPorts`. */
  readonly listeners?: Readonly<Record<string, "SSL" | "SASL_SSL" | "SASL_PLAINTEXT">>;
  /** The server.properties keys that need the extra listeners' ports or the run's certificates (made first). */
  readonly properties?: (extraPorts: Readonly<Record<string, number>>, certs: Certificates) => Record<string, string>;
  /** Java system properties for Apache Kafka (such as its allowed OAuth URLs); ignored for tskafka. */
  readonly kafkaSystemProperties?: Readonly<Record<string, string>>;
  /** Loggers Apache Kafka logs at DEBUG (what tskafka logs at info, such as re-authentications). */
  readonly kafkaDebugLoggers?: readonly string[];
}

export interface SecTarget {
  readonly kind: SecTargetKind;
  readonly ports: SecPorts;
  /** The ports of the extra listeners, by name. */
  readonly extraPorts: Readonly<Record<string, number>>;
  readonly certs: Certificates;
  /** host:port of each listener. */
  readonly plaintext: string;
  readonly saslSsl: string;
  readonly ssl: string;
  /** True while the broker process runs. */
  alive(): boolean;
  /** The end of what it printed (tskafka) or logged (Kafka), for failure messages. */
  logTail(chars?: number): string;
  /** Everything it printed or logged. */
  log(): string;
  cleanup(): Promise<void>;
}

export const haveKafkaTarget = (): boolean =>
  haveCommand("java", ["-version"]) && existsSync(join(KAFKA44_LIB, ".complete"));

/** True when the target can be started here. */
export function haveSecTarget(): boolean {
  return haveOpenssl() && (SEC_TARGET_KIND === "tskafka" || haveKafkaTarget());
}
export const SEC_TARGET_REQUIREMENT =
  SEC_TARGET_KIND === "kafka"
    ? "openssl, Java and Apache Kafka 4.4.0's jars (scripts/kafka/fetch.sh 4.4.0) for TSKAFKA_SEC_TARGET=kafka"
    : "openssl";

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
  });
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Salted SCRAM credential as AlterUserScramCredentials carries it (RFC 5802's SaltedPassword). */
export function saltedPassword(
  mechanism: "SCRAM-SHA-256" | "SCRAM-SHA-512",
  password: string,
  salt: Buffer,
  iterations: number,
): Buffer {
  const [hash, len] = mechanism === "SCRAM-SHA-256" ? ["sha256", 32] : ["sha512", 64];
  return pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, len, hash);
}

/**
 * Creates or replaces SCRAM credentials with AlterUserScramCredentials v0 over the PLAINTEXT listener and
 * waits until DescribeUserScramCredentials lists them all. Fails with the error codes if the broker refuses.
 */
export async function upsertScramUsers(
  port: number,
  users: readonly { name: string; password: string; mechanism: "SCRAM-SHA-256" | "SCRAM-SHA-512" }[],
  timeoutMs = 30_000,
): Promise<void> {
  const client = await RawClient.connect(port, { requestTimeoutMs: 15_000 });
  try {
    // One request per credential: Kafka refuses a user named twice in one request (DUPLICATE_RESOURCE, 92).
    for (const u of users) {
      const salt = randomBytes(24);
      const upsertion = createAlterUserScramCredentialsRequestScramCredentialUpsertion({
        name: u.name,
        mechanism: u.mechanism === "SCRAM-SHA-256" ? 1 : 2,
        iterations: SCRAM_ITERATIONS,
        salt,
        saltedPassword: saltedPassword(u.mechanism, u.password, salt, SCRAM_ITERATIONS),
      });
      const res = await client.request(
        ApiKey.AlterUserScramCredentials,
        0,
        createAlterUserScramCredentialsRequest({ upsertions: [upsertion] }),
      );
      const failed = res.results.filter((r) => r.errorCode !== 0);
      if (failed.length > 0)
        throw new Error(`AlterUserScramCredentials (${u.name} ${u.mechanism}) failed: ${JSON.stringify(failed)}`);
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = await client.request(
        ApiKey.DescribeUserScramCredentials,
        0,
        createDescribeUserScramCredentialsRequest({ users: null }),
      );
      const have = new Set(d.results.flatMap((r) => r.credentialInfos.map((c) => `${r.user}/${c.mechanism}`)));
      if (users.every((u) => have.has(`${u.name}/${u.mechanism === "SCRAM-SHA-256" ? 1 : 2}`))) return;
      if (Date.now() > deadline) throw new Error(`SCRAM users not visible after ${timeoutMs} ms: ${JSON.stringify(d)}`);
      await delay(200);
    }
  } finally {
    client.close();
  }
}

/** Whether the PLAINTEXT listener answers Metadata with at least one broker, and the others accept TCP. */
async function probe(ports: SecPorts, extra: readonly number[]): Promise<string | undefined> {
  const c = await RawClient.connect(ports.plaintext, { requestTimeoutMs: 3_000, connectTimeoutMs: 2_000 });
  try {
    const m = await c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: null }));
    const others = [ports.saslSsl, ports.ssl, ...extra];
    if (m.brokers.length > 0 && (await Promise.all(others.map(canConnect))).every((ok) => ok)) return undefined;
    return `brokers=${m.brokers.length}`;
  } finally {
    c.close();
  }
}

/**
 * Starts the target with the security listeners (plus `extra` server.properties keys) and the SCRAM users:
 * alice's SCRAM-SHA-512 credential bootstrapped at start-up (Kafka: `kafka-storage format --add-scram`; ours:
 * `--add-scram`), then her SCRAM-SHA-256 and SCRAM-SHA-512 credentials upserted with AlterUserScramCredentials.
 */
export async function startSecTarget(
  extra: Record<string, string> = {},
  options: SecTargetOptions = {},
): Promise<SecTarget> {
  const root = mkdtempSync(join(tmpdir(), `tskafka-sec-${SEC_TARGET_KIND}-`));
  const certs = makeCertificates(join(root, "certs"));
  const ports: SecPorts = { plaintext: await freePort(), saslSsl: await freePort(), ssl: await freePort() };
  const extraPorts: Record<string, number> = {};
  for (const name of Object.keys(options.listeners ?? {})) extraPorts[name] = await freePort();
  const props: Record<string, string> = {
    ...securityProperties(ports, certs),
    ...extra,
    ...(options.properties?.(extraPorts, certs) ?? {}),
  };
  for (const [name, protocol] of Object.entries(options.listeners ?? {})) {
    const address = `${name}://127.0.0.1:${extraPorts[name]!}`;
    props.listeners += `,${address}`;
    props["advertised.listeners"] += `,${address}`;
    props["listener.security.protocol.map"] += `,${name}:${protocol}`;
  }
  const broker = await BrokerProcess.start({
    root,
    properties: props,
    controllerProtocol: "PLAINTEXT",
    addScram: `SCRAM-SHA-512=[name=${USERS.scram.name},password=${USERS.scram.password}]`,
    ...(options.kafkaSystemProperties !== undefined ? { kafkaSystemProperties: options.kafkaSystemProperties } : {}),
    ...(options.kafkaDebugLoggers !== undefined ? { kafkaDebugLoggers: options.kafkaDebugLoggers } : {}),
  });
  try {
    await broker.waitReady(() => probe(ports, Object.values(extraPorts)));
    await upsertScramUsers(ports.plaintext, [
      { ...USERS.scram, mechanism: "SCRAM-SHA-256" },
      { ...USERS.scram, mechanism: "SCRAM-SHA-512" },
    ]);
  } catch (e) {
    const errors = broker
      .log()
      .split("\n")
      .filter((l) => /ERROR|FATAL|Exception|WARN/.test(l))
      .slice(0, 30)
      .join("\n");
    await broker.cleanup();
    throw new Error(`${(e as Error).message.slice(0, 2000)}\n--- broker log: errors and warnings ---\n${errors}`);
  }
  return {
    kind: SEC_TARGET_KIND,
    ports,
    extraPorts,
    certs,
    plaintext: `127.0.0.1:${ports.plaintext}`,
    saslSsl: `127.0.0.1:${ports.saslSsl}`,
    ssl: `127.0.0.1:${ports.ssl}`,
    alive: () => broker.alive(),
    log: () => broker.log(),
    logTail: (chars) => broker.logTail(chars),
    cleanup: () => broker.cleanup(),
  };
}
