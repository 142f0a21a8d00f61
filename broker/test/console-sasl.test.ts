import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import kafkajs from "kafkajs";
import { freePort, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { haveOpenssl, makeCertificates } from "./clients/security-target.js";

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } = kafkajs;

/**
 * The console on a secured broker: its own login (http.console.sasl.jaas.config) on a SASL listener, so
 * its requests carry User:console and the authorizer decides what it sees and does (auto mode stays on
 * because a principal was named for it); and over SASL_SSL with SCRAM-SHA-256, trusting the certificate
 * its own listener serves.
 */

const PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule required";
const SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule required";
const started: BrokerProcess[] = [];
const dirs: string[] = [];

after(async () => {
  for (const b of started) {
    await b.stop();
    await b.cleanup();
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(
  properties: Record<string, string | number>,
  args: string[] = [],
): Promise<{ broker: BrokerProcess; url: string }> {
  const broker = await startBroker({ properties, args: ["--http-port", "0", ...args] });
  started.push(broker);
  await waitFor("the HTTP listener's URL", () => /HTTP listener on (http:\/\/\S+):/.test(broker.output()), 10_000);
  return { broker, url: /HTTP listener on (http:\/\/\S+):/.exec(broker.output())![1]! };
}

function post(url: string, form: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

test("on SASL_PLAINTEXT with an authorizer: auto mode is on as User:console, and its ACLs decide", async () => {
  const saslPort = await freePort();
  const { url } = await start({
    listeners: `PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
    "sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_plaintext.plain.sasl.jaas.config": `${PLAIN} user_admin="admin-pw" user_console="console-pw";`,
    "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "super.users": "User:admin",
    "http.console.sasl.jaas.config": `${PLAIN} username="console" password="console-pw";`,
  });
  const home = await (await fetch(`${url}/`)).text();
  assert.match(home, /read-write · User:console/);

  const kafka = new Kafka({
    brokers: [`127.0.0.1:${saslPort}`],
    sasl: { mechanism: "plain", username: "admin", password: "admin-pw" },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: "visible" }, { topic: "hidden" }] });
    const allow = (resourceType: number, resourceName: string, pattern: number, operation: number) => ({
      resourceType,
      resourceName,
      resourcePatternType: pattern,
      principal: "User:console",
      host: "*",
      operation,
      permissionType: AclPermissionTypes.ALLOW,
    });
    await admin.createAcls({
      acl: [
        allow(AclResourceTypes.TOPIC, "visible", ResourcePatternTypes.LITERAL, AclOperationTypes.DESCRIBE),
        allow(AclResourceTypes.TOPIC, "console-", ResourcePatternTypes.PREFIXED, AclOperationTypes.CREATE),
        allow(AclResourceTypes.TOPIC, "console-", ResourcePatternTypes.PREFIXED, AclOperationTypes.DESCRIBE),
      ],
    });
  } finally {
    await admin.disconnect();
  }
  const topics = await (await fetch(`${url}/topics`)).text();
  assert.match(topics, /href="\/topics\/visible"/);
  assert.doesNotMatch(topics, /hidden/, "a topic User:console may not describe is not listed");

  const made = await post(`${url}/topics`, { name: "console-made" });
  assert.equal(made.status, 303);
  const refused = await post(`${url}/topics`, { name: "elsewhere" });
  assert.equal(refused.status, 400);
  assert.match(await refused.text(), /TOPIC_AUTHORIZATION_FAILED/);
  assert.match(await (await fetch(`${url}/topics`)).text(), /href="\/topics\/console-made"/);
});

test(
  "over SASL_SSL with SCRAM-SHA-256: the listener named for it, its own certificate trusted",
  { skip: skipUnless(haveOpenssl(), "openssl") },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "tskafka-console-tls-"));
    dirs.push(dir);
    const certs = makeCertificates(dir);
    const sslPort = await freePort();
    const { broker, url } = await start(
      {
        listeners: `PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:${sslPort}`,
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": certs.serverP12,
        "ssl.keystore.password": "store-pw",
        "sasl.enabled.mechanisms": "SCRAM-SHA-256",
        "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": `${SCRAM};`,
        "http.console": "read-only",
        "http.console.listener": "SASL_SSL",
        "http.console.sasl.mechanism": "SCRAM-SHA-256",
        "http.console.sasl.jaas.config": `${SCRAM} username="console" password="console-scram-pw";`,
      },
      ["--add-scram", "SCRAM-SHA-256=[name=console,password=console-scram-pw]"],
    );
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: "over-tls" }] });
    } finally {
      await admin.disconnect();
    }
    const res = await fetch(`${url}/topics`);
    const page = await res.text();
    assert.equal(res.status, 200, page);
    assert.match(page, /read-only · User:console/);
    assert.match(page, /href="\/topics\/over-tls"/);
    assert.match(broker.output(), /connection opened \S+ on listener SASL_SSL/);
  },
);

test("a SASL listener named for the console without a login: off, saying why", async () => {
  const saslPort = await freePort();
  const { url } = await start({
    listeners: `PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
    "sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_plaintext.plain.sasl.jaas.config": `${PLAIN} user_admin="admin-pw";`,
    "http.console.listener": "SASL_PLAINTEXT",
  });
  const home = await (await fetch(`${url}/`)).text();
  assert.match(home, /The console is off: listener SASL_PLAINTEXT is SASL_PLAINTEXT: the console needs a login/);
  assert.equal((await fetch(`${url}/topics`)).status, 404);
});
