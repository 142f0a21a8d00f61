import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import {
  ApiKey,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  decodeRecordBatches,
  decodeResponse,
  encodeRequestFrame,
  type FetchResponse,
} from "@tskafka/protocol";
import { startBroker, type BrokerProcess } from "./harness.js";
import { RawClient } from "./clients/raw-client.js";

/**
 * Fetches read segment data into pooled buffers that go back to the pool once the answer is written
 * (log/read-buffers.ts): with several connections pipelining fetches, every answer must still carry the
 * records of its own partition and offsets, never bytes of a buffer lent again too early.
 */

const TOPIC = "pooled";
const PARTITIONS = 4;
const BATCHES = 40;
const PER_BATCH = 20;

/** A value that says where it belongs: partition, offset, and enough bytes to make batches ~20 KiB. */
const valueOf = (partition: number, offset: number): string => `${partition}:${offset}:`.padEnd(1000, "x");

let broker: BrokerProcess;

before(async () => {
  broker = await startBroker({ properties: { "num.partitions": String(PARTITIONS) } });
  const client = await RawClient.connect(broker.port, { requestTimeoutMs: 10_000 });
  try {
    await client.metadata([TOPIC]);
    for (let p = 0; p < PARTITIONS; p++) {
      for (let b = 0; b < BATCHES; b++) {
        const records = Array.from({ length: PER_BATCH }, (_, i) => ({ value: valueOf(p, b * PER_BATCH + i) }));
        const r = await client.produce(TOPIC, p, records, 1);
        assert.equal(r.errorCode, 0);
      }
    }
  } finally {
    client.close();
  }
});

after(async () => {
  await broker?.stop();
});

function fetchFrame(partition: number, fetchOffset: bigint, maxBytes: number): Buffer {
  return encodeRequestFrame(
    { requestApiKey: ApiKey.Fetch, requestApiVersion: 11, correlationId: partition, clientId: "pooled" },
    createFetchRequest({
      maxWaitMs: 0,
      minBytes: 0,
      topics: [
        createFetchRequestFetchTopic({
          topic: TOPIC,
          partitions: [createFetchRequestFetchPartition({ partition, fetchOffset, partitionMaxBytes: maxBytes })],
        }),
      ],
    }),
  );
}

/** Sends all `frames` at once on one connection and collects the answers' payloads in order (read late). */
function pipeline(port: number, frames: Buffer[]): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: "127.0.0.1", port });
    const answers: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${answers.length} of ${frames.length} answers after 20 s`));
    }, 20_000);
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        answers.push(pending.subarray(4, 4 + size));
        pending = pending.subarray(4 + size);
      }
      if (answers.length === frames.length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answers);
      }
    });
    socket.once("connect", () => {
      for (const f of frames) socket.write(f);
      // Read nothing for a while: the broker's answers fill the socket buffers and wait in its own
      // write queue, holding their read buffers, while it goes on reading for the later requests.
      socket.pause();
      setTimeout(() => socket.resume(), 500);
    });
  });
}

test("pipelined fetches on four connections each get their own partition's records at their offsets", async () => {
  const total = BATCHES * PER_BATCH;
  const plans = Array.from({ length: PARTITIONS }, (_, p) =>
    Array.from({ length: 60 }, (_, i) => ({
      offset: BigInt((i * 37 + p * 11) % total),
      // From one batch (~20 KiB) to ~200 KiB: reads of several size classes, lent and given back.
      maxBytes: 20_000 + ((i * 7919) % 10) * 20_000,
    })),
  );
  const answers = await Promise.all(
    plans.map((plan, p) =>
      pipeline(
        broker.port,
        plan.map((x) => fetchFrame(p, x.offset, x.maxBytes)),
      ),
    ),
  );
  let records = 0;
  answers.forEach((list, p) => {
    list.forEach((payload, i) => {
      const body = decodeResponse(payload, ApiKey.Fetch, 11).body as FetchResponse;
      const part = body.responses[0]!.partitions[0]!;
      assert.equal(part.errorCode, 0);
      assert.equal(part.partitionIndex, p);
      const batches = decodeRecordBatches(part.records!);
      assert.ok(batches.length > 0, `answer ${i} of partition ${p} holds records`);
      assert.ok(batches[0]!.baseOffset <= plans[p]![i]!.offset, "the first batch holds the fetch offset");
      for (const batch of batches) {
        for (const r of batch.records) {
          const offset = Number(batch.baseOffset) + r.offsetDelta;
          assert.equal(r.value!.toString(), valueOf(p, offset), `partition ${p} offset ${offset} (answer ${i})`);
          records++;
        }
      }
    });
  });
  assert.ok(records > PARTITIONS * 60, `${records} records checked`);
});
