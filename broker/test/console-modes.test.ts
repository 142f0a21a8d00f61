import assert from "node:assert/strict";
import { after, test } from "node:test";
import kafkajs from "kafkajs";

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } = kafkajs;
import { startBroker, waitFor, type BrokerProcess } from "./harness.js";

/**
 * What the console may do (http.console) when the broker has an authorizer: off by default, read-only on
 * request, and read-write under the ACLs of User:ANONYMOUS, exactly as any client on the PLAINTEXT listener.
 */

const AUTHZ = {
  "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
  "allow.everyone.if.no.acl.found": "true",
};
const started: BrokerProcess[] = [];

after(async () => {
  for (const b of started) {
    await b.stop();
    await b.cleanup();
  }
});

async function start(properties: Record<string, string>): Promise<{ broker: BrokerProcess; url: string }> {
  const broker = await startBroker({ properties, args: ["--http-port", "0"] });
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

test("with an authorizer and no http.console, the console is off: a note at /, nothing else", async () => {
  const { url } = await start(AUTHZ);
  const home = await fetch(`${url}/`);
  assert.equal(home.status, 200);
  assert.match(await home.text(), /The console is off: authorizer\.class\.name is set/);
  assert.equal((await fetch(`${url}/topics`)).status, 404);
  assert.equal((await post(`${url}/topics`, { name: "t" })).status, 404);
  assert.equal((await fetch(`${url}/metrics`)).status, 200);
});

test("http.console=read-only shows the topics and refuses every action", async () => {
  const { broker, url } = await start({ ...AUTHZ, "http.console": "read-only" });
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: "seen", numPartitions: 1 }] });
  } finally {
    await admin.disconnect();
  }
  const page = await (await fetch(`${url}/topics`)).text();
  assert.match(page, /seen/);
  assert.doesNotMatch(page, /Create topic/);
  const refused = await post(`${url}/topics`, { name: "made-by-console" });
  assert.equal(refused.status, 403);
  assert.match(await refused.text(), /read-only/);
});

test("http.console=read-write acts as User:ANONYMOUS under the ACLs", async () => {
  const { broker, url } = await start({ ...AUTHZ, "http.console": "read-write" });
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({
      // As Kafka: CREATE on the cluster allows every topic, so deny that and then the topic prefix.
      acl: [
        {
          resourceType: AclResourceTypes.CLUSTER,
          resourceName: "kafka-cluster",
          resourcePatternType: ResourcePatternTypes.LITERAL,
          principal: "User:ANONYMOUS",
          host: "*",
          operation: AclOperationTypes.CREATE,
          permissionType: AclPermissionTypes.DENY,
        },
        {
          resourceType: AclResourceTypes.TOPIC,
          resourceName: "denied-",
          resourcePatternType: ResourcePatternTypes.PREFIXED,
          principal: "User:ANONYMOUS",
          host: "*",
          operation: AclOperationTypes.CREATE,
          permissionType: AclPermissionTypes.DENY,
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  const denied = await post(`${url}/topics`, { name: "denied-orders" });
  assert.equal(denied.status, 400);
  assert.match(await denied.text(), /TOPIC_AUTHORIZATION_FAILED/);
  const made = await post(`${url}/topics`, { name: "orders" });
  assert.equal(made.status, 303);
  assert.equal(made.headers.get("location"), "/topics/orders?msg=Created%20topic%20orders");
  const gone = await post(`${url}/topics/orders/delete`, {});
  assert.equal(gone.status, 303);
  assert.equal(gone.headers.get("location"), "/topics?msg=Deleted%20topic%20orders");
  const missing = await fetch(`${url}/topics/orders`);
  assert.equal(missing.status, 400);
  assert.match(await missing.text(), /UNKNOWN_TOPIC_OR_PARTITION/);
  const badOffset = await fetch(`${url}/topics/orders/messages?offset=%3Cx%3E`);
  assert.equal(badOffset.status, 400);
  const security = await (await fetch(`${url}/security`)).text();
  // The cluster has an ACL now, so ANONYMOUS may not describe it: the console sees no more than that.
  assert.match(security, /describe ACLs: CLUSTER_AUTHORIZATION_FAILED/);
});
