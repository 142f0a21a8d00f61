import assert from "node:assert/strict";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { SYSTEM_PYTHON, haveKafkaPython, runOk } from "./clients/run.js";
import { skipUnless, startBroker } from "./harness.js";

/** kafka-python's group consumer: joins, consumes every message, commits, and the commit is fetched back. */

const skip = skipUnless(haveKafkaPython(), "kafka-python (python3-kafka)");

const SCRIPT = `
import sys
from kafka import KafkaConsumer, TopicPartition
bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                  enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=300,
                  consumer_timeout_ms=15000, fetch_max_wait_ms=100)
seen = []
for m in c:
    seen.append(m.value.decode())
    if len(seen) >= count:
        break
c.commit()
parts = sorted(p.partition for p in c.assignment())
committed = sum(c.committed(TopicPartition(topic, p)) or 0 for p in parts)
c.close()
print("seen", len(seen), "partitions", ",".join(map(str, parts)), "committed", committed)
`;

test("kafka-python group consumer consumes and commits", { skip, timeout: 60_000 }, async () => {
  const broker = await startBroker({
    properties: { "group.initial.rebalance.delay.ms": 0, "offsets.topic.num.partitions": 3 },
  });
  try {
    const kafka = new Kafka({ clientId: "python-group-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "pg", numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: "pg",
      messages: Array.from({ length: 20 }, (_, i) => ({ value: `p${i}`, partition: i % 2 })),
    });

    const r = await runOk(SYSTEM_PYTHON, ["-c", SCRIPT, broker.bootstrap, "pg", "pygrp", "20"], { timeoutMs: 40_000 });
    assert.match(r.stdout, /seen 20 partitions 0,1 committed 20/);
    const offsets = await admin.fetchOffsets({ groupId: "pygrp", topics: ["pg"] });
    assert.deepEqual(offsets[0]!.partitions.map((p) => p.offset).sort(), ["10", "10"]);
    const described = await admin.describeGroups(["pygrp"]);
    assert.equal(described.groups[0]!.state, "Empty", "the consumer left on close");
    await producer.disconnect();
    await admin.disconnect();
  } finally {
    await broker.cleanup();
  }
});
