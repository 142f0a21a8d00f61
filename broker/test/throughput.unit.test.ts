import assert from "node:assert/strict";
import { test } from "node:test";
import { ThroughputHistory, type TopicTotals } from "../src/metrics/throughput.js";

/** The console's sparkline data: per-topic byte rates from the broker's counters, a fixed window, the running interval last. */

test("rates per interval, zeros before a topic was seen, the window kept to its length", () => {
  let totals: TopicTotals[] = [];
  const h = new ThroughputHistory(() => totals, 1000, 4);
  h.sample(0);
  totals = [{ topic: "a", bytesIn: 500, bytesOut: 0 }];
  h.sample(1000);
  totals = [{ topic: "a", bytesIn: 1500, bytesOut: 300 }];
  h.sample(2000);
  // 4 points: one never sampled, two closed intervals, and the running one (nothing yet).
  assert.deepEqual(h.of("a", 2000), { sampleMs: 1000, bytesIn: [0, 500, 1000, 0], bytesOut: [0, 0, 300, 0] });
  // The running interval: 2 s after the last sample, 400 more bytes in: 200 B/s.
  totals = [{ topic: "a", bytesIn: 1900, bytesOut: 300 }];
  assert.deepEqual(h.of("a", 4000).bytesIn, [0, 500, 1000, 200]);
  // Older intervals fall out of the window.
  h.sample(3000);
  h.sample(4000);
  assert.deepEqual(h.of("a", 4000).bytesIn, [1000, 400, 0, 0]);
  // A topic never seen: a flat line of the window's length.
  assert.deepEqual(h.of("b", 4000).bytesOut, [0, 0, 0, 0]);
});

test("start samples on a timer that does not hold the process, stop clears it", () => {
  const h = new ThroughputHistory(() => [], 10, 3);
  h.start();
  h.start(); // once only
  h.stop();
  assert.deepEqual(h.of("x").bytesIn, [0, 0, 0]);
});
