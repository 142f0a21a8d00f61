import { createRequire } from "node:module";
import { gunzipSync, gzipSync } from "node:zlib";
import { DecodeError, EncodeError } from "../runtime/errors.js";
import { CompressionType } from "./batch-header.js";

/**
 * The record compression codecs, all synchronous. gzip is node:zlib; snappy, lz4 and zstd are native
 * napi-rs addons shipped as prebuilt npm packages, loaded on first use so that a platform without one of
 * them can still use the others.
 */

const require = createRequire(import.meta.url);
let snappyLib: typeof import("snappy") | undefined;
let lz4Lib: typeof import("lz4-napi") | undefined;
let zstdEncoder: import("@toondepauw/node-zstd").Encoder | undefined;
let zstdDecoder: import("@toondepauw/node-zstd").Decoder | undefined;

function snappy(): typeof import("snappy") {
  return (snappyLib ??= require("snappy") as typeof import("snappy"));
}
function lz4(): typeof import("lz4-napi") {
  return (lz4Lib ??= require("lz4-napi") as typeof import("lz4-napi"));
}
/** Kafka's default zstd level. */
const ZSTD_LEVEL = 3;
function zstdEncode(data: Buffer): Buffer {
  if (zstdEncoder === undefined) {
    const { Encoder } = require("@toondepauw/node-zstd") as typeof import("@toondepauw/node-zstd");
    zstdEncoder = new Encoder(ZSTD_LEVEL);
  }
  return zstdEncoder.encodeSync(data);
}
function zstdDecode(data: Buffer): Buffer {
  if (zstdDecoder === undefined) {
    const { Decoder } = require("@toondepauw/node-zstd") as typeof import("@toondepauw/node-zstd");
    zstdDecoder = new Decoder();
  }
  return zstdDecoder.decodeSync(data);
}

export const compressionNames: Readonly<Record<CompressionType, string>> = {
  [CompressionType.none]: "none",
  [CompressionType.gzip]: "gzip",
  [CompressionType.snappy]: "snappy",
  [CompressionType.lz4]: "lz4",
  [CompressionType.zstd]: "zstd",
};

export function isCompressionType(n: number): n is CompressionType {
  return n >= CompressionType.none && n <= CompressionType.zstd && Number.isInteger(n);
}

/**
 * Compresses a records payload as Kafka clients expect it. `magic` matters only for lz4: magic 0 message
 * sets carry the historic wrong frame-descriptor checksum (KAFKA-3160, KIP-57) that old readers demand.
 */
export function compress(codec: CompressionType, data: Buffer, magic = 2): Buffer {
  switch (codec) {
    case CompressionType.none:
      return data;
    case CompressionType.gzip:
      return gzipSync(data);
    case CompressionType.snappy:
      return xerialSnappyEncode(data);
    case CompressionType.lz4: {
      const frame = lz4().compressFrameSync(data);
      if (magic === 0) patchLz4HeaderChecksum(frame, true);
      return frame;
    }
    case CompressionType.zstd:
      if (magic < 2) throw new EncodeError("MessageSet", magic, "attributes", "zstd needs record batch magic 2");
      return zstdEncode(data);
    default:
      throw new EncodeError("RecordBatch", magic, "attributes", `unknown compression codec ${String(codec)}`);
  }
}

/**
 * Inflates a records payload. Errors are `DecodeError`s naming the codec. `maxOutput` bounds what gzip may
 * inflate to (a decompression bomb stops there); the other codecs bound themselves by their framing.
 * For magic 0 lz4 the frame-descriptor checksum is not checked, since old writers got it wrong.
 */
export function decompress(
  codec: CompressionType,
  data: Buffer,
  magic = 2,
  maxOutput = DEFAULT_MAX_DECOMPRESSED,
): Buffer {
  const name = compressionNames[codec] ?? `codec ${String(codec)}`;
  let out: Buffer;
  try {
    switch (codec) {
      case CompressionType.none:
        return data;
      case CompressionType.gzip:
        out = gunzipSync(data, { maxOutputLength: maxOutput });
        break;
      case CompressionType.snappy:
        out = snappyDecode(data, maxOutput);
        break;
      case CompressionType.lz4:
        out = lz4Decode(data, magic === 0);
        break;
      case CompressionType.zstd:
        out = zstdDecode(data);
        break;
      default:
        throw new DecodeError("RecordBatch", magic, "attributes", `unknown compression codec ${String(codec)}`);
    }
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(name, magic, "records", `decompression failed: ${(e as Error).message}`);
  }
  if (out.length > maxOutput) throw new DecodeError(name, magic, "records", `inflates past ${maxOutput} bytes`);
  return out;
}

/** Default bound on one decompressed payload; Kafka's own limits on a batch are far below it. */
export const DEFAULT_MAX_DECOMPRESSED = 512 * 1024 * 1024;

// --- snappy: snappy-java's framing, which Kafka's Java client writes and reads ---

/** `\x82SNAPPY\x00`, then version 1 and minimum compatible version 1, both int32 big-endian. */
const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
const XERIAL_MAGIC_LENGTH = 8;
/** snappy-java's default block size, which Kafka's Java client uses. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

function isXerialHeader(data: Buffer, off: number): boolean {
  return (
    data.length - off >= XERIAL_HEADER.length &&
    data.compare(XERIAL_HEADER, 0, XERIAL_MAGIC_LENGTH, off, off + XERIAL_MAGIC_LENGTH) === 0
  );
}

/** snappy-java's stream format: the header, then blocks of int32 compressed length + raw snappy. */
export function xerialSnappyEncode(data: Buffer): Buffer {
  const lib = snappy();
  const parts: Buffer[] = [XERIAL_HEADER];
  for (let off = 0; off < data.length; off += XERIAL_BLOCK_SIZE) {
    const block = lib.compressSync(data.subarray(off, Math.min(off + XERIAL_BLOCK_SIZE, data.length)));
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

/** Accepts snappy-java framing (as the Java client sends) or one raw snappy block (as librdkafka may). */
function snappyDecode(data: Buffer, maxOutput: number): Buffer {
  const lib = snappy();
  if (!isXerialHeader(data, 0)) return lib.uncompressSync(data, { asBuffer: true }) as Buffer;
  const parts: Buffer[] = [];
  let total = 0;
  let off = XERIAL_HEADER.length;
  while (off < data.length) {
    // snappy-java reads concatenated streams, so a header may reappear between blocks
    if (isXerialHeader(data, off)) {
      off += XERIAL_HEADER.length;
      continue;
    }
    if (data.length - off < 4) throw new DecodeError("snappy", 0, "block", "truncated block length");
    const len = data.readUInt32BE(off);
    off += 4;
    if (len > data.length - off)
      throw new DecodeError("snappy", 0, "block", `block length ${len} exceeds the ${data.length - off} bytes left`);
    const block = lib.uncompressSync(data.subarray(off, off + len), { asBuffer: true }) as Buffer;
    off += len;
    total += block.length;
    if (total > maxOutput) throw new DecodeError("snappy", 0, "records", `inflates past ${maxOutput} bytes`);
    parts.push(block);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

// --- lz4: the LZ4 frame format, with Kafka's magic 0 header checksum quirk ---

const LZ4_FRAME_MAGIC = 0x184d2204;

/**
 * Length of the frame descriptor (FLG, BD, optional content size and dictionary id) that starts at byte 4;
 * the header checksum byte follows it.
 */
function lz4DescriptorLength(frame: Buffer): number {
  if (frame.length < 7 || frame.readUInt32LE(0) !== LZ4_FRAME_MAGIC)
    throw new DecodeError("lz4", 0, "frame", "not an LZ4 frame");
  const flg = frame[4]!;
  const len = 2 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
  if (frame.length < 4 + len + 1) throw new DecodeError("lz4", 0, "frame", "truncated frame descriptor");
  return len;
}

/**
 * Rewrites the header checksum byte: `broken` computes it over the magic number too, as Kafka before
 * 0.10 did (and still does for magic 0); otherwise over the descriptor alone, as the LZ4 spec says.
 */
function patchLz4HeaderChecksum(frame: Buffer, broken: boolean): void {
  const len = lz4DescriptorLength(frame);
  const hash = broken ? xxh32(frame, 0, 4 + len) : xxh32(frame, 4, len);
  frame[4 + len] = (hash >>> 8) & 0xff;
}

/**
 * Walks the frame's blocks up to its end mark, since the library accepts a frame cut right before it;
 * this also gives a truncated frame a clear error.
 */
function checkLz4Blocks(frame: Buffer, descriptorLength: number): void {
  const flg = frame[4]!;
  const blockChecksum = flg & 0x10 ? 4 : 0;
  let off = 4 + descriptorLength + 1;
  for (;;) {
    if (frame.length - off < 4) throw new DecodeError("lz4", 0, "frame", "truncated: no end mark");
    const size = frame.readUInt32LE(off) & 0x7fffffff;
    off += 4;
    if (size === 0) break;
    off += size + blockChecksum;
    if (off > frame.length)
      throw new DecodeError("lz4", 0, "frame", `truncated: a block of ${size} bytes runs past the end`);
  }
  if (flg & 0x04 && frame.length - off < 4) throw new DecodeError("lz4", 0, "frame", "truncated content checksum");
}

function lz4Decode(data: Buffer, ignoreHeaderChecksum: boolean): Buffer {
  checkLz4Blocks(data, lz4DescriptorLength(data));
  if (ignoreHeaderChecksum) {
    // the library always checks it, so give it a copy whose checksum is right
    const fixed = Buffer.from(data);
    patchLz4HeaderChecksum(fixed, false);
    data = fixed;
  }
  return lz4().decompressFrameSync(data);
}

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}
function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

/** XXH32 with seed 0, as the LZ4 frame format uses for its checksums. */
export function xxh32(buf: Buffer, start: number, length: number): number {
  const end = start + length;
  let off = start;
  let h: number;
  if (length >= 16) {
    let v1 = (P1 + P2) | 0;
    let v2 = P2;
    let v3 = 0;
    let v4 = -P1 | 0;
    for (; off + 16 <= end; off += 16) {
      v1 = round(v1, buf.readInt32LE(off));
      v2 = round(v2, buf.readInt32LE(off + 4));
      v3 = round(v3, buf.readInt32LE(off + 8));
      v4 = round(v4, buf.readInt32LE(off + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = P5;
  }
  h = (h + length) | 0;
  for (; off + 4 <= end; off += 4) h = Math.imul(rotl((h + Math.imul(buf.readInt32LE(off), P3)) | 0, 17), P4);
  for (; off < end; off++) h = Math.imul(rotl((h + Math.imul(buf[off]!, P5)) | 0, 11), P1);
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}
