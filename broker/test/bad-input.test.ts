import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import {
  ApiKey,
  buildRecordBatch,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createProduceRequest,
  decodeResponse,
  ZERO_UUID,
} from "@tskafka/protocol";
import { REPO_ROOT, startBroker, type BrokerProcess } from "./harness.js";
import { RawClient } from "./clients/raw-client.js";

/**
 * Hostile and broken input against a live broker: random bytes, mutated real frames, oversize and
 * truncated frames, unknown APIs and versions. The broker drops the offending connection, never the
 * process, and a fresh client still produces and consumes after each storm.
 */

const MAX_REQUEST = 1_000_000;
const FIXTURES = join(REPO_ROOT, "generated", "test", "fixtures");

/** Every captured request frame (size prefix included), from every client. */
function fixtureFrames(): Buffer[] {
  const out: Buffer[] = [];
  for (const client of readdirSync(FIXTURES, { withFileTypes: true })) {
    if (!client.isDirectory()) continue;
    for (const f of readdirSync(join(FIXTURES, client.name)).sort()) {
      if (f.endsWith(".req.bin")) out.push(readFileSync(join(FIXTURES, client.name, f)));
    }
  }
  return out;
}

/** Writes bytes on a new connection and waits until the broker answers, closes, or `ms` pass. */
function poke(port: number, bytes: Buffer, ms = 300): Promise<"answered" | "closed" | "silent"> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    let answered = false;
    const timer = setTimeout(() => finish("silent"), ms);
    const finish = (how: "answered" | "closed" | "silent"): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(answered ? "answered" : how);
    };
    s.on("data", () => (answered = true));
    s.on("error", () => undefined);
    s.on("close", () => finish("closed"));
    s.on("connect", () => s.write(bytes));
  });
}

async function inBatches<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}

function frame(apiKey: number, version: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(14);
  head.writeInt32BE(10 + body.length, 0);
  head.writeInt16BE(apiKey, 4);
  head.writeInt16BE(version, 6);
  head.writeInt32BE(42, 8);
  head.writeInt16BE(-1, 12); // null client id
  return Buffer.concat([head, body]);
}

describe("bad input", { timeout: 60_000 }, () => {
  let broker: BrokerProcess;
  let round = 0;
  before(async () => {
    broker = await startBroker({ properties: { "socket.request.max.bytes": MAX_REQUEST, "num.partitions": 1 } });
  });
  after(async () => {
    await broker?.stop();
    await broker?.cleanup();
  });

  /** The process lives and a fresh client can still produce and read back. */
  async function stillServes(): Promise<void> {
    assert.equal(broker.process.exitCode, null, "broker process is alive");
    const topic = `alive-${round++}`;
    const client = await RawClient.connect(broker.port);
    try {
      await client.metadata([topic]);
      const p = await client.produce(topic, 0, [{ key: "k", value: `still here ${round}` }]);
      assert.equal(p.errorCode, 0);
      const got = await client.fetchAll(topic, 0);
      assert.deepEqual(
        got.map((r) => r.record.value!.toString()),
        [`still here ${round}`],
      );
    } finally {
      client.close();
    }
  }

  test("random bytes", { timeout: 20_000 }, async () => {
    const inputs = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 300 }), { numRuns: 150, seed: 1 });
    // Half of them behind a plausible size prefix, so they reach the request decoder.
    const frames = inputs.map((u, i) => {
      const b = Buffer.from(u);
      if (i % 2 === 1) return b;
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(b.length);
      return Buffer.concat([prefix, b]);
    });
    await inBatches(frames, 25, (f) => poke(broker.port, f, 150));
    await stillServes();
  });

  test("mutated real frames", { timeout: 30_000 }, async () => {
    const frames = fixtureFrames();
    assert.ok(frames.length > 50, "fixtures present");
    const mutation = fc.record({
      frame: fc.integer({ min: 0, max: frames.length - 1 }),
      kind: fc.constantFrom("flip", "insert", "delete", "truncate"),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
      fixSize: fc.boolean(),
    });
    const mutated = fc.sample(mutation, { numRuns: 400, seed: 7 }).map((m) => {
      const src = frames[m.frame]!;
      // Mutate after the 8 bytes of size, key and version most of the time, so the body decoder is hit.
      const at = 4 + (m.at % Math.max(1, src.length - 4));
      let b: Buffer;
      if (m.kind === "flip") {
        b = Buffer.from(src);
        b[at] = b[at]! ^ (m.byte | 1);
      } else if (m.kind === "insert") {
        b = Buffer.concat([src.subarray(0, at), Buffer.from([m.byte]), src.subarray(at)]);
      } else if (m.kind === "delete") {
        b = Buffer.concat([src.subarray(0, at), src.subarray(at + 1)]);
      } else {
        b = Buffer.from(src.subarray(0, at));
      }
      if (m.fixSize && b.length >= 4) b.writeInt32BE(b.length - 4, 0);
      return b;
    });
    await inBatches(mutated, 20, (f) => poke(broker.port, f, 200));
    await stillServes();
    // A frame that decodes but makes a handler throw is a bug even though only its connection dies.
    assert.doesNotMatch(broker.output(), / ERROR /);
  });

  test("oversize size prefix: the connection is closed and the reason logged", { timeout: 10_000 }, async () => {
    for (const size of [MAX_REQUEST + 1, 0x7fffffff, -1]) {
      const prefix = Buffer.alloc(8);
      prefix.writeInt32BE(size, 0);
      assert.equal(await poke(broker.port, prefix, 2000), "closed", `size ${size}`);
    }
    assert.match(
      broker.output(),
      new RegExp(`frame size ${MAX_REQUEST + 1} is outside 0\\.\\.${MAX_REQUEST} \\(socket\\.request\\.max\\.bytes\\)`),
    );
    await stillServes();
  });

  test("truncated frames, then close", { timeout: 10_000 }, async () => {
    const frames = fixtureFrames().slice(0, 40);
    await inBatches(frames, 20, async (f) => {
      // Half a frame, then the client goes away; the broker must only drop what it buffered.
      assert.equal(await poke(broker.port, f.subarray(0, Math.max(1, f.length >> 1)), 50), "silent");
    });
    await stillServes();
  });

  test(
    "bad produce and fetch contents are answered with errors, the connection kept",
    { timeout: 10_000 },
    async () => {
      const client = await RawClient.connect(broker.port);
      try {
        await client.metadata(["errors"]);
        const batch = buildRecordBatch([{ value: "one" }, { value: "two" }]);
        const corrupt = Buffer.from(batch);
        corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 0xff; // breaks the CRC
        const produce = async (records: Buffer, acks = -1) => {
          const res = await client.request(
            ApiKey.Produce,
            9,
            createProduceRequest({
              acks,
              timeoutMs: 1000,
              topicData: [{ name: "errors", topicId: ZERO_UUID, partitionData: [{ index: 0, records }] }],
            }),
          );
          return res.responses[0]!.partitionResponses[0]!;
        };
        assert.equal((await produce(corrupt)).errorCode, 2, "CORRUPT_MESSAGE");
        assert.equal((await produce(batch.subarray(0, 30))).errorCode, 2, "CORRUPT_MESSAGE for a cut batch");
        assert.equal((await produce(batch, 5)).errorCode, 21, "INVALID_REQUIRED_ACKS");
        // acks=0: no answer, but the records are stored; the next request's answer comes next.
        client.send(
          ApiKey.Produce,
          9,
          createProduceRequest({
            acks: 0,
            timeoutMs: 1000,
            topicData: [{ name: "errors", topicId: ZERO_UUID, partitionData: [{ index: 0, records: batch }] }],
          }),
        );
        assert.equal((await produce(batch)).baseOffset, 2n);
        const res = await client.request(
          ApiKey.Fetch,
          11,
          createFetchRequest({
            replicaId: -1,
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: 1 << 20,
            topics: [
              createFetchRequestFetchTopic({
                topic: "errors",
                partitions: [
                  createFetchRequestFetchPartition({ partition: 0, fetchOffset: 99n, partitionMaxBytes: 1 << 20 }),
                ],
              }),
            ],
          }),
        );
        assert.equal(res.responses[0]!.partitions[0]!.errorCode, 1, "OFFSET_OUT_OF_RANGE");
        assert.deepEqual(
          (await client.fetchAll("errors", 0)).map((r) => r.record.value!.toString()),
          ["one", "two", "one", "two"],
        );
      } finally {
        client.close();
      }
      await stillServes();
    },
  );

  test("unknown API key and unsupported versions", { timeout: 10_000 }, async () => {
    assert.equal(await poke(broker.port, frame(999, 0), 2000), "closed");
    assert.equal(await poke(broker.port, frame(ApiKey.Produce, 99), 2000), "closed");
    assert.match(broker.output(), /unsupported API key 999/);
    assert.match(broker.output(), /unsupported version 99 of API 0/);
    // ApiVersions beyond what is served: error 35 answered in the v0 format (KIP-511), connection kept.
    const client = await RawClient.connect(broker.port);
    try {
      client.write(frame(ApiKey.ApiVersions, 99, Buffer.from([0, 0, 0])));
      const payload = await client.nextFrame();
      const res = decodeResponse(payload, ApiKey.ApiVersions, 0);
      assert.equal(res.header.correlationId, 42);
      const body = res.body as { errorCode: number; apiKeys: { apiKey: number; maxVersion: number }[] };
      assert.equal(body.errorCode, 35);
      assert.equal(body.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions)?.maxVersion, 5);
      const p = await client.produce("still-open", 0, [{ value: "x" }]);
      assert.equal(p.errorCode, 3, "the same connection still serves requests (unknown topic here)");
    } finally {
      client.close();
    }
    await stillServes();
  });
});
