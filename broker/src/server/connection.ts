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
import type { Handler, RequestAccounting, RequestContext } from "../handlers/handler.js";
import { withThrottleTime } from "../quota/throttle-field.js";
import { ErrorCode } from "../errors.js";
import type { Services } from "../services.js";
import { errorResponse } from "./error-response.js";
import { FrameReader } from "./frame-reader.js";
import type { ListenerRuntime } from "./listener.js";
import { Session } from "./session.js";

/** Bytes of unprocessed requests buffered per connection before the socket is paused. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;
/** Kafka's limit of a frame received before SASL authentication (512 KiB). */
export const PRE_AUTH_MAX_BYTES = 512 * 1024;
/** What a SASL listener serves before authentication; anything else closes the connection. */
const PRE_AUTH_APIS: ReadonlySet<number> = new Set([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

/**
 * One client connection. Requests are handled one at a time, in arrival order, as Kafka does (it mutes
 * a channel until its response is sent), so responses are in request order and pipelining clients are
 * served; frames read ahead are bounded, and a slow reader pauses us through the socket's backpressure.
 * A client over one of its quotas is answered at once with the throttle time, then muted as Kafka mutes
 * its channel: no further request is read until the time has passed.
 */
export class Connection {
  private readonly reader: FrameReader;
  private busy = false;
  private closing = false;
  private readonly closedPromise: Promise<void>;
  private markClosed!: () => void;
  /** Set while answers are held in the socket's buffer to leave in one write (see `pump`). */
  private corked = false;
  /** When a throttled connection may be read again (0: not muted). */
  private mutedUntil = 0;
  /** Ends a mute early (the connection is closing). */
  private unmute: (() => void) | undefined = undefined;
  readonly remote: string;
  readonly session: Session;

  constructor(
    private readonly socket: Socket,
    private readonly services: Services,
    private readonly handlers: ReadonlyMap<number, Handler>,
    listener: ListenerRuntime,
    tlsPrincipal?: string,
  ) {
    this.remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    this.session = new Session(listener, tlsPrincipal, socket.remoteAddress);
    const max = services.config.props["socket.request.max.bytes"];
    this.reader = this.session.authenticated
      ? new FrameReader(max)
      : new FrameReader(Math.min(max, PRE_AUTH_MAX_BYTES), "the limit before SASL authentication");
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
    this.unmute?.();
    this.uncork(); // answers already given go out, as they would have uncorked
    this.socket.destroy();
  }

  /** Stop reading; finish the request in hand; then end the socket. */
  async drain(): Promise<void> {
    this.closing = true;
    this.socket.pause();
    this.unmute?.();
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
    const max = this.services.config.props["socket.request.max.bytes"];
    try {
      while (!this.closing) {
        if (this.mutedUntil > Date.now()) await this.waitMuted();
        if (this.closing) break;
        let payload: Buffer | undefined;
        try {
          payload = this.reader.next();
        } catch (e) {
          this.close((e as Error).message);
          return;
        }
        if (payload === undefined) break;
        // Pipelined requests already read: their answers leave together, in one write, when the last of
        // them is answered (or at the end of this turn of the event loop, should one of them wait).
        if (!this.corked && this.reader.hasFrame()) this.cork();
        try {
          if (this.session.expectsRawToken) await this.handleRawToken(payload);
          else await this.handle(payload);
          if (this.session.closeReason !== undefined) return await this.closeAfterResponse();
          if (this.session.authenticated && this.reader.maxFrameBytes !== max) {
            this.reader.maxFrameBytes = max;
            this.reader.limitName = "socket.request.max.bytes";
          }
        } catch (e) {
          // Whatever one request does wrong ends its connection, never the process.
          this.services.log.error(`request from ${this.remote} failed: ${(e as Error).stack ?? String(e)}`);
          this.close("internal error while handling a request");
          return;
        }
      }
    } finally {
      this.busy = false;
      this.uncork();
    }
    if (!this.closing && this.reader.bufferedBytes <= READ_AHEAD_BYTES) this.socket.resume();
  }

  private async handle(payload: Buffer): Promise<void> {
    const peek = peekRequest(payload);
    if (peek === undefined) return this.close(`request of ${payload.length} bytes is shorter than a header`);
    const { apiKey, apiVersion, correlationId } = peek;
    if (this.sessionExpired(apiKey)) return;
    if (!this.session.authenticated && !this.allowedBeforeAuth(apiKey))
      return this.close(
        `API ${apiKey} (v${apiVersion}) before SASL authentication on listener ${this.session.listener}`,
      );
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
    const accounting: RequestAccounting = { waitedMs: 0, throttleMs: 0 };
    const ctx: RequestContext = {
      services: this.services,
      header: request.header,
      apiVersion,
      clientId: request.header.clientId,
      remote: this.remote,
      closed: this.closedPromise,
      session: this.session,
      accounting,
    };
    const started = performance.now();
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
    const busyMs = performance.now() - started - accounting.waitedMs;
    const throttleMs = await this.throttle(
      request.header.clientId,
      apiKey,
      apiVersion,
      payload.length,
      busyMs,
      accounting.throttleMs,
      response,
    );
    if (response !== null) {
      const external = handler.zeroCopyBuffers?.(response as never);
      const written = handler.written === undefined ? undefined : () => handler.written!(response as never);
      await this.send(
        correlationId,
        apiKey,
        apiVersion,
        response as ApiResponses[keyof ApiResponses],
        external,
        written,
      );
    }
    if (throttleMs > 0) this.mutedUntil = Date.now() + throttleMs;
  }

  /**
   * Counts the request against the client's quotas (request time; Produce's bytes; a handler's own
   * byte-rate throttle) and puts the throttle time in the response where its version has the field, as
   * Kafka does for every response when the request quota is violated; answers how long to mute.
   */
  private async throttle(
    clientId: string | null,
    apiKey: number,
    apiVersion: number,
    bytes: number,
    busyMs: number,
    handlerThrottleMs: number,
    response: object | null,
  ): Promise<number> {
    if (!this.session.authenticated) return 0;
    const quotas = this.services.quotas;
    let ms = Math.max(handlerThrottleMs, quotas.recordRequestTime(this.session, clientId, busyMs));
    if (apiKey === ApiKey.Produce) ms = Math.max(ms, quotas.produce.record(this.session, clientId, bytes));
    if (ms > 0 && response !== null) ms = Math.max(ms, await withThrottleTime(apiKey, apiVersion, response, ms));
    return ms;
  }

  /** Waits out a throttle with the socket paused; closing the connection ends the wait. */
  private async waitMuted(): Promise<void> {
    this.socket.pause();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.mutedUntil - Date.now());
      this.unmute = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.unmute = undefined;
    this.mutedUntil = 0;
  }

  /**
   * KIP-368 on an authenticated SASL connection: a SaslHandshake may start a re-authentication; any
   * other request after the session's end closes the connection (true), as Kafka does.
   */
  private sessionExpired(apiKey: number): boolean {
    const session = this.session;
    if (!session.usesSasl || !session.authenticated) return false;
    const now = Date.now();
    if (apiKey === ApiKey.SaslHandshake && session.beginReauthentication(now)) {
      this.services.log.debug(`${this.remote} begins re-authentication as ${session.principal}`);
      return false;
    }
    if (!session.expired(now)) return false;
    this.close(`the SASL session of ${session.principal} expired without re-authentication`);
    return true;
  }

  /**
   * ApiVersions and SaslHandshake while the handshake is expected; SaslAuthenticate after a v1 one.
   * A re-authentication takes only the handshake and its tokens.
   */
  private allowedBeforeAuth(apiKey: number): boolean {
    if (!PRE_AUTH_APIS.has(apiKey)) return false;
    if (apiKey === ApiKey.ApiVersions && this.session.reauthenticating) return false;
    return apiKey === ApiKey.SaslAuthenticate
      ? this.session.state === "authenticating"
      : this.session.state === "handshake" || apiKey === ApiKey.ApiVersions;
  }

  /** A bare SASL token after a v0 SaslHandshake: its challenge goes back with a 4-byte size, no header. */
  private async handleRawToken(token: Buffer): Promise<void> {
    let challenge: Buffer;
    try {
      challenge = await this.session.authenticate(token);
    } catch {
      return; // As Kafka with v0: no answer, the connection is closed (after the delay).
    }
    if (this.session.authenticated) this.services.log.info(this.session.authenticatedLine(this.remote));
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(challenge.length, 0);
    this.socket.write(Buffer.concat([size, challenge]));
  }

  /**
   * The session asked for the end of the connection once its answer is out. A failed authentication is
   * logged as such; a v0 exchange (no answer to delay) waits connection.failed.authentication.delay.ms
   * here, SaslAuthenticate waited before answering.
   */
  private async closeAfterResponse(): Promise<void> {
    const reason = this.session.closeReason!;
    const failed = this.session.state === "failed";
    this.closing = true;
    this.socket.pause();
    this.services.log.warn(
      failed
        ? `failed authentication from ${this.remote} on listener ${this.session.listener}: ${reason}`
        : `closing connection ${this.remote}: ${reason}`,
    );
    if (this.session.delayClose) {
      const delay = this.services.config.props["connection.failed.authentication.delay.ms"];
      await new Promise((r) => setTimeout(r, delay).unref());
    }
    if (failed) this.socket.destroySoon();
    else this.socket.end();
  }

  private cork(): void {
    this.corked = true;
    this.socket.cork();
    setImmediate(() => this.uncork());
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
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
    written?: () => void,
  ): Promise<void> {
    const socket = this.socket;
    if (socket.destroyed) return written?.();
    const header: ResponseHeader = { correlationId };
    let flushed: boolean;
    if (external !== undefined && external.size > 0) {
      // Stored records go out as they are: one writev of the encoded pieces and the record buffers.
      const parts = encodeResponseFrameParts(header, body, apiKey, apiVersion, external);
      socket.cork();
      flushed = true;
      // Writes complete in order: the last one's callback means every part has left our buffers.
      for (let i = 0; i < parts.length; i++)
        flushed = socket.write(parts[i]!, i === parts.length - 1 ? written : undefined);
      socket.uncork();
    } else {
      flushed = socket.write(encodeResponseFrame(header, body, apiKey, apiVersion), written);
    }
    if (!flushed) {
      this.uncork();
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
