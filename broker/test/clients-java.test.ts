import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startBroker, skipUnless, type BrokerProcess } from "./harness.js";
import { ApiKey } from "@tskafka/protocol";
import { RawClient } from "./clients/raw-client.js";
import { haveJava, java } from "./clients/run.js";
import { tempDir, type TempDir } from "./temp.js";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The Java client through Kafka's own tools: VerifiableProducer (idempotent by default, so it
 * exercises InitProducerId and the sequence checks) with every codec, ConsoleProducer with headers,
 * and ConsoleConsumer reading each partition back (assigned, no group; it uses fetch sessions).
 */

const skip = skipUnless(haveJava(), "java with the Kafka 3.9.1 jars");
const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
const PARTITIONS = 2;
const PER_CODEC = 150;

interface Acked {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

/** ConsoleConsumer lines with print.partition/offset/headers/key: `Partition:P\tOffset:O\tH\tK\tV`. */
function parseConsole(
  out: string,
): { partition: number; offset: number; headers: string; key: string; value: string }[] {
  return out
    .split("\n")
    .filter((l) => l.startsWith("Partition:"))
    .map((l) => {
      const [p, o, headers, key, value] = l.split("\t");
      return {
        partition: Number(p!.slice(10)),
        offset: Number(o!.slice(7)),
        headers: headers!,
        key: key!,
        value: value!,
      };
    });
}

async function consolePartition(bootstrap: string, topic: string, partition: number, count: number) {
  const r = await java(
    "org.apache.kafka.tools.consumer.ConsoleConsumer",
    [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--partition",
      String(partition),
      "--offset",
      "earliest",
      "--max-messages",
      String(count),
      "--timeout-ms",
      "15000",
      "--property",
      "print.partition=true",
      "--property",
      "print.offset=true",
      "--property",
      "print.headers=true",
      "--property",
      "print.key=true",
      "--consumer-property",
      "fetch.max.wait.ms=100",
      "--consumer-property",
      "max.partition.fetch.bytes=4096",
    ],
    { timeoutMs: 30_000 },
  );
  return parseConsole(r.stdout);
}

describe("java client (Kafka 3.9.1 tools)", { skip, timeout: 90_000 }, () => {
  let broker: BrokerProcess;
  let work: TempDir;
  before(async () => {
    // Debug level, to see the fetch sessions the consumer opens.
    broker = await startBroker({ properties: { "num.partitions": PARTITIONS }, logLevel: "debug" });
    work = await tempDir("tskafka-java-");
  });
  after(async () => {
    await broker?.stop();
    await broker?.cleanup();
    await work?.cleanup();
  });

  test(
    "VerifiableProducer (idempotent) with every codec, ConsoleConsumer reads each partition back",
    { timeout: 60_000 },
    async () => {
      const topic = "java-codecs";
      const acked: Acked[] = [];
      for (const [i, codec] of CODECS.entries()) {
        const props = join(work.dir, `${codec}.properties`);
        await writeFile(props, `compression.type=${codec}\nlinger.ms=5\nbatch.size=2048\n`);
        const r = await java(
          "org.apache.kafka.tools.VerifiableProducer",
          [
            "--bootstrap-server",
            broker.bootstrap,
            "--topic",
            topic,
            "--max-messages",
            String(PER_CODEC),
            "--repeating-keys",
            "7",
            "--value-prefix",
            i,
            "--producer.config",
            props,
          ].map(String),
          { timeoutMs: 30_000 },
        );
        const events = r.stdout
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        const data = events.find((e) => e.name === "tool_data");
        assert.equal(data?.acked, PER_CODEC, `${codec}: ${r.stdout.slice(-500)}`);
        for (const e of events) {
          if (e.name === "producer_send_error") assert.fail(`${codec}: ${JSON.stringify(e)}`);
          if (e.name === "producer_send_success") {
            acked.push({
              partition: e.partition as number,
              offset: e.offset as number,
              key: String(e.key),
              value: String(e.value),
            });
          }
        }
      }
      assert.equal(acked.length, CODECS.length * PER_CODEC);
      assert.deepEqual(
        new Set(acked.map((a) => a.partition)),
        new Set(Array.from({ length: PARTITIONS }, (_, p) => p)),
        "keys spread over every partition",
      );
      // Headers through the Java client, on a batch of its own.
      await java(
        "kafka.tools.ConsoleProducer",
        [
          "--bootstrap-server",
          broker.bootstrap,
          "--topic",
          topic,
          "--compression-codec",
          "zstd",
          "--property",
          "parse.key=true",
          "--property",
          "parse.headers=true",
        ],
        { input: "h1:a,h2:b\thk1\thv1\nh1:c\thk2\thv2\n", timeoutMs: 30_000 },
      );

      const raw = await RawClient.connect(broker.port);
      let totalHeadered = 0;
      try {
        for (let p = 0; p < PARTITIONS; p++) {
          const expected = acked.filter((a) => a.partition === p).sort((a, b) => a.offset - b.offset);
          // How many records the partition holds, from ListOffsets.
          const end = Number(await raw.highWatermark(topic, p));
          const got = await consolePartition(broker.bootstrap, topic, p, end);
          assert.equal(got.length, end, `partition ${p}`);
          assert.deepEqual(
            got.map((g) => g.offset),
            got.map((_, i) => i),
            `partition ${p}: offsets contiguous from 0`,
          );
          // Every acknowledged record is where the producer was told it is.
          const byOffset = new Map(got.map((g) => [g.offset, g]));
          for (const a of expected) {
            const g = byOffset.get(a.offset);
            assert.ok(g !== undefined, `partition ${p} offset ${a.offset} missing`);
            assert.equal(g.key, a.key);
            assert.equal(g.value, a.value);
            assert.equal(g.headers, "NO_HEADERS");
          }
          const headered = got.filter((x) => x.headers !== "NO_HEADERS");
          assert.equal(got.length - expected.length, headered.length);
          for (const g of headered) {
            assert.ok(
              (g.key === "hk1" && g.value === "hv1" && g.headers === "h1:a,h2:b") ||
                (g.key === "hk2" && g.value === "hv2" && g.headers === "h1:c"),
              JSON.stringify(g),
            );
          }
          totalHeadered += headered.length;
        }
        assert.equal(totalHeadered, 2);
        // Each consumer opened one incremental fetch session and kept using it: a session error would
        // have made it start over with a new one.
        assert.equal(broker.output().match(/fetch session \d+ created/g)?.length, PARTITIONS);
      } finally {
        raw.close();
      }
    },
  );

  // ConsumerPerformance subscribes in a group: it needs the group coordinator APIs.
  test("ConsumerPerformance reads everything", { timeout: 40_000 }, async (t) => {
    const raw = await RawClient.connect(broker.port);
    const served = await raw.servedApis();
    raw.close();
    const missing = (
      ["FindCoordinator", "JoinGroup", "SyncGroup", "Heartbeat", "OffsetFetch", "OffsetCommit"] as const
    ).filter((k) => !served.has(ApiKey[k]));
    if (missing.length > 0) {
      t.skip(`the broker does not serve ${missing.join(", ")} yet`);
      return;
    }
    const topic = "java-perf";
    const props = join(work.dir, "perf-producer.properties");
    await writeFile(props, "compression.type=lz4\nlinger.ms=5\n");
    await java(
      "org.apache.kafka.tools.VerifiableProducer",
      ["--bootstrap-server", broker.bootstrap, "--topic", topic, "--max-messages", "2000", "--producer.config", props],
      { timeoutMs: 30_000 },
    );
    const r = await java(
      "org.apache.kafka.tools.ConsumerPerformance",
      [
        "--bootstrap-server",
        broker.bootstrap,
        "--topic",
        topic,
        "--messages",
        "2000",
        "--timeout",
        "20000",
        "--group",
        "tskafka-perf",
      ],
      { timeoutMs: 35_000 },
    );
    // One data line after the header: start, end, MB, MB/s, records, records/s, ...
    const line = r.stdout
      .trim()
      .split("\n")
      .at(-1)!
      .split(",")
      .map((f) => f.trim());
    assert.equal(Number(line[4]), 2000, r.stdout);
  });
});
