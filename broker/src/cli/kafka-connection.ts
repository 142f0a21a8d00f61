import { connect, type Socket } from "node:net";
import {
  createRequestHeader,
  decodeResponseFrame,
  encodeRequestFrame,
  type ApiRequests,
  type ApiResponses,
} from "@tskafka/protocol";

/**
 * One TCP connection to a Kafka broker speaking our generated codecs: requests are pipelined and matched
 * to responses by correlation id (a broker answers in order on a connection). PLAINTEXT only: the CLI and
 * the console are plain clients, and their principal is whatever that listener gives an anonymous peer.
 */
export class KafkaConnection {
  private correlation = 0;
  private buffered: Buffer = Buffer.alloc(0);
  private readonly waiting = new Map<number, { resolve: (frame: Buffer) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly clientId: string,
    private readonly timeoutMs: number,
  ) {
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.fail(new Error("connection closed by the broker")));
  }

  static async open(host: string, port: number, clientId: string, timeoutMs = 10_000): Promise<KafkaConnection> {
    const socket = connect(port, host);
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot connect to ${host}:${port}: ${e.message}`));
      });
    });
    return new KafkaConnection(socket, clientId, timeoutMs);
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Sends one request at `version` and answers the decoded response body. */
  async send<K extends keyof ApiRequests & keyof ApiResponses>(
    apiKey: K,
    version: number,
    body: ApiRequests[K],
  ): Promise<ApiResponses[K]> {
    if (this.failure !== undefined) throw this.failure;
    const correlationId = ++this.correlation;
    const header = createRequestHeader({
      requestApiKey: apiKey,
      requestApiVersion: version,
      correlationId,
      clientId: this.clientId,
    });
    const frame = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlationId);
        reject(new Error(`no answer to API ${apiKey} v${version} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(correlationId, {
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(encodeRequestFrame(header, body));
    });
    return decodeResponseFrame(frame, apiKey, version).body as ApiResponses[K];
  }

  close(): void {
    this.fail(new Error("connection closed"));
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buffered = this.buffered.length === 0 ? d : Buffer.concat([this.buffered, d]);
    while (this.buffered.length >= 8) {
      const size = this.buffered.readInt32BE(0);
      if (this.buffered.length < 4 + size) return;
      const frame = this.buffered.subarray(0, 4 + size);
      this.buffered = this.buffered.subarray(4 + size);
      const id = frame.readInt32BE(4);
      const w = this.waiting.get(id);
      this.waiting.delete(id);
      w?.resolve(frame);
    }
  }

  private fail(e: Error): void {
    if (this.failure !== undefined) return;
    this.failure = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
