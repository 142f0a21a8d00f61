import assert from "node:assert/strict";
import { test } from "node:test";
import { ReadBufferPool } from "../src/log/read-buffers.js";

/** The pooled segment-read buffers of fetches (log/read-buffers.ts), alone. */

test("a released lease's buffers serve the next lease; a held one's never do", () => {
  const pool = new ReadBufferPool();
  const a = pool.lease();
  const first = a.alloc(100_000);
  const second = a.alloc(100_000);
  assert.equal(first.length, 100_000);
  assert.notEqual(first.buffer, second.buffer, "two reads of one lease get two buffers");
  const b = pool.lease();
  const other = b.alloc(100_000);
  assert.notEqual(other.buffer, first.buffer, "a held buffer is not lent again");
  assert.notEqual(other.buffer, second.buffer);
  a.release();
  const c = pool.lease();
  const reused = [c.alloc(120_000).buffer, c.alloc(90_000).buffer];
  assert.deepEqual(new Set(reused), new Set([first.buffer, second.buffer]), "one or two 64 KiB steps smaller: reused");
  assert.equal(c.alloc(100_000).buffer === other.buffer, false, "b still holds its buffer");
});

test("a read of exactly 1 MiB takes an idle buffer of 1 MiB and 8 KiB; one three steps larger is left idle", () => {
  const pool = new ReadBufferPool();
  const a = pool.lease();
  const slack = a.alloc(1024 * 1024 + 8192).buffer;
  const far = a.alloc(1024 * 1024 + 3 * 65536).buffer;
  a.release();
  const b = pool.lease();
  assert.equal(b.alloc(1024 * 1024).buffer, slack);
  const fresh = b.alloc(1024 * 1024).buffer;
  assert.notEqual(fresh, far);
  assert.equal(fresh.byteLength, 1024 * 1024);
});

test("buffers larger than 4 MiB are not pooled, and at most 32 MiB stay idle", () => {
  const pool = new ReadBufferPool();
  const big = pool.lease();
  const huge = big.alloc(5 * 1024 * 1024);
  big.release();
  assert.notEqual(pool.lease().alloc(5 * 1024 * 1024).buffer, huge.buffer);

  const many = pool.lease();
  const slabs = Array.from({ length: 12 }, () => many.alloc(4 * 1024 * 1024).buffer);
  many.release();
  // 8 x 4 MiB fit in the idle bound; the other 4 were left to the collector.
  const again = pool.lease();
  const back = Array.from({ length: 12 }, () => again.alloc(4 * 1024 * 1024).buffer);
  assert.equal(back.filter((b) => slabs.includes(b)).length, 8);
});
