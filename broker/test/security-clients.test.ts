import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import kafkajs from "kafkajs";
import { ApiKey, createApiVersionsRequest, encodeRequestFrame } from "@tskafka/protocol";
import { REPO_ROOT, skipUnless } from "./harness.js";
import { haveKcat, kcatConsume, run, runOk } from "./clients/run.js";
import { KAFKA44_REQUIREMENT, haveKafka44, tool44, toolBatch } from "./clients/java/kafka44.js";
import { VENV_PYTHON, haveVenvModules } from "./clients/venv.js";
import {
  KEY_PASSWORD,
  SEC_TARGET_REQUIREMENT,
  USERS,
  haveSecTarget,
  startSecTarget,
  type SecTarget,
} from "./clients/security-target.js";

// kafkajs is CommonJS; its named exports are not all visible to an ESM import.
const { Kafka, logLevel } = kafkajs;

/**
 * Real clients over TLS and SASL (issue 10's proof): the Java 4.4 console producer and consumer over SASL_SSL
 * with SCRAM-SHA-512 and over SSL with mutual TLS (PEM keystore and truststore), kcat (librdkafka 2.0) over
 * SASL_SSL SCRAM-SHA-512, confluent-kafka (librdkafka 2.16) with PLAIN and SCRAM-SHA-256 over SASL_SSL, KafkaJS
 * with PLAIN and SCRAM-SHA-256 over TLS; then a wrong password, an unknown user and a mechanism the listener
 * does not offer, each reported by the client as an authentication error, and the broker serving on after.
 *
 * One broker for the file (clients/security-target.ts): PLAINTEXT, SASL_SSL (PKCS12 keystore) and SSL with
 * ssl.client.auth=required (PEM keystore), configured with Kafka's keys; certificates made by openssl for the
 * run. TSKAFKA_SEC_TARGET=kafka runs the same file against Apache Kafka 4.4.0: the expectations are Kafka's.
 */

const skip = skipUnless(haveSecTarget(), SEC_TARGET_REQUIREMENT);
const skipJava = skip ?? skipUnless(haveKafka44(), KAFKA44_REQUIREMENT);
const skipKcat = skip ?? skipUnless(haveKcat(), "kcat");
const skipConfluent = skip ?? skipUnless(haveVenvModules("confluent_kafka"), "confluent-kafka (.cache/venv)");

const PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
const CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
const TOPICS = "org.apache.kafka.tools.TopicCommand";
const CONFLUENT = join(REPO_ROOT, "broker", "test", "clients", "confluent_security.py");

const suffix = Date.now().toString(36);
const topicName = (name: string): string => `sec-${name}-${suffix}`;

let target: SecTarget;

before(async () => {
  if (skip !== undefined) return;
  target = await startSecTarget({ "group.initial.rebalance.delay.ms": "0" });
});

after(async () => {
  await target?.cleanup();
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

// --- client settings ---

const jaas = (module: "scram" | "plain", user: string, password: string): string =>
  `org.apache.kafka.common.security.${module}.${module === "scram" ? "Scram" : "Plain"}LoginModule required ` +
  `username="${user}" password="${password}";`;

/** A Java client properties file in the run's folder. */
function javaConfig(name: string, props: Record<string, string>): string {
  const file = join(target.certs.dir, `${name}.properties`);
  writeFileSync(
    file,
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
  );
  return file;
}

const javaScram512 = (user: string, password: string): Record<string, string> => ({
  "security.protocol": "SASL_SSL",
  "sasl.mechanism": "SCRAM-SHA-512",
  "sasl.jaas.config": jaas("scram", user, password),
  "ssl.truststore.type": "PEM",
  "ssl.truststore.location": target.certs.ca,
});

const javaMtls = (): Record<string, string> => ({
  "security.protocol": "SSL",
  "ssl.truststore.type": "PEM",
  "ssl.truststore.location": target.certs.ca,
  "ssl.keystore.type": "PEM",
  "ssl.keystore.location": target.certs.clientPem,
  "ssl.key.password": KEY_PASSWORD,
});

const kcatSasl = (mechanism: string, user: string, password: string): string[] => [
  "-X",
  "security.protocol=SASL_SSL",
  "-X",
  `sasl.mechanisms=${mechanism}`,
  "-X",
  `sasl.username=${user}`,
  "-X",
  `sasl.password=${password}`,
  "-X",
  `ssl.ca.location=${target.certs.ca}`,
];

const rdSasl = (mechanism: string, user: string, password: string): Record<string, string> => ({
  "security.protocol": "SASL_SSL",
  "sasl.mechanisms": mechanism,
  "sasl.username": user,
  "sasl.password": password,
  "ssl.ca.location": target.certs.ca,
});

const lines = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

/** The lines a Java console tool run printed on stdout that look like records of `tag`. */
const recordsOf = (out: string, tag: string): string[] =>
  out
    .split("\n")
    .filter((l) => l.startsWith(`${tag}-`))
    .sort();

describe("security: real clients over TLS and SASL", { skip, timeout: 240_000 }, () => {
  test("the SSL listener: ApiVersions over mutual TLS; no client certificate or a stranger's is refused", async () => {
    await withLog(async () => {
      const ca = readFileSync(target.certs.ca);
      const ok = await tlsApiVersions(target.ports.ssl, {
        ca,
        cert: readFileSync(target.certs.clientCert),
        key: readFileSync(target.certs.clientKey),
      });
      assert.equal(ok.kind, "answered", JSON.stringify(ok));
      const none = await tlsApiVersions(target.ports.ssl, { ca });
      assert.equal(none.kind, "refused", `no client certificate: ${JSON.stringify(none)}`);
      const stranger = await tlsApiVersions(target.ports.ssl, {
        ca,
        cert: readFileSync(target.certs.strangerCert),
        key: readFileSync(target.certs.strangerKey),
      });
      assert.equal(stranger.kind, "refused", `a stranger's certificate: ${JSON.stringify(stranger)}`);
      // The server certificate of the SASL_SSL listener (PKCS12) verifies against the CA for 127.0.0.1.
      const sasl = await tlsApiVersions(target.ports.saslSsl, { ca });
      assert.equal(sasl.kind, "answered", `ApiVersions before SASL on SASL_SSL: ${JSON.stringify(sasl)}`);
    });
  });

  test(
    "Java 4.4 console producer and consumer over SASL_SSL SCRAM-SHA-512 and over mutual TLS",
    { skip: skipJava },
    async () => {
      await withLog(async () => {
        const scramTopic = topicName("java-scram");
        const mtlsTopic = topicName("java-mtls");
        const scramProps = javaConfig("java-scram512", javaScram512(USERS.scram.name, USERS.scram.password));
        const mtlsProps = javaConfig("java-mtls", javaMtls());
        const n = 20;
        // The two producers at once: one JVM each (the console producer reads stdin).
        await Promise.all([
          tool44(
            PRODUCER,
            ["--bootstrap-server", target.saslSsl, "--topic", scramTopic, "--command-config", scramProps],
            {
              input: lines(n, "scram").join("\n") + "\n",
              timeoutMs: 60_000,
            },
          ),
          tool44(PRODUCER, ["--bootstrap-server", target.ssl, "--topic", mtlsTopic, "--command-config", mtlsProps], {
            input: lines(n, "mtls").join("\n") + "\n",
            timeoutMs: 60_000,
          }),
        ]);
        const consume = (bootstrap: string, topic: string, config: string): string[] => [
          CONSUMER,
          "--bootstrap-server",
          bootstrap,
          "--topic",
          topic,
          "--from-beginning",
          "--max-messages",
          String(n),
          "--timeout-ms",
          "20000",
          "--command-config",
          config,
        ];
        const [scram, mtls] = await toolBatch(
          [consume(target.saslSsl, scramTopic, scramProps), consume(target.ssl, mtlsTopic, mtlsProps)],
          90_000,
        );
        assert.deepEqual(recordsOf(scram!.out, "scram"), lines(n, "scram").sort(), scram!.out);
        assert.deepEqual(recordsOf(mtls!.out, "mtls"), lines(n, "mtls").sort(), mtls!.out);
      });
    },
  );

  test("kcat (librdkafka 2.0) over SASL_SSL: PLAIN, and SCRAM-SHA-512", { skip: skipKcat }, async () => {
    await withLog(async () => {
      const topic = topicName("kcat");
      const plain = kcatSasl("PLAIN", USERS.plain.name, USERS.plain.password);
      await runOk("kcat", ["-b", target.saslSsl, "-P", "-t", topic, "-p", "0", ...plain], {
        input: lines(15, "kcat").join("\n") + "\n",
        timeoutMs: 30_000,
      });
      const got = await kcatConsume(target.saslSsl, topic, 0, plain);
      assert.deepEqual(
        got.map((r) => r.value),
        lines(15, "kcat"),
      );
      // SCRAM with librdkafka before 2.6.1 (Debian's kcat has 2.0.2): its client-final-message repeats the
      // client nonce after the server's nonce. Kafka up to 3.9 accepted that (the nonce only had to end with
      // the server's); Kafka 4.x compares the nonce exactly (RFC 5802) and refuses every such login, right
      // password or not. Issue 10's "Done when" asks for kcat with a SCRAM user, so our broker accepts
      // it as Kafka 3.9 did: the expectation differs by target here, on purpose.
      const scram = kcatSasl("SCRAM-SHA-512", USERS.scram.name, USERS.scram.password);
      const r = await run(
        "kcat",
        ["-b", target.saslSsl, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-f", "%s\n", ...scram],
        {
          timeoutMs: 30_000,
        },
      );
      if (target.kind === "kafka") {
        assert.notEqual(r.code, 0, r.stdout);
        assert.match(r.stderr, /invalid credentials with SASL mechanism SCRAM-SHA-512/, r.stderr);
      } else {
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stdout.trim().split("\n"), lines(15, "kcat"), r.stderr);
      }
    });
  });

  test(
    "confluent-kafka (librdkafka 2.16) over SASL_SSL with PLAIN and with SCRAM-SHA-256",
    { skip: skipConfluent },
    async () => {
      await withLog(async () => {
        const cases = [
          ["plain", rdSasl("PLAIN", USERS.plain.name, USERS.plain.password)],
          ["scram256", rdSasl("SCRAM-SHA-256", USERS.scram.name, USERS.scram.password)],
        ] as const;
        const results = await Promise.all(
          cases.map(([name, conf]) =>
            runOk(
              VENV_PYTHON,
              [CONFLUENT, "roundtrip", target.saslSsl, topicName(`confluent-${name}`), "12", JSON.stringify(conf)],
              {
                timeoutMs: 90_000,
              },
            ),
          ),
        );
        for (const [i, r] of results.entries()) {
          const out = JSON.parse(r.stdout) as {
            delivered: number;
            failed: string[];
            values: string[];
            errors: string[];
          };
          assert.equal(out.delivered, 12, `${cases[i]![0]}: ${r.stdout}`);
          assert.deepEqual(
            out.values.sort(),
            Array.from({ length: 12 }, (_, j) => `v${j}`).sort(),
            `${cases[i]![0]}: ${r.stdout}`,
          );
        }
      });
    },
  );

  test("KafkaJS with SASL PLAIN and SCRAM-SHA-256 over TLS", async () => {
    await withLog(async () => {
      const ca = [readFileSync(target.certs.ca, "utf8")];
      const cases: [string, kafkajs.SASLOptions][] = [
        ["plain", { mechanism: "plain", username: USERS.plain.name, password: USERS.plain.password }],
        ["scram-sha-256", { mechanism: "scram-sha-256", username: USERS.scram.name, password: USERS.scram.password }],
      ];
      for (const [mechanism, sasl] of cases) {
        const topic = topicName(`kafkajs-${mechanism}`);
        const kafka = new Kafka({
          clientId: `sec-${mechanism}`,
          brokers: [target.saslSsl],
          ssl: { ca },
          sasl,
          logLevel: logLevel.NOTHING,
          retry: { retries: 3 },
        });
        const admin = kafka.admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
        await admin.disconnect();
        const producer = kafka.producer();
        await producer.connect();
        await producer.send({ topic, messages: lines(10, mechanism).map((value) => ({ value })) });
        await producer.disconnect();
        const consumer = kafka.consumer({ groupId: `sec-kafkajs-${mechanism}-${suffix}`, maxWaitTimeInMs: 100 });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        const got: string[] = [];
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`KafkaJS ${mechanism}: only ${got.length} of 10 in 30 s`)),
            30_000,
          );
          void consumer.run({
            eachMessage: async ({ message }) => {
              got.push(message.value!.toString());
              if (got.length === 10) {
                clearTimeout(timer);
                resolve();
              }
            },
          });
        });
        await consumer.disconnect();
        assert.deepEqual(got, lines(10, mechanism), mechanism);
      }
    });
  });

  test("wrong password, unknown user, wrong mechanism: each client reports it; the broker serves on", async (t) => {
    await withLog(async () => {
      const failures: Promise<void>[] = [];
      // Java 4.4 (kafka-topics --list): one JVM for all three.
      if (skipJava === undefined) {
        failures.push(
          (async () => {
            const cfg = (name: string, props: Record<string, string>): string[] => [
              TOPICS,
              "--bootstrap-server",
              target.saslSsl,
              "--list",
              "--command-config",
              javaConfig(name, props),
            ];
            const [wrong, unknown, mech] = await toolBatch(
              [
                cfg("java-wrong-pw", javaScram512(USERS.scram.name, "not-the-password")),
                cfg("java-unknown", javaScram512("nobody", "whatever")),
                cfg("java-oauth", {
                  "security.protocol": "SASL_SSL",
                  "sasl.mechanism": "OAUTHBEARER",
                  "sasl.jaas.config":
                    'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="alice";',
                  "ssl.truststore.type": "PEM",
                  "ssl.truststore.location": target.certs.ca,
                }),
              ],
              90_000,
            );
            for (const r of [wrong!, unknown!]) {
              assert.notEqual(r.code, 0, r.out);
              assert.match(r.out, /Authentication failed/i, r.out);
              assert.match(r.out, /SCRAM-SHA-512/, r.out);
            }
            assert.notEqual(mech!.code, 0, mech!.out);
            assert.match(mech!.out, /UnsupportedSaslMechanism|not enabled in the server/i, mech!.out);
            t.diagnostic(
              `java: ${[wrong!, unknown!, mech!].map((r) => firstMatch(r.out, /.*(Authentication failed|not enabled).*/i)).join(" | ")}`,
            );
          })(),
        );
      }
      // kcat: librdkafka 2.0.
      if (skipKcat === undefined) {
        failures.push(
          (async () => {
            const cases: [string, string[], RegExp][] = [
              [
                "wrong password (PLAIN)",
                kcatSasl("PLAIN", USERS.plain.name, "not-the-password"),
                /SASL authentication error: Authentication failed/,
              ],
              [
                "unknown user (PLAIN)",
                kcatSasl("PLAIN", "nobody", "whatever"),
                /SASL authentication error: Authentication failed/,
              ],
              [
                "unknown user (SCRAM-SHA-512)",
                kcatSasl("SCRAM-SHA-512", "nobody", "whatever"),
                /SASL authentication error: Authentication failed/,
              ],
            ];
            // kcat -L waits out its metadata timeout (-m) after the failure: the three at once.
            const results = await Promise.all(
              cases.map(([, args]) =>
                run("kcat", ["-b", target.saslSsl, "-L", "-m", "4", ...args], { timeoutMs: 30_000 }),
              ),
            );
            for (const [i, r] of results.entries()) {
              const [name, , expected] = cases[i]!;
              assert.notEqual(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
              assert.match(r.stderr, expected, `${name}: ${r.stderr}`);
              t.diagnostic(`kcat ${name}: ${firstMatch(r.stderr, /SASL authentication error.*/)}`);
            }
          })(),
        );
      }
      // confluent-kafka: librdkafka 2.16.
      if (skipConfluent === undefined) {
        failures.push(
          (async () => {
            const cases: [string, Record<string, string>, RegExp][] = [
              [
                "wrong password (PLAIN)",
                rdSasl("PLAIN", USERS.plain.name, "not-the-password"),
                /Authentication failed/i,
              ],
              ["unknown user (SCRAM-SHA-256)", rdSasl("SCRAM-SHA-256", "nobody", "whatever"), /Authentication failed/i],
              [
                "wrong mechanism (OAUTHBEARER)",
                {
                  "security.protocol": "SASL_SSL",
                  "sasl.mechanisms": "OAUTHBEARER",
                  "enable.sasl.oauthbearer.unsecure.jwt": "true",
                  "sasl.oauthbearer.config": "principal=alice",
                  "ssl.ca.location": target.certs.ca,
                },
                /Unsupported SASL mechanism|not supported by broker|not enabled/i,
              ],
            ];
            const results = await Promise.all(
              cases.map(([, conf]) =>
                runOk(VENV_PYTHON, [CONFLUENT, "fail", target.saslSsl, JSON.stringify(conf)], { timeoutMs: 60_000 }),
              ),
            );
            for (const [i, r] of results.entries()) {
              const [name, , expected] = cases[i]!;
              const out = JSON.parse(r.stdout) as { listed: string[] | null; errors: { name: string; text: string }[] };
              assert.equal(out.listed, null, `${name}: ${r.stdout}`);
              const auth = out.errors.find((e) => e.name === "_AUTHENTICATION");
              assert.ok(auth !== undefined, `${name}: no _AUTHENTICATION error: ${r.stdout}`);
              assert.match(auth.text, expected, `${name}: ${r.stdout}`);
              t.diagnostic(`confluent ${name}: ${auth.text}`);
            }
          })(),
        );
      }
      // KafkaJS.
      failures.push(
        (async () => {
          const ca = [readFileSync(target.certs.ca, "utf8")];
          const attempt = async (sasl: kafkajs.SASLOptions): Promise<Error> => {
            const kafka = new Kafka({
              clientId: "sec-fail",
              brokers: [target.saslSsl],
              ssl: { ca },
              sasl,
              logLevel: logLevel.NOTHING,
              retry: { retries: 0 },
              connectionTimeout: 5_000,
            });
            const admin = kafka.admin();
            try {
              await admin.connect();
              await admin.listTopics();
            } catch (e) {
              return e as Error;
            } finally {
              await admin.disconnect().catch(() => undefined);
            }
            throw new Error(`KafkaJS connected with ${JSON.stringify(sasl)}`);
          };
          const wrong = await attempt({
            mechanism: "scram-sha-256",
            username: USERS.scram.name,
            password: "not-the-password",
          });
          const unknown = await attempt({ mechanism: "plain", username: "nobody", password: "whatever" });
          const mech = await attempt({
            mechanism: "aws",
            authorizationIdentity: "AIDAEXAMPLE",
            accessKeyId: "AKIAEXAMPLE",
            secretAccessKey: "example",
          });
          for (const e of [wrong, unknown])
            assert.equal(e.name, "KafkaJSSASLAuthenticationError", `${e.name}: ${e.message}`);
          // The SaslHandshake answer's error (UNSUPPORTED_SASL_MECHANISM, 33), as KafkaJS reports it.
          assert.equal(mech.name, "KafkaJSProtocolError", `${mech.name}: ${mech.message}`);
          assert.equal((mech as Error & { type?: string }).type, "UNSUPPORTED_SASL_MECHANISM", mech.message);
          assert.match(wrong.message, /SCRAM SHA256 authentication failed/i, wrong.message);
          assert.match(unknown.message, /PLAIN authentication failed/i, unknown.message);
          t.diagnostic(`kafkajs: ${wrong.message} | ${unknown.message} | ${mech.message}`);
        })(),
      );
      const settled = await Promise.allSettled(failures);
      const errors = settled
        .filter((s): s is PromiseRejectedResult => s.status === "rejected")
        .map((s) => s.reason as Error);
      if (errors.length > 0) throw new Error(errors.map((e) => e.message).join("\n---\n"));

      // The broker still runs and serves a good client on every listener kind.
      assert.ok(target.alive(), "the broker process is gone");
      const ca = readFileSync(target.certs.ca);
      const ok = await tlsApiVersions(target.ports.ssl, {
        ca,
        cert: readFileSync(target.certs.clientCert),
        key: readFileSync(target.certs.clientKey),
      });
      assert.equal(ok.kind, "answered", JSON.stringify(ok));
      const kafka = new Kafka({
        clientId: "sec-after",
        brokers: [target.saslSsl],
        ssl: { ca: [ca.toString()] },
        sasl: { mechanism: "scram-sha-512", username: USERS.scram.name, password: USERS.scram.password },
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      const listed = await admin.listTopics();
      await admin.disconnect();
      assert.ok(Array.isArray(listed));
    });
  });
});

function firstMatch(text: string, re: RegExp): string {
  return (re.exec(text)?.[0] ?? "").trim().slice(0, 300);
}

type TlsOutcome = { kind: "answered"; bytes: number } | { kind: "refused"; how: string };

/**
 * Connects with TLS to a listener, sends ApiVersions v3 and reports whether an answer came back or the
 * connection was refused (a handshake error, an alert, or a close without an answer). Bounded: 10 s.
 */
function tlsApiVersions(port: number, options: Omit<ConnectionOptions, "host" | "port">): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ...options });
    let got = Buffer.alloc(0);
    let done = false;
    const finish = (o: TlsOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ kind: "refused", how: "no answer in 10 s" }), 10_000);
    socket.once("secureConnect", () => {
      socket.write(
        encodeRequestFrame(
          { requestApiKey: ApiKey.ApiVersions, requestApiVersion: 3, correlationId: 1, clientId: "sec-tls" },
          createApiVersionsRequest({ clientSoftwareName: "tskafka-test", clientSoftwareVersion: "1" }),
        ),
      );
    });
    socket.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) finish({ kind: "answered", bytes: got.length });
    });
    socket.once("error", (e) =>
      finish({ kind: "refused", how: `${(e as NodeJS.ErrnoException).code ?? ""} ${e.message}` }),
    );
    socket.once("close", () => finish({ kind: "refused", how: "closed without an answer" }));
  });
}
