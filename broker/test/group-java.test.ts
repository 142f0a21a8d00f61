import assert from "node:assert/strict";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { haveJava, java } from "./clients/run.js";
import { skipUnless, startBroker } from "./harness.js";

/**
 * The Java client's consumer groups through ConsoleConsumer --group: the classic protocol and KIP-848
 * (group.protocol=consumer), each consuming, committing, and resuming from its commits.
 */

const skip = skipUnless(haveJava(), "java with the Kafka 3.9.1 jars");

function consoleGroup(bootstrap: string, group: string, max: number, extra: string[]) {
  return java(
    "org.apache.kafka.tools.consumer.ConsoleConsumer",
    [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      "jg",
      "--group",
      group,
      "--from-beginning",
      "--max-messages",
      String(max),
      "--timeout-ms",
      "20000",
      "--consumer-property",
      "fetch.max.wait.ms=100",
      "--consumer-property",
      "heartbeat.interval.ms=300",
      ...extra,
    ],
    { timeoutMs: 40_000 },
  ).then((r) => r.stdout.split("\n").filter((l) => l.startsWith("v")));
}

test("Java consumers in classic and KIP-848 groups consume, commit and resume", { skip, timeout: 90_000 }, async () => {
  const broker = await startBroker({
    properties: {
      "group.initial.rebalance.delay.ms": 0,
      "offsets.topic.num.partitions": 3,
      "group.consumer.heartbeat.interval.ms": 500,
    },
  });
  try {
    const kafka = new Kafka({ clientId: "java-group-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "jg", numPartitions: 3 }] });
    const producer = kafka.producer();
    await producer.connect();
    const send = (from: number, to: number) =>
      producer.send({
        topic: "jg",
        messages: Array.from({ length: to - from }, (_, i) => ({ value: `v${from + i}`, partition: (from + i) % 3 })),
      });
    await send(0, 30);

    const protocols: [string, string[]][] = [
      ["jclassic", []],
      ["j848", ["--consumer-property", "group.protocol=consumer"]],
    ];
    const first = await Promise.all(
      protocols.map(([group, extra]) => consoleGroup(broker.bootstrap, group, 30, extra)),
    );
    for (const got of first) assert.equal(new Set(got).size, 30);
    for (const [group] of protocols) {
      const offsets = await admin.fetchOffsets({ groupId: group, topics: ["jg"] });
      assert.deepEqual(
        offsets[0]!.partitions.map((p) => p.offset).sort(),
        ["10", "10", "10"],
        `${group} committed everything`,
      );
    }
    const listed = await admin.listGroups();
    assert.ok(listed.groups.some((g) => g.groupId === "j848"));

    await send(30, 36);
    const second = await Promise.all(
      protocols.map(([group, extra]) => consoleGroup(broker.bootstrap, group, 6, extra)),
    );
    for (const got of second)
      assert.deepEqual([...got].sort(), ["v30", "v31", "v32", "v33", "v34", "v35"], "resumed after the commits");

    const described = await java("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", [
      "--bootstrap-server",
      broker.bootstrap,
      "--describe",
      "--group",
      "j848",
    ]);
    assert.match(described.stdout, /j848\s+jg\s+\d\s+12\s+12\s+0/);
    await producer.disconnect();
    await admin.disconnect();
  } finally {
    await broker.cleanup();
  }
});
