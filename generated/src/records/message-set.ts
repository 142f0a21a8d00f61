import { crc32 } from "node:zlib";
import { DecodeError, EncodeError } from "../runtime/errors.js";
import { Reader } from "../runtime/reader.js";
import { BatchAttributes, CompressionType, LOG_OVERHEAD } from "./batch-header.js";
import { compress, decompress, isCompressionType } from "./compression.js";

/**
 * The legacy MessageSet of magic 0 and 1 (what Produce v0-v2 send and Fetch v0-v3 return):
 * offset int64, size int32, then a message of crc int32 (plain CRC32 of the rest), magic int8,
 * attributes int8, timestamp int64 (magic 1 only), key bytes, value bytes. A compressed message is a
 * wrapper whose value is a compressed inner message set; with magic 1 the inner offsets are relative,
 * and the wrapper's offset is that of its last inner message.
 */

export type LegacyMagic = 0 | 1;

export interface LegacyMessage {
  offset: bigint;
  magic: LegacyMagic;
  /** The message's own attributes (the timestamp-type bit; no codec once unwrapped). */
  attributes: number;
  /** -1 for magic 0, which has none. */
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** Codec of the wrapper the message came in, `none` when it stood alone. */
  compression: CompressionType;
}

const NAME = "MessageSet";
const CRC_OFFSET = 12;
const MAGIC_OFFSET = 16;
/** crc, magic, attributes, key length, value length. */
const MIN_MESSAGE_SIZE_V0 = 14;
/** The same plus the timestamp. */
const MIN_MESSAGE_SIZE_V1 = 22;
/** Timestamp-type bit of message attributes (magic 1): set for LogAppendTime. */
const TIMESTAMP_TYPE_LOG_APPEND = BatchAttributes.timestampTypeLogAppend;

function minMessageSize(magic: LegacyMagic): number {
  return magic === 0 ? MIN_MESSAGE_SIZE_V0 : MIN_MESSAGE_SIZE_V1;
}

/**
 * Decodes a message set, unpacking compressed wrappers into their inner messages with absolute offsets.
 * Every length and CRC is checked; a truncated message is an error.
 */
export function decodeMessageSet(buf: Buffer): LegacyMessage[] {
  const out: LegacyMessage[] = [];
  readMessages(buf, out, false);
  return out;
}

function readMessages(buf: Buffer, out: LegacyMessage[], inner: boolean): void {
  let off = 0;
  while (off < buf.length) {
    const left = buf.length - off;
    const field = inner ? "Messages.value.Messages" : "Messages";
    if (left < LOG_OVERHEAD)
      throw new DecodeError(
        NAME,
        0,
        `${field}.size`,
        `truncated: ${left} bytes where a message header needs ${LOG_OVERHEAD}`,
      );
    const size = buf.readInt32BE(off + 8);
    if (size < MIN_MESSAGE_SIZE_V0)
      throw new DecodeError(
        NAME,
        0,
        `${field}.size`,
        `message size ${size} is below the minimum ${MIN_MESSAGE_SIZE_V0}`,
      );
    if (size > left - LOG_OVERHEAD)
      throw new DecodeError(
        NAME,
        0,
        `${field}.size`,
        `truncated: message needs ${size} bytes, ${left - LOG_OVERHEAD} left`,
      );
    const end = off + LOG_OVERHEAD + size;
    const magic = buf.readInt8(off + MAGIC_OFFSET);
    if (magic !== 0 && magic !== 1)
      throw new DecodeError(NAME, magic, `${field}.magic`, `expected magic 0 or 1, found ${magic}`);
    if (size < minMessageSize(magic))
      throw new DecodeError(
        NAME,
        magic,
        `${field}.size`,
        `message size ${size} is below the minimum ${minMessageSize(magic)}`,
      );
    const stored = buf.readUInt32BE(off + CRC_OFFSET);
    const computed = crc32(buf.subarray(off + MAGIC_OFFSET, end)) >>> 0;
    if (stored !== computed)
      throw new DecodeError(NAME, magic, `${field}.crc`, `CRC32 mismatch: stored ${stored}, computed ${computed}`);

    const offset = buf.readBigInt64BE(off);
    const attributes = buf.readInt8(off + MAGIC_OFFSET + 1);
    const timestamp = magic === 1 ? buf.readBigInt64BE(off + MAGIC_OFFSET + 2) : -1n;
    const r: Reader = new Reader(buf, off + MAGIC_OFFSET + 2 + (magic === 1 ? 8 : 0), end);
    r.messageName = NAME;
    r.version = magic;
    const key = r.nullableBytes(`${field}.key`);
    const value = r.nullableBytes(`${field}.value`);
    if (r.remaining !== 0) r.fail(`${field}.size`, `${r.remaining} bytes after the value`);

    const codec = attributes & BatchAttributes.compressionMask;
    if (codec === CompressionType.none) {
      out.push({ offset, magic, attributes, timestamp, key, value, compression: CompressionType.none });
    } else {
      if (inner) r.fail(`${field}.attributes`, "a compressed message inside a compressed message");
      if (!isCompressionType(codec) || codec === CompressionType.zstd)
        r.fail(`${field}.attributes`, `codec ${codec} is not valid for magic ${magic}`);
      if (value === null) r.fail(`${field}.value`, "a compressed wrapper without a value");
      let data: Buffer;
      try {
        data = decompress(codec, value, magic);
      } catch (e) {
        r.fail(`${field}.value`, (e as Error).message);
      }
      unwrap(data, { offset, magic, attributes, timestamp, codec }, out);
    }
    off = end;
  }
}

interface Wrapper {
  offset: bigint;
  magic: LegacyMagic;
  attributes: number;
  timestamp: bigint;
  codec: CompressionType;
}

function unwrap(data: Buffer, wrapper: Wrapper, out: LegacyMessage[]): void {
  const first = out.length;
  readMessages(data, out, true);
  if (out.length === first)
    throw new DecodeError(NAME, wrapper.magic, "Messages.value", "a compressed wrapper with no messages inside");
  // magic 1 inner offsets count from the first; the wrapper carries the absolute offset of the last
  const shift = wrapper.magic === 1 ? wrapper.offset - out[out.length - 1]!.offset : 0n;
  const logAppend = wrapper.magic === 1 && (wrapper.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0;
  for (let i = first; i < out.length; i++) {
    const m = out[i]!;
    m.offset += shift;
    m.compression = wrapper.codec;
    if (logAppend) {
      m.timestamp = wrapper.timestamp;
      m.attributes |= TIMESTAMP_TYPE_LOG_APPEND;
    }
  }
}

export interface LegacyMessageInput {
  offset: bigint;
  /** Ignored for magic 0. */
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

export interface MessageSetOptions {
  magic: LegacyMagic;
  /** gzip, snappy or lz4 put all messages in one wrapper; default none. */
  compression?: CompressionType;
  /** Magic 1: stamp the messages (or the wrapper) with this LogAppendTime instead of their own times. */
  logAppendTime?: bigint;
}

/** Encodes messages as a message set, inside one compressed wrapper when a codec is given. */
export function encodeMessageSet(messages: readonly LegacyMessageInput[], options: MessageSetOptions): Buffer {
  const { magic } = options;
  const codec = options.compression ?? CompressionType.none;
  if (codec === CompressionType.zstd || !isCompressionType(codec))
    throw new EncodeError(NAME, magic, "attributes", `codec ${codec} is not valid for magic ${magic}`);
  const logAppend = magic === 1 && options.logAppendTime !== undefined;
  if (codec === CompressionType.none || messages.length === 0) {
    const attributes = logAppend ? TIMESTAMP_TYPE_LOG_APPEND : 0;
    return writeMessages(messages, magic, attributes, 0n, logAppend ? options.logAppendTime : undefined);
  }
  const firstOffset = magic === 1 ? messages[0]!.offset : 0n;
  const inner = writeMessages(messages, magic, 0, firstOffset, undefined);
  const last = messages[messages.length - 1]!;
  let timestamp = -1n;
  if (magic === 1) {
    if (options.logAppendTime !== undefined) timestamp = options.logAppendTime;
    else for (const m of messages) if (m.timestamp > timestamp) timestamp = m.timestamp;
  }
  const wrapper: LegacyMessageInput = {
    offset: last.offset,
    timestamp,
    key: null,
    value: compress(codec, inner, magic),
  };
  return writeMessages([wrapper], magic, codec | (logAppend ? TIMESTAMP_TYPE_LOG_APPEND : 0), 0n, undefined);
}

function writeMessages(
  messages: readonly LegacyMessageInput[],
  magic: LegacyMagic,
  attributes: number,
  offsetBase: bigint,
  timestampOverride: bigint | undefined,
): Buffer {
  const minSize = minMessageSize(magic);
  let total = 0;
  for (const m of messages) total += LOG_OVERHEAD + minSize + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  const buf = Buffer.allocUnsafe(total);
  let off = 0;
  for (const m of messages) {
    const start = off;
    const size = minSize + (m.key?.length ?? 0) + (m.value?.length ?? 0);
    buf.writeBigInt64BE(m.offset - offsetBase, off);
    buf.writeInt32BE(size, off + 8);
    off = buf.writeInt8(magic, start + MAGIC_OFFSET);
    off = buf.writeInt8(attributes, off);
    if (magic === 1) off = buf.writeBigInt64BE(timestampOverride ?? m.timestamp, off);
    off = writeBytes(buf, off, m.key);
    off = writeBytes(buf, off, m.value);
    buf.writeUInt32BE(crc32(buf.subarray(start + MAGIC_OFFSET, off)) >>> 0, start + CRC_OFFSET);
  }
  return buf;
}

function writeBytes(buf: Buffer, off: number, b: Buffer | null): number {
  if (b === null) return buf.writeInt32BE(-1, off);
  off = buf.writeInt32BE(b.length, off);
  return off + b.copy(buf, off);
}
