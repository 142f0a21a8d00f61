import { connect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import {
  ApiKey,
  createRequestHeader,
  createSaslAuthenticateRequest,
  createSaslHandshakeRequest,
  decodeResponseFrame,
  encodeRequestFrame,
  type ApiRequests,
  type ApiResponses,
} from "@tskafka/protocol";
import { PLAINTEXT, type ClientSecurity } from "./client-security.js";
import { KafkaError } from "./kafka-error.js";
import { saslClient, type SaslCredentials } from "./sasl-client.js";

/**
 * One TCP connection to a Kafka broker speaking our generated codecs: requests are pipelined and matched
 * to responses by correlation id (a broker answers in order on a connection). Over PLAINTEXT, TLS and SASL
 * (client-security.ts): the principal is whatever the listener makes of the login, or of none.
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

  /**
   * Connects to `host:port`: TCP, then TLS for SSL and SASL_SSL, then SaslHandshake v1 and
   * SaslAuthenticate v2 for SASL_PLAINTEXT and SASL_SSL.
   */
  static async open(
    host: string,
    port: number,
    clientId: string,
    security: ClientSecurity = PLAINTEXT,
    timeoutMs = 10_000,
  ): Promise<KafkaConnection> {
    const socket = await connectSocket(host, port, security, timeoutMs);
    const conn = new KafkaConnection(socket, clientId, timeoutMs);
    if (security.sasl === undefined) return conn;
    try {
      await conn.authenticate(security.sasl);
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  }

  private async authenticate(sasl: SaslCredentials): Promise<void> {
    const h = await this.send(ApiKey.SaslHandshake, 1, createSaslHandshakeRequest({ mechanism: sasl.mechanism }));
    if (h.errorCode !== 0)
      throw new KafkaError(
        h.errorCode,
        `SASL mechanism ${sasl.mechanism} is not enabled on this listener (it has ${h.mechanisms.join(", ") || "none"})`,
      );
    const exchange = saslClient(sasl);
    let server: Buffer = Buffer.alloc(0);
    for (let token = exchange.respond(server); token !== undefined; token = exchange.respond(server)) {
      const a = await this.send(ApiKey.SaslAuthenticate, 2, createSaslAuthenticateRequest({ authBytes: token }));
      if (a.errorCode !== 0)
        throw new KafkaError(
          a.errorCode,
          `SASL authentication as ${sasl.username} failed: ${a.errorMessage ?? a.errorCode}`,
        );
      server = a.authBytes;
    }
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** Sends one request at `version` and answers the decoded response body (within `timeoutMs`). */
  async send<K extends keyof ApiRequests & keyof ApiResponses>(
    apiKey: K,
    version: number,
    body: ApiRequests[K],
    timeoutMs = this.timeoutMs,
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
        reject(new Error(`no answer to API ${apiKey} v${version} within ${timeoutMs} ms`));
      }, timeoutMs);
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

/** A TCP or TLS socket to `host:port`, connected (and its handshake done) within `timeoutMs`. */
function connectSocket(host: string, port: number, security: ClientSecurity, timeoutMs: number): Promise<Socket> {
  const secure = security.tls !== undefined;
  const socket = secure
    ? tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...security.tls })
    : connect(port, host);
  socket.setNoDelay(true);
  return new Promise<Socket>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once(secure ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      const refused = secure ? security.verifyPeer?.((socket as TLSSocket).getPeerX509Certificate()) : undefined;
      if (refused === undefined) return resolve(socket);
      socket.destroy();
      reject(new Error(`cannot connect to ${host}:${port} over TLS: ${refused}`));
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`cannot connect to ${host}:${port}${secure ? " over TLS" : ""}: ${e.message}`));
    });
  });
}
