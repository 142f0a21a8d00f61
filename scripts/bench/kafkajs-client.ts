// KafkaJS as a bench client, run as its own process so that its CPU and memory are not the
// bench's. Prints one JSON line: {"records":N,"bytes":B,"ms":T}.
//   produce <bootstrap> <topic> <records> <recordSize>   acks=1, batches of 100, 4 batches in flight
//   consume <bootstrap> <topic> <records>                a consumer group from the beginning; T from joining to the last record
import kafkajs from "kafkajs";

// kafkajs is CommonJS; take what we need from its default export.
const { Kafka, logLevel } = kafkajs;

const BATCH = 100;
const IN_FLIGHT = 4;
const TIMEOUT_MS = 120_000;

const [mode, bootstrap, topic, recordsArg, sizeArg] = process.argv.slice(2);
if (
  (mode !== "produce" && mode !== "consume") ||
  bootstrap === undefined ||
  topic === undefined ||
  recordsArg === undefined
) {
  throw new Error("usage: kafkajs-client.ts produce|consume <bootstrap> <topic> <records> [recordSize]");
}
const records = Number(recordsArg);
const kafka = new Kafka({ clientId: "bench-kafkajs", brokers: [bootstrap], logLevel: logLevel.ERROR });
const deadline = setTimeout(() => {
  process.stderr.write("kafkajs-client: timed out\n");
  process.exit(2);
}, TIMEOUT_MS);

if (mode === "produce") {
  const value = Buffer.alloc(Number(sizeArg ?? 1024), 0x61);
  const messages = Array.from({ length: BATCH }, () => ({ value }));
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const batches = Math.ceil(records / BATCH);
  let next = 0;
  const start = performance.now();
  const lane = async (): Promise<void> => {
    while (next < batches) {
      next++;
      await producer.send({ topic, acks: 1, messages });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const ms = performance.now() - start;
  await producer.disconnect();
  print(batches * BATCH, batches * BATCH * value.length, ms);
} else {
  const consumer = kafka.consumer({ groupId: `bench-kafkajs-${topic}-${Date.now()}`, maxBytes: 10 * 1024 * 1024 });
  let joined = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = performance.now();
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let bytes = 0;
  await new Promise<void>((done, fail) => {
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
          count += batch.messages.length;
          if (count >= records) done();
        },
      })
      .catch(fail);
  });
  const ms = performance.now() - joined;
  await consumer.disconnect();
  print(count, bytes, ms);
}
clearTimeout(deadline);

function print(n: number, b: number, ms: number): void {
  process.stdout.write(`${JSON.stringify({ records: n, bytes: b, ms })}\n`);
}
