import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { startBroker, type BrokerProcess } from "./harness.js";

/** The admin APIs through KafkaJS's admin client, against the broker as a process. */

let broker: BrokerProcess;
let kafka: Kafka;
let admin: Admin;

before(async () => {
  broker = await startBroker({ properties: { "log.retention.check.interval.ms": 100, "num.partitions": 2 } });
  kafka = new Kafka({
    clientId: "admin-test",
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await admin?.disconnect();
  await broker?.cleanup();
});

interface KafkaJSError {
  type?: string;
  errors?: KafkaJSError[];
  cause?: KafkaJSError;
  partitions?: { error?: KafkaJSError }[];
}

/** The Kafka error type inside what KafkaJS threw (aggregates, per-partition errors, retry wrappers). */
function kafkaType(e: KafkaJSError | undefined): string | undefined {
  if (e === undefined) return undefined;
  return kafkaType(e.errors?.[0]) ?? kafkaType(e.partitions?.[0]?.error) ?? e.type ?? kafkaType(e.cause);
}

async function errorType(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return kafkaType(e as KafkaJSError) ?? String(e);
  }
  return "no error";
}

test("createTopics: defaults, explicit counts, duplicates and validateOnly", { timeout: 15_000 }, async () => {
  assert.equal(await admin.createTopics({ topics: [{ topic: "a1", numPartitions: 3 }] }), true);
  assert.equal(await admin.createTopics({ topics: [{ topic: "a-default" }] }), true);
  assert.equal(await admin.createTopics({ topics: [{ topic: "a1", numPartitions: 3 }] }), false, "already exists");
  assert.equal(
    await admin.createTopics({
      topics: [{ topic: "a-validate", numPartitions: 1 }],
      validateOnly: true,
      waitForLeaders: false,
    }),
    true,
  );
  const meta = await admin.fetchTopicMetadata({ topics: ["a1", "a-default"] });
  const byName = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  assert.equal(byName.get("a1"), 3);
  assert.equal(byName.get("a-default"), 2, "num.partitions of the broker");
  assert.ok(!(await admin.listTopics()).includes("a-validate"), "validateOnly creates nothing");
});

test(
  "createTopics errors: name, replication factor, partitions, configs, collisions",
  { timeout: 15_000 },
  async () => {
    assert.equal(await errorType(admin.createTopics({ topics: [{ topic: "bad/name" }] })), "INVALID_TOPIC_EXCEPTION");
    assert.equal(
      await errorType(admin.createTopics({ topics: [{ topic: "x".repeat(250) }] })),
      "INVALID_TOPIC_EXCEPTION",
    );
    assert.equal(
      await errorType(admin.createTopics({ topics: [{ topic: "rf3", replicationFactor: 3 }] })),
      "INVALID_REPLICATION_FACTOR",
    );
    assert.equal(
      await errorType(admin.createTopics({ topics: [{ topic: "p0", numPartitions: 0 }] })),
      "INVALID_PARTITIONS",
    );
    const bad = (name: string, value: string) =>
      errorType(admin.createTopics({ topics: [{ topic: `cfg-${name}`, configEntries: [{ name, value }] }] }));
    assert.equal(await bad("retention.ms", "soon"), "INVALID_CONFIG");
    assert.equal(await bad("segment.bytes", "10"), "INVALID_CONFIG");
    assert.equal(await bad("no.such.config", "1"), "INVALID_CONFIG");
    assert.equal(await bad("cleanup.policy", "shred"), "INVALID_CONFIG");
    assert.equal(await bad("message.timestamp.type", "Whenever"), "INVALID_CONFIG");
    assert.equal(await admin.createTopics({ topics: [{ topic: "dot.ted" }] }), true);
    assert.equal(await errorType(admin.createTopics({ topics: [{ topic: "dot_ted" }] })), "INVALID_TOPIC_EXCEPTION");
    // Manual assignment naming another broker.
    assert.equal(
      await errorType(
        admin.createTopics({ topics: [{ topic: "assigned", replicaAssignment: [{ partition: 0, replicas: [7] }] }] }),
      ),
      "INVALID_REPLICA_ASSIGNMENT",
    );
    assert.equal(
      await admin.createTopics({
        topics: [
          {
            topic: "assigned",
            replicaAssignment: [
              { partition: 0, replicas: [1] },
              { partition: 1, replicas: [1] },
            ],
          },
        ],
      }),
      true,
    );
    const meta = await admin.fetchTopicMetadata({ topics: ["assigned"] });
    assert.equal(meta.topics[0]?.partitions.length, 2);
    const topics = await admin.listTopics();
    for (const t of ["rf3", "p0", "cfg-retention.ms", "dot_ted"])
      assert.ok(!topics.includes(t), `${t} was not created`);
  },
);

test("createPartitions: increase, no decrease, validateOnly", { timeout: 15_000 }, async () => {
  await admin.createTopics({ topics: [{ topic: "grow", numPartitions: 1 }] });
  await admin.createPartitions({ topicPartitions: [{ topic: "grow", count: 4 }] });
  await admin.createPartitions({ topicPartitions: [{ topic: "grow", count: 9 }], validateOnly: true });
  const meta = await admin.fetchTopicMetadata({ topics: ["grow"] });
  assert.equal(meta.topics[0]?.partitions.length, 4);
  assert.equal(
    await errorType(admin.createPartitions({ topicPartitions: [{ topic: "grow", count: 2 }] })),
    "INVALID_PARTITIONS",
  );
  assert.equal(
    await errorType(admin.createPartitions({ topicPartitions: [{ topic: "grow", count: 4 }] })),
    "INVALID_PARTITIONS",
  );
  assert.equal(
    await errorType(admin.createPartitions({ topicPartitions: [{ topic: "nope", count: 4 }] })),
    "UNKNOWN_TOPIC_OR_PARTITION",
  );
  // The new partitions take writes.
  const producer = kafka.producer();
  await producer.connect();
  const [res] = await producer.send({ topic: "grow", messages: [{ value: "x", partition: 3 }] });
  await producer.disconnect();
  assert.equal(res?.partition, 3);
  assert.equal(res?.errorCode, 0);
});

test("describeConfigs and alterConfigs on a topic and the broker", { timeout: 15_000 }, async () => {
  await admin.createTopics({
    topics: [{ topic: "conf", configEntries: [{ name: "retention.ms", value: "3600000" }] }],
  });
  const describe = async () => {
    const r = await admin.describeConfigs({ resources: [{ type: 2, name: "conf" }], includeSynonyms: true });
    const res = r.resources[0]!;
    assert.equal(res.errorCode, 0);
    return new Map(res.configEntries.map((e) => [e.configName, e]));
  };
  let configs = await describe();
  assert.equal(configs.get("retention.ms")?.configValue, "3600000");
  assert.equal(configs.get("retention.ms")?.configSource, 1, "DYNAMIC_TOPIC_CONFIG");
  assert.equal(configs.get("segment.bytes")?.configValue, "1073741824");
  assert.equal(configs.get("segment.bytes")?.configSource, 5, "DEFAULT_CONFIG");
  assert.equal(configs.get("cleanup.policy")?.readOnly, false);

  // Legacy AlterConfigs replaces the whole set: retention.ms goes back to the default.
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: 2, name: "conf", configEntries: [{ name: "max.message.bytes", value: "2000" }] }],
  });
  configs = await describe();
  assert.equal(configs.get("max.message.bytes")?.configValue, "2000");
  assert.equal(configs.get("retention.ms")?.configValue, "604800000");
  assert.equal(configs.get("retention.ms")?.configSource, 5);

  // The new max.message.bytes applies to produce at once.
  const producer = kafka.producer();
  await producer.connect();
  await assert.rejects(
    producer.send({ topic: "conf", messages: [{ value: Buffer.alloc(5000) }] }),
    /larger than the max message size/,
  );
  await producer.disconnect();

  // Bad values and unknown topics.
  await assert.rejects(
    admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: "conf", configEntries: [{ name: "retention.ms", value: "x" }] }],
    }),
    (e: { type?: string }) => e.type === "INVALID_CONFIG",
  );
  await assert.rejects(
    admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: "ghost", configEntries: [{ name: "retention.ms", value: "1" }] }],
    }),
    (e: { type?: string }) => e.type === "UNKNOWN_TOPIC_OR_PARTITION",
  );
  await assert.rejects(
    admin.describeConfigs({ resources: [{ type: 2, name: "ghost" }], includeSynonyms: false }),
    (e: { type?: string }) => e.type === "UNKNOWN_TOPIC_OR_PARTITION",
  );

  // The broker: its server.properties values, read-only; explicit ones are STATIC_BROKER_CONFIG.
  const b = await admin.describeConfigs({
    resources: [{ type: 4, name: "1", configNames: ["num.partitions", "log.segment.bytes"] }],
    includeSynonyms: false,
  });
  const entries = new Map(b.resources[0]!.configEntries.map((e) => [e.configName, e]));
  assert.equal(entries.size, 2);
  assert.equal(entries.get("num.partitions")?.configValue, "2");
  assert.equal(entries.get("num.partitions")?.configSource, 4);
  assert.equal(entries.get("num.partitions")?.readOnly, true);
  assert.equal(entries.get("log.segment.bytes")?.configSource, 5);
  await assert.rejects(
    admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 4, name: "1", configEntries: [{ name: "num.partitions", value: "3" }] }],
    }),
    (e: { type?: string }) => e.type === "INVALID_REQUEST",
  );
});

test("a retention change applies to the partition's existing log", { timeout: 20_000 }, async () => {
  await admin.createTopics({
    topics: [{ topic: "ret", numPartitions: 1, configEntries: [{ name: "internal.segment.bytes", value: "300" }] }],
  });
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < 12; i++) await producer.send({ topic: "ret", messages: [{ value: Buffer.alloc(200, i) }] });
  await producer.disconnect();
  const dir = join(broker.dataDir, "ret-0");
  const segments = async () => (await readdir(dir)).filter((f) => f.endsWith(".log")).length;
  assert.ok((await segments()) >= 6, "internal.segment.bytes=300 rolls a segment for about every batch");
  const low = async () => Number((await admin.fetchTopicOffsets("ret"))[0]!.low);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await low(), 0, "nothing is deleted while retention is unlimited");

  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: 2,
        name: "ret",
        configEntries: [
          { name: "internal.segment.bytes", value: "300" },
          { name: "retention.bytes", value: "600" },
        ],
      },
    ],
  });
  const deadline = Date.now() + 10_000;
  // A deleted segment's files go once no read or flush holds it any more: after the log start moved.
  const settled = async () => (await low()) > 0 && (await segments()) <= 4;
  while (!(await settled()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok((await low()) > 0, "old segments were deleted by retention.bytes");
  assert.ok((await segments()) <= 4, `few segments are left (${await segments()})`);
  assert.equal(Number((await admin.fetchTopicOffsets("ret"))[0]!.high), 12);
});

test(
  "deleteTopicRecords moves the low watermark; past the high watermark is refused",
  { timeout: 15_000 },
  async () => {
    await admin.createTopics({ topics: [{ topic: "recs", numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: "recs", messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) });
    await producer.disconnect();
    // KafkaJS finds partition leaders in the metadata it holds: load the topic's first.
    assert.equal((await admin.fetchTopicOffsets("recs"))[0]?.high, "10");
    await admin.deleteTopicRecords({ topic: "recs", partitions: [{ partition: 0, offset: "4" }] });
    let offsets = await admin.fetchTopicOffsets("recs");
    assert.equal(offsets[0]?.low, "4");
    assert.equal(
      await errorType(admin.deleteTopicRecords({ topic: "recs", partitions: [{ partition: 0, offset: "50" }] })),
      "OFFSET_OUT_OF_RANGE",
    );
    await admin.deleteTopicRecords({ topic: "recs", partitions: [{ partition: 0, offset: "-1" }] });
    offsets = await admin.fetchTopicOffsets("recs");
    assert.equal(offsets[0]?.low, "10", "-1 deletes up to the high watermark");
    assert.equal(offsets[0]?.high, "10");
  },
);

test("deleteTopics and describeCluster", { timeout: 15_000 }, async () => {
  await admin.createTopics({ topics: [{ topic: "doomed", numPartitions: 2 }] });
  await admin.deleteTopics({ topics: ["doomed"] });
  assert.ok(!(await admin.listTopics()).includes("doomed"));
  assert.equal(await errorType(admin.deleteTopics({ topics: ["doomed"] })), "UNKNOWN_TOPIC_OR_PARTITION");
  // The name is free again.
  assert.equal(await admin.createTopics({ topics: [{ topic: "doomed", numPartitions: 1 }] }), true);
  const cluster = await admin.describeCluster();
  assert.equal(cluster.controller, 1);
  assert.deepEqual(
    cluster.brokers.map((b) => [b.nodeId, b.port]),
    [[1, broker.port]],
  );
  assert.ok(cluster.clusterId.length > 0);
});
