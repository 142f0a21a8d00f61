import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { DecodeError } from "../src/runtime/errors.js";
import { CompressionType, compress, decompress, xerialSnappyEncode, xxh32 } from "../src/records/index.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const codecs = [CompressionType.gzip, CompressionType.snappy, CompressionType.lz4, CompressionType.zstd];

/** Compressible bytes of the given size. */
function sample(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (Math.imul(i, 7) % 251) ^ (i >> 9);
  return b;
}

describe("compression round trips", () => {
  for (const codec of codecs) {
    it(`codec ${codec}: arbitrary bytes`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2000 }), (a) => {
          const data = Buffer.from(a);
          assert.deepEqual(decompress(codec, compress(codec, data)), data);
        }),
        { numRuns: 80 },
      );
    });
    it(`codec ${codec}: empty and multi-block inputs`, () => {
      for (const size of [0, 1, 32 * 1024, 32 * 1024 + 1, 300 * 1024]) {
        const data = sample(size);
        assert.deepEqual(decompress(codec, compress(codec, data)), data);
      }
    });
    it(`codec ${codec}: garbage and truncation are DecodeErrors`, () => {
      const packed = compress(codec, sample(5000));
      for (const bad of [
        packed.subarray(0, packed.length >> 1),
        packed.subarray(0, 3),
        Buffer.from("not compressed at all"),
      ]) {
        assert.throws(() => decompress(codec, bad), DecodeError);
      }
    });
  }
  it("none is the identity", () => {
    const data = sample(10);
    assert.equal(compress(CompressionType.none, data), data);
    assert.equal(decompress(CompressionType.none, data), data);
  });
  it("gzip stops at the output bound", () => {
    const packed = compress(CompressionType.gzip, Buffer.alloc(1 << 20));
    assert.throws(() => decompress(CompressionType.gzip, packed, 2, 1000), DecodeError);
  });
});

describe("snappy framing", () => {
  // snappy-java's stream for "foobar\n": magic, version 1, compatible version 1, one block of 9 bytes
  const xerialFoobar = hex("82534e4150505900 00000001 00000001 00000009 0718666f6f6261720a");

  it("writes and reads snappy-java's framing", () => {
    assert.deepEqual(xerialSnappyEncode(Buffer.from("foobar\n")), xerialFoobar);
    assert.equal(decompress(CompressionType.snappy, xerialFoobar).toString(), "foobar\n");
  });
  it("splits into 32 KiB blocks", () => {
    const packed = compress(CompressionType.snappy, sample(70 * 1024));
    let blocks = 0;
    for (let off = 16; off < packed.length; off += 4 + packed.readUInt32BE(off)) blocks++;
    assert.equal(blocks, 3);
  });
  it("reads raw snappy blocks and concatenated snappy-java streams", () => {
    assert.equal(decompress(CompressionType.snappy, hex("0718666f6f6261720a")).toString(), "foobar\n");
    assert.equal(
      decompress(CompressionType.snappy, Buffer.concat([xerialFoobar, xerialFoobar])).toString(),
      "foobar\nfoobar\n",
    );
  });
  it("rejects a block length past the end", () => {
    const bad = Buffer.from(xerialFoobar);
    bad.writeUInt32BE(1000, 16);
    assert.throws(() => decompress(CompressionType.snappy, bad), DecodeError);
  });
});

describe("lz4 framing", () => {
  it("computes XXH32 known answers", () => {
    const x = (s: string): number => xxh32(Buffer.from(s), 0, Buffer.byteLength(s));
    assert.equal(x(""), 0x02cc5d05);
    assert.equal(x("a"), 0x550d7456);
    assert.equal(x("abc"), 0x32d153ff);
    assert.equal(x("Nobody inspects the spammish repetition"), 0xe2293b2f);
  });

  it("reads a frame from the lz4 tool (64 KiB blocks, content checksum)", () => {
    const frame = hex("04224d186440a717000000df68656c6c6f206b61666b612c200d0000506b61666b610000000007d1f98e");
    assert.equal(decompress(CompressionType.lz4, frame).toString(), "hello kafka, hello kafka, hello kafka");
  });

  it("writes the broken header checksum for magic 0 only, and reads it back for magic 0 only", () => {
    const data = sample(1000);
    const v2 = compress(CompressionType.lz4, data);
    const v0 = compress(CompressionType.lz4, data, 0);
    const descriptorEnd = 6; // FLG, BD; no content size
    assert.equal(v2[descriptorEnd], (xxh32(v2, 4, 2) >>> 8) & 0xff);
    assert.equal(v0[descriptorEnd], (xxh32(v0, 0, descriptorEnd) >>> 8) & 0xff);
    assert.notEqual(v0[descriptorEnd], v2[descriptorEnd]);
    assert.deepEqual(decompress(CompressionType.lz4, v0, 0), data);
    assert.deepEqual(decompress(CompressionType.lz4, v2, 0), data);
    assert.deepEqual(decompress(CompressionType.lz4, v2, 1), data);
    assert.throws(() => decompress(CompressionType.lz4, v0, 1), DecodeError);
  });

  it("uses independent blocks, as Kafka's Java reader requires", () => {
    const frame = compress(CompressionType.lz4, sample(100));
    assert.equal(frame[4]! & 0x20, 0x20);
    assert.ok(((frame[5]! >> 4) & 7) >= 4);
  });
});

describe("zstd framing", () => {
  it("reads a streamed frame without a content size (as zstd-jni writes)", () => {
    const frame = hex("28b52ffd04589d00006868656c6c6f206b61666b612c20010000ce2f15464cff");
    assert.equal(decompress(CompressionType.zstd, frame).toString(), "hello kafka, hello kafka, hello kafka");
  });
  it("is refused for legacy magics", () => {
    assert.throws(() => compress(CompressionType.zstd, sample(10), 1));
  });
});
