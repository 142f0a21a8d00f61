import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import kafkajs from "kafkajs";
import { ApiKey } from "@tskafka/protocol";
import { startBroker, skipUnless, type BrokerProcess } from "./harness.js";
import { RawClient } from "./clients/raw-client.js";
import { haveKcat, kcatConsume } from "./clients/run.js";

// kafkajs is CommonJS; its named exports are not all visible to an ESM import.
const { Kafka, CompressionTypes, logLevel } = kafkajs;

/**
 * KafkaJS (only gzip is built in) producing to several partitions, read back by kcat without a group;
 * and KafkaJS consuming, which needs the group APIs.
 */

const PARTITIONS = 3;
const PER_PARTITION = 50;

describe("kafkajs", { timeout: 60_000 }, () => {
  let broker: BrokerProcess;
  let groupApis = false;
  before(async () => {
    broker = await startBroker({ properties: { "num.partitions": PARTITIONS } });
    const raw = await RawClient.connect(broker.port);
    groupApis = (await raw.servedApis()).has(ApiKey.FindCoordinator);
    raw.close();
  });
  after(async () => {
    await broker?.stop();
    await broker?.cleanup();
  });

  const messagesFor = (codec: string, p: number) =>
    Array.from({ length: PER_PARTITION }, (_, i) => ({
      partition: p,
      key: `${codec}-k${p}-${i}`,
      value: `${codec} value ${p}/${i} ${"y".repeat(i * 11)}`,
      headers: { codec, seq: String(i) },
    }));

  for (const [codec, type] of [
    ["none", CompressionTypes.None],
    ["gzip", CompressionTypes.GZIP],
  ] as const) {
    test(
      `producer with ${codec}, read back by kcat`,
      { skip: skipUnless(haveKcat(), "kcat"), timeout: 20_000 },
      async () => {
        const topic = `kafkajs-${codec}`;
        const kafka = new Kafka({
          clientId: "tskafka-test",
          brokers: [broker.bootstrap],
          logLevel: logLevel.NOTHING,
          retry: { retries: 2 },
        });
        const producer = kafka.producer({ allowAutoTopicCreation: true });
        await producer.connect();
        try {
          // Several sends per partition so batches of different sizes follow each other.
          for (let p = 0; p < PARTITIONS; p++) {
            const all = messagesFor(codec, p);
            for (let i = 0; i < all.length; i += 17) {
              const acks = await producer.send({ topic, compression: type, acks: -1, messages: all.slice(i, i + 17) });
              assert.equal(acks[0]!.errorCode, 0);
            }
          }
        } finally {
          await producer.disconnect();
        }
        for (let p = 0; p < PARTITIONS; p++) {
          const got = await kcatConsume(broker.bootstrap, topic, p);
          assert.deepEqual(
            got.map((r) => ({ offset: r.offset, key: r.key, value: r.value, headers: r.headers })),
            messagesFor(codec, p).map((m, i) => ({
              offset: i,
              key: m.key,
              value: m.value,
              headers: `codec=${codec},seq=${i}`,
            })),
          );
        }
      },
    );
  }

  // KafkaJS can only consume in a group; skipped only while the broker does not advertise FindCoordinator.
  test("producer and group consumer (gzip)", { timeout: 30_000 }, async (t) => {
    if (!groupApis) {
      t.skip("the broker does not serve FindCoordinator (group APIs) yet");
      return;
    }
    const topic = "kafkajs-consume";
    const kafka = new Kafka({ clientId: "tskafka-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: PARTITIONS }, (_, p) => messagesFor("gzip", p)).flat();
    await producer.send({ topic, compression: CompressionTypes.GZIP, messages: sent });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: "kafkajs-test-group", maxWaitTimeInMs: 100 });
    const got = new Map<number, { offset: string; key: string; value: string; headers: string }[]>();
    let count = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`consumed ${count} of ${sent.length}`)), 25_000);
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            const list = got.get(partition) ?? [];
            got.set(partition, list);
            list.push({
              offset: message.offset,
              key: message.key?.toString() ?? "",
              value: message.value?.toString() ?? "",
              headers: Object.entries(message.headers ?? {})
                .map(([k, v]) => `${k}=${String(v)}`)
                .join(","),
            });
            if (++count === sent.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    for (let p = 0; p < PARTITIONS; p++) {
      assert.deepEqual(
        got.get(p),
        messagesFor("gzip", p).map((m, i) => ({
          offset: String(i),
          key: m.key,
          value: m.value,
          headers: `codec=gzip,seq=${i}`,
        })),
      );
    }
  });
});
