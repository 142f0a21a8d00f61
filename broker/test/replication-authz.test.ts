import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ApiKey, createCreateAclsRequest } from "@tskafka/protocol";
import { EtcdClusterMetadata } from "../src/cluster/etcd-metadata.js";
import { isStale } from "../src/cluster/metadata.js";
import { ErrorCode } from "../src/errors.js";
import { AclOperation, CLUSTER_RESOURCE, ResourceType } from "../src/security/acl.js";
import { STANDARD_AUTHORIZER_CLASS } from "../src/security/standard-authorizer.js";
import { RawClient } from "./clients/raw-client.js";
import { freePort, haveCommand, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { startTestEtcd, type EtcdHandle } from "./etcd-fixture.js";

/**
 * Replication under Kafka's StandardAuthorizer: a follower's Fetch needs CLUSTER_ACTION on the cluster, as
 * Kafka's leader checks it (without it every partition is answered TOPIC_AUTHORIZATION_FAILED). Brokers 1
 * and 2 log in on the SASL_PLAINTEXT inter-broker listener as User:broker, a super user, and replicate;
 * broker 3 logs in as User:broker3, which may do nothing: it gets no records and leaves the ISR, until
 * an ACL allows it CLUSTER_ACTION, when it catches up and rejoins. Clients use the PLAINTEXT listener as
 * User:ANONYMOUS (a super user here, to produce and to create the ACL).
 */

const TOPIC = "guarded";
const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="USER" password="secret" ' +
  'user_broker="secret" user_broker3="secret";';

let etcd: EtcdHandle;
let observer: EtcdClusterMetadata;
const brokers = new Map<number, BrokerProcess>();

async function start(nodeId: number, user: string): Promise<BrokerProcess> {
  const saslPort = await freePort();
  const b = await startBroker({
    timeoutMs: 60_000,
    properties: {
      "etcd.endpoints": etcd.endpoint,
      "node.id": nodeId,
      listeners: `PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
      "inter.broker.listener.name": "SASL_PLAINTEXT",
      "sasl.enabled.mechanisms": "PLAIN",
      "sasl.mechanism.inter.broker.protocol": "PLAIN",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS.replace("USER", user),
      "authorizer.class.name": STANDARD_AUTHORIZER_CLASS,
      "super.users": "User:broker;User:ANONYMOUS",
      "replica.lag.time.max.ms": 1500,
      "replica.fetch.wait.max.ms": 200,
      "replica.fetch.backoff.ms": 100,
    },
  });
  brokers.set(nodeId, b);
  return b;
}

const isr = (): string => [...(observer.partitionStates(TOPIC)?.[0]?.isr ?? [])].sort().join();
const segment = (nodeId: number): Promise<Buffer> =>
  readFile(join(brokers.get(nodeId)!.dataDir, `${TOPIC}-0`, "00000000000000000000.log")).catch(() => Buffer.alloc(0));

describe(
  "replication under an authorizer: the follower's principal needs CLUSTER_ACTION",
  { skip: skipUnless(haveCommand("etcd"), "etcd"), timeout: 120_000 },
  () => {
    before(async () => {
      etcd = await startTestEtcd();
      observer = await EtcdClusterMetadata.open({ endpoints: [etcd.endpoint], nodeId: 100 });
      for (const [id, user] of [
        [1, "broker"],
        [2, "broker"],
        [3, "broker3"],
      ] as const)
        await start(id, user);
      await waitFor("three brokers registered", () => observer.brokers().length === 3, 15_000);
      assert.ok(!isStale(await observer.createTopic(TOPIC, 1, { "min.insync.replicas": "2" }, [[1, 2, 3]])));
    });
    after(async () => {
      for (const b of brokers.values()) await b.stop();
      for (const b of brokers.values()) await b.cleanup();
      await observer?.close();
      await etcd?.close();
    });

    test("a super user replicates; one without CLUSTER_ACTION gets nothing until an ACL allows it", async () => {
      const client = await RawClient.connect(brokers.get(1)!.port, { requestTimeoutMs: 20_000 });
      try {
        const deadline = Date.now() + 15_000;
        let answer = await client.produce(TOPIC, 0, [{ value: "guarded-1" }], -1);
        while (answer.errorCode !== ErrorCode.NONE && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          answer = await client.produce(TOPIC, 0, [{ value: "guarded-1" }], -1);
        }
        assert.equal(answer.errorCode, ErrorCode.NONE);
        await waitFor("the ISR without broker 3", () => isr() === "1,2", 15_000);
        assert.ok((await segment(2)).includes("guarded-1"), "broker 2 (a super user) has the record");
        assert.ok(!(await segment(3)).includes("guarded-1"), "broker 3 (no CLUSTER_ACTION) has not");

        const created = await client.request(
          ApiKey.CreateAcls,
          3,
          createCreateAclsRequest({
            creations: [
              {
                resourceType: ResourceType.CLUSTER,
                resourceName: CLUSTER_RESOURCE,
                resourcePatternType: 3, // LITERAL
                principal: "User:broker3",
                host: "*",
                operation: AclOperation.CLUSTER_ACTION,
                permissionType: 3, // ALLOW
              },
            ],
          }),
        );
        assert.equal(created.results[0]!.errorCode, ErrorCode.NONE);
        await waitFor("broker 3 back in the ISR", () => isr() === "1,2,3", 20_000);
        assert.ok((await segment(3)).includes("guarded-1"), "broker 3 caught up");
      } finally {
        client.close();
      }
    });
  },
);
