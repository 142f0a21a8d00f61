import {
  apiInfo,
  requestHeaderVersion,
  responseHeaderVersion,
  type ApiRequests,
  type ApiResponses,
} from "./gen/apis.js";
import { RequestHeaderCodec, type RequestHeader } from "./gen/messages/request-header.js";
import { ResponseHeaderCodec, type ResponseHeader } from "./gen/messages/response-header.js";
import { DecodeError } from "./runtime/errors.js";
import { Reader, type ReaderOptions } from "./runtime/reader.js";
import { Writer } from "./runtime/writer.js";
import type { MessageCodec } from "./runtime/codec.js";

/**
 * Whole Kafka frames: a 4-byte size, a request or response header whose version follows from the API
 * and its version, and the body. Encoders size the frame first and allocate once, prefix included.
 */

export interface RequestFrame<K extends keyof ApiRequests = keyof ApiRequests> {
  readonly apiKey: K;
  readonly apiVersion: number;
  readonly header: RequestHeader;
  readonly body: ApiRequests[K];
  /** Bytes after the body's last field. Kafka ignores them (librdkafka sends some), and so do we. */
  readonly trailingBytes: number;
}

export interface ResponseFrame<K extends keyof ApiResponses = keyof ApiResponses> {
  readonly header: ResponseHeader;
  readonly body: ApiResponses[K];
}

function checkSize(frame: Buffer, messageName: string): void {
  if (frame.length < 4)
    throw new DecodeError(messageName, 0, "Size", `a frame needs 4 size bytes, got ${frame.length}`);
  const size = frame.readInt32BE(0);
  if (size !== frame.length - 4)
    throw new DecodeError(messageName, 0, "Size", `the size prefix says ${size} bytes but ${frame.length - 4} follow`);
}

/** The API key, version and correlation id at the start of a request (without its size prefix). */
export function peekRequest(
  payload: Buffer,
): { apiKey: number; apiVersion: number; correlationId: number } | undefined {
  if (payload.length < 8) return undefined;
  return { apiKey: payload.readInt16BE(0), apiVersion: payload.readInt16BE(2), correlationId: payload.readInt32BE(4) };
}

/**
 * Decodes a request payload (a frame without its 4-byte size). Fails with a DecodeError for an unknown
 * API key, an unsupported version, or a malformed header or body. Bytes after the body are counted in
 * `trailingBytes`, not refused: Apache Kafka reads a request's fields and ignores what follows.
 */
export function decodeRequest(payload: Buffer, options?: ReaderOptions): RequestFrame {
  const peek = peekRequest(payload);
  if (peek === undefined)
    throw new DecodeError("RequestHeader", 0, "RequestApiKey", `a request needs 8 header bytes, got ${payload.length}`);
  const info = apiInfo(peek.apiKey);
  if (info === undefined) throw new DecodeError("RequestHeader", 0, "RequestApiKey", `unknown API key ${peek.apiKey}`);
  const r = new Reader(payload, 0, payload.length, options);
  const header = RequestHeaderCodec.decode(r, requestHeaderVersion(peek.apiKey, peek.apiVersion));
  const body = info.request.decode(r, peek.apiVersion) as ApiRequests[keyof ApiRequests];
  return { apiKey: info.apiKey, apiVersion: peek.apiVersion, header, body, trailingBytes: r.end - r.off };
}

/** Decodes a whole request frame, size prefix included. */
export function decodeRequestFrame(frame: Buffer, options?: ReaderOptions): RequestFrame {
  checkSize(frame, "RequestHeader");
  return decodeRequest(frame.subarray(4), options);
}

/** Encodes a request frame, size prefix included; the API and version come from the header. */
export function encodeRequestFrame<K extends keyof ApiRequests>(header: RequestHeader, body: ApiRequests[K]): Buffer {
  const apiKey = header.requestApiKey;
  const version = header.requestApiVersion;
  const info = apiInfo(apiKey);
  if (info === undefined) throw new RangeError(`unknown API key ${apiKey}`);
  const hv = requestHeaderVersion(apiKey, version);
  const size = RequestHeaderCodec.size(header, hv) + info.request.size(body as never, version);
  const w = Writer.alloc(4 + size);
  w.int32(size);
  RequestHeaderCodec.encode(w, header, hv);
  info.request.encode(w, body as never, version);
  return w.buf;
}

/** Decodes a response frame, size prefix included, for the API and version of its request. */
export function decodeResponseFrame(
  frame: Buffer,
  apiKey: number,
  apiVersion: number,
  options?: ReaderOptions,
): ResponseFrame {
  checkSize(frame, "ResponseHeader");
  return decodeResponse(frame.subarray(4), apiKey, apiVersion, options);
}

/** Decodes a response payload (a frame without its size prefix). */
export function decodeResponse(
  payload: Buffer,
  apiKey: number,
  apiVersion: number,
  options?: ReaderOptions,
): ResponseFrame {
  const info = apiInfo(apiKey);
  if (info === undefined) throw new DecodeError("ResponseHeader", 0, "(api)", `unknown API key ${apiKey}`);
  const r = new Reader(payload, 0, payload.length, options);
  const header = ResponseHeaderCodec.decode(r, responseHeaderVersion(apiKey, apiVersion));
  const body = info.response.decode(r, apiVersion) as ApiResponses[keyof ApiResponses];
  if (r.off !== r.end) r.fail("(end)", `${r.end - r.off} bytes left over after the response`);
  return { header, body };
}

function responseCodec(apiKey: number): MessageCodec<unknown> {
  const info = apiInfo(apiKey);
  if (info === undefined) throw new RangeError(`unknown API key ${apiKey}`);
  return info.response as MessageCodec<unknown>;
}

/** The size of a response frame without its 4-byte prefix. */
export function sizeOfResponse<K extends keyof ApiResponses>(
  apiKey: K | number,
  apiVersion: number,
  header: ResponseHeader,
  body: ApiResponses[K],
): number {
  return (
    ResponseHeaderCodec.size(header, responseHeaderVersion(apiKey, apiVersion)) +
    responseCodec(apiKey).size(body, apiVersion)
  );
}

/** Writes prefix, header and body into `w`, which has room for them (less any gathered buffers). */
function writeResponse(
  w: Writer,
  size: number,
  header: ResponseHeader,
  body: unknown,
  apiKey: number,
  apiVersion: number,
): void {
  w.int32(size);
  ResponseHeaderCodec.encode(w, header, responseHeaderVersion(apiKey, apiVersion));
  responseCodec(apiKey).encode(w, body, apiVersion);
}

/** Encodes a response frame, size prefix included, in one allocation. */
export function encodeResponseFrame<K extends keyof ApiResponses>(
  header: ResponseHeader,
  body: ApiResponses[K],
  apiKey: K | number,
  apiVersion: number,
): Buffer {
  const size = sizeOfResponse(apiKey, apiVersion, header, body);
  const w = Writer.alloc(4 + size);
  writeResponse(w, size, header, body, apiKey, apiVersion);
  return w.buf;
}

/**
 * Encodes a response frame as a list of pieces to write in order, without copying the buffers in
 * `external` (each must appear once in `body`, e.g. the stored records of a Fetch response): the
 * encoded bytes between them are cut out of one allocation the size of everything else.
 */
export function encodeResponseFrameParts<K extends keyof ApiResponses>(
  header: ResponseHeader,
  body: ApiResponses[K],
  apiKey: K | number,
  apiVersion: number,
  external: ReadonlySet<Uint8Array>,
): Uint8Array[] {
  const size = sizeOfResponse(apiKey, apiVersion, header, body);
  let externalBytes = 0;
  for (const b of external) externalBytes += b.length;
  const w = Writer.alloc(4 + size - externalBytes);
  w.gather = external;
  w.parts = [];
  writeResponse(w, size, header, body, apiKey, apiVersion);
  if (w.off !== w.buf.length) throw new RangeError(`external buffers do not all appear once in the response`);
  w.parts.push(w.buf.subarray(w.partStart, w.off));
  return w.parts;
}
