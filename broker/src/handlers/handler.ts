import type { ApiRequests, ApiResponses, RequestHeader } from "@tskafka/protocol";
import type { Session } from "../server/session.js";
import type { Services } from "../services.js";

/** What a handler knows about the request besides its body. */
export interface RequestContext {
  /** The services a handler may use. */
  readonly services: Services;
  readonly header: RequestHeader;
  readonly apiVersion: number;
  readonly clientId: string | null;
  /** `host:port` of the client, for logs. */
  readonly remote: string;
  /** Resolves when the connection closes, so long waits can give up early. */
  readonly closed: Promise<void>;
  /** The connection's listener, security protocol and principal (User:ANONYMOUS until authenticated). */
  readonly session: Session;
  /** What the connection counts against the client's quotas once the handler is done. */
  readonly accounting?: RequestAccounting;
}

/** Filled in by a handler whose request is not all work, or that throttles on its own quota. */
export interface RequestAccounting {
  /** Time spent waiting for data (a fetch's long poll): not counted as request time. */
  waitedMs: number;
  /** A byte-rate throttle the handler found (Fetch's consumer_byte_rate), in milliseconds. */
  throttleMs: number;
}

/**
 * One API's handler: the versions it serves and a function from request to response (null: send no
 * response, as for acks=0 produce). ApiVersions is built from the registered ranges.
 */
export interface Handler<K extends keyof ApiRequests = keyof ApiRequests> {
  readonly apiKey: K;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(request: ApiRequests[K], ctx: RequestContext): ApiResponses[K] | null | Promise<ApiResponses[K] | null>;
  /**
   * Large buffers of a response to send as they are rather than copy into the frame (Fetch's stored
   * records). Each must appear once in the response.
   */
  zeroCopyBuffers?(response: ApiResponses[K]): ReadonlySet<Uint8Array> | undefined;
  /**
   * The response's bytes have all been handed to the kernel (or the connection is gone): buffers it
   * held may be reused (Fetch's pooled read buffers).
   */
  written?(response: ApiResponses[K]): void;
  /**
   * The answer when `handle` failed: every topic and partition of the request with `errorCode` (Kafka's
   * getErrorResponse). Without it, the API's top-level error code carries the error where it has one.
   */
  errorResponse?(request: ApiRequests[K], errorCode: number, apiVersion: number): ApiResponses[K];
}

export function defineHandler<K extends keyof ApiRequests>(h: Handler<K>): Handler<K> {
  return h;
}
