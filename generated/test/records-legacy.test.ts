import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { crc32 } from "@node-rs/crc32";
import fc from "fast-check";
import { DecodeError } from "../src/runtime/errors.js";
import {
  BatchAttributes,
  CompressionType,
  ControlRecordType,
  NO_TIMESTAMP,
  buildControlBatch,
  buildRecordBatch,
  decodeMessageSet,
  decodeRecordBatch,
  decodeRecordBatches,
  encodeMessageSet,
  messageSetToRecordBatches,
  recordBatchesToMessageSet,
  xxh32,
  type LegacyMagic,
  type LegacyMessageInput,
} from "../src/records/index.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const legacyCodecs = [CompressionType.none, CompressionType.gzip, CompressionType.snappy, CompressionType.lz4];
const bytes = fc.option(
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  { nil: null },
);

/** Messages with increasing offsets from a random base. */
const messagesArb: fc.Arbitrary<LegacyMessageInput[]> = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 2n ** 62n }),
    fc.array(fc.tuple(fc.nat(5), fc.bigInt({ min: -1n, max: 2n ** 50n }), bytes, bytes), { maxLength: 10 }),
  )
  .map(([base, items]) => {
    let offset = base;
    return items.map(([gap, timestamp, key, value]) => {
      offset += BigInt(gap);
      return { offset, timestamp, key, value };
    });
  });

describe("message sets", () => {
  for (const magic of [0, 1] as const) {
    for (const codec of legacyCodecs) {
      it(`magic ${magic}, codec ${codec}: encode then decode keeps offsets, keys, values, timestamps`, () => {
        fc.assert(
          fc.property(messagesArb, (messages) => {
            const decoded = decodeMessageSet(encodeMessageSet(messages, { magic, compression: codec }));
            assert.deepEqual(
              decoded.map((m) => [m.offset, m.magic, m.timestamp, m.key, m.value, m.compression]),
              messages.map((m) => [m.offset, magic, magic === 0 ? -1n : m.timestamp, m.key, m.value, codec]),
            );
          }),
          { numRuns: codec === CompressionType.none ? 150 : 50 },
        );
      });
    }
  }

  it("matches the byte layout of magic 0 and 1 messages", () => {
    const v0 = encodeMessageSet([{ offset: 3n, timestamp: 0n, key: null, value: Buffer.from("hi") }], { magic: 0 });
    // offset, size 16, crc, magic 0, attributes 0, key -1, value length 2, "hi"
    assert.deepEqual(v0.subarray(0, 12), hex("0000000000000003 00000010"));
    assert.deepEqual(v0.subarray(16), hex("00 00 ffffffff 00000002 6869"));
    const v1 = encodeMessageSet([{ offset: 3n, timestamp: 1000n, key: Buffer.from("k"), value: null }], { magic: 1 });
    assert.deepEqual(v1.subarray(8, 12), hex("00000017"));
    assert.deepEqual(v1.subarray(16), hex("01 00 00000000000003e8 00000001 6b ffffffff"));
  });

  it("writes magic 1 wrappers with relative inner offsets and the last offset outside", () => {
    const messages = [10n, 11n, 14n].map((offset) => ({
      offset,
      timestamp: offset * 100n,
      key: null,
      value: Buffer.from("v"),
    }));
    const wrapped = encodeMessageSet(messages, { magic: 1, compression: CompressionType.gzip });
    assert.equal(wrapped.readBigInt64BE(0), 14n);
    assert.equal(wrapped[17], CompressionType.gzip);
    assert.equal(wrapped.readBigInt64BE(18), 1400n);
    assert.deepEqual(
      decodeMessageSet(wrapped).map((m) => m.offset),
      [10n, 11n, 14n],
    );
  });

  it("applies a LogAppendTime wrapper's timestamp to its inner messages", () => {
    const messages = [{ offset: 0n, timestamp: 5n, key: null, value: Buffer.from("v") }];
    for (const compression of [CompressionType.none, CompressionType.snappy]) {
      const [m] = decodeMessageSet(encodeMessageSet(messages, { magic: 1, compression, logAppendTime: 999n }));
      assert.equal(m!.timestamp, 999n);
      assert.equal(m!.attributes & BatchAttributes.timestampTypeLogAppend, BatchAttributes.timestampTypeLogAppend);
    }
  });

  it("writes lz4 wrappers of magic 0 with the broken header checksum old readers expect", () => {
    const set = encodeMessageSet([{ offset: 0n, timestamp: 0n, key: null, value: Buffer.from("x") }], {
      magic: 0,
      compression: CompressionType.lz4,
    });
    const frame = set.subarray(12 + 14); // header, crc, magic, attributes, null key, value length
    assert.equal(frame.readUInt32LE(0), 0x184d2204);
    assert.equal(frame[6], (xxh32(frame, 0, 6) >>> 8) & 0xff);
    assert.equal(decodeMessageSet(set)[0]!.value!.toString(), "x");
  });

  it("detects CRC mismatches, truncation and bad lengths", () => {
    const set = encodeMessageSet(
      [
        { offset: 0n, timestamp: 1n, key: Buffer.from("key"), value: Buffer.from("value") },
        { offset: 1n, timestamp: 2n, key: null, value: Buffer.from("v2") },
      ],
      { magic: 1 },
    );
    const flipped = Buffer.from(set);
    flipped[30]! ^= 0xff;
    assert.throws(
      () => decodeMessageSet(flipped),
      (e: unknown) => e instanceof DecodeError && /crc/.test(e.field),
    );
    const firstEnd = 12 + set.readInt32BE(8);
    for (let n = 1; n < set.length; n++) {
      if (n === firstEnd) assert.equal(decodeMessageSet(set.subarray(0, n)).length, 1);
      else assert.throws(() => decodeMessageSet(set.subarray(0, n)), DecodeError);
    }
    const huge = Buffer.from(set);
    huge.writeInt32BE(0x7ffffff0, 8);
    assert.throws(() => decodeMessageSet(huge), DecodeError);
    for (const codec of legacyCodecs) {
      const packed = encodeMessageSet([{ offset: 0n, timestamp: 1n, key: null, value: Buffer.from("a".repeat(50)) }], {
        magic: 1,
        compression: codec,
      });
      fc.assert(
        fc.property(fc.nat(packed.length - 1), fc.integer({ min: 0, max: 255 }), (at, v) => {
          const bad = Buffer.from(packed);
          bad[at] = v;
          try {
            decodeMessageSet(bad);
          } catch (e) {
            assert.ok(e instanceof DecodeError, String(e));
          }
        }),
        { numRuns: 100 },
      );
    }
  });

  it("rejects a compressed message inside a compressed message", () => {
    const inner = encodeMessageSet([{ offset: 0n, timestamp: 0n, key: null, value: Buffer.from("x") }], {
      magic: 1,
      compression: CompressionType.gzip,
    });
    const outer = encodeMessageSet([{ offset: 0n, timestamp: 0n, key: null, value: gzipSync(inner) }], { magic: 1 });
    outer[17] = CompressionType.gzip;
    outer.writeUInt32BE(crc32(outer.subarray(16)) >>> 0, 12);
    assert.throws(
      () => decodeMessageSet(outer),
      (e: unknown) => e instanceof DecodeError && /attributes/.test(e.field),
    );
  });
});

describe("conversions", () => {
  const messages = (magic: LegacyMagic): LegacyMessageInput[] => [
    { offset: 0n, timestamp: 1000n, key: Buffer.from("a"), value: Buffer.from("1") },
    { offset: 1n, timestamp: 1002n, key: null, value: Buffer.from("2") },
    { offset: 2n, timestamp: magic === 1 ? 999n : 0n, key: Buffer.from("c"), value: null },
  ];

  for (const magic of [0, 1] as const) {
    for (const codec of legacyCodecs) {
      it(`up-converts magic ${magic} (codec ${codec}) to one v2 batch`, () => {
        const batches = decodeRecordBatches(
          messageSetToRecordBatches(encodeMessageSet(messages(magic), { magic, compression: codec })),
        );
        assert.equal(batches.length, 1);
        const b = batches[0]!;
        assert.equal(b.attributes & 7, codec);
        assert.equal(b.baseOffset, 0n);
        assert.deepEqual(
          b.records.map((r) => r.offsetDelta),
          [0, 1, 2],
        );
        assert.deepEqual(
          b.records.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null]),
          [
            ["a", "1"],
            [null, "2"],
            ["c", null],
          ],
        );
        const stamps = b.records.map((r) => b.baseTimestamp + r.timestampDelta);
        if (magic === 0) {
          assert.deepEqual(stamps, [NO_TIMESTAMP, NO_TIMESTAMP, NO_TIMESTAMP]);
          assert.equal(b.maxTimestamp, NO_TIMESTAMP);
        } else {
          assert.deepEqual(stamps, [1000n, 1002n, 999n]);
          assert.equal(b.maxTimestamp, 1002n);
        }
      });
    }
  }

  it("up-converts to a chosen codec, and an empty set to nothing", () => {
    const buf = messageSetToRecordBatches(
      encodeMessageSet(messages(1), { magic: 1, compression: CompressionType.snappy }),
      { compression: CompressionType.zstd },
    );
    assert.equal(decodeRecordBatch(buf).attributes & 7, CompressionType.zstd);
    assert.equal(messageSetToRecordBatches(Buffer.alloc(0)).length, 0);
  });

  for (const magic of [0, 1] as const) {
    it(`down-converts v2 batches to magic ${magic}, keeping offsets and codecs`, () => {
      const stored = Buffer.concat([
        buildRecordBatch(
          [
            { key: "a", value: "1", timestamp: 100, headers: [{ key: "h", value: "dropped" }] },
            { value: "2", timestamp: 105 },
          ],
          { baseOffset: 10n },
        ),
        buildControlBatch({
          type: ControlRecordType.commit,
          producerId: 1n,
          producerEpoch: 0,
          coordinatorEpoch: 0,
          baseOffset: 12n,
        }),
        buildRecordBatch([{ value: "3", timestamp: 110 }], { baseOffset: 13n, compression: CompressionType.lz4 }),
        buildRecordBatch([{ value: "4", timestamp: 120 }], { baseOffset: 14n, compression: CompressionType.zstd }),
        buildRecordBatch([{ value: "5", timestamp: 130 }], { baseOffset: 15n, logAppendTime: true }),
      ]);
      const partial = buildRecordBatch([{ value: "cut" }], { baseOffset: 16n }).subarray(0, 30);
      const set = decodeMessageSet(recordBatchesToMessageSet(Buffer.concat([stored, partial]), magic));
      assert.deepEqual(
        set.map((m) => [m.offset, m.magic, m.value?.toString(), m.compression]),
        [
          [10n, magic, "1", CompressionType.none],
          [11n, magic, "2", CompressionType.none],
          [13n, magic, "3", CompressionType.lz4],
          [14n, magic, "4", CompressionType.none],
          [15n, magic, "5", CompressionType.none],
        ],
      );
      assert.deepEqual(
        set.map((m) => m.timestamp),
        magic === 0 ? [-1n, -1n, -1n, -1n, -1n] : [100n, 105n, 110n, 120n, 130n],
      );
      if (magic === 1)
        assert.equal(
          set[4]!.attributes & BatchAttributes.timestampTypeLogAppend,
          BatchAttributes.timestampTypeLogAppend,
        );
    });
  }

  it("round-trips records through both conversions", () => {
    fc.assert(
      fc.property(messagesArb, fc.constantFrom(...legacyCodecs), (msgs, codec) => {
        // the up-conversion renumbers offsets from the first; make them consecutive to compare
        const consecutive = msgs.map((m, i) => ({ ...m, offset: (msgs[0]?.offset ?? 0n) + BigInt(i) }));
        const v2 = messageSetToRecordBatches(encodeMessageSet(consecutive, { magic: 1, compression: codec }));
        const back = decodeMessageSet(recordBatchesToMessageSet(v2, 1));
        assert.deepEqual(
          back.map((m) => [m.offset, m.timestamp, m.key, m.value]),
          consecutive.map((m) => [m.offset, m.timestamp, m.key, m.value]),
        );
      }),
      { numRuns: 60 },
    );
  });
});
