// Malformed input: every failure is a DecodeError (or UnsupportedVersionError for a version the
// message lacks) naming the message, version and field; never a hang, a RangeError or a huge allocation.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import {
  decodeFromBuffer,
  decodeRequest,
  decodeRequestFrame,
  decodeResponse,
  decodeResponseFrame,
  DecodeError,
  FindCoordinatorRequestCodec,
  MetadataRequestCodec,
  SaslAuthenticateRequestCodec,
  UnsupportedVersionError,
  type MessageCodec,
} from "../src/index.js";
import { NullableStructMessageCodec } from "./gen/index.js";

interface FixtureEntry {
  file: string;
  apiKey: number;
  version: number;
  response: boolean;
}

// This file also runs compiled, from dist/test.
const here = dirname(fileURLToPath(import.meta.url));
const fixturesDir = join(
  here.endsWith(`${sep}dist${sep}test`) ? join(here, "..", "..") : join(here, ".."),
  "test",
  "fixtures",
);
const index = JSON.parse(readFileSync(join(fixturesDir, "index.json"), "utf8")) as FixtureEntry[];

interface Frame {
  readonly label: string;
  readonly bytes: Buffer;
  readonly apiKey: number;
  readonly version: number;
  readonly response: boolean;
}

/** One request and one response frame per API and version among the fixtures, at most `maxSize` bytes. */
function sampleFrames(maxSize: number): Frame[] {
  const seen = new Set<string>();
  const out: Frame[] = [];
  for (const e of index) {
    for (const response of e.response ? [false, true] : [false]) {
      const key = `${e.apiKey}/${e.version}/${response}`;
      if (seen.has(key)) continue;
      const bytes = readFileSync(join(fixturesDir, `${e.file}.${response ? "res" : "req"}.bin`));
      if (bytes.length > maxSize) continue;
      seen.add(key);
      out.push({
        label: `${e.file}.${response ? "res" : "req"}`,
        bytes,
        apiKey: e.apiKey,
        version: e.version,
        response,
      });
    }
  }
  return out;
}

function decodeFrame(f: Frame, bytes: Buffer): unknown {
  return f.response ? decodeResponseFrame(bytes, f.apiKey, f.version) : decodeRequestFrame(bytes);
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

function assertDecodeError(
  codec: MessageCodec<unknown>,
  bytes: Buffer,
  version: number,
  field: string,
  reason: RegExp,
): void {
  assert.throws(
    () => decodeFromBuffer(codec, bytes, version),
    (e: unknown) => {
      assert.ok(e instanceof DecodeError, `not a DecodeError: ${String(e)}`);
      assert.equal(e.messageName, codec.name);
      assert.equal(e.version, version);
      assert.equal(e.field, field);
      assert.match(e.reason, reason);
      assert.ok(e.message.startsWith(`${codec.name} v${version}: ${field}: `), e.message);
      return true;
    },
  );
}

const frames = sampleFrames(4096);

test("there are fixture frames to cut and mutate", () => {
  assert.ok(frames.length > 40, `only ${frames.length}`);
});

describe("truncated input", () => {
  for (const f of frames) {
    test(`${f.label}: every prefix of the payload fails with a DecodeError`, () => {
      const payload = f.bytes.subarray(4);
      decodeFrame(f, f.bytes); // the whole frame is fine
      for (let cut = 0; cut < payload.length; cut++) {
        const part = payload.subarray(0, cut);
        try {
          if (f.response) decodeResponse(part, f.apiKey, f.version);
          else decodeRequest(part);
        } catch (e) {
          if (e instanceof DecodeError) continue;
          throw new Error(`${f.label} cut at ${cut}: ${String(e)}`);
        }
        assert.fail(`${f.label} cut at ${cut} of ${payload.length} decoded without error`);
      }
    });
  }
});

describe("lengths", () => {
  test("negative string and bytes lengths", () => {
    assertDecodeError(FindCoordinatorRequestCodec, hex("fffe"), 0, "Key", /negative string length -2/);
    assertDecodeError(SaslAuthenticateRequestCodec, hex("fffffff0"), 0, "AuthBytes", /negative bytes length -16/);
  });

  test("a length beyond the bytes left", () => {
    assertDecodeError(FindCoordinatorRequestCodec, hex("0010 6162"), 0, "Key", /length 16 exceeds the 2 bytes left/);
    assertDecodeError(FindCoordinatorRequestCodec, hex("ff01 6162"), 3, "Key", /length 254 exceeds/);
    assertDecodeError(SaslAuthenticateRequestCodec, hex("7fffffff 00"), 0, "AuthBytes", /exceeds the 1 bytes left/);
  });

  test("an array count larger than the bytes left fails before anything is allocated", () => {
    const started = process.hrtime.bigint();
    assertDecodeError(MetadataRequestCodec, hex("7fffffff 0001"), 0, "Topics", /array length 2147483647 exceeds/);
    // Compact: varint 0xffffffff is a count of 4294967294.
    assertDecodeError(MetadataRequestCodec, hex("ffffffff0f 00"), 9, "Topics", /array length 4294967294 exceeds/);
    assertDecodeError(MetadataRequestCodec, hex("fffffffe"), 0, "Topics", /negative array length -2/);
    assert.ok(process.hrtime.bigint() - started < 1_000_000_000n, "rejected quickly");
  });

  test("a varint longer than five bytes", () => {
    assertDecodeError(FindCoordinatorRequestCodec, hex("ffffffffff01"), 3, "Key", /varint longer than 5 bytes/);
  });

  test("a tagged field whose size disagrees with its content", () => {
    // NullableStruct4 (tag 1) announces 9 bytes but its struct takes 8.
    const bytes = hex("ff 01 01 00000000 00 01 01 09 01 0278 00000002 00 00");
    assertDecodeError(
      NullableStructMessageCodec as MessageCodec<unknown>,
      bytes,
      1,
      "NullableStruct4",
      /read 8 bytes, its size says 9/,
    );
  });
});

describe("nulls where the version has none", () => {
  test("string, bytes and array", () => {
    assertDecodeError(FindCoordinatorRequestCodec, hex("ffff"), 0, "Key", /null for a non-nullable string/);
    assertDecodeError(FindCoordinatorRequestCodec, hex("00 00 00"), 3, "Key", /null for a non-nullable string/);
    assertDecodeError(SaslAuthenticateRequestCodec, hex("ffffffff"), 0, "AuthBytes", /null for non-nullable bytes/);
    assertDecodeError(MetadataRequestCodec, hex("ffffffff"), 0, "Topics", /null for a non-nullable array/);
    // From v1 on, a null topic list is how a client asks for every topic.
    assert.equal(decodeFromBuffer(MetadataRequestCodec, hex("ffffffff"), 1).topics, null);
  });
});

describe("leftover bytes", () => {
  test("after a message", () => {
    assertDecodeError(MetadataRequestCodec, hex("00000000 00"), 0, "(end)", /1 bytes left over/);
  });

  test("after a whole request frame: counted and ignored, as Apache Kafka does", () => {
    const f = frames.find((x) => !x.response);
    assert.ok(f);
    const longer = Buffer.concat([f.bytes, hex("000102")]);
    longer.writeInt32BE(longer.length - 4, 0);
    const exact = decodeRequestFrame(f.bytes);
    const decoded = decodeRequestFrame(longer);
    assert.equal(exact.trailingBytes, 0);
    assert.equal(decoded.trailingBytes, 3);
    assert.deepEqual(decoded.body, exact.body);
  });
});

describe("frames for APIs and versions that do not exist", () => {
  const frame = (payload: string): Buffer => {
    const p = hex(payload);
    const b = Buffer.alloc(4 + p.length);
    b.writeInt32BE(p.length, 0);
    p.copy(b, 4);
    return b;
  };

  test("an unknown API key", () => {
    assert.throws(
      () => decodeRequestFrame(frame("03e7 0000 00000001 ffff")),
      (e: unknown) => e instanceof DecodeError && e.field === "RequestApiKey" && /unknown API key 999/.test(e.message),
    );
    assert.throws(
      () => decodeResponseFrame(frame("00000001"), 999, 0),
      (e: unknown) => e instanceof DecodeError && /unknown API key 999/.test(e.message),
    );
  });

  test("an unsupported version", () => {
    // ApiVersions v99 with a flexible request header: api key, version, correlation id, null client id, no tags.
    assert.throws(
      () => decodeRequestFrame(frame("0012 0063 00000001 ffff 00")),
      (e: unknown) =>
        e instanceof UnsupportedVersionError && e.messageName === "ApiVersionsRequest" && e.version === 99,
    );
    assert.throws(
      () => decodeResponseFrame(frame("00000001 0000"), 18, 99),
      (e: unknown) => e instanceof UnsupportedVersionError && e.version === 99,
    );
  });

  test("a size prefix that disagrees with the frame", () => {
    const f = frames[0];
    assert.ok(f);
    const short = Buffer.from(f.bytes.subarray(0, f.bytes.length - 1));
    assert.throws(
      () => decodeFrame(f, short),
      (e: unknown) => e instanceof DecodeError && e.field === "Size",
    );
    assert.throws(
      () => decodeRequestFrame(hex("0000")),
      (e: unknown) => e instanceof DecodeError && e.field === "Size",
    );
  });
});

test("random byte mutations of valid frames decode or fail with a DecodeError, nothing else", () => {
  const mutation = fc.record({
    frame: fc.integer({ min: 0, max: frames.length - 1 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
  });
  fc.assert(
    fc.property(mutation, ({ frame, edits }) => {
      const f = frames[frame]!;
      const bytes = Buffer.from(f.bytes);
      // Mostly past the size prefix, which would otherwise reject nearly every case up front.
      for (const [at, value] of edits) bytes[4 + (at % (bytes.length - 4))] = value;
      try {
        decodeFrame(f, bytes);
      } catch (e) {
        if (e instanceof DecodeError || e instanceof UnsupportedVersionError) return;
        throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
