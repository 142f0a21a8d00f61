import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { DecodeError } from "../src/runtime/errors.js";
import {
  BatchAttributes,
  BatchOffsets,
  CompressionType,
  ControlRecordType,
  buildControlBatch,
  buildRecordBatch,
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  iterateBatches,
  readControlRecordKey,
  readEndTxnMarker,
  splitBatches,
  verifyBatchCrc,
  writeBatchCrc,
  type KafkaRecord,
  type RecordBatch,
  type RecordBatchInput,
} from "../src/records/index.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const codecs = [
  CompressionType.none,
  CompressionType.gzip,
  CompressionType.snappy,
  CompressionType.lz4,
  CompressionType.zstd,
];

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const bytes = fc.option(
  fc.uint8Array({ maxLength: 48 }).map((a) => Buffer.from(a)),
  { nil: null },
);
const recordArb: fc.Arbitrary<KafkaRecord> = fc.record(
  {
    attributes: fc.integer({ min: -128, max: 127 }),
    timestampDelta: fc.oneof(int64, fc.bigInt({ min: -1000n, max: 1000n })),
    offsetDelta: fc.oneof(int32, fc.nat(100)),
    key: bytes,
    value: bytes,
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 12 }), value: bytes }, { noNullPrototype: true }), {
      maxLength: 4,
    }),
  },
  { noNullPrototype: true },
);
const batchArb: fc.Arbitrary<RecordBatchInput> = fc.record({
  baseOffset: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  partitionLeaderEpoch: int32,
  attributes: fc.constantFrom(
    0,
    BatchAttributes.timestampTypeLogAppend,
    BatchAttributes.transactional,
    BatchAttributes.deleteHorizon,
  ),
  baseTimestamp: int64,
  maxTimestamp: int64,
  producerId: int64,
  producerEpoch: fc.integer({ min: -32768, max: 32767 }),
  baseSequence: int32,
  records: fc.array(recordArb, { maxLength: 12 }),
});

function assertSameBatch(got: RecordBatch, want: RecordBatchInput, codec: CompressionType): void {
  assert.equal(got.magic, 2);
  assert.equal(got.baseOffset, want.baseOffset);
  assert.equal(got.partitionLeaderEpoch, want.partitionLeaderEpoch);
  assert.equal(got.attributes, (want.attributes & ~7) | codec);
  assert.equal(got.baseTimestamp, want.baseTimestamp);
  assert.equal(got.maxTimestamp, want.maxTimestamp);
  assert.equal(got.producerId, want.producerId);
  assert.equal(got.producerEpoch, want.producerEpoch);
  assert.equal(got.baseSequence, want.baseSequence);
  assert.equal(got.recordCount, want.records.length);
  assert.deepEqual(got.records, want.records);
}

/** Asserts `fn` throws a DecodeError, and nothing else. */
function throwsDecodeError(fn: () => unknown, field?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
    if (field !== undefined) assert.match(e.field, field);
    return true;
  });
}

// Byte-level examples from Sarama's record batch tests (IBM/sarama record_test.go), used as facts: one
// record at first timestamp 1479847795000, timestamp delta 5, key 01020304, value 050607, one header
// 08090a = 0b0c; all other header fields zero.
const SARAMA_HEADER =
  "0000000000000000 %LEN 00000000 02 %CRC %ATTR 00000000 000001588dcd5938 0000000000000000 0000000000000000 0000 00000000 00000001";
const saramaBatch = (len: string, crc: string, attr: string, records: string): Buffer =>
  hex(SARAMA_HEADER.replace("%LEN", len).replace("%CRC", crc).replace("%ATTR", attr) + records);
const SARAMA_RECORD = "28 00 0a 00 08 01020304 06 050607 02 06 08090a 04 0b0c";
const saramaInput: RecordBatchInput = {
  baseOffset: 0n,
  partitionLeaderEpoch: 0,
  attributes: 0,
  baseTimestamp: 1479847795000n,
  maxTimestamp: 0n,
  producerId: 0n,
  producerEpoch: 0,
  baseSequence: 0,
  records: [
    {
      attributes: 0,
      timestampDelta: 5n,
      offsetDelta: 0,
      key: hex("01020304"),
      value: hex("050607"),
      headers: [{ key: "\x08\x09\x0a", value: hex("0b0c") }],
    },
  ],
};

describe("RecordBatch known answers", () => {
  it("encodes the uncompressed example byte for byte", () => {
    const want = saramaBatch("00000046", "547961fd", "0000", SARAMA_RECORD);
    assert.deepEqual(encodeRecordBatch(saramaInput), want);
    assertSameBatch(decodeRecordBatch(want), saramaInput, CompressionType.none);
  });

  it("decodes the gzip, raw-snappy and lz4 examples", () => {
    const gzip = saramaBatch(
      "0000005e",
      "9fecb6bd",
      "0001",
      "1f8b08000000000000ffd260e062e060646266616365636762e3e0e462e1e601040000ffffadc9586715000000",
    );
    const snappy = saramaBatch("00000048", "15009f61", "0002", "1550 " + SARAMA_RECORD);
    const lz4 = saramaBatch(
      "00000059",
      "a94a77c5",
      "0003",
      "04224d186470b915000080 " + SARAMA_RECORD + " 00000000 0c3bef92",
    );
    for (const [codec, buf] of [
      [CompressionType.gzip, gzip],
      [CompressionType.snappy, snappy],
      [CompressionType.lz4, lz4],
    ] as const) {
      assert.ok(verifyBatchCrc(buf));
      assertSameBatch(decodeRecordBatch(buf), saramaInput, codec);
    }
  });

  it("computes the CRC of empty batches", () => {
    const empty = encodeRecordBatch({ ...saramaInput, baseTimestamp: 0n, records: [] });
    assert.equal(empty.length, 61);
    assert.equal(empty.readInt32BE(BatchOffsets.batchLength), 49);
    assert.equal(empty.readUInt32BE(BatchOffsets.crc), 0x595fb7dd);
    const control = encodeRecordBatch({
      ...saramaInput,
      attributes: BatchAttributes.control,
      baseTimestamp: 0n,
      records: [],
    });
    assert.equal(control.readUInt32BE(BatchOffsets.crc), 0x512e43d9);
  });
});

describe("RecordBatch round trips", () => {
  for (const codec of codecs) {
    it(`encode then decode is the identity (${codec})`, () => {
      fc.assert(
        fc.property(batchArb, (batch) => {
          const buf = encodeRecordBatch(batch, codec);
          assert.ok(verifyBatchCrc(buf));
          assertSameBatch(decodeRecordBatch(buf), batch, codec);
        }),
        { numRuns: codec === CompressionType.none ? 200 : 60 },
      );
    });
  }

  it("takes the codec from attributes when none is given, and copies bytes on request", () => {
    const buf = buildRecordBatch([{ key: "k", value: "v" }], { compression: CompressionType.zstd, timestamp: 7 });
    const batch = decodeRecordBatch(buf, 0, { copyBytes: true });
    assert.equal(batch.attributes & 7, CompressionType.zstd);
    const again = encodeRecordBatch(batch);
    assert.deepEqual(decodeRecordBatch(again).records, batch.records);
  });

  it("builds batches from plain inputs", () => {
    const buf = buildRecordBatch(
      [
        { key: "a", value: "1", timestamp: 1000, headers: [{ key: "h", value: "x" }, { key: "n" }] },
        { value: null, timestamp: 990 },
        { key: Buffer.from([0xff]), value: "3", timestamp: 1010 },
      ],
      {
        baseOffset: 42n,
        producerId: 9n,
        producerEpoch: 1,
        baseSequence: 5,
        transactional: true,
        compression: CompressionType.lz4,
      },
    );
    const b = decodeRecordBatch(buf);
    assert.equal(b.baseOffset, 42n);
    assert.equal(b.lastOffsetDelta, 2);
    assert.equal(b.baseTimestamp, 1000n);
    assert.equal(b.maxTimestamp, 1010n);
    assert.equal(b.attributes, BatchAttributes.transactional | CompressionType.lz4);
    assert.deepEqual(
      b.records.map((r) => [r.offsetDelta, r.timestampDelta]),
      [
        [0, 0n],
        [1, -10n],
        [2, 10n],
      ],
    );
    assert.deepEqual(b.records[0]!.headers, [
      { key: "h", value: Buffer.from("x") },
      { key: "n", value: null },
    ]);
    assert.equal(b.records[1]!.value, null);
  });

  it("keeps an explicit lastOffsetDelta (compacted batches)", () => {
    const input = { ...saramaInput, lastOffsetDelta: 9 };
    assert.equal(decodeRecordBatch(encodeRecordBatch(input)).lastOffsetDelta, 9);
  });
});

describe("control batches", () => {
  it("encode and decode commit and abort markers", () => {
    for (const type of [ControlRecordType.commit, ControlRecordType.abort]) {
      const buf = buildControlBatch({
        type,
        producerId: 77n,
        producerEpoch: 3,
        coordinatorEpoch: 12,
        baseOffset: 100n,
        timestamp: 5,
      });
      const b = decodeRecordBatch(buf);
      assert.equal(b.attributes, BatchAttributes.control | BatchAttributes.transactional);
      assert.equal(b.producerId, 77n);
      assert.equal(b.records.length, 1);
      assert.deepEqual(readControlRecordKey(b.records[0]!.key), { version: 0, type });
      assert.deepEqual(readEndTxnMarker(b.records[0]!.value), { version: 0, coordinatorEpoch: 12 });
    }
  });

  it("rejects short control keys", () => {
    throwsDecodeError(() => readControlRecordKey(Buffer.from([0, 0])));
    throwsDecodeError(() => readEndTxnMarker(null));
  });
});

describe("walking concatenated batches", () => {
  const a = buildRecordBatch([{ value: "one" }], { baseOffset: 0n, timestamp: 1 });
  const b = buildRecordBatch([{ value: "two" }, { value: "three" }], {
    baseOffset: 1n,
    timestamp: 2,
    compression: CompressionType.gzip,
  });
  const c = buildControlBatch({
    type: ControlRecordType.commit,
    producerId: 1n,
    producerEpoch: 0,
    coordinatorEpoch: 0,
    baseOffset: 3n,
  });
  const all = Buffer.concat([a, b, c]);

  it("yields offsets, lengths and headers", () => {
    const spans = [...iterateBatches(all)];
    assert.deepEqual(
      spans.map((s) => [s.offset, s.length, s.header.baseOffset, s.header.recordCount]),
      [
        [0, a.length, 0n, 1],
        [a.length, b.length, 1n, 2],
        [a.length + b.length, c.length, 3n, 1],
      ],
    );
    assert.deepEqual(
      decodeRecordBatches(all).map((x) => x.records.length),
      [1, 2, 1],
    );
  });

  it("reports a truncated trailing batch instead of throwing", () => {
    for (const cut of [1, 11, 12, 30, 61, c.length - 1]) {
      const buf = all.subarray(0, a.length + b.length + cut);
      const { batches, partial } = splitBatches(buf);
      assert.equal(batches.length, 2);
      assert.deepEqual(partial, { offset: a.length + b.length, available: cut, size: cut >= 12 ? c.length : null });
      throwsDecodeError(() => decodeRecordBatches(buf), /batchLength/);
    }
    assert.deepEqual(splitBatches(all).partial, null);
    assert.deepEqual(splitBatches(Buffer.alloc(0)), { batches: [], partial: null });
  });

  it("throws on what truncation cannot explain", () => {
    const bad = Buffer.from(all);
    bad.writeInt32BE(10, 8);
    throwsDecodeError(() => splitBatches(bad), /batchLength/);
    const legacy = Buffer.from(all);
    legacy[BatchOffsets.magic] = 1;
    throwsDecodeError(() => splitBatches(legacy), /magic/);
  });
});

describe("RecordBatch decoding never trusts the wire", () => {
  const good = buildRecordBatch(
    [{ key: "key", value: "value", headers: [{ key: "h", value: "v" }] }, { value: "second" }],
    { timestamp: 1 },
  );

  it("detects a CRC mismatch", () => {
    const bad = Buffer.from(good);
    bad[bad.length - 2]! ^= 1;
    throwsDecodeError(() => decodeRecordBatch(bad), /crc/);
    assert.equal(decodeRecordBatch(bad, 0, { verifyCrc: false }).records.length, 2);
  });

  it("fails every truncation with a DecodeError", () => {
    for (const codec of codecs) {
      const buf = buildRecordBatch([{ key: "k", value: "v".repeat(40) }, { value: "w" }], {
        compression: codec,
        timestamp: 1,
      });
      for (let n = 0; n < buf.length; n++) throwsDecodeError(() => decodeRecordBatch(buf.subarray(0, n)));
      // a batch whose records were cut but whose header was made consistent again
      for (let n = 61; n < buf.length; n++) {
        const cut = Buffer.from(buf.subarray(0, n));
        cut.writeInt32BE(n - 12, BatchOffsets.batchLength);
        writeBatchCrc(cut);
        throwsDecodeError(() => decodeRecordBatch(cut));
      }
    }
  });

  it("rejects lengths larger than what is left before allocating", () => {
    // one record whose key length varint says 2^30
    const rec = Buffer.from([0x10, 0x00, 0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x08, 0x01, 0x00]);
    const buf = Buffer.concat([good.subarray(0, 61), rec]);
    buf.writeInt32BE(buf.length - 12, BatchOffsets.batchLength);
    buf.writeInt32BE(1, BatchOffsets.recordCount);
    writeBatchCrc(buf);
    throwsDecodeError(() => decodeRecordBatch(buf), /Records\.(key|length)/);

    const many = Buffer.from(good);
    many.writeInt32BE(0x7fffffff, BatchOffsets.recordCount);
    writeBatchCrc(many);
    throwsDecodeError(() => decodeRecordBatch(many), /recordCount/);

    const fewer = Buffer.from(good);
    fewer.writeInt32BE(1, BatchOffsets.recordCount);
    writeBatchCrc(fewer);
    throwsDecodeError(() => decodeRecordBatch(fewer), /records/);
  });

  it("rejects unknown codecs and magics", () => {
    const codec = Buffer.from(good);
    codec.writeInt16BE(5, BatchOffsets.attributes);
    writeBatchCrc(codec);
    throwsDecodeError(() => decodeRecordBatch(codec), /attributes/);
    const magic = Buffer.from(good);
    magic[BatchOffsets.magic] = 3;
    throwsDecodeError(() => decodeRecordBatch(magic), /magic/);
  });

  it("throws only DecodeErrors on corrupted bytes", () => {
    for (const codec of codecs) {
      const buf = buildRecordBatch(
        [{ key: "k", value: "some value", headers: [{ key: "a", value: "b" }] }, { value: "x" }, { key: "y" }],
        { compression: codec, timestamp: 1 },
      );
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(buf.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
          (edits) => {
            const bad = Buffer.from(buf);
            for (const [at, v] of edits) if (at >= 12) bad[at] = v;
            try {
              decodeRecordBatch(bad, 0, { verifyCrc: false });
            } catch (e) {
              assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`);
            }
          },
        ),
        { numRuns: 150 },
      );
    }
  });
});
