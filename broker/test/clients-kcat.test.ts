import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startBroker, skipUnless, type BrokerProcess } from "./harness.js";
import { haveKcat, kcatConsume, runOk } from "./clients/run.js";

/**
 * librdkafka (kcat) against the broker: every codec it has, several partitions, keys, values and
 * headers read back in order; and the old protocol versions it falls back to without ApiVersions.
 */

const skip = skipUnless(haveKcat(), "kcat");
const PARTITIONS = 3;
const PER_PARTITION = 40;

describe("kcat", { skip, timeout: 60_000 }, () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({ properties: { "num.partitions": PARTITIONS } });
  });
  after(async () => {
    await broker?.stop();
    await broker?.cleanup();
  });

  for (const codec of ["none", "gzip", "snappy", "lz4", "zstd"]) {
    test(`produce and consume with ${codec}`, { timeout: 20_000 }, async () => {
      const topic = `kcat-${codec}`;
      await Promise.all(
        Array.from({ length: PARTITIONS }, (_, p) => {
          const lines = Array.from(
            { length: PER_PARTITION },
            (_, i) => `k${p}-${i}:${codec} value ${p}/${i} ${"x".repeat(i * 7)}\n`,
          ).join("");
          return runOk(
            "kcat",
            [
              "-b",
              broker.bootstrap,
              "-P",
              "-t",
              topic,
              "-p",
              String(p),
              "-z",
              codec,
              "-K",
              ":",
              "-H",
              `codec=${codec}`,
              "-H",
              `p=${p}`,
              "-X",
              "linger.ms=5",
            ],
            { input: lines },
          );
        }),
      );
      for (let p = 0; p < PARTITIONS; p++) {
        const got = await kcatConsume(broker.bootstrap, topic, p);
        assert.equal(got.length, PER_PARTITION, `partition ${p} count`);
        got.forEach((r, i) => {
          assert.equal(r.partition, p);
          assert.equal(r.offset, i);
          assert.equal(r.key, `k${p}-${i}`);
          assert.equal(r.value, `${codec} value ${p}/${i} ${"x".repeat(i * 7)}`);
          assert.equal(r.headers, `codec=${codec},p=${p}`);
        });
      }
    });
  }

  // Without ApiVersions librdkafka picks its request versions from broker.version.fallback:
  // 0.9.0 -> Produce v1 / Fetch v1 with magic-0 message sets, 0.10.0 -> Produce v2 / Fetch v2 with magic 1.
  for (const fallback of ["0.9.0", "0.10.0"]) {
    test(`old protocol: broker.version.fallback=${fallback}`, { timeout: 20_000 }, async () => {
      const old = ["-X", "api.version.request=false", "-X", `broker.version.fallback=${fallback}`];
      const topic = `kcat-old-${fallback.replaceAll(".", "_")}`;
      const codecs = fallback === "0.9.0" ? ["none", "gzip", "snappy"] : ["none", "gzip", "snappy", "lz4"];
      const expected: { key: string; value: string }[] = [];
      for (const codec of codecs) {
        const batch = Array.from({ length: 10 }, (_, i) => ({
          key: `${codec}-k${i}`,
          value: `${fallback} ${codec} ${i}`,
        }));
        expected.push(...batch);
        await runOk("kcat", ["-b", broker.bootstrap, ...old, "-P", "-t", topic, "-p", "1", "-z", codec, "-K", ":"], {
          input: batch.map((r) => `${r.key}:${r.value}\n`).join(""),
        });
      }
      // Modern records (v2 batches with headers) read by the old client: down-converted.
      await runOk(
        "kcat",
        ["-b", broker.bootstrap, "-P", "-t", topic, "-p", "1", "-z", "gzip", "-K", ":", "-H", "h=1"],
        {
          input: "modern-k:modern value\n",
        },
      );
      expected.push({ key: "modern-k", value: "modern value" });
      const viaOld = await kcatConsume(broker.bootstrap, topic, 1, old);
      const viaNew = await kcatConsume(broker.bootstrap, topic, 1);
      for (const got of [viaOld, viaNew]) {
        assert.deepEqual(
          got.map((r) => ({ key: r.key, value: r.value })),
          expected,
        );
        assert.deepEqual(
          got.map((r) => r.offset),
          expected.map((_, i) => i),
        );
      }
      assert.equal(viaNew.at(-1)!.headers, "h=1");
    });
  }
});
