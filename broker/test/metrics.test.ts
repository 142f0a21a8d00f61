import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import parsePrometheus, { type MetricFamily } from "parse-prometheus-text-format";
import { REPO_ROOT, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { withTempDir } from "./temp.js";

/**
 * The HTTP listener and its Prometheus metrics, on the broker as a process (`--http-port 0`): KafkaJS
 * produces and consumes, and `/metrics`, read by a Prometheus text parser, counts what was sent
 * (records and bytes in per topic, requests per API), the errors answered, the consumer group's lag,
 * connections, partitions and the process.
 */

const PROPS = { "group.initial.rebalance.delay.ms": 0, "offsets.topic.num.partitions": 1 };
const TOPIC = "metered";

let broker: BrokerProcess;
let url: string;

before(async () => {
  broker = await startBroker({ properties: PROPS, args: ["--http-port", "0"] });
  await waitFor("the HTTP listener's URL", () => /HTTP listener on (http:\/\/\S+):/.test(broker.output()), 10_000);
  url = /HTTP listener on (http:\/\/\S+):/.exec(broker.output())![1]!;
});

after(async () => {
  await broker?.stop();
  await broker?.cleanup();
});

interface Scrape {
  readonly text: string;
  readonly families: MetricFamily[];
}

async function scrape(): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, families: parsePrometheus(text) };
}

/**
 * A histogram's `_count` for one API. Read from the text: the parser folds the labeled series of a
 * histogram family into one (it expects a single unlabeled histogram per family).
 */
function latencyCount(m: Scrape, api: string): number {
  const line = new RegExp(`^tskafka_request_duration_seconds_count\\{api="${api}"\\} (\\d+)$`, "m").exec(m.text);
  return line === null ? 0 : Number(line[1]);
}

/** The sum of a family's samples whose labels include `labels` (0 when there are none). */
function sum(m: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = m.families.find((f) => f.name === name);
  let total = 0;
  for (const s of family?.metrics ?? []) {
    if (Object.entries(labels).every(([k, v]) => s.labels?.[k] === v)) total += Number(s.value);
  }
  return total;
}

/** `count` records of different sizes, keyed so that both partitions get some. */
function records(count: number, from: number): { key: string; value: string }[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `k${from + i}`,
    value: "x".repeat(10 + ((from + i) % 7) * 30),
  }));
}

test(
  "/metrics counts KafkaJS's produce and consume, errors, lag, connections and the process",
  { timeout: 60_000 },
  async () => {
    const kafka = new Kafka({ clientId: "metrics-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: TOPIC, numPartitions: 2 },
        { topic: "small", configEntries: [{ name: "max.message.bytes", value: "1000" }] },
      ],
    });
    await admin.disconnect();

    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    for (let i = 0; i < 5; i++) await producer.send({ topic: TOPIC, messages: records(10, i * 10) });
    let m = await scrape();
    assert.equal(sum(m, "tskafka_topic_messages_in_total", { topic: TOPIC }), 50);
    // Batches are stored as received: bytes in are the bytes of the log.
    const logBytes = sum(m, "tskafka_partition_log_size_bytes", { topic: TOPIC });
    assert.ok(logBytes > 50 * 10);
    assert.equal(sum(m, "tskafka_topic_bytes_in_total", { topic: TOPIC }), logBytes);
    assert.equal(sum(m, "tskafka_requests_total", { api: "Produce" }), 5);
    assert.equal(sum(m, "tskafka_requests_total", { api: "CreateTopics" }), 1);
    assert.equal(latencyCount(m, "Produce"), 5);

    // A batch over the topic's max.message.bytes: one partition error of Produce, nothing appended.
    await assert.rejects(producer.send({ topic: "small", messages: [{ value: "y".repeat(2000) }] }));
    m = await scrape();
    assert.equal(sum(m, "tskafka_request_errors_total", { api: "Produce" }), 1);
    assert.equal(sum(m, "tskafka_request_errors_total", { api: "Produce", error: "MESSAGE_TOO_LARGE" }), 1);
    assert.equal(sum(m, "tskafka_topic_messages_in_total", { topic: "small" }), 0);

    const consumer = kafka.consumer({ groupId: "meter-group", maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    let seen = 0;
    await consumer.run({ eachMessage: async () => void seen++ });
    await waitFor("50 records consumed", () => seen === 50, 20_000);
    await consumer.disconnect(); // commits what it consumed
    await producer.send({ topic: TOPIC, messages: records(7, 50) });
    await producer.disconnect();

    m = await scrape();
    assert.equal(sum(m, "tskafka_topic_messages_in_total", { topic: TOPIC }), 57);
    assert.equal(sum(m, "tskafka_topic_messages_out_total", { topic: TOPIC }), 50);
    assert.equal(sum(m, "tskafka_topic_bytes_out_total", { topic: TOPIC }), logBytes);
    assert.equal(sum(m, "tskafka_consumer_group_lag", { group: "meter-group", topic: TOPIC }), 7);
    assert.ok(sum(m, "tskafka_requests_total", { api: "Fetch" }) >= 1);
    assert.ok(sum(m, "tskafka_requests_total", { api: "OffsetCommit" }) >= 1);
    assert.ok(sum(m, "tskafka_partitions") >= 4, "metered (2), small and __consumer_offsets");

    const listener = { listener: "PLAINTEXT" };
    const created = sum(m, "tskafka_connections_created_total", listener);
    assert.ok(created >= 3, `${created} connections`);
    assert.equal(
      sum(m, "tskafka_connections_open", listener),
      created - sum(m, "tskafka_connections_closed_total", listener),
    );
    // prom-client's process metrics, on the broker's own registry.
    assert.ok(sum(m, "process_cpu_user_seconds_total") > 0);
    assert.ok(sum(m, "nodejs_heap_size_used_bytes") > 0);
  },
);

test("the HTTP listener serves the console at / (linking /metrics) and 404 elsewhere", async () => {
  const index = await fetch(`${url}/`);
  assert.equal(index.status, 200);
  assert.match(await index.text(), /href="\/metrics"/);
  assert.equal((await fetch(`${url}/nothing-here`)).status, 404);
});

test("a bad http.listener stops start-up naming the key", async () => {
  await withTempDir("tskafka-http-", async (dir) => {
    const file = join(dir, "server.properties");
    await writeFile(file, "http.listener=127.0.0.1:9644\n");
    for (const args of [
      ["--config", file],
      ["--http-port", "not-a-port"],
    ]) {
      const r = spawnSync(process.execPath, [join(REPO_ROOT, "broker/dist/src/main.js"), "--data-dir", dir, ...args], {
        encoding: "utf8",
        timeout: 10_000,
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /http\.listener=.*expected http:\/\/HOST:PORT/);
    }
  });
});
