// Property-based round trips for every message at every version, the arbitraries built generically
// from the generated descriptors: decode(encode(x)) must equal x, and size(x) must be the bytes written.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as protocol from "../src/index.js";
import { apis, decodeFromBuffer, Writer, type MessageCodec, type VersionRange } from "../src/index.js";
import {
  messageDescriptors,
  type ElementTypeDescriptor,
  type FieldDescriptor,
  type MessageDescriptor,
  type PrimitiveTypeName,
  type TypeDescriptor,
} from "../src/gen/descriptors.js";
import * as testMessages from "./gen/index.js";

const NUM_RUNS = 10;
const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

const inRange = (r: VersionRange | null | undefined, v: number): boolean => r != null && v >= r.min && v <= r.max;

function zero(t: PrimitiveTypeName): unknown {
  switch (t) {
    case "bool":
      return false;
    case "int64":
      return 0n;
    case "string":
      return "";
    case "uuid":
      return ZERO_UUID;
    case "bytes":
    case "records":
      return Buffer.alloc(0);
    default:
      return 0;
  }
}

/** A field's default, as the generated factories set it. */
function defaultOf(msg: MessageDescriptor, f: FieldDescriptor): unknown {
  if (f.default !== undefined) return f.default;
  const t = f.type;
  if (typeof t === "string") return zero(t);
  if ("array" in t) return [];
  return defaultStruct(msg, t.struct);
}

function defaultStruct(msg: MessageDescriptor, name: string): Record<string, unknown> {
  const s = msg.structs[name];
  if (s === undefined) throw new Error(`${msg.name}: no struct ${name}`);
  const o: Record<string, unknown> = {};
  for (const f of s.fields) o[f.name] = defaultOf(msg, f);
  return o;
}

const INT_RANGES: Partial<Record<PrimitiveTypeName, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

function primitive(t: PrimitiveTypeName): fc.Arbitrary<unknown> {
  const int = INT_RANGES[t];
  if (int !== undefined) return fc.integer({ min: int[0], max: int[1] });
  switch (t) {
    case "bool":
      return fc.boolean();
    case "int64":
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case "float64":
      // -0 equals a 0 default, so a tagged field holding it is left out and decodes as +0.
      return fc.double().map((d) => (Object.is(d, -0) ? 0 : d));
    case "string":
      // Whole code points (no lone surrogates, which UTF-8 cannot carry), multi-byte ones included.
      return fc.string({ unit: "binary", maxLength: 8 });
    case "uuid":
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString("base64url"));
    case "bytes":
    case "records":
      return fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b));
    default:
      throw new Error(`no arbitrary for ${t}`);
  }
}

/** Unknown tagged fields: ascending tags that no known field of the struct uses. */
function unknownTagged(known: ReadonlySet<number>): fc.Arbitrary<{ tag: number; data: Buffer }[]> {
  return fc.uniqueArray(fc.integer({ min: 0, max: 20000 }), { maxLength: 3 }).chain((tags) => {
    const free = tags.filter((t) => !known.has(t)).sort((a, b) => a - b);
    return fc.tuple(...free.map((tag) => fc.uint8Array({ maxLength: 6 }).map((d) => ({ tag, data: Buffer.from(d) }))));
  });
}

/** A random value of `msg` valid at `version`: fields the version lacks at their defaults. */
function messageArbitrary(msg: MessageDescriptor, version: number): fc.Arbitrary<Record<string, unknown>> {
  const flexible = inRange(msg.flexibleVersions, version);
  const struct = (name: string): fc.Arbitrary<Record<string, unknown>> => {
    const s = msg.structs[name];
    if (s === undefined) throw new Error(`${msg.name}: no struct ${name}`);
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    const known = new Set<number>();
    for (const f of s.fields) {
      if (f.tag !== undefined) known.add(f.tag);
      model[f.name] = inRange(f.versions, version) ? field(f) : fc.constant(defaultOf(msg, f));
    }
    const arb = fc.record(model, { noNullPrototype: true });
    if (!flexible) return arb;
    return fc.tuple(arb, unknownTagged(known)).map(([o, u]) => (u.length > 0 ? { ...o, _unknownTaggedFields: u } : o));
  };
  const element = (t: ElementTypeDescriptor): fc.Arbitrary<unknown> =>
    typeof t === "string" ? primitive(t) : struct(t.struct);
  const typed = (t: TypeDescriptor): fc.Arbitrary<unknown> =>
    typeof t !== "string" && "array" in t ? fc.array(element(t.array), { maxLength: 3 }) : element(t);
  const field = (f: FieldDescriptor): fc.Arbitrary<unknown> => {
    const value = typed(f.type);
    return inRange(f.nullableVersions, version) ? fc.option(value, { nil: null, freq: 4 }) : value;
  };
  return struct(msg.name);
}

function codecOf(module: Record<string, unknown>, name: string): MessageCodec<unknown> {
  const codec = module[`${name}Codec`] as MessageCodec<unknown> | undefined;
  if (codec === undefined) throw new Error(`no ${name}Codec exported`);
  return codec;
}

function checkRoundTrips(msg: MessageDescriptor, codec: MessageCodec<unknown>): void {
  assert.deepEqual(codec.validVersions, msg.validVersions, `${msg.name}: descriptor and codec disagree on versions`);
  for (let version = msg.validVersions.min; version <= msg.validVersions.max; version++) {
    fc.assert(
      fc.property(messageArbitrary(msg, version), (x) => {
        const size = codec.size(x, version);
        // Room to spare, so that writing more than the size says shows up as a mismatch, not a RangeError.
        const w = new Writer(Buffer.alloc(size + 64));
        codec.encode(w, x, version);
        assert.equal(w.off, size, `${msg.name} v${version}: size() says ${size}, encode wrote ${w.off}`);
        const back = decodeFromBuffer(codec, w.buf.subarray(0, size), version);
        assert.deepStrictEqual(back, x, `${msg.name} v${version}: decode(encode(x)) differs`);
      }),
      { numRuns: NUM_RUNS },
    );
  }
}

function descriptor(name: string): MessageDescriptor {
  const d = messageDescriptors[name];
  if (d === undefined) throw new Error(`no descriptor for ${name}`);
  return d;
}

describe("every API, requests and responses, every version", () => {
  for (const info of Object.values(apis)) {
    test(`${info.apiKey} ${info.name} v${info.validVersions.min}-${info.validVersions.max}`, () => {
      checkRoundTrips(descriptor(info.request.name), info.request as MessageCodec<unknown>);
      checkRoundTrips(descriptor(info.response.name), info.response as MessageCodec<unknown>);
    });
  }
});

describe("headers, data messages and coordinator records", () => {
  const others = Object.values(messageDescriptors).filter((d) => d.type === "header" || d.type === "data");
  test("there are headers, data messages and coordinator records to check", () => {
    assert.ok(others.length > 30, `only ${others.length}`);
  });
  for (const msg of others) {
    test(`${msg.name} v${msg.validVersions.min}-${msg.validVersions.max}`, () => {
      checkRoundTrips(msg, codecOf(protocol as Record<string, unknown>, msg.name));
    });
  }
});

describe("the four test messages", () => {
  for (const msg of Object.values(testMessages.testMessageDescriptors)) {
    test(msg.name, () => {
      checkRoundTrips(msg, codecOf(testMessages as Record<string, unknown>, msg.name));
    });
  }
});

test("every message has a descriptor and every descriptor a codec", () => {
  const codecs = Object.keys(protocol).filter((k) => k.endsWith("Codec") && k !== "MessageCodec");
  const names = new Set(codecs.map((k) => k.slice(0, -"Codec".length)));
  assert.deepEqual([...names].sort(), Object.keys(messageDescriptors).sort());
});
