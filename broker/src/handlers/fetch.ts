import {
  ApiKey,
  createFetchResponse,
  createFetchResponsePartitionData,
  recordBatchesToMessageSet,
  type FetchResponseFetchableTopicResponse,
  type FetchResponsePartitionData,
} from "@tskafka/protocol";
import { FetchWaiters } from "../cluster/fetch-waiters.js";
import { ErrorCode } from "../errors.js";
import type { PartitionLog } from "../log/partition-log.js";
import { defineHandler } from "./handler.js";

interface Wanted {
  readonly topic: string;
  readonly partition: number;
  readonly fetchOffset: bigint;
  readonly maxBytes: number;
  readonly log: PartitionLog | undefined;
  readonly out: FetchResponsePartitionData;
}

/**
 * Fetch v0-16, sessionless: every request is a full fetch and the answer's session id is 0, which
 * KIP-227 allows a broker to answer at any time. A fetch that finds fewer than MinBytes waits up to
 * MaxWaitMs and is woken by appends to its partitions. Stored batches are sent as they are on disk;
 * v0-3 clients get them down-converted to the message format they read (magic 0 or 1).
 */
export const fetchHandler = defineHandler({
  apiKey: ApiKey.Fetch,
  minVersion: 0,
  maxVersion: 16,
  async handle(request, ctx) {
    const broker = ctx.broker;
    const version = ctx.apiVersion;
    const wanted: Wanted[] = [];
    const responses: FetchResponseFetchableTopicResponse[] = [];
    for (const t of request.topics) {
      const info = version >= 13 ? broker.topics.byId(t.topicId) : broker.topics.get(t.topic);
      const name = info?.name ?? t.topic;
      const partitions: FetchResponsePartitionData[] = [];
      responses.push({ topic: name, topicId: t.topicId, partitions });
      for (const p of t.partitions) {
        const out = createFetchResponsePartitionData({ partitionIndex: p.partition, records: Buffer.alloc(0) });
        partitions.push(out);
        const log = info !== undefined && p.partition >= 0 && p.partition < info.partitions ? broker.logs.get(info.name, p.partition) : undefined;
        if (log === undefined) {
          out.errorCode = info === undefined && version >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          out.highWatermark = -1n;
          continue;
        }
        wanted.push({ topic: info!.name, partition: p.partition, fetchOffset: p.fetchOffset, maxBytes: p.partitionMaxBytes, log, out });
      }
    }
    const deadline = Date.now() + request.maxWaitMs;
    const keys = wanted.map((w) => FetchWaiters.key(w.topic, w.partition));
    const maxBytes = version >= 3 ? request.maxBytes : Number.MAX_SAFE_INTEGER;
    let closed = false;
    void ctx.closed.then(() => (closed = true));
    for (;;) {
      const { bytes, errors } = await readAll(wanted, maxBytes, version);
      const remaining = deadline - Date.now();
      if (bytes >= request.minBytes || errors || remaining <= 0 || wanted.length === 0) break;
      await broker.fetchWaiters.wait(keys, remaining, ctx.closed);
      if (closed) return null;
    }
    return createFetchResponse({ responses });
  },
});

async function readAll(wanted: readonly Wanted[], maxBytes: number, version: number): Promise<{ bytes: number; errors: boolean }> {
  let bytes = 0;
  let errors = false;
  await Promise.all(
    wanted.map(async (w, i) => {
      // Reads run concurrently, so the response budget is split in order afterwards.
      const r = await w.log!.read(w.fetchOffset, w.maxBytes, { minOneBatch: true });
      return { i, r };
    }),
  ).then((results) => {
    for (const { i, r } of results) {
      const w = wanted[i]!;
      const out = w.out;
      out.errorCode = r.errorCode;
      out.highWatermark = r.highWatermark;
      out.lastStableOffset = r.highWatermark;
      out.logStartOffset = r.logStartOffset;
      if (r.errorCode !== ErrorCode.NONE) {
        errors = true;
        out.records = Buffer.alloc(0);
        continue;
      }
      let records = r.records;
      // Kafka's budget: the first non-empty partition may exceed it by one batch, later ones may not.
      if (bytes > 0 && bytes + records.length > maxBytes) records = Buffer.alloc(0);
      if (records.length > 0 && version <= 3) records = recordBatchesToMessageSet(records, version <= 1 ? 0 : 1);
      out.records = records;
      bytes += records.length;
    }
  });
  return { bytes, errors };
}
