import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { haveJava, javaResult } from "./clients/run.js";
import { skipUnless, startBroker, type BrokerProcess } from "./harness.js";

/** The admin APIs through Kafka 3.9's own tools (Java admin client): kafka-topics and kafka-configs. */

const skip = skipUnless(haveJava(), "Java and Kafka 3.9.1's jars");

let broker: BrokerProcess;

before(async () => {
  if (skip !== undefined) return;
  broker = await startBroker({ properties: { "log.retention.check.interval.ms": 100 } });
});

after(async () => {
  await broker?.cleanup();
});

/** Runs a Kafka tool against the broker; resolves with its exit code and output, stdout then stderr (bounded in time). */
async function tool(mainClass: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const r = await javaResult(mainClass, ["--bootstrap-server", broker.bootstrap, ...args], { timeoutMs: 30_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

const topics = (...args: string[]) => tool("org.apache.kafka.tools.TopicCommand", args);
// Kafka 3.9 still ships ConfigCommand in the core jar (it moves to tools in 4.0).
const configs = (...args: string[]) => tool("kafka.admin.ConfigCommand", args);

test(
  "kafka-topics: create, describe, alter partitions, delete, and its errors",
  { skip, timeout: 60_000 },
  async () => {
    let r = await topics(
      "--create",
      "--topic",
      "jt",
      "--partitions",
      "2",
      "--replication-factor",
      "1",
      "--config",
      "retention.ms=120000",
    );
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Created topic jt\./);

    r = await topics("--create", "--topic", "jt", "--partitions", "2");
    assert.notEqual(r.code, 0);
    assert.match(r.out, /Topic 'jt' already exists/);

    r = await topics("--create", "--topic", "jt-rf", "--partitions", "1", "--replication-factor", "3");
    assert.notEqual(r.code, 0);
    assert.match(r.out, /InvalidReplicationFactorException/);

    r = await topics("--describe", "--topic", "jt");
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /Topic: jt\tTopicId: \S+\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention.ms=120000/,
    );
    assert.match(r.out, /Partition: 1\tLeader: 1\tReplicas: 1\tIsr: 1/);

    r = await topics("--alter", "--topic", "jt", "--partitions", "5");
    assert.equal(r.code, 0, r.out);
    r = await topics("--alter", "--topic", "jt", "--partitions", "3");
    assert.notEqual(r.code, 0);
    assert.match(
      r.out,
      /InvalidPartitionsException: The topic jt currently has 5 partition\(s\); 3 would not be an increase/,
    );
    r = await topics("--describe", "--topic", "jt");
    assert.match(r.out, /PartitionCount: 5/);

    r = await topics("--delete", "--topic", "jt");
    assert.equal(r.code, 0, r.out);
    r = await topics("--list");
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /^jt$/m);
  },
);

test(
  "kafka-configs: alter and describe topic configs, static broker configs are read-only",
  { skip, timeout: 60_000 },
  async () => {
    assert.equal((await topics("--create", "--topic", "jc", "--partitions", "1")).code, 0);
    let r = await configs(
      "--entity-type",
      "topics",
      "--entity-name",
      "jc",
      "--alter",
      "--add-config",
      "retention.ms=5000,cleanup.policy=[compact,delete]",
    );
    assert.equal(r.code, 0, r.out);
    r = await configs("--entity-type", "topics", "--entity-name", "jc", "--describe");
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /retention.ms=5000 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:retention.ms=5000\}/);
    assert.match(r.out, /cleanup.policy=compact,delete/);

    // kafka-configs alters incrementally: a delete leaves the other override in place.
    r = await configs("--entity-type", "topics", "--entity-name", "jc", "--alter", "--delete-config", "cleanup.policy");
    assert.equal(r.code, 0, r.out);
    r = await configs("--entity-type", "topics", "--entity-name", "jc", "--describe");
    assert.doesNotMatch(r.out, /cleanup.policy/);
    assert.match(r.out, /retention.ms=5000/);

    r = await configs("--entity-type", "topics", "--entity-name", "jc", "--alter", "--add-config", "segment.bytes=1");
    assert.notEqual(r.code, 0);
    assert.match(
      r.out,
      /InvalidConfigurationException: Invalid value 1 for configuration segment.bytes: Value must be at least 1048576/,
    );

    r = await configs("--entity-type", "brokers", "--entity-name", "1", "--describe", "--all");
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      /log.retention.check.interval.ms=100 sensitive=false synonyms=\{STATIC_BROKER_CONFIG:log.retention.check.interval.ms=100, DEFAULT_CONFIG:log.retention.check.interval.ms=300000\}/,
    );
    r = await configs("--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config", "num.partitions=3");
    assert.notEqual(r.code, 0);
    assert.match(r.out, /InvalidRequestException: Cannot update these configs dynamically/);
  },
);
