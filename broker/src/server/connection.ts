import type { Socket } from "node:net";
import {
  ApiKey,
  DecodeError,
  createApiVersionsResponse,
  decodeRequest,
  encodeResponseFrame,
  encodeResponseFrameParts,
  peekRequest,
  type ApiResponses,
  type ResponseHeader,
} from "@tskafka/protocol";
import type { Handler, RequestContext } from "../handlers/handler.js";
import { ErrorCode } from "../errors.js";
import type { Services } from "../services.js";
import { errorResponse } from "./error-response.js";
import { FrameReader } from "./frame-reader.js";

/** Bytes of unprocessed requests buffered per connection before the socket is paused. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;

/**
 * One client connection. Requests are handled one at a time, in arrival order, as Kafka does (it mutes
 * a channel until its response is sent), so responses are in request order and pipelining clients are
 * served; frames read ahead are bounded, and a slow reader pauses us through the socket's backpressure.
 */
export class Connection {
  private readonly reader: FrameReader;
  private busy = false;
  private closing = false;
  private readonly closedPromise: Promise<void>;
  private markClosed!: () => void;
  readonly remote: string;

  constructor(
    private readonly socket: Socket,
    private readonly services: Services,
    private readonly handlers: ReadonlyMap<number, Handler>,
  ) {
    this.remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    this.reader = new FrameReader(services.config.props["socket.request.max.bytes"]);
    this.closedPromise = new Promise((resolve) => (this.markClosed = resolve));
    socket.setNoDelay(true);
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", (e) => services.log.debug(`connection ${this.remote}: ${e.message}`));
    socket.on("close", () => {
      this.closing = true;
      this.markClosed();
      services.log.info(`connection closed ${this.remote}`);
    });
  }

  get closed(): Promise<void> {
    return this.closedPromise;
  }

  close(reason?: string): void {
    if (reason !== undefined) this.services.log.warn(`closing connection ${this.remote}: ${reason}`);
    this.closing = true;
    this.socket.destroy();
  }

  /** Stop reading; finish the request in hand; then end the socket. */
  async drain(): Promise<void> {
    this.closing = true;
    this.socket.pause();
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
    this.socket.end();
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    if (this.reader.bufferedBytes > READ_AHEAD_BYTES) this.socket.pause();
    if (!this.busy) void this.pump();
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (!this.closing) {
        let payload: Buffer | undefined;
        try {
          payload = this.reader.next();
        } catch (e) {
          this.close((e as Error).message);
          return;
        }
        if (payload === undefined) break;
        try {
          await this.handle(payload);
        } catch (e) {
          // Whatever one request does wrong ends its connection, never the process.
          this.services.log.error(`request from ${this.remote} failed: ${(e as Error).stack ?? String(e)}`);
          this.close("internal error while handling a request");
          return;
        }
      }
    } finally {
      this.busy = false;
    }
    if (!this.closing && this.reader.bufferedBytes <= READ_AHEAD_BYTES) this.socket.resume();
  }

  private async handle(payload: Buffer): Promise<void> {
    const peek = peekRequest(payload);
    if (peek === undefined) return this.close(`request of ${payload.length} bytes is shorter than a header`);
    const { apiKey, apiVersion, correlationId } = peek;
    const handler = this.handlers.get(apiKey);
    if (handler === undefined || apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) {
        // KIP-511: answer an ApiVersions we cannot parse in v0 format, with the versions we do serve.
        return this.send(correlationId, ApiKey.ApiVersions, 0, this.unsupportedApiVersions());
      }
      return this.close(
        handler === undefined
          ? `unsupported API key ${apiKey} (v${apiVersion})`
          : `unsupported version ${apiVersion} of API ${apiKey} (serving ${handler.minVersion}-${handler.maxVersion})`,
      );
    }
    let request;
    try {
      request = decodeRequest(payload);
    } catch (e) {
      if (e instanceof DecodeError || e instanceof RangeError) return this.close(`malformed request: ${e.message}`);
      throw e;
    }
    const log = this.services.log;
    if (log.enabled("debug")) {
      const extra = request.trailingBytes > 0 ? ` (${request.trailingBytes} trailing bytes ignored)` : "";
      log.debug(`${this.remote} -> api ${apiKey} v${apiVersion} #${correlationId}${extra}`);
    }
    const ctx: RequestContext = {
      services: this.services,
      header: request.header,
      apiVersion,
      clientId: request.header.clientId,
      remote: this.remote,
      closed: this.closedPromise,
    };
    let response;
    try {
      response = await handler.handle(request.body as never, ctx);
    } catch (e) {
      // As Kafka: the one request is answered UNKNOWN_SERVER_ERROR and the connection goes on.
      log.error(`api ${apiKey} v${apiVersion} from ${this.remote} failed: ${(e as Error).stack ?? String(e)}`);
      // An acks=0 produce expects no answer: as Kafka, its connection is closed instead.
      const silent = apiKey === ApiKey.Produce && (request.body as { acks: number }).acks === 0;
      response = silent
        ? null
        : await errorResponse(handler, request.body as never, apiVersion, ErrorCode.UNKNOWN_SERVER_ERROR);
      if (response === null) return this.close("internal error while handling a request");
    }
    if (response === null) return;
    const external = handler.zeroCopyBuffers?.(response as never);
    await this.send(correlationId, apiKey, apiVersion, response as ApiResponses[keyof ApiResponses], external);
  }

  private unsupportedApiVersions(): ApiResponses[18] {
    const body = this.services.apiVersionsResponse();
    return createApiVersionsResponse({ errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: body.apiKeys });
  }

  private async send(
    correlationId: number,
    apiKey: number,
    apiVersion: number,
    body: ApiResponses[keyof ApiResponses],
    external?: ReadonlySet<Uint8Array>,
  ): Promise<void> {
    const socket = this.socket;
    if (socket.destroyed) return;
    const header: ResponseHeader = { correlationId };
    let flushed: boolean;
    if (external !== undefined && external.size > 0) {
      // Stored records go out as they are: one writev of the encoded pieces and the record buffers.
      const parts = encodeResponseFrameParts(header, body, apiKey, apiVersion, external);
      socket.cork();
      flushed = true;
      for (const p of parts) flushed = socket.write(p);
      socket.uncork();
    } else {
      flushed = socket.write(encodeResponseFrame(header, body, apiKey, apiVersion));
    }
    if (!flushed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.socket.off("drain", done);
          this.socket.off("close", done);
          resolve();
        };
        this.socket.on("drain", done);
        this.socket.on("close", done);
      });
    }
  }
}
