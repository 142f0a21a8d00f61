import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { EtcdClusterMetadata } from "../src/cluster/etcd-metadata.js";
import { isStale } from "../src/cluster/metadata.js";
import { ErrorCode } from "../src/errors.js";
import { RawClient } from "./clients/raw-client.js";
import { freePort, haveCommand, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { startTestEtcd, type EtcdHandle } from "./etcd-fixture.js";

/**
 * Replication over a SASL_PLAINTEXT inter-broker listener (inter.broker.listener.name, PLAIN with
 * sasl.mechanism.inter.broker.protocol): followers log in to their leader with the username and password
 * of the listener's JAAS config, as Kafka's brokers do, while clients use the PLAINTEXT listener. A
 * follower with a wrong password cannot fetch, and leaves the ISR.
 */

const TOPIC = "over-sasl";
const jaas = (password: string): string =>
  `org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="${password}" user_broker="secret";`;

let etcd: EtcdHandle;
let observer: EtcdClusterMetadata;
const brokers = new Map<number, BrokerProcess>();

/** The brokers' last lines but connections, for a failed assertion. */
function logs(): string {
  return [...brokers.values()]
    .map((b) =>
      b
        .output()
        .split("\n")
        .filter((l) => !l.includes(" connection "))
        .slice(-12)
        .join("\n"),
    )
    .join("\n---\n");
}

async function start(nodeId: number, password: string): Promise<BrokerProcess> {
  const saslPort = await freePort();
  const b = await startBroker({
    properties: {
      "etcd.endpoints": etcd.endpoint,
      "node.id": nodeId,
      listeners: `PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
      "inter.broker.listener.name": "SASL_PLAINTEXT",
      "sasl.enabled.mechanisms": "PLAIN",
      "sasl.mechanism.inter.broker.protocol": "PLAIN",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas(password),
      "replica.lag.time.max.ms": 1500,
      "replica.fetch.backoff.ms": 100,
    },
  });
  brokers.set(nodeId, b);
  return b;
}

describe(
  "replication over a SASL inter-broker listener",
  { skip: skipUnless(haveCommand("etcd"), "etcd"), timeout: 60_000 },
  () => {
    before(async () => {
      etcd = await startTestEtcd();
      observer = await EtcdClusterMetadata.open({ endpoints: [etcd.endpoint], nodeId: 100 });
      // Broker 3 logs in with a wrong password.
      await Promise.all([start(1, "secret"), start(2, "secret"), start(3, "wrong")]);
      await waitFor("three brokers registered", () => observer.brokers().length === 3, 15_000);
      const created = await observer.createTopic(TOPIC, 1, { "min.insync.replicas": "2" }, [[1, 2, 3]]);
      assert.ok(!isStale(created));
    });
    after(async () => {
      for (const b of brokers.values()) await b.stop();
      for (const b of brokers.values()) await b.cleanup();
      await observer?.close();
      await etcd?.close();
    });

    test("followers with the listener's login replicate; one with a wrong password leaves the ISR", async () => {
      const leader = await RawClient.connect(brokers.get(1)!.port, { requestTimeoutMs: 20_000 });
      try {
        const deadline = Date.now() + 15_000;
        let answer = await leader.produce(TOPIC, 0, [{ value: "over-sasl-1" }], -1);
        while (answer.errorCode !== ErrorCode.NONE && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          answer = await leader.produce(TOPIC, 0, [{ value: "over-sasl-1" }], -1);
        }
        assert.equal(answer.errorCode, ErrorCode.NONE);
        await waitFor("the ISR without broker 3", () => observer.partitionStates(TOPIC)?.[0]?.isr.join() === "1,2");
        const segment = (b: BrokerProcess) => readFile(join(b.dataDir, `${TOPIC}-0`, "00000000000000000000.log"));
        assert.ok((await segment(brokers.get(2)!)).includes("over-sasl-1"), `broker 2 has the record\n${logs()}`);
        assert.ok(!(await segment(brokers.get(3)!).catch(() => Buffer.alloc(0))).includes("over-sasl-1"));
        assert.ok(brokers.get(1)!.output().includes("on listener SASL_PLAINTEXT"), "followers came in over SASL");
        assert.match(brokers.get(3)!.output(), /replica fetcher for leader 1: .*(authentication|SASL|password)/i);
      } finally {
        leader.close();
      }
    });
  },
);
