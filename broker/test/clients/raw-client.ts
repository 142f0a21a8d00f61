import { connect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import {
  ApiKey,
  createApiVersionsRequest,
  buildRecordBatch,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createListOffsetsRequest,
  createListOffsetsRequestListOffsetsPartition,
  createListOffsetsRequestListOffsetsTopic,
  createMetadataRequest,
  createProduceRequest,
  decodeRecordBatches,
  decodeResponse,
  encodeRequestFrame,
  type ApiRequests,
  type ApiResponses,
  type KafkaRecord,
  type SimpleRecord,
  ZERO_UUID,
} from "@tskafka/protocol";

export interface RawClientOptions {
  /** Fails the connect after this long (default 10 s). */
  readonly connectTimeoutMs?: number;
  /**
   * Fails a request that has no answer after this long, and closes the connection, since later answers
   * could no longer be matched to their requests (default: no limit; tests have their own timeouts).
   */
  readonly requestTimeoutMs?: number;
  /** The client id of every request (default "raw-test"; the broker derives group member ids from it). */
  readonly clientId?: string;
}

interface Waiting {
  resolve: (frame: Buffer) => void;
  reject: (e: Error) => void;
}

/**
 * A minimal Kafka client over a raw socket, built on the generated codecs: for tests that must control
 * the exact bytes and versions (crash streams, fetch sessions, bad input), and for the bench's set-up
 * and start-up probe (scripts/bench/wire.ts), against our broker and Apache Kafka alike.
 * Answers come in request order on one connection, so they are matched to requests in order.
 */
export class RawClient {
  private buffered: Buffer = Buffer.alloc(0);
  /** Chunks received after `buffered`, not yet joined to it. */
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly waiting: Waiting[] = [];
  private correlationId = 0;
  private closedError: Error | undefined;
  private readonly clientId: string;
  private readonly requestTimeoutMs: number | undefined;
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: Socket,
    options: RawClientOptions,
  ) {
    this.clientId = options.clientId ?? "raw-test";
    this.requestTimeoutMs = options.requestTimeoutMs;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      if (this.buffered.length === 0) this.buffered = chunk;
      else {
        // A large frame arrives in many chunks: join them once it is whole, not at every chunk.
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
        const have = this.buffered.length + this.pendingBytes;
        if (this.buffered.length >= 4 && have < 4 + this.buffered.readInt32BE(0)) return;
        this.buffered = Buffer.concat([this.buffered, ...this.pending.splice(0)]);
        this.pendingBytes = 0;
      }
      for (;;) {
        if (this.buffered.length < 4) return;
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length < 4 + size) return;
        const payload = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        this.waiting.shift()?.resolve(payload);
      }
    });
    const fail = (e: Error): void => {
      this.closedError ??= e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    socket.on("error", fail);
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        fail(new Error("connection closed"));
        resolve();
      }),
    );
  }

  /** A connection over TLS (servername localhost unless `tls` says otherwise), once the handshake is done. */
  static connectTls(port: number, tls: ConnectionOptions, options: RawClientOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ...tls });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`TLS connect to port ${port} timed out`));
      }, options.connectTimeoutMs ?? 10_000);
      s.once("secureConnect", () => {
        clearTimeout(timer);
        s.off("error", onError);
        resolve(new RawClient(s, options));
      });
      const onError = (e: Error): void => {
        clearTimeout(timer);
        reject(e);
      };
      s.once("error", onError);
    });
  }

  static connect(port: number, options: RawClientOptions = {}): Promise<RawClient> {
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to port ${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        s.off("error", onError);
        resolve(new RawClient(s, options));
      });
      const onError = (e: Error): void => {
        clearTimeout(timer);
        reject(e);
      };
      s.once("error", onError);
    });
  }

  /** Sends raw bytes (a frame of the caller's making). */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next response payload (without size prefix), whatever was asked. */
  nextFrame(): Promise<Buffer> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { resolve, reject };
      this.waiting.push(waiting);
      const ms = this.requestTimeoutMs;
      if (ms === undefined) return;
      const timer = setTimeout(() => {
        const e = new Error(`no answer within ${ms} ms`);
        reject(e);
        this.closedError ??= e;
        this.socket.destroy();
      }, ms);
      waiting.resolve = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      waiting.reject = (e) => {
        clearTimeout(timer);
        reject(e);
      };
    });
  }

  /** Sends one request and decodes its response. */
  async request<K extends keyof ApiRequests & keyof ApiResponses>(
    apiKey: K,
    version: number,
    body: ApiRequests[K],
  ): Promise<ApiResponses[K]> {
    const correlationId = ++this.correlationId;
    const frame = encodeRequestFrame(
      { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: this.clientId },
      body,
    );
    const reply = this.nextFrame();
    this.socket.write(frame);
    const payload = await reply;
    const decoded = decodeResponse(payload, apiKey, version);
    if (decoded.header.correlationId !== correlationId)
      throw new Error(`correlation id ${decoded.header.correlationId} != ${correlationId}`);
    return decoded.body as ApiResponses[K];
  }

  /** Sends a request that gets no response (acks=0 produce). */
  send<K extends keyof ApiRequests>(apiKey: K, version: number, body: ApiRequests[K]): void {
    const frame = encodeRequestFrame(
      {
        requestApiKey: apiKey,
        requestApiVersion: version,
        correlationId: ++this.correlationId,
        clientId: this.clientId,
      },
      body,
    );
    this.socket.write(frame);
  }

  /** Resolves when the broker closes the connection (or rejects after `ms`). */
  waitClosed(ms: number): Promise<void> {
    if (this.socket.destroyed || this.socket.readableEnded) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  // --- conveniences ---

  /** Produce v9 of one batch of records to one partition; returns the partition's answer. */
  async produce(topic: string, partition: number, records: readonly SimpleRecord[], acks = -1) {
    const res = await this.request(
      ApiKey.Produce,
      9,
      createProduceRequest({
        acks,
        timeoutMs: 5000,
        topicData: [
          {
            name: topic,
            topicId: ZERO_UUID,
            partitionData: [{ index: partition, records: buildRecordBatch(records) }],
          },
        ],
      }),
    );
    return res.responses[0]!.partitionResponses[0]!;
  }

  /** Metadata v12 for topics (auto-creating them). */
  metadata(topics: readonly string[]) {
    return this.request(
      ApiKey.Metadata,
      12,
      createMetadataRequest({
        topics: topics.map((name) => ({ topicId: ZERO_UUID, name })),
        allowAutoTopicCreation: true,
      }),
    );
  }

  /** The API keys the broker advertises in ApiVersions. */
  async servedApis(): Promise<Set<number>> {
    const res = await this.request(
      ApiKey.ApiVersions,
      3,
      createApiVersionsRequest({ clientSoftwareName: "raw-test", clientSoftwareVersion: "0" }),
    );
    return new Set(res.apiKeys.map((k) => k.apiKey));
  }

  /** ListOffsets v5 latest: the partition's high watermark. */
  async highWatermark(topic: string, partition: number): Promise<bigint> {
    const res = await this.request(
      ApiKey.ListOffsets,
      5,
      createListOffsetsRequest({
        replicaId: -1,
        topics: [
          createListOffsetsRequestListOffsetsTopic({
            name: topic,
            partitions: [createListOffsetsRequestListOffsetsPartition({ partitionIndex: partition, timestamp: -1n })],
          }),
        ],
      }),
    );
    const p = res.topics[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`list offsets ${topic}-${partition}: error ${p.errorCode}`);
    return p.offset;
  }

  /** Reads a whole partition with Fetch v11 (sessionless), from `offset` to the high watermark. */
  async fetchAll(topic: string, partition: number, offset = 0n): Promise<{ offset: bigint; record: KafkaRecord }[]> {
    const out: { offset: bigint; record: KafkaRecord }[] = [];
    let next = offset;
    for (let round = 0; round < 10_000; round++) {
      const res = await this.request(
        ApiKey.Fetch,
        11,
        createFetchRequest({
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          topics: [
            createFetchRequestFetchTopic({
              topic,
              partitions: [
                createFetchRequestFetchPartition({ partition, fetchOffset: next, partitionMaxBytes: 1 << 20 }),
              ],
            }),
          ],
        }),
      );
      const p = res.responses[0]!.partitions[0]!;
      if (p.errorCode !== 0) throw new Error(`fetch ${topic}-${partition}@${next}: error ${p.errorCode}`);
      const records = wholeBatches(p.records ?? Buffer.alloc(0));
      for (const batch of decodeRecordBatches(records)) {
        for (const r of batch.records) {
          const o = batch.baseOffset + BigInt(r.offsetDelta);
          if (o >= next) out.push({ offset: o, record: r });
        }
        next = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
      }
      if (next >= p.highWatermark) return out;
      if (records.length === 0)
        throw new Error(`fetch ${topic}-${partition}@${next}: no progress below hw ${p.highWatermark}`);
    }
    throw new Error("fetchAll: too many rounds");
  }
}

/** The whole batches at the start of fetched records (Kafka may cut the last one at the size limit). */
function wholeBatches(records: Buffer): Buffer {
  let pos = 0;
  while (pos + 12 <= records.length) {
    const size = records.readInt32BE(pos + 8) + 12;
    if (pos + size > records.length) break;
    pos += size;
  }
  return records.subarray(0, pos);
}
