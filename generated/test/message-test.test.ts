// Kafka's four test messages exercise every feature of the schema language. The expected bytes are
// worked out from the protocol's rules (the ones Kafka's Java generator follows): fixed-width
// big-endian integers, INT16/INT32 length prefixes in classic versions, unsigned varint length+1 in
// flexible ones, a tagged-field section after every struct of a flexible version with tags ascending,
// and fields at their default left out of it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeFromBuffer, encodeToBuffer, EncodeError, Reader, type MessageCodec } from "../src/index.js";
import {
  createNullableStructMessage,
  createSimpleArraysMessage,
  createSimpleExampleMessage,
  createSimpleExampleMessageMyStruct,
  createSimpleExampleMessageStructArray,
  createSimpleExampleMessageTaggedStruct,
  createSimpleExampleMessageTestCommonStruct,
  createSimpleRecordsMessage,
  decodeSimpleExampleMessage,
  NullableStructMessageCodec,
  SimpleArraysMessageCodec,
  SimpleExampleMessageCodec,
  SimpleRecordsMessageCodec,
  type SimpleExampleMessage,
  type SimpleExampleMessageV0,
  type SimpleExampleMessageV1,
  type SimpleExampleMessageV2,
  type SimpleRecordsMessageV1,
} from "./gen/index.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

function assertBytes<T>(codec: MessageCodec<T>, m: T, version: number, expected: string): void {
  const bytes = encodeToBuffer(codec, m, version);
  assert.equal(bytes.toString("hex"), hex(expected).toString("hex"), `${codec.name} v${version}`);
  assert.deepStrictEqual(decodeFromBuffer(codec, bytes, version), m, `${codec.name} v${version} decodes back`);
}

function assertEncodeError<T>(codec: MessageCodec<T>, m: T, version: number, field: string): void {
  assert.throws(
    () => encodeToBuffer(codec, m, version),
    (e: unknown) =>
      e instanceof EncodeError && e.field === field && e.version === version && e.messageName === codec.name,
  );
}

// The parts of SimpleExampleMessage v1 that do not change below: processId (16 zero bytes), the two
// zero-copy buffers (empty compact bytes), two common structs {foo: 123, bar: 123} with their empty
// tagged sections, myUint16 33000, myUint32 1234567.
const V1_BODY = "00000000000000000000000000000000 01 01 0000007b0000007b00 0000007b0000007b00 80e8 0012d687";

describe("SimpleExampleMessage", () => {
  test("defaults in every form", () => {
    const m = createSimpleExampleMessage();
    assert.equal(m.myNullableString, null);
    assert.equal(m.myInt16, 123);
    assert.equal(m.myFloat64, 12.34);
    assert.equal(m.taggedUuid, "H3KKO4NTRPaCWtEmm3vW7A");
    assert.equal(m.taggedLong, 0xcafcacafcacafcan);
    assert.equal(m.myUint16, 33000);
    assert.equal(m.myUint32, 1234567);
    assert.equal(m.processId, "AAAAAAAAAAAAAAAAAAAAAA");
    assert.deepEqual(m.myCommonStruct, { foo: 123, bar: 123 });
    assert.deepEqual(m.myTaggedIntArray, []);
    assert.equal(m.myBytes?.length, 0);
    assert.deepEqual(m.myStruct, { structId: 0, arrayInStruct: [] });
    assert.deepEqual(m.myTaggedStruct, { structId: "" });
  });

  test("v0 at defaults carries only the two common structs", () => {
    assertBytes(SimpleExampleMessageCodec, createSimpleExampleMessage(), 0, "0000007b0000007b 0000007b0000007b");
  });

  test("v1 at defaults: every tagged field at its default is left out", () => {
    assertBytes(SimpleExampleMessageCodec, createSimpleExampleMessage(), 1, `${V1_BODY} 00`);
  });

  test("v2 at defaults adds myStruct, and the default tagged struct is left out", () => {
    assertBytes(
      SimpleExampleMessageCodec,
      createSimpleExampleMessage(),
      2,
      "00000000000000000000000000000000 00000000 01 00 0000007b0000007b00 0000007b0000007b00 80e8 0012d687 00",
    );
  });

  test("tagged fields with non-default values are written in ascending tag order", () => {
    const m = createSimpleExampleMessage({
      // Set in descending tag order: the wire order must still be ascending.
      taggedLong: -1n,
      myString: "ab",
      myInt16: 7,
      myTaggedIntArray: [1],
    });
    assertBytes(
      SimpleExampleMessageCodec,
      m,
      1,
      `${V1_BODY} 04 ` +
        "00 05 02 00000001 " + // tag 0: compact array of one int32
        "02 02 0007 " + // tag 2: int16
        "04 03 03 6162 " + // tag 4: compact string "ab"
        "07 08 ffffffffffffffff", // tag 7: int64
    );
  });

  test("every tagged field present, including null and the float, uuid and struct ones", () => {
    const m = createSimpleExampleMessage({
      myNullableString: "",
      myFloat64: -1.5,
      myBytes: null,
      taggedUuid: "AAAAAAAAAAAAAAAAAAAAAA",
      myTaggedStruct: createSimpleExampleMessageTaggedStruct({ structId: "é" }),
      taggedLongFlexibleVersionSubset: 1n,
    });
    assertBytes(
      SimpleExampleMessageCodec,
      m,
      2,
      "00000000000000000000000000000000 00000000 01 00 0000007b0000007b00 0000007b0000007b00 80e8 0012d687 " +
        "06 " +
        "01 01 01 " + // tag 1: the empty string, not null (null is its default)
        "03 08 bff8000000000000 " + // tag 3: float64 -1.5
        "05 01 00 " + // tag 5: null bytes
        "06 10 00000000000000000000000000000000 " + // tag 6: the zero uuid differs from the default
        "08 04 03 c3a9 00 " + // tag 8: the struct, a two-byte UTF-8 string and its own empty tagged section
        "09 08 0000000000000001", // tag 9
    );
  });

  test("unknown tagged fields are kept and written back among the known ones, ascending", () => {
    // Tags 8 and 9 are known only from v2 on, so v1 keeps them as unknown.
    const bytes = hex(`${V1_BODY} 04 02 02 0007 08 01 ff 09 00 64 02 0102`);
    const m = decodeFromBuffer(SimpleExampleMessageCodec, bytes, 1);
    assert.equal(m.myInt16, 7);
    assert.deepStrictEqual(
      m._unknownTaggedFields?.map((f) => [f.tag, f.data.toString("hex")]),
      [
        [8, "ff"],
        [9, ""],
        [100, "0102"],
      ],
    );
    assert.equal(encodeToBuffer(SimpleExampleMessageCodec, m, 1).toString("hex"), bytes.toString("hex"));
    // Read at v2, tags 8 and 9 are fields; 100 stays unknown.
    const v2 = hex(`${V1_BODY.replace("01 01 ", "00000000 01 00 ")} 03 08 02 01 00 09 08 0000000000000005 64 02 0102`);
    const m2 = decodeFromBuffer(SimpleExampleMessageCodec, v2, 2);
    assert.deepEqual(m2.myTaggedStruct, { structId: "" });
    assert.equal(m2.taggedLongFlexibleVersionSubset, 5n);
    assert.deepStrictEqual(
      m2._unknownTaggedFields?.map((f) => f.tag),
      [100],
    );
  });

  test("unknown tagged fields cannot go into a version that is not flexible", () => {
    const m = { ...createSimpleExampleMessage(), _unknownTaggedFields: [{ tag: 10, data: Buffer.alloc(0) }] };
    assertEncodeError(SimpleExampleMessageCodec, m, 0, "SimpleExampleMessage");
  });

  test("a non-ignorable field with a non-default value fails in a version without it", () => {
    assertEncodeError(
      SimpleExampleMessageCodec,
      createSimpleExampleMessage({ processId: "H3KKO4NTRPaCWtEmm3vW7A" }),
      0,
      "processId",
    );
    assertEncodeError(SimpleExampleMessageCodec, createSimpleExampleMessage({ myInt16: 1 }), 0, "myInt16");
    assertEncodeError(SimpleExampleMessageCodec, createSimpleExampleMessage({ myUint16: 1 }), 0, "myUint16");
    assertEncodeError(
      SimpleExampleMessageCodec,
      createSimpleExampleMessage({ myStruct: createSimpleExampleMessageMyStruct({ structId: 1 }) }),
      1,
      "myStruct",
    );
    assertEncodeError(
      SimpleExampleMessageCodec,
      createSimpleExampleMessage({ myTaggedStruct: createSimpleExampleMessageTaggedStruct({ structId: "x" }) }),
      1,
      "myTaggedStruct",
    );
    assertEncodeError(
      SimpleExampleMessageCodec,
      createSimpleExampleMessage({ zeroCopyByteBuffer: hex("01") }),
      2,
      "zeroCopyByteBuffer",
    );
  });

  test("an ignorable field with a non-default value is silently left out", () => {
    const m = createSimpleExampleMessage({ taggedLongFlexibleVersionSubset: 42n });
    assert.equal(encodeToBuffer(SimpleExampleMessageCodec, m, 1).toString("hex"), hex(`${V1_BODY} 00`).toString("hex"));
  });

  test("a null in a version where the field is not nullable fails", () => {
    assertEncodeError(
      NullableStructMessageCodec,
      createNullableStructMessage({ nullableStruct2: null }),
      0,
      "NullableStruct2",
    );
  });

  test("uint16 and uint32 use their whole unsigned range", () => {
    const m = createSimpleExampleMessage({ myUint16: 65535, myUint32: 4294967295 });
    const bytes = encodeToBuffer(SimpleExampleMessageCodec, m, 1);
    assert.equal(bytes.subarray(36, 42).toString("hex"), "ffffffffffff");
    const back = decodeFromBuffer(SimpleExampleMessageCodec, bytes, 1);
    assert.equal(back.myUint16, 65535);
    assert.equal(back.myUint32, 4294967295);
  });

  test("common structs are one type used by two fields", () => {
    const common = createSimpleExampleMessageTestCommonStruct({ foo: 1 });
    const m = createSimpleExampleMessage({ myCommonStruct: common, myOtherCommonStruct: { foo: 2, bar: 3 } });
    assertBytes(SimpleExampleMessageCodec, m, 0, "00000001 0000007b 00000002 00000003");
  });

  test("bytes decode zero-copy: a view of the input unless asked to copy", () => {
    const m = createSimpleExampleMessage({ zeroCopyByteBuffer: hex("abcdef"), nullableZeroCopyByteBuffer: null });
    // An input with an ArrayBuffer of its own (small encodes share Node's buffer pool).
    const bytes = Buffer.alloc(SimpleExampleMessageCodec.size(m, 1));
    encodeToBuffer(SimpleExampleMessageCodec, m, 1).copy(bytes);
    const view = decodeSimpleExampleMessage(new Reader(bytes), 1);
    assert.equal(view.zeroCopyByteBuffer.toString("hex"), "abcdef");
    assert.equal(view.nullableZeroCopyByteBuffer, null);
    assert.equal(view.zeroCopyByteBuffer.buffer, bytes.buffer, "shares the input's memory");
    bytes[view.zeroCopyByteBuffer.byteOffset - bytes.byteOffset] = 0x11;
    assert.equal(view.zeroCopyByteBuffer[0], 0x11, "a write to the input shows through");
    const copy = decodeSimpleExampleMessage(new Reader(bytes, 0, bytes.length, { copyBytes: true }), 1);
    assert.notEqual(copy.zeroCopyByteBuffer.buffer, bytes.buffer);
  });

  test("per-version types carry exactly that version's fields", () => {
    const common = createSimpleExampleMessageTestCommonStruct();
    const v0: SimpleExampleMessageV0 = { myCommonStruct: common, myOtherCommonStruct: common };
    // @ts-expect-error processId is not part of v0
    const bad: SimpleExampleMessageV0 = { myCommonStruct: common, myOtherCommonStruct: common, processId: "" };
    void bad;
    const full: SimpleExampleMessage = createSimpleExampleMessage();
    const v1: SimpleExampleMessageV1 = full;
    const v2: SimpleExampleMessageV2 = {
      ...full,
      myStruct: { structId: 1, arrayInStruct: [createSimpleExampleMessageStructArray({ arrayFieldId: 2 })] },
    };
    assert.equal(v0.myCommonStruct.foo, 123);
    assert.equal(v1.myUint16, 33000);
    assert.equal(v2.myStruct.arrayInStruct[0]?.arrayFieldId, 2);
    assertBytes(
      SimpleExampleMessageCodec,
      { ...full, myStruct: v2.myStruct },
      2,
      "00000000000000000000000000000000 00000001 02 00000002 00 00 0000007b0000007b00 0000007b0000007b00 80e8 0012d687 00",
    );
  });
});

describe("NullableStructMessage", () => {
  test("v0: an int8 -1 marks the null struct, the non-nullable one is written as is", () => {
    assertBytes(NullableStructMessageCodec, createNullableStructMessage(), 0, "ff 0000 00000000");
    assertBytes(
      NullableStructMessageCodec,
      createNullableStructMessage({ nullableStruct: { myString: "a", myInt: 1 } }),
      0,
      "01 000161 00000001 0000 00000000",
    );
  });

  test("v1: untagged nullable structs use an int8 marker, tagged ones a varint marker", () => {
    assertBytes(
      NullableStructMessageCodec,
      createNullableStructMessage({ nullableStruct2: null }),
      1,
      "ff ff 00", // both null; NullableStruct3 is null by default and NullableStruct4 at its default struct
    );
    assertBytes(
      NullableStructMessageCodec,
      createNullableStructMessage({
        nullableStruct: { myString: "a", myInt: 1 },
        nullableStruct3: { myString: "", myInt: 0 },
        nullableStruct4: null,
      }),
      1,
      "01 0261 00000001 00 " + // NullableStruct, with its empty tagged section
        "01 01 00000000 00 " + // NullableStruct2 at its default, still present
        "02 " +
        "00 07 01 01 00000000 00 " + // tag 0: marker 1, then the struct
        "01 01 00", // tag 1: marker 0, null
    );
    assertBytes(
      NullableStructMessageCodec,
      createNullableStructMessage({ nullableStruct4: { myString: "x", myInt: 2 } }),
      1,
      "ff 01 01 00000000 00 01 01 08 01 0278 00000002 00",
    );
  });
});

describe("SimpleArraysMessage", () => {
  test("classic and compact arrays, of int32 and of structs", () => {
    assertBytes(
      SimpleArraysMessageCodec,
      createSimpleArraysMessage({ sheep: [1, 2] }),
      0,
      "00000002 00000001 00000002",
    );
    const m = createSimpleArraysMessage({ goats: [{ color: 3, name: "" }], sheep: [1, 2] });
    assertBytes(SimpleArraysMessageCodec, m, 1, "02 03 00 03 00000001 00000002 00");
    assertBytes(
      SimpleArraysMessageCodec,
      { ...m, goats: [{ color: 3, name: "g" }] },
      2,
      "02 03 0267 00 03 00000001 00000002 00",
    );
    assertEncodeError(SimpleArraysMessageCodec, m, 0, "Goats");
  });
});

describe("SimpleRecordsMessage", () => {
  test("records are nullable bytes on the wire", () => {
    assertBytes(SimpleRecordsMessageCodec, createSimpleRecordsMessage({ topic: "t" }), 0, "000174 ffffffff");
    const v1: SimpleRecordsMessageV1 = { topic: "t", recordSet: hex("010203") };
    assertBytes(SimpleRecordsMessageCodec, v1, 1, "0274 04010203 00");
    assertBytes(SimpleRecordsMessageCodec, { topic: "t", recordSet: hex("010203") }, 0, "000174 00000003010203");
  });
});
