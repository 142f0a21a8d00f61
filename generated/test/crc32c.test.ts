import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32c as nativeCrc32c } from "@node-rs/crc32";
import fc from "fast-check";
import { crc32c } from "../src/records/crc32c.js";

describe("crc32c (JavaScript)", () => {
  it("gives the check values of CRC-32C", () => {
    assert.equal(crc32c(Buffer.from("123456789")), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  });

  it("agrees with the native library on any bytes, at any offset and length", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(7), (bytes, skip) => {
        const view = Buffer.from(bytes).subarray(Math.min(skip, bytes.length));
        assert.equal(crc32c(view), nativeCrc32c(view) >>> 0);
      }),
      { numRuns: 500 },
    );
  });
});
