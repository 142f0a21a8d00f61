// `npx tsx scripts/bench/fetch-rtt.ts [--partitions N] [--mb N] [--passes N] [--broker tskafka|kafka]`: the
// broker's own fetch cost, with a client that does not decode records (so the broker, not the client, is
// measured). Writes `mb` MB of 100 B records (batches of 100) into a fresh topic, then reads it all back
// `passes` times with Fetch v11 (1 MiB per partition, all partitions in each request, one request at a
// time) and reports per-fetch round trips and the broker's CPU seconds per pass. Interleave builds (A B A B)
// to compare: on a shared two-core machine a single run says little.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ApiKey, createFetchRequest, createFetchRequestFetchPartition } from "@tskafka/protocol";
import { RawClient } from "../../broker/test/clients/raw-client.js";
import { REPO_ROOT, startBroker, type BrokerKind } from "./brokers.js";
import { cpuSeconds } from "./proc.js";
import { ensureTopics } from "./wire.js";

const { values } = parseArgs({
  options: {
    broker: { type: "string", default: "tskafka" },
    partitions: { type: "string", default: "1" },
    mb: { type: "string", default: "60" },
    passes: { type: "string", default: "5" },
  },
  strict: true,
});
const PARTITIONS = Number(values.partitions);
const BATCHES = Math.ceil((Number(values.mb) * 1e6) / (100 * 100));
const WORK = join(REPO_ROOT, "bench", "work", "fetch-rtt");
const TOPIC = "rtt";

/** The offset after the last whole batch in `records` (or `from` when there is none). */
function nextOffset(records: Buffer, from: bigint): bigint {
  let next = from;
  for (let off = 0; off + 61 <= records.length;) {
    const size = records.readInt32BE(off + 8) + 12;
    if (off + size > records.length) break;
    next = records.readBigInt64BE(off) + BigInt(records.readInt32BE(off + 23)) + 1n;
    off += size;
  }
  return next;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

rmSync(WORK, { recursive: true, force: true });
const broker = await startBroker(values.broker as BrokerKind, { dataDir: join(WORK, "b"), partitions: PARTITIONS });
const client = await RawClient.connect(broker.port, { connectTimeoutMs: 5000, requestTimeoutMs: 30000 });
try {
  await ensureTopics(broker.port, [TOPIC], PARTITIONS);
  const value = Buffer.alloc(100, 120);
  const records = Array.from({ length: 100 }, () => ({ value }));
  for (let b = 0; b < BATCHES; b++) {
    const r = await client.produce(TOPIC, b % PARTITIONS, records, 1);
    if (r.errorCode !== 0) throw new Error(`produce error ${r.errorCode}`);
  }
  for (let pass = 0; pass < Number(values.passes); pass++) {
    const offsets = Array.from({ length: PARTITIONS }, () => 0n);
    const ends = Array.from({ length: PARTITIONS }, () => -1n);
    const rtts: number[] = [];
    let bytes = 0;
    const cpu = cpuSeconds(broker.pid);
    const started = performance.now();
    while (offsets.some((o, i) => ends[i]! < 0n || o < ends[i]!)) {
      const t0 = performance.now();
      const res = await client.request(
        ApiKey.Fetch,
        11,
        createFetchRequest({
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 50 << 20,
          topics: [
            {
              topic: TOPIC,
              topicId: "AAAAAAAAAAAAAAAAAAAAAA",
              partitions: offsets.map((fetchOffset, partition) =>
                createFetchRequestFetchPartition({ partition, fetchOffset, partitionMaxBytes: 1 << 20 }),
              ),
            },
          ],
        }),
      );
      rtts.push(performance.now() - t0);
      for (const p of res.responses[0]!.partitions) {
        const recs = p.records ?? Buffer.alloc(0);
        bytes += recs.length;
        ends[p.partitionIndex] = p.highWatermark;
        offsets[p.partitionIndex] = nextOffset(recs, offsets[p.partitionIndex]!);
      }
    }
    const secs = (performance.now() - started) / 1000;
    console.log(
      `${values.broker} ${PARTITIONS}p pass ${pass + 1}: ${(bytes / 1e6 / secs).toFixed(0)} MB/s, ${rtts.length} fetches, ` +
        `rtt p50 ${pct(rtts, 0.5).toFixed(2)} p99 ${pct(rtts, 0.99).toFixed(2)} ms, broker CPU ${(cpuSeconds(broker.pid) - cpu).toFixed(2)} s`,
    );
  }
} finally {
  client.close();
  await broker.stop();
  rmSync(WORK, { recursive: true, force: true });
}
