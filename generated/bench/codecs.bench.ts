// `npm run bench:codecs`: encode and decode throughput of three heavy messages, side by side with
// KafkaJS's protocol code at the same versions (the highest KafkaJS has). KafkaJS only encodes
// requests and only decodes responses, so the other direction has no KafkaJS column. Where KafkaJS
// does more than frame the bytes (it builds record batches for Produce and parses them in Fetch), our
// row does the same work with our record-batch codec, and a second row shows the frame alone.
// Timings only: nothing is asserted.
import { createRequire } from "node:module";
import {
  buildRecordBatch,
  createFetchResponse,
  createFetchResponseFetchableTopicResponse,
  createFetchResponsePartitionData,
  createMetadataResponse,
  createMetadataResponseMetadataResponseBroker,
  createMetadataResponseMetadataResponsePartition,
  createMetadataResponseMetadataResponseTopic,
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  decodeFromBuffer,
  decodeRecordBatches,
  encodeToBuffer,
  FetchResponseCodec,
  MetadataResponseCodec,
  ProduceRequestCodec,
  type SimpleRecord,
} from "../src/index.js";

const require = createRequire(import.meta.url);
const kafkajs = (path: string): unknown => require(`kafkajs/src/protocol/requests/${path}`);

interface KafkaJsResponse {
  decode(body: Buffer): Promise<unknown>;
}
type KafkaJsRequest = (args: unknown) => { encode(): Promise<{ buffer: Buffer }> };

const METADATA_VERSION = 6;
const PRODUCE_VERSION = 7;
const FETCH_VERSION = 11;
const TIMESTAMP = 1_700_000_000_000;

// ---- inputs ----------------------------------------------------------------------------------------

const metadata = createMetadataResponse({
  brokers: [0, 1, 2].map((nodeId) =>
    createMetadataResponseMetadataResponseBroker({ nodeId, host: `broker-${nodeId}.example`, port: 9092, rack: "r1" }),
  ),
  clusterId: "cluster-0123456789",
  controllerId: 0,
  topics: Array.from({ length: 10 }, (_, t) =>
    createMetadataResponseMetadataResponseTopic({
      name: `topic-${t}`,
      partitions: Array.from({ length: 100 }, (_, p) =>
        createMetadataResponseMetadataResponsePartition({
          partitionIndex: p,
          leaderId: p % 3,
          replicaNodes: [p % 3, (p + 1) % 3, (p + 2) % 3],
          isrNodes: [p % 3, (p + 1) % 3, (p + 2) % 3],
        }),
      ),
    }),
  ),
});
const metadataBody = encodeToBuffer(MetadataResponseCodec, metadata, METADATA_VERSION);

// 1 MiB of record values: 1,024 records of 1 KiB, in one partition.
const produceRecords: SimpleRecord[] = Array.from({ length: 1024 }, (_, i) => ({
  key: Buffer.from(`key-${i}`),
  value: Buffer.alloc(1024, i & 0xff),
  timestamp: TIMESTAMP,
}));
const kafkajsMessages = produceRecords.map((r) => ({ key: r.key, value: r.value, timestamp: TIMESTAMP, headers: {} }));
const produceRequest = (records: Buffer) =>
  createProduceRequest({
    acks: -1,
    timeoutMs: 30000,
    topicData: [
      createProduceRequestTopicProduceData({
        name: "topic-0",
        partitionData: [createProduceRequestPartitionProduceData({ index: 0, records })],
      }),
    ],
  });
const prebuiltBatch = buildRecordBatch(produceRecords);
const produceBody = encodeToBuffer(ProduceRequestCodec, produceRequest(prebuiltBatch), PRODUCE_VERSION);

// 100 partitions of 10 records of 100 bytes each.
const fetchBatch = buildRecordBatch(
  Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(100, i), timestamp: TIMESTAMP })),
);
const fetch = createFetchResponse({
  responses: Array.from({ length: 10 }, (_, t) =>
    createFetchResponseFetchableTopicResponse({
      topic: `topic-${t}`,
      partitions: Array.from({ length: 10 }, (_, p) =>
        createFetchResponsePartitionData({
          partitionIndex: p,
          highWatermark: 10n,
          lastStableOffset: 10n,
          logStartOffset: 0n,
          abortedTransactions: [],
          records: fetchBatch,
        }),
      ),
    }),
  ),
});
const fetchBody = encodeToBuffer(FetchResponseCodec, fetch, FETCH_VERSION);

// ---- measuring -------------------------------------------------------------------------------------

const BUDGET_MS = Number(process.env.BENCH_MS ?? 1000);

/** Runs `op` repeatedly for the time budget (after a short warm-up) and returns operations per second. */
async function opsPerSecond(op: () => unknown): Promise<number> {
  const warmUntil = performance.now() + BUDGET_MS / 5;
  while (performance.now() < warmUntil) await op();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < BUDGET_MS) {
    await op();
    n++;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

interface Row {
  readonly message: string;
  readonly op: string;
  readonly ours: () => unknown;
  readonly kafkajs?: () => Promise<unknown>;
}

const metadataResponse = kafkajs(`metadata/v${METADATA_VERSION}/response.js`) as KafkaJsResponse;
const produceRequestV = kafkajs(`produce/v${PRODUCE_VERSION}/request.js`) as KafkaJsRequest;
const fetchResponse = kafkajs(`fetch/v${FETCH_VERSION}/response.js`) as KafkaJsResponse;

const kafkajsProduce = async (): Promise<Buffer> =>
  (
    await produceRequestV({
      acks: -1,
      timeout: 30000,
      compression: 0,
      topicData: [{ topic: "topic-0", partitions: [{ partition: 0, messages: kafkajsMessages }] }],
    }).encode()
  ).buffer;

const rows: Row[] = [
  {
    message: `MetadataResponse v${METADATA_VERSION} (1,000 partitions)`,
    op: "decode",
    ours: () => decodeFromBuffer(MetadataResponseCodec, metadataBody, METADATA_VERSION),
    kafkajs: () => metadataResponse.decode(metadataBody),
  },
  {
    message: `MetadataResponse v${METADATA_VERSION} (1,000 partitions)`,
    op: "encode",
    ours: () => encodeToBuffer(MetadataResponseCodec, metadata, METADATA_VERSION),
  },
  {
    message: `ProduceRequest v${PRODUCE_VERSION} (1 MiB of records)`,
    op: "encode, batch built from records",
    ours: () =>
      encodeToBuffer(
        ProduceRequestCodec,
        produceRequest(buildRecordBatch(produceRecords, { timestamp: TIMESTAMP })),
        PRODUCE_VERSION,
      ),
    kafkajs: kafkajsProduce,
  },
  {
    message: `ProduceRequest v${PRODUCE_VERSION} (1 MiB of records)`,
    op: "encode, batch already built",
    ours: () => encodeToBuffer(ProduceRequestCodec, produceRequest(prebuiltBatch), PRODUCE_VERSION),
  },
  {
    message: `ProduceRequest v${PRODUCE_VERSION} (1 MiB of records)`,
    op: "decode (records as bytes)",
    ours: () => decodeFromBuffer(ProduceRequestCodec, produceBody, PRODUCE_VERSION),
  },
  {
    message: `FetchResponse v${FETCH_VERSION} (100 partitions)`,
    op: "decode, record batches parsed",
    ours: () => {
      const m = decodeFromBuffer(FetchResponseCodec, fetchBody, FETCH_VERSION);
      for (const t of m.responses) for (const p of t.partitions) if (p.records !== null) decodeRecordBatches(p.records);
      return m;
    },
    kafkajs: () => fetchResponse.decode(fetchBody),
  },
  {
    message: `FetchResponse v${FETCH_VERSION} (100 partitions)`,
    op: "decode (records as bytes)",
    ours: () => decodeFromBuffer(FetchResponseCodec, fetchBody, FETCH_VERSION),
  },
  {
    message: `FetchResponse v${FETCH_VERSION} (100 partitions)`,
    op: "encode",
    ours: () => encodeToBuffer(FetchResponseCodec, fetch, FETCH_VERSION),
  },
];

/** Both sides must read the same thing, or the comparison means nothing. */
async function sanityCheck(): Promise<void> {
  const md = (await metadataResponse.decode(metadataBody)) as { topicMetadata: { partitionMetadata: unknown[] }[] };
  const partitions = md.topicMetadata.reduce((n, t) => n + t.partitionMetadata.length, 0);
  if (partitions !== 1000) throw new Error(`KafkaJS decoded ${partitions} metadata partitions, not 1000`);
  const fr = (await fetchResponse.decode(fetchBody)) as { responses: { partitions: { messages: unknown[] }[] }[] };
  const records = fr.responses.reduce((n, t) => n + t.partitions.reduce((k, p) => k + p.messages.length, 0), 0);
  if (records !== 1000) throw new Error(`KafkaJS decoded ${records} fetched records, not 1000`);
  const kp = await kafkajsProduce();
  if (Math.abs(kp.length - produceBody.length) > 64)
    throw new Error(`produce sizes differ: ${kp.length} vs ${produceBody.length}`);
}

function format(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
}

async function main(): Promise<void> {
  await sanityCheck();
  console.log(
    `metadata body ${metadataBody.length} B, produce body ${produceBody.length} B, fetch body ${fetchBody.length} B; ${BUDGET_MS} ms per cell\n`,
  );
  const header = ["message", "operation", "ours ops/s", "KafkaJS ops/s", "ours / KafkaJS"];
  const table: string[][] = [];
  for (const row of rows) {
    const ours = await opsPerSecond(row.ours);
    const theirs = row.kafkajs === undefined ? undefined : await opsPerSecond(row.kafkajs);
    table.push([
      row.message,
      row.op,
      format(ours),
      theirs === undefined ? "n/a" : format(theirs),
      theirs === undefined ? "" : `${(ours / theirs).toFixed(1)}x`,
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of table) console.log(line(r));
}

await main();
