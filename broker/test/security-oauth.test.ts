import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import type { ConnectionOptions } from "node:tls";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from "jose";
import {
  ApiKey,
  createIncrementalAlterConfigsRequest,
  createMetadataRequest,
  createSaslAuthenticateRequest,
  createSaslHandshakeRequest,
} from "@tskafka/protocol";
import { REPO_ROOT, haveCommand, skipUnless } from "./harness.js";
import { run } from "./clients/run.js";
import { KAFKA44_REQUIREMENT, haveKafka44, tool44 } from "./clients/java/kafka44.js";
import { RawClient } from "./clients/raw-client.js";
import { VENV_PYTHON, haveVenvModules } from "./clients/venv.js";
import {
  STORE_PASSWORD,
  SEC_TARGET_REQUIREMENT,
  USERS,
  haveSecTarget,
  startSecTarget,
  type Certificates,
  type SecTarget,
} from "./clients/security-target.js";

/**
 * SASL OAUTHBEARER, KIP-368 re-authentication, PKCS12 trust stores and key store reload, with real
 * clients against the broker as a process: the Java 4.4 console producer and consumer with the unsecured
 * login (re-authenticating on their own under a short connections.max.reauth.ms), confluent-kafka's
 * oauth_cb handing over tokens signed here with jose (checked against a JWKS file by Kafka 4.4's
 * validator), the exact exchange of RFC 7628 and KIP-368 over a raw TLS connection, mutual TLS with a
 * PKCS12 trust store, and a key store replaced with kafka-configs (ConfigCommand) picked up by new
 * connections. TSKAFKA_SEC_TARGET=kafka runs the same file against Apache Kafka 4.4.0.
 */

const skip = skipUnless(haveSecTarget(), SEC_TARGET_REQUIREMENT);
const skipJava = skip ?? skipUnless(haveKafka44(), KAFKA44_REQUIREMENT);
const skipConfluent = skip ?? skipUnless(haveVenvModules("confluent_kafka"), "confluent-kafka (.cache/venv)");

const PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
const CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
const CONFIGS = "org.apache.kafka.tools.ConfigCommand";
const CONFLUENT = join(REPO_ROOT, "broker", "test", "clients", "confluent_security.py");

/** OAUTHBEARER sessions on the SASL_SSL listener last this long (connections.max.reauth.ms). */
const REAUTH_MS = 2000;
const AUDIENCE = "tskafka-test";
const ISSUER = "https://issuer.tskafka.test";
const OAUTH_MODULE = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";
const VALIDATOR = "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler";
const SASL_AUTHENTICATION_FAILED = 58;
const ILLEGAL_SASL_STATE = 34;
const INVALID_REQUEST = 42;

const suffix = Date.now().toString(36);
const topicName = (name: string): string => `oauth-${name}-${suffix}`;

let target: SecTarget;
let dir: string;
let jwksPath: string;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;

/** A PKCS12 trust store of the run's CA, as Java makes one (keytool), else openssl's. */
function pkcs12TrustStore(certs: Certificates): string {
  const file = join(certs.dir, "truststore.p12");
  const r = haveCommand("keytool", ["-help"])
    ? spawnSync("keytool", [
        "-importcert",
        "-noprompt",
        "-storetype",
        "PKCS12",
        "-keystore",
        file,
        "-storepass",
        STORE_PASSWORD,
        "-alias",
        "ca",
        "-file",
        certs.ca,
      ])
    : spawnSync("openssl", [
        "pkcs12",
        "-export",
        "-nokeys",
        "-in",
        certs.ca,
        "-out",
        file,
        "-passout",
        `pass:${STORE_PASSWORD}`,
      ]);
  if (r.status !== 0) throw new Error(`making the PKCS12 trust store failed: ${String(r.stderr)}`);
  return file;
}

/** A server certificate like the run's (same subject and names), newly signed: a renewal, in a PKCS12 file. */
function renewServerCertificate(certs: Certificates, file: string, cn = "localhost"): string {
  const openssl = (args: string[]): void => {
    const r = spawnSync("openssl", args, { cwd: certs.dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(["req", ...ec, "-keyout", "renew.key", "-out", "renew.csr", "-subj", `/O=tskafka-test/CN=${cn}`]);
  openssl(
    ["x509", "-req", "-in", "renew.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"].concat([
      "-out",
      "renew.pem",
      "-days",
      "2",
      "-extfile",
      "server.ext",
    ]),
  );
  openssl(
    ["pkcs12", "-export", "-in", "renew.pem", "-inkey", "renew.key", "-certfile", "ca.pem", "-name", "server"].concat([
      "-out",
      file,
      "-passout",
      `pass:${STORE_PASSWORD}`,
    ]),
  );
  const serial = spawnSync("openssl", ["x509", "-in", join(certs.dir, "renew.pem"), "-noout", "-serial"], {
    encoding: "utf8",
  });
  return serial.stdout
    .trim()
    .replace(/^serial=/, "")
    .toUpperCase();
}

before(async () => {
  if (skip !== undefined) return;
  dir = mkdtempSync(join(tmpdir(), "tskafka-oauth-"));
  const signing = await generateKeyPair("ES256");
  signingKey = signing.privateKey;
  strangerKey = (await generateKeyPair("ES256")).privateKey;
  jwksPath = join(dir, "jwks.json");
  writeFileSync(
    jwksPath,
    JSON.stringify({ keys: [{ ...(await exportJWK(signing.publicKey)), kid: "k1", alg: "ES256", use: "sig" }] }),
  );
  const jwksUrl = pathToFileURL(jwksPath).href;
  const serverJaas = `${OAUTH_MODULE} required unsecuredLoginStringClaim_sub="broker";`;
  target = await startSecTarget(
    {
      "group.initial.rebalance.delay.ms": "0",
      // OAUTHBEARER (Kafka's unsecured validator) beside SCRAM and PLAIN, its sessions limited.
      "listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN,OAUTHBEARER",
      "listener.name.sasl_ssl.oauthbearer.sasl.jaas.config": serverJaas,
      "listener.name.sasl_ssl.oauthbearer.connections.max.reauth.ms": String(REAUTH_MS),
      // Signed tokens, for the OAUTHJWKS listener's validator.
      "sasl.oauthbearer.jwks.endpoint.url": jwksUrl,
      "sasl.oauthbearer.expected.audience": AUDIENCE,
      "sasl.oauthbearer.expected.issuer": ISSUER,
    },
    {
      listeners: { OAUTHJWKS: "SASL_PLAINTEXT", SSLP12: "SSL" },
      properties: (_ports, certs) => ({
        "listener.name.oauthjwks.sasl.enabled.mechanisms": "OAUTHBEARER",
        "listener.name.oauthjwks.oauthbearer.sasl.jaas.config": serverJaas,
        "listener.name.oauthjwks.oauthbearer.sasl.server.callback.handler.class": VALIDATOR,
        // Mutual TLS with a PKCS12 trust store; a PKCS12 key store of its own (replaced at runtime below).
        "listener.name.sslp12.ssl.client.auth": "required",
        "listener.name.sslp12.ssl.truststore.type": "PKCS12",
        "listener.name.sslp12.ssl.truststore.location": pkcs12TrustStore(certs),
        "listener.name.sslp12.ssl.truststore.password": STORE_PASSWORD,
        "listener.name.sslp12.ssl.keystore.type": "PKCS12",
        "listener.name.sslp12.ssl.keystore.location": certs.serverP12,
        "listener.name.sslp12.ssl.keystore.password": STORE_PASSWORD,
        "listener.name.sslp12.ssl.key.password": STORE_PASSWORD,
      }),
      kafkaSystemProperties: {
        "org.apache.kafka.sasl.oauthbearer.allowed.urls": jwksUrl,
        "org.apache.kafka.sasl.oauthbearer.allowed.files": jwksPath,
      },
      kafkaDebugLoggers: ["org.apache.kafka.common.security.authenticator.SaslServerAuthenticator"],
    },
  );
});

after(async () => {
  if (process.env.DEBUG_OAUTH !== undefined && target !== undefined)
    writeFileSync(process.env.DEBUG_OAUTH, target.log());
  await target?.cleanup();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Adds the broker's log to a failure. */
async function withLog<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Error) e.message += `\n--- broker (${target.kind}) log tail ---\n${target.logTail(3000)}`;
    throw e;
  }
}

// --- tokens ---

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** An unsigned JWS (alg none), as Kafka's unsecured login makes them. */
const unsignedToken = (sub: string, expInSeconds: number): string =>
  `${b64({ alg: "none" })}.${b64({ sub, iat: nowSeconds() - 5, exp: nowSeconds() + expInSeconds })}.`;

/** A JWT signed with `key` (the JWKS's own, or a stranger's) for the broker's audience and issuer. */
const signedToken = (key: CryptoKey, sub: string): Promise<string> =>
  new SignJWT({ scope: "kafka" })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(key);

/** RFC 7628's client first message. */
const firstMessage = (token: string): Buffer => Buffer.from(`n,,\u0001auth=Bearer ${token}\u0001\u0001`, "utf8");

// --- a raw connection to the SASL_SSL listener ---

const tlsOptions = (): ConnectionOptions => ({ ca: readFileSync(target.certs.ca) });

async function saslSslClient(): Promise<RawClient> {
  return RawClient.connectTls(target.ports.saslSsl, tlsOptions(), { requestTimeoutMs: 15_000 });
}

/** SaslHandshake v1 for OAUTHBEARER, then SaslAuthenticate v2 with the token: the answer. */
async function oauthExchange(c: RawClient, token: string) {
  const hs = await c.request(ApiKey.SaslHandshake, 1, createSaslHandshakeRequest({ mechanism: "OAUTHBEARER" }));
  assert.equal(hs.errorCode, 0, `SaslHandshake: ${show(hs)}`);
  return c.request(ApiKey.SaslAuthenticate, 2, createSaslAuthenticateRequest({ authBytes: firstMessage(token) }));
}

async function closedWithin(c: RawClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the connection is still open after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([c.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** JSON of a response, its int64 fields as text. */
const show = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : x));

const metadata = (c: RawClient) => c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: null }));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe(
  "security: OAUTHBEARER, re-authentication, PKCS12 trust stores, key store reload",
  { skip, timeout: 240_000 },
  () => {
    test("OAUTHBEARER on the wire: an unsigned token's session lifetime; an expired token refused as Kafka does", async () => {
      await withLog(async () => {
        const c = await saslSslClient();
        try {
          const ok = await oauthExchange(c, unsignedToken("alice", 3600));
          assert.equal(ok.errorCode, 0, show(ok));
          assert.equal(ok.authBytes.length, 0);
          // connections.max.reauth.ms is the shorter: the session lasts that long.
          assert.ok(
            ok.sessionLifetimeMs > 0n && ok.sessionLifetimeMs <= BigInt(REAUTH_MS),
            String(ok.sessionLifetimeMs),
          );
          assert.ok((await metadata(c)).brokers.length > 0);
        } finally {
          c.close();
        }
        // A token that ends sooner than connections.max.reauth.ms gives its own remaining lifetime.
        const short = await saslSslClient();
        try {
          const r = await oauthExchange(short, unsignedToken("alice", 1));
          assert.equal(r.errorCode, 0, show(r));
          assert.ok(r.sessionLifetimeMs <= 1000n, `lifetime ${r.sessionLifetimeMs} is the token's`);
        } finally {
          short.close();
        }
        // An expired token: the error challenge, no error; the client's \x01; then the failure, and the close.
        const expired = await saslSslClient();
        try {
          const challenge = await oauthExchange(expired, unsignedToken("alice", -60));
          assert.equal(challenge.errorCode, 0, show(challenge));
          assert.equal(Buffer.from(challenge.authBytes).toString(), '{"status":"invalid_token"}');
          const failed = await expired.request(
            ApiKey.SaslAuthenticate,
            2,
            createSaslAuthenticateRequest({ authBytes: Buffer.from([1]) }),
          );
          assert.equal(failed.errorCode, SASL_AUTHENTICATION_FAILED);
          assert.equal(failed.errorMessage, '{"status":"invalid_token"}');
          await closedWithin(expired, 5_000);
        } finally {
          expired.close();
        }
      });
    });

    test("KIP-368 on the wire: re-authentication keeps the principal; an expired session is closed at its next request", async () => {
      await withLog(async () => {
        const c = await saslSslClient();
        try {
          assert.equal((await oauthExchange(c, unsignedToken("alice", 3600))).errorCode, 0);
          // Re-authentication: SaslHandshake and SaslAuthenticate again on the authenticated connection.
          const again = await oauthExchange(c, unsignedToken("alice", 3600));
          assert.equal(again.errorCode, 0, show(again));
          assert.ok(again.sessionLifetimeMs > 0n);
          assert.ok((await metadata(c)).brokers.length > 0);
          // One re-authentication a second at most: a handshake sooner is an ordinary one, refused.
          const soon = await c.request(
            ApiKey.SaslHandshake,
            1,
            createSaslHandshakeRequest({ mechanism: "OAUTHBEARER" }),
          );
          assert.equal(soon.errorCode, ILLEGAL_SASL_STATE, show(soon));
          await sleep(1100);
          const other = await oauthExchange(c, unsignedToken("bob", 3600));
          assert.equal(other.errorCode, SASL_AUTHENTICATION_FAILED, show(other));
          assert.equal(
            other.errorMessage,
            "Cannot change principals during re-authentication from User.alice: User.bob",
          );
          await closedWithin(c, 5_000);
        } finally {
          c.close();
        }
        // Another mechanism: the handshake is answered, its token is not; the connection is closed.
        const switching = await saslSslClient();
        try {
          assert.equal((await oauthExchange(switching, unsignedToken("alice", 3600))).errorCode, 0);
          const hs = await switching.request(
            ApiKey.SaslHandshake,
            1,
            createSaslHandshakeRequest({ mechanism: "PLAIN" }),
          );
          assert.equal(hs.errorCode, 0, show(hs));
          const plain = Buffer.from(`\u0000${USERS.admin.name}\u0000${USERS.admin.password}`, "utf8");
          await assert.rejects(
            switching.request(ApiKey.SaslAuthenticate, 2, createSaslAuthenticateRequest({ authBytes: plain })),
            /connection closed/,
          );
        } finally {
          switching.close();
        }
        const idle = await saslSslClient();
        try {
          const r = await oauthExchange(idle, unsignedToken("alice", 3600));
          assert.equal(r.errorCode, 0);
          await sleep(Number(r.sessionLifetimeMs) + 500);
          await assert.rejects(metadata(idle), /connection closed/);
          await closedWithin(idle, 5_000);
        } finally {
          idle.close();
        }
      });
    });

    test(
      "Java 4.4 console producer and consumer with the unsecured OAUTHBEARER login, re-authenticating past several lifetimes",
      { skip: skipJava },
      async () => {
        await withLog(async () => {
          const topic = topicName("java");
          const config = join(target.certs.dir, "java-oauth.properties");
          writeFileSync(
            config,
            [
              "security.protocol=SASL_SSL",
              "sasl.mechanism=OAUTHBEARER",
              `sasl.jaas.config=${OAUTH_MODULE} required unsecuredLoginStringClaim_sub="alice";`,
              "ssl.truststore.type=PEM",
              `ssl.truststore.location=${target.certs.ca}`,
              "",
            ].join("\n"),
          );
          const reauthsBefore = reauthentications(target.log());
          const reauthed = (): boolean => reauthentications(target.log()) - reauthsBefore >= 2;
          const records: string[] = [];
          // One record a second until the broker has seen two re-authentications (at least 12, at most 50):
          // the producer's connection lives through several session lifetimes however late its JVM starts.
          const inputLine = (i: number): string | undefined => {
            if (i >= 50 || (i >= 12 && reauthed())) return undefined;
            records.push(`oauth-${i}`);
            return records[i];
          };
          await tool44(PRODUCER, ["--bootstrap-server", target.saslSsl, "--topic", topic, "--command-config", config], {
            inputLine,
            inputEveryMs: 1000,
            timeoutMs: 80_000,
          });
          const n = records.length;
          const consumed = await tool44(
            CONSUMER,
            [
              "--bootstrap-server",
              target.saslSsl,
              "--topic",
              topic,
              "--from-beginning",
              "--max-messages",
              String(n),
            ].concat(["--timeout-ms", "20000", "--command-config", config]),
            { timeoutMs: 60_000 },
          );
          assert.deepEqual(
            consumed.stdout
              .split("\n")
              .filter((l) => l.startsWith("oauth-"))
              .sort(),
            records.slice().sort(),
          );
          const reauths = reauthentications(target.log()) - reauthsBefore;
          assert.ok(reauths >= 2, `re-authentications in the broker log: ${reauths}`);
        });
      },
    );

    test(
      "JWKS: a token signed with the set's key is taken (confluent-kafka oauth_cb); a stranger's signature is refused",
      { skip: skipConfluent },
      async () => {
        await withLog(async () => {
          const bootstrap = `127.0.0.1:${target.extraPorts.OAUTHJWKS!}`;
          const conf = async (key: CryptoKey) => ({
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanisms": "OAUTHBEARER",
            oauth_token: await signedToken(key, "carol"),
            oauth_principal: "carol",
          });
          const topic = topicName("jwks");
          const ok = await run(
            VENV_PYTHON,
            [CONFLUENT, "roundtrip", bootstrap, topic, "5", JSON.stringify(await conf(signingKey))],
            {
              timeoutMs: 90_000,
            },
          );
          assert.equal(ok.code, 0, ok.stderr);
          const okOut = JSON.parse(ok.stdout) as { delivered: number; values: string[]; errors: string[] };
          assert.equal(okOut.delivered, 5, ok.stdout);
          assert.equal(okOut.values.length, 5, ok.stdout);
          const bad = await run(VENV_PYTHON, [CONFLUENT, "fail", bootstrap, JSON.stringify(await conf(strangerKey))], {
            timeoutMs: 60_000,
          });
          assert.equal(bad.code, 0, bad.stderr);
          const badOut = JSON.parse(bad.stdout) as {
            listed: string[] | null;
            errors: { name: string; text: string }[];
          };
          assert.equal(badOut.listed, null, bad.stdout);
          const auth = badOut.errors.find((e) => e.name === "_AUTHENTICATION");
          assert.ok(auth !== undefined, bad.stdout);
          assert.match(auth.text, /invalid_token/, bad.stdout);
          // An expired unsigned token on the unsecured listener is refused the same way.
          const expired = await run(
            VENV_PYTHON,
            [CONFLUENT, "fail", target.saslSsl].concat([
              JSON.stringify({
                "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "OAUTHBEARER",
                "ssl.ca.location": target.certs.ca,
                oauth_token: unsignedToken("alice", -60),
                oauth_principal: "alice",
              }),
            ]),
            { timeoutMs: 60_000 },
          );
          const expiredOut = JSON.parse(expired.stdout) as {
            listed: string[] | null;
            errors: { name: string; text: string }[];
          };
          assert.equal(expiredOut.listed, null, expired.stdout);
          assert.ok(
            expiredOut.errors.some((e) => e.name === "_AUTHENTICATION" && /invalid_token/.test(e.text)),
            expired.stdout,
          );
        });
      },
    );

    test(
      "mutual TLS with a PKCS12 trust store; a renewed key store set with kafka-configs serves new connections",
      { skip: skipJava },
      async () => {
        await withLog(async () => {
          const port = target.extraPorts.SSLP12!;
          const client = {
            ca: readFileSync(target.certs.ca),
            cert: readFileSync(target.certs.clientCert),
            key: readFileSync(target.certs.clientKey),
          };
          const served = async (): Promise<string> => {
            const c = await RawClient.connectTls(port, client, { requestTimeoutMs: 15_000 });
            try {
              assert.ok((await metadata(c)).brokers.length > 0);
              return (c.socket as import("node:tls").TLSSocket).getPeerX509Certificate()!.serialNumber.toUpperCase();
            } finally {
              c.close();
            }
          };
          const first = await served();
          await assert.rejects(
            RawClient.connectTls(port, { ca: client.ca }, { requestTimeoutMs: 5_000 }).then(async (c) => {
              try {
                await metadata(c);
              } finally {
                c.close();
              }
            }),
            "no client certificate: refused",
          );
          const renewed = join(target.certs.dir, "renewed.p12");
          const alter = async (): Promise<void> => {
            await tool44(
              CONFIGS,
              ["--bootstrap-server", target.plaintext, "--entity-type", "brokers", "--entity-name", "1"].concat([
                "--alter",
                "--add-config",
                `listener.name.sslp12.ssl.keystore.location=${renewed}`,
              ]),
              { timeoutMs: 60_000 },
            );
          };
          // A key store that cannot be loaded, or whose certificate names another server, is refused before
          // it is stored, as Kafka refuses it.
          const missing = await alterRaw(renewed);
          assert.equal(missing.errorCode, INVALID_REQUEST, show(missing));
          assert.match(
            missing.errorMessage ?? "",
            /^Invalid value .*Validation of dynamic config update of SSLFactory failed/,
          );
          renewServerCertificate(target.certs, renewed, "another-host");
          const other = await alterRaw(renewed);
          assert.equal(other.errorCode, INVALID_REQUEST, show(other));
          assert.match(other.errorMessage ?? "", /Keystore DistinguishedName does not match/);
          assert.equal(await served(), first);
          const second = renewServerCertificate(target.certs, renewed);
          assert.notEqual(second, first);
          await alter();
          assert.equal(await waitForSerial(served, second), second);
          // The same path again, the file renewed once more: reloaded too.
          const third = renewServerCertificate(target.certs, renewed);
          await alter();
          assert.equal(await waitForSerial(served, third), third);
        });
      },
    );
  },
);

/** IncrementalAlterConfigs of the SSLP12 listener's key store location on node 1, over PLAINTEXT: its one answer. */
async function alterRaw(location: string) {
  const admin = await RawClient.connect(target.ports.plaintext, { requestTimeoutMs: 30_000 });
  try {
    const name = "listener.name.sslp12.ssl.keystore.location";
    const r = await admin.request(
      ApiKey.IncrementalAlterConfigs,
      1,
      createIncrementalAlterConfigsRequest({
        resources: [{ resourceType: 4, resourceName: "1", configs: [{ name, configOperation: 0, value: location }] }],
        validateOnly: false,
      }),
    );
    return r.responses[0]!;
  } finally {
    admin.close();
  }
}

/** Kafka applies a dynamic key store a moment after AlterConfigs answers: ask until it shows, 10 s at most. */
async function waitForSerial(served: () => Promise<string>, want: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const got = await served();
    if (got === want || Date.now() > deadline) return got;
    await sleep(250);
  }
}

/** Completed re-authentications in the broker's log: ours at info, Kafka's SaslServerAuthenticator at debug. */
function reauthentications(log: string): number {
  const ours = log.match(/ re-authenticated as User:alice/g)?.length ?? 0;
  const kafka = log.match(/Set SASL server state to COMPLETE during re-authentication/g)?.length ?? 0;
  return ours + kafka;
}
