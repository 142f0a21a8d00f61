// A minimal Kafka client over one socket, on our own protocol codecs, for what the bench needs
// besides the real clients: ask a broker what it supports, auto-create topics up front, and
// probe for the first accepted produce at start-up. The same code talks to both brokers.
import { connect, type Socket } from 'node:net';
import {
  ApiKey,
  buildRecordBatch,
  createApiVersionsRequest,
  createMetadataRequest,
  createMetadataRequestMetadataRequestTopic,
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  decodeResponseFrame,
  encodeRequestFrame,
  type ApiVersionsResponse,
  type MetadataResponse,
  type ProduceResponse,
} from '@tskafka/protocol';

interface Pending {
  apiKey: number;
  version: number;
  done: (frame: Buffer) => void;
  fail: (err: Error) => void;
}

export class WireClient {
  private readonly pending = new Map<number, Pending>();
  private buffered: Buffer = Buffer.alloc(0);
  private nextCorrelation = 1;
  private closedError: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const failAll = (err: Error): void => {
      this.closedError = err;
      for (const p of this.pending.values()) p.fail(err);
      this.pending.clear();
    };
    socket.on('error', failAll);
    socket.on('close', () => failAll(new Error('connection closed')));
  }

  static open(port: number, timeoutMs: number): Promise<WireClient> {
    return new Promise((done, fail) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => { socket.destroy(); fail(new Error('connect timed out')); }, timeoutMs);
      socket.once('connect', () => { clearTimeout(timer); socket.removeListener('error', fail); done(new WireClient(socket)); });
      socket.once('error', (err) => { clearTimeout(timer); fail(err); });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 8) {
      const size = this.buffered.readInt32BE(0);
      if (this.buffered.length < 4 + size) return;
      const frame = this.buffered.subarray(0, 4 + size);
      this.buffered = this.buffered.subarray(4 + size);
      const p = this.pending.get(frame.readInt32BE(4));
      if (p === undefined) continue;
      this.pending.delete(frame.readInt32BE(4));
      p.done(frame);
    }
  }

  private send(apiKey: number, version: number, body: object, timeoutMs: number): Promise<unknown> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    const correlationId = this.nextCorrelation++;
    const frame = encodeRequestFrame(
      { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: 'tskafka-bench' },
      body as never,
    );
    return new Promise((done, fail) => {
      const timer = setTimeout(() => { this.pending.delete(correlationId); fail(new Error(`request ${apiKey} timed out`)); }, timeoutMs);
      this.pending.set(correlationId, {
        apiKey,
        version,
        done: (f) => { clearTimeout(timer); try { done(decodeResponseFrame(f, apiKey, version).body); } catch (e) { fail(e as Error); } },
        fail: (e) => { clearTimeout(timer); fail(e); },
      });
      this.socket.write(frame);
    });
  }

  /** ApiVersions v0: api key -> max version. */
  async apiVersions(timeoutMs = 5_000): Promise<Map<number, number>> {
    const res = (await this.send(ApiKey.ApiVersions, 0, createApiVersionsRequest(), timeoutMs)) as ApiVersionsResponse;
    return new Map(res.apiKeys.map((k) => [k.apiKey, k.maxVersion]));
  }

  /** Metadata v4 for `topics`, asking the broker to auto-create the missing ones. */
  metadata(topics: readonly string[], timeoutMs = 5_000): Promise<MetadataResponse> {
    const body = createMetadataRequest({
      topics: topics.map((name) => createMetadataRequestMetadataRequestTopic({ name })),
      allowAutoTopicCreation: true,
    });
    return this.send(ApiKey.Metadata, 4, body, timeoutMs) as Promise<MetadataResponse>;
  }

  /** Produce v3, one small record to partition 0 with acks=1; returns the partition's error code. */
  async produceOne(topic: string, timeoutMs = 5_000): Promise<number> {
    const records = buildRecordBatch([{ value: 'start-up probe' }]);
    const body = createProduceRequest({
      acks: 1,
      timeoutMs: 5_000,
      topicData: [createProduceRequestTopicProduceData({
        name: topic,
        partitionData: [createProduceRequestPartitionProduceData({ index: 0, records })],
      })],
    });
    const res = (await this.send(ApiKey.Produce, 3, body, timeoutMs)) as ProduceResponse;
    return res.responses[0]?.partitionResponses[0]?.errorCode ?? -1;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** The broker's ApiVersions as api key -> max version. */
export async function brokerApis(port: number): Promise<Map<number, number>> {
  const client = await WireClient.open(port, 5_000);
  try {
    return await client.apiVersions();
  } finally {
    client.close();
  }
}

/**
 * Auto-creates `topics` (the broker's num.partitions decides their size) and waits until every
 * partition of each has a leader, so that no measured run pays for topic creation.
 */
export async function ensureTopics(port: number, topics: readonly string[], partitions: number, timeoutMs = 60_000): Promise<void> {
  const client = await WireClient.open(port, 5_000);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    while (Date.now() < deadline) {
      const res = await client.metadata(topics);
      const ready = res.topics.filter((t) =>
        t.errorCode === 0 && t.partitions.length === partitions && t.partitions.every((p) => p.errorCode === 0 && p.leaderId >= 0));
      if (ready.length === topics.length) return;
      last = res.topics.map((t) => `${t.name}:${t.errorCode}/${t.partitions.length}`).join(' ');
      await delay(100);
    }
  } finally {
    client.close();
  }
  throw new Error(`topics not ready with ${partitions} partitions after ${timeoutMs} ms: ${last}`);
}

/**
 * From now until a produce to `topic` is accepted: connect (retrying refused connections every
 * 5 ms), ask for the topic with auto-creation, produce one record; repeat until acked.
 * Returns the ms elapsed since `sinceMs` (a Date.now() taken just before the broker was spawned).
 */
export async function firstProduceMs(port: number, topic: string, sinceMs: number, timeoutMs = 120_000): Promise<number> {
  const deadline = sinceMs + timeoutMs;
  let client: WireClient | undefined;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    try {
      client ??= await WireClient.open(port, 1_000);
      await client.metadata([topic], 2_000);
      const error = await client.produceOne(topic, 2_000);
      if (error === 0) {
        const elapsed = Date.now() - sinceMs;
        client.close();
        return elapsed;
      }
      last = `produce error ${error}`;
      await delay(5);
    } catch (err) {
      last = (err as Error).message;
      client?.close();
      client = undefined;
      await delay(5);
    }
  }
  client?.close();
  throw new Error(`no produce accepted within ${timeoutMs} ms (${last})`);
}
