import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { open, readdir, rm, stat, truncate, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import {
  ApiKey,
  CompressionType,
  buildRecordBatch,
  createProduceRequest,
  type ProduceResponse,
  ZERO_UUID,
} from "@tskafka/protocol";
import { startBroker, type BrokerProcess } from "./harness.js";
import { RawClient } from "./clients/raw-client.js";
import { withTempDir } from "./temp.js";

/**
 * Restarts: a clean stop keeps everything; a kill -9 in the middle of a produce stream keeps every
 * acknowledged record and serves nothing half-written; damaged indexes are rebuilt.
 */

const RECORDS_PER_BATCH = 10;
/** Small segments and dense indexes, so that a few hundred batches span several segments. */
const SMALL_LOG = { "internal.log.segment.bytes": 16 * 1024, "log.index.interval.bytes": 512 };

const valueOf = (batch: number, i: number): string => `batch ${batch} record ${i} ${"v".repeat((batch * 7 + i) % 50)}`;

function batchBytes(n: number): Buffer {
  return buildRecordBatch(
    Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
      key: `b${n}`,
      value: valueOf(n, i),
      headers: [{ key: "n", value: String(n) }],
    })),
    { compression: n % 3 === 0 ? CompressionType.gzip : CompressionType.none },
  );
}

interface Ack {
  batch: number;
  baseOffset: bigint;
}

/**
 * Streams produce requests (acks=1, up to `inFlight` pipelined) of numbered batches; calls `onAck`
 * after each acknowledgement and stops at `total` or when the connection dies. Returns the acks.
 */
async function produceStream(
  port: number,
  topic: string,
  total: number,
  inFlight: number,
  onAck?: (n: number) => void,
): Promise<Ack[]> {
  const client = await RawClient.connect(port);
  await client.metadata([topic]); // creates the topic, as a producer's first Metadata does
  const acks: Ack[] = [];
  let next = 0;
  const sendOne = (): Promise<void> => {
    const n = next++;
    const req = createProduceRequest({
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: topic, topicId: ZERO_UUID, partitionData: [{ index: 0, records: batchBytes(n) }] }],
    });
    return client.request(ApiKey.Produce, 9, req).then((res: ProduceResponse) => {
      const p = res.responses[0]!.partitionResponses[0]!;
      assert.equal(p.errorCode, 0, `batch ${n}`);
      acks.push({ batch: n, baseOffset: p.baseOffset });
      onAck?.(acks.length);
    });
  };
  const lanes = Array.from({ length: inFlight }, async () => {
    while (next < total) await sendOne();
  });
  await Promise.all(lanes).catch((e: Error) => {
    if (!/connection closed|ECONNRESET|EPIPE/.test(e.message)) throw e;
  });
  client.close();
  return acks;
}

/** Reads the whole partition and checks it holds whole numbered batches at contiguous offsets. */
async function verifyLog(port: number, topic: string, acks: readonly Ack[]): Promise<number> {
  const client = await RawClient.connect(port);
  try {
    const records = await client.fetchAll(topic, 0);
    records.forEach((r, i) => assert.equal(r.offset, BigInt(i), "offsets contiguous from 0"));
    // Whole batches only: record i of a batch sits at (its first offset + i).
    for (let i = 0; i < records.length; i += RECORDS_PER_BATCH) {
      const n = Number(records[i]!.record.key!.toString().slice(1));
      for (let j = 0; j < RECORDS_PER_BATCH; j++) {
        const r = records[i + j];
        assert.ok(r !== undefined, `batch ${n} is cut short at offset ${i + j}`);
        assert.equal(r.record.value!.toString(), valueOf(n, j));
        assert.equal(r.record.headers[0]!.value!.toString(), String(n));
      }
    }
    for (const a of acks) {
      const r = records[Number(a.baseOffset)];
      assert.ok(
        r !== undefined,
        `acknowledged batch ${a.batch} at ${a.baseOffset} is missing (log has ${records.length})`,
      );
      assert.equal(r.record.key!.toString(), `b${a.batch}`, `acknowledged batch ${a.batch}`);
    }
    return records.length;
  } finally {
    client.close();
  }
}

async function segmentFiles(dataDir: string, topic: string, suffix: string): Promise<string[]> {
  const dir = join(dataDir, `${topic}-0`);
  return (await readdir(dir)).filter((f) => f.endsWith(suffix)).map((f) => join(dir, f));
}

describe("durability", { timeout: 60_000 }, () => {
  test("SIGTERM exits 0 and a restart serves everything", { timeout: 20_000 }, async () => {
    await withTempDir("tskafka-restart-", async (dataDir) => {
      let broker: BrokerProcess | undefined;
      try {
        broker = await startBroker({ dataDir, properties: SMALL_LOG });
        const acks = await produceStream(broker.port, "restart", 150, 4);
        assert.equal(acks.length, 150);
        assert.equal(await broker.stop(), 0);
        assert.match(broker.output(), /stopped cleanly/);
        broker = await startBroker({ dataDir, properties: SMALL_LOG });
        assert.equal(await verifyLog(broker.port, "restart", acks), 150 * RECORDS_PER_BATCH);
        assert.ok((await segmentFiles(dataDir, "restart", ".log")).length > 2, "several segments");
        // Appends continue at the right offset.
        const more = await produceStream(broker.port, "restart", 1, 1);
        assert.equal(more[0]!.baseOffset, BigInt(150 * RECORDS_PER_BATCH));
        assert.equal(await broker.stop(), 0);
      } finally {
        await broker?.cleanup();
      }
    });
  });

  for (const flushEach of [false, true]) {
    test(
      `kill -9 during a produce stream keeps every acknowledged record${flushEach ? " (log.flush.interval.messages=1)" : ""}`,
      { timeout: 25_000 },
      async () => {
        await withTempDir("tskafka-crash-", async (dataDir) => {
          const properties = { ...SMALL_LOG, ...(flushEach ? { "log.flush.interval.messages": 1 } : {}) };
          let broker: BrokerProcess | undefined;
          try {
            broker = await startBroker({ dataDir, properties });
            const b = broker;
            let killed: Promise<void> | undefined;
            const acks = await produceStream(b.port, "crash", 100_000, 8, (n) => {
              if (n === 250) killed = b.kill9();
            });
            await killed;
            assert.ok(acks.length >= 250 && acks.length < 100_000, `acked ${acks.length}`);
            broker = await startBroker({ dataDir, properties });
            const stored = await verifyLog(broker.port, "crash", acks);
            assert.ok(stored >= acks.length * RECORDS_PER_BATCH);
            const more = await produceStream(broker.port, "crash", 1, 1);
            assert.equal(more[0]!.baseOffset, BigInt(stored));
            assert.equal(await broker.stop(), 0);
          } finally {
            await broker?.cleanup();
          }
        });
      },
    );
  }

  test("SIGTERM does not wait for a client that keeps its connection open", { timeout: 20_000 }, async () => {
    const broker = await startBroker();
    try {
      // allowHalfOpen: the client does not close its side when the broker ends the connection.
      const socket = connect({ host: "127.0.0.1", port: broker.port, allowHalfOpen: true });
      await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      socket.on("error", () => undefined);
      const started = Date.now();
      assert.equal(await broker.stop(), 0);
      assert.ok(Date.now() - started < 5000, `shutdown took ${Date.now() - started} ms`);
      socket.destroy();
    } finally {
      await broker.cleanup();
    }
  });

  test("damaged indexes are rebuilt and reads still work", { timeout: 25_000 }, async () => {
    await withTempDir("tskafka-index-", async (dataDir) => {
      let broker: BrokerProcess | undefined;
      try {
        broker = await startBroker({ dataDir, properties: SMALL_LOG });
        const acks = await produceStream(broker.port, "idx", 150, 4);
        assert.equal(await broker.stop(), 0);
        const indexes = await segmentFiles(dataDir, "idx", ".index");
        const timeIndexes = await segmentFiles(dataDir, "idx", ".timeindex");
        assert.ok(indexes.length >= 3 && timeIndexes.length === indexes.length);
        const damages: ((index: string, timeIndex: string) => Promise<void>)[] = [
          // Cut in the middle of an entry.
          async (index, timeIndex) => {
            await truncate(index, Math.max(0, (await stat(index)).size - 3));
            await truncate(timeIndex, Math.max(0, (await stat(timeIndex)).size - 5));
          },
          // Random bytes of a whole number of entries.
          async (index, timeIndex) => {
            await garble(index, () => Math.floor(Math.random() * 256));
            await garble(timeIndex, () => Math.floor(Math.random() * 256));
          },
          // Plausible but wrong: every position moved by one byte, offsets still increasing.
          async (index) => {
            const fh = await open(index, "r+");
            try {
              const buf = await fh.readFile();
              for (let at = 0; at + 8 <= buf.length; at += 8) buf.writeInt32BE(buf.readInt32BE(at + 4) + 1, at + 4);
              await fh.write(buf, 0, buf.length, 0);
            } finally {
              await fh.close();
            }
          },
          // Gone.
          async (index, timeIndex) => {
            await rm(index);
            await rm(timeIndex);
          },
        ];
        for (let round = 0; round < damages.length; round++) {
          for (let s = 0; s < indexes.length; s++) await damages[round]!(indexes[s]!, timeIndexes[s]!);
          broker = await startBroker({ dataDir, properties: SMALL_LOG });
          assert.equal(await verifyLog(broker.port, "idx", acks), 150 * RECORDS_PER_BATCH, `after damage ${round}`);
          // Reads from the middle of segments use the indexes.
          const client = await RawClient.connect(broker.port);
          try {
            for (const offset of [1n, 333n, 777n, 1234n, 1499n]) {
              const tail = await client.fetchAll("idx", 0, offset);
              assert.equal(tail[0]!.offset, offset, `read at ${offset} after damage ${round}`);
              assert.equal(tail.length, 1500 - Number(offset));
            }
          } finally {
            client.close();
          }
          assert.equal(await broker.stop(), 0);
        }
      } finally {
        await broker?.cleanup();
      }
    });
  });
});

async function garble(path: string, byte: () => number): Promise<void> {
  const size = (await stat(path)).size;
  await writeFile(path, Buffer.from(Array.from({ length: size }, byte)));
}
