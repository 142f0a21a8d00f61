import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ApiKey,
  createFetchResponse,
  createFetchResponsePartitionData,
  encodeResponseFrame,
  encodeResponseFrameParts,
} from "../src/index.js";

function fetchResponse(records: Buffer[]) {
  return createFetchResponse({
    responses: [
      {
        topic: "t",
        topicId: "AAAAAAAAAAAAAAAAAAAAAA",
        partitions: records.map((r, i) => createFetchResponsePartitionData({ partitionIndex: i, records: r })),
      },
    ],
  });
}

test("a frame cut around external buffers is the copying frame, piece by piece", () => {
  const big = [Buffer.alloc(5000, 1), Buffer.alloc(0), Buffer.alloc(7000, 2), Buffer.alloc(10, 3)];
  const body = fetchResponse(big);
  for (const version of [4, 11, 12, 16]) {
    const whole = encodeResponseFrame({ correlationId: 7 }, body, ApiKey.Fetch, version);
    const parts = encodeResponseFrameParts(
      { correlationId: 7 },
      body,
      ApiKey.Fetch,
      version,
      new Set([big[0]!, big[2]!]),
    );
    assert.deepEqual(Buffer.concat(parts), whole, `v${version}`);
    // The external buffers are passed through, not copied.
    assert.ok(parts.includes(big[0]!) && parts.includes(big[2]!));
    assert.equal(parts.length, 5, "prefix, first records, the bytes between, second records, the rest");
  }
});

test("an external buffer that is not in the response is an error, not a short frame", () => {
  const body = fetchResponse([Buffer.alloc(100)]);
  assert.throws(
    () => encodeResponseFrameParts({ correlationId: 1 }, body, ApiKey.Fetch, 12, new Set([Buffer.alloc(5000)])),
    RangeError,
  );
});
