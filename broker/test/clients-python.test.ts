import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT, startBroker, skipUnless, type BrokerProcess } from "./harness.js";
import { SYSTEM_PYTHON, haveKafkaPython, runOk } from "./clients/run.js";

/**
 * kafka-python (Debian's python3-kafka 2.0 in the system interpreter): producing and reading back with
 * assigned partitions. Its Debian build has gzip only (no python snappy, lz4 or zstd modules).
 */

const skip = skipUnless(haveKafkaPython(), "kafka-python (python3-kafka)");
const SCRIPT = join(REPO_ROOT, "broker", "test", "clients", "kafka_python_roundtrip.py");
const PARTITIONS = 2;
const PER_PARTITION = 30;

interface PyRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: [string, string][];
}

describe("kafka-python", { skip, timeout: 40_000 }, () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({ properties: { "num.partitions": PARTITIONS } });
  });
  after(async () => {
    await broker?.stop();
    await broker?.cleanup();
  });

  for (const codec of ["none", "gzip"]) {
    test(`produce and consume with ${codec}`, { timeout: 20_000 }, async () => {
      const topic = `python-${codec}`;
      const r = await runOk(
        SYSTEM_PYTHON,
        [SCRIPT, broker.bootstrap, topic, codec, String(PARTITIONS), String(PER_PARTITION)],
        { timeoutMs: 20_000 },
      );
      const lines = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const summary = lines.pop() as { acked: [number, number][] };
      const expected = (p: number) =>
        Array.from({ length: PER_PARTITION }, (_, i) => ({
          partition: p,
          offset: i,
          key: `k${p}-${i}`,
          value: `${codec} value ${p}/${i} ${"z".repeat(i * 13)}`,
          headers: [
            ["codec", codec],
            ["seq", String(i)],
          ],
        }));
      const all = Array.from({ length: PARTITIONS }, (_, p) => expected(p));
      assert.deepEqual(
        summary.acked,
        all.flat().map((e) => [e.partition, e.offset]),
      );
      const got = lines as unknown as PyRecord[];
      for (let p = 0; p < PARTITIONS; p++) {
        assert.deepEqual(
          got.filter((g) => g.partition === p),
          all[p],
          `partition ${p}`,
        );
      }
    });
  }
});
