import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { haveJava, javaResult } from "./clients/run.js";
import { skipUnless, startBroker, type BrokerProcess } from "./harness.js";
import { tempDir, type TempDir } from "./temp.js";

/**
 * Dynamic broker configs through real admin clients (KafkaJS and Kafka 3.9's kafka-configs): set
 * cluster-wide and for this node, described with Kafka's sources and synonyms, applied to the logs and
 * produce path at once, and kept across a restart.
 */

const BROKER = 4;
const Source = { TOPIC: 1, DYNAMIC_BROKER: 2, DYNAMIC_DEFAULT: 3, STATIC: 4, DEFAULT: 5 } as const;

let work: TempDir;
let dataDir: string;
let broker: BrokerProcess;
let admin: Admin;

const properties = { "log.retention.check.interval.ms": 100, "log.segment.bytes": 4 * 1024 * 1024 };

async function connect(): Promise<void> {
  broker = await startBroker({ dataDir, properties });
  admin = new Kafka({ clientId: "broker-configs", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
}

before(async () => {
  work = await tempDir("tskafka-broker-configs-");
  dataDir = join(work.dir, "data");
  await connect();
});

after(async () => {
  await admin?.disconnect();
  await broker?.cleanup();
  await work?.cleanup();
});

async function describe(type: number, name: string, configNames?: string[]) {
  const res = await admin.describeConfigs({
    resources: [{ type, name, ...(configNames ? { configNames } : {}) }],
    includeSynonyms: true,
  });
  return new Map(res.resources[0]!.configEntries.map((e) => [e.configName, e]));
}

const synonyms = (
  e: { configSynonyms: { configName: string; configValue: string; configSource: number }[] } | undefined,
) => (e?.configSynonyms ?? []).map((s) => `${s.configSource}:${s.configName}=${s.configValue}`);

const segmentFiles = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith(".log")).length;

async function produce(topic: string, count: number, size: number): Promise<void> {
  const producer = new Kafka({ clientId: "p", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer({
    retry: { retries: 0 },
  });
  await producer.connect();
  try {
    for (let i = 0; i < count; i++)
      await producer.send({ topic, acks: 1, messages: [{ value: Buffer.alloc(size, i) }] });
  } finally {
    await producer.disconnect();
  }
}

// KafkaJS refuses the resource name "" itself, so the cluster-wide default is exercised by kafka-configs below.
test(
  "KafkaJS: this node's dynamic configs apply to topics without overrides and survive a restart",
  { timeout: 40_000 },
  async () => {
    await admin.createTopics({
      topics: [
        { topic: "seg", numPartitions: 1 },
        { topic: "own", numPartitions: 1, configEntries: [{ name: "segment.bytes", value: "8388608" }] },
      ],
    });

    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: BROKER, name: "1", configEntries: [{ name: "log.segment.bytes", value: "1048576" }] }],
    });
    let node = await describe(BROKER, "1", ["log.segment.bytes", "num.partitions"]);
    assert.equal(node.get("log.segment.bytes")?.configValue, "1048576");
    assert.equal(node.get("log.segment.bytes")?.configSource, Source.DYNAMIC_BROKER);
    assert.equal(node.get("log.segment.bytes")?.readOnly, false);
    assert.deepEqual(synonyms(node.get("log.segment.bytes")), [
      `${Source.DYNAMIC_BROKER}:log.segment.bytes=1048576`,
      `${Source.STATIC}:log.segment.bytes=4194304`,
      `${Source.DEFAULT}:log.segment.bytes=1073741824`,
    ]);
    assert.equal(node.get("num.partitions")?.readOnly, true);

    // A topic without its own segment.bytes follows the broker's; one with it keeps it.
    const seg = await describe(2, "seg", ["segment.bytes"]);
    assert.equal(seg.get("segment.bytes")?.configValue, "1048576");
    assert.equal(seg.get("segment.bytes")?.configSource, Source.DYNAMIC_BROKER);
    const own = await describe(2, "own", ["segment.bytes"]);
    assert.equal(own.get("segment.bytes")?.configValue, "8388608");
    assert.deepEqual(synonyms(own.get("segment.bytes")).slice(0, 2), [
      `${Source.TOPIC}:segment.bytes=8388608`,
      `${Source.DYNAMIC_BROKER}:log.segment.bytes=1048576`,
    ]);

    // 2.4 MB each: several segments at the lowered 1 MiB (Kafka 4's minimum), one at 8 MiB.
    await produce("seg", 8, 300_000);
    await produce("own", 8, 300_000);
    assert.ok((await segmentFiles(join(dataDir, "seg-0"))) >= 2, "the lowered log.segment.bytes rolls the open log");
    assert.equal(await segmentFiles(join(dataDir, "own-0")), 1);

    // The legacy AlterConfigs KafkaJS sends replaces the whole set; retention applies to the existing log.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: BROKER,
          name: "1",
          configEntries: [
            { name: "log.retention.bytes", value: "600" },
            { name: "message.max.bytes", value: "500" },
          ],
        },
      ],
    });
    node = await describe(BROKER, "1", ["log.retention.bytes", "message.max.bytes"]);
    assert.equal(node.get("log.retention.bytes")?.configSource, Source.DYNAMIC_BROKER);
    assert.deepEqual(synonyms(node.get("message.max.bytes")), [
      `${Source.DYNAMIC_BROKER}:message.max.bytes=500`,
      `${Source.DEFAULT}:message.max.bytes=1048588`,
    ]);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [p] = await admin.fetchTopicOffsets("seg");
      if (Number(p!.low) > 0) break;
      assert.ok(Date.now() < deadline, "retention by the dynamic log.retention.bytes deletes old segments");
      await new Promise((r) => setTimeout(r, 100));
    }
    await assert.rejects(produce("seg", 1, 1000), (e: { type?: string }) => e.type === "MESSAGE_TOO_LARGE");
    await produce("seg", 1, 100);

    // Keys Kafka cannot change at runtime, and bad values are refused (KafkaJS shows only the code).
    await assert.rejects(
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: BROKER, name: "1", configEntries: [{ name: "num.partitions", value: "3" }] }],
      }),
      (e: { type?: string }) => e.type === "INVALID_REQUEST",
    );
    await assert.rejects(
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: BROKER, name: "1", configEntries: [{ name: "message.max.bytes", value: "abc" }] }],
      }),
      (e: { type?: string }) => e.type === "INVALID_REQUEST",
    );
    // validateOnly changes nothing.
    await admin.alterConfigs({ validateOnly: true, resources: [{ type: BROKER, name: "1", configEntries: [] }] });
    assert.equal((await describe(BROKER, "1", ["message.max.bytes"])).get("message.max.bytes")?.configValue, "500");

    // A restart reads them back and applies them before serving.
    await admin.disconnect();
    assert.equal(await broker.stop(), 0);
    await connect();
    node = await describe(BROKER, "1", ["log.segment.bytes", "message.max.bytes"]);
    assert.equal(node.get("log.segment.bytes")?.configSource, Source.STATIC);
    assert.equal(node.get("message.max.bytes")?.configValue, "500");
    await assert.rejects(produce("seg", 1, 1000), (e: { type?: string }) => e.type === "MESSAGE_TOO_LARGE");

    // Removing this node's values falls back to the static and default ones.
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: BROKER, name: "1", configEntries: [] }] });
    await produce("seg", 1, 1000);
    const ret = await describe(2, "seg", ["retention.bytes", "max.message.bytes"]);
    assert.equal(ret.get("retention.bytes")?.configValue, "-1");
    assert.equal(ret.get("max.message.bytes")?.configSource, Source.DEFAULT);
  },
);

const skipJava = skipUnless(haveJava(), "Java and Kafka 3.9.1's jars");

/** Runs Kafka 3.9's kafka-configs (ConfigCommand, in the core jar); resolves with exit code and output, stdout then stderr. */
async function kafkaConfigs(...args: string[]): Promise<{ code: number | null; out: string }> {
  const r = await javaResult("kafka.admin.ConfigCommand", ["--bootstrap-server", broker.bootstrap, ...args], {
    timeoutMs: 30_000,
  });
  return { code: r.code, out: r.stdout + r.stderr };
}

test(
  "kafka-configs: --entity-default and --entity-name 1 alter incrementally and describe as Kafka does",
  { skip: skipJava, timeout: 60_000 },
  async () => {
    let r = await kafkaConfigs(
      "--entity-type",
      "brokers",
      "--entity-default",
      "--alter",
      "--add-config",
      "log.retention.bytes=123456,log.retention.ms=5000",
    );
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Completed updating default config for brokers in the cluster/);
    r = await kafkaConfigs(
      "--entity-type",
      "brokers",
      "--entity-name",
      "1",
      "--alter",
      "--add-config",
      "log.retention.ms=7000",
    );
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Completed updating config for broker 1/);

    r = await kafkaConfigs("--entity-type", "brokers", "--entity-default", "--describe");
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /log.retention.bytes=123456 sensitive=false synonyms=\{DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.bytes=123456\}/,
    );
    assert.match(
      r.out,
      /log.retention.ms=5000 sensitive=false synonyms=\{DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=5000\}/,
    );
    // kafka-configs alters incrementally: the second key leaves the first in place.
    r = await kafkaConfigs(
      "--entity-type",
      "brokers",
      "--entity-default",
      "--alter",
      "--add-config",
      "message.max.bytes=400",
    );
    assert.equal(r.code, 0, r.out);
    r = await kafkaConfigs("--entity-type", "brokers", "--entity-default", "--describe");
    assert.match(r.out, /log.retention.bytes=123456 /);
    assert.match(
      r.out,
      /message.max.bytes=400 sensitive=false synonyms=\{DYNAMIC_DEFAULT_BROKER_CONFIG:message.max.bytes=400\}/,
    );
    await assert.rejects(produce("seg", 1, 600), (e: { type?: string }) => e.type === "MESSAGE_TOO_LARGE");
    await produce("seg", 1, 100);

    r = await kafkaConfigs("--entity-type", "brokers", "--entity-name", "1", "--describe");
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /log.retention.ms=7000 sensitive=false synonyms=\{DYNAMIC_BROKER_CONFIG:log.retention.ms=7000, DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=5000, DEFAULT_CONFIG:log.retention.hours=168\}/,
    );

    // The topic's effective retention follows, with the same synonyms.
    r = await kafkaConfigs("--entity-type", "topics", "--entity-name", "seg", "--describe", "--all");
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /retention.ms=7000 sensitive=false synonyms=\{DYNAMIC_BROKER_CONFIG:log.retention.ms=7000, DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=5000, DEFAULT_CONFIG:log.retention.hours=168\}/,
    );
    assert.match(
      r.out,
      /retention.bytes=123456 sensitive=false synonyms=\{DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.bytes=123456, DEFAULT_CONFIG:log.retention.bytes=-1\}/,
    );

    r = await kafkaConfigs(
      "--entity-type",
      "brokers",
      "--entity-name",
      "1",
      "--alter",
      "--delete-config",
      "log.retention.ms",
    );
    assert.equal(r.code, 0, r.out);
    r = await kafkaConfigs("--entity-type", "topics", "--entity-name", "seg", "--describe", "--all");
    assert.match(
      r.out,
      /retention.ms=5000 sensitive=false synonyms=\{DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=5000, DEFAULT_CONFIG:log.retention.hours=168\}/,
    );

    r = await kafkaConfigs(
      "--entity-type",
      "brokers",
      "--entity-default",
      "--alter",
      "--add-config",
      "log.retention.hours=3",
    );
    assert.notEqual(r.code, 0);
    assert.match(r.out, /InvalidRequestException: Cannot update these configs dynamically: \[log.retention.hours\]/);
  },
);
