import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cp, mkdir, mkdtemp, open, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import {
  ApiKey,
  createAlterPartitionReassignmentsRequest,
  createAlterReplicaLogDirsRequest,
  createCreateTopicsRequest,
  createDescribeLogDirsRequest,
  createListPartitionReassignmentsRequest,
  type DescribeLogDirsResponseDescribeLogDirsResult,
} from "@tskafka/protocol";
import { startTxnTarget } from "./clients/txn-target.js";
import { freePort, skipUnless, startBroker, type BrokerProcess } from "./harness.js";
import { RawClient } from "./clients/raw-client.js";
import { KAFKA44_REQUIREMENT, KAFKA44_VERSION, haveKafka44, programFrom, tool44 } from "./clients/java/kafka44.js";

/**
 * Several log directories (log.dirs), with the broker as a process on real disk: new partitions spread
 * over the directories (the one with the fewest first), survive a restart where they are, and are listed
 * per directory by kafka-log-dirs.sh; AlterReplicaLogDirs (the Java Admin client) moves a partition to
 * another directory while a producer keeps writing, losing no acknowledged record; a directory whose
 * disk is full (a small tmpfs, as root) fails only its own partitions; a partition found in two
 * directories stops start-up. TSKAFKA_LOGDIRS_TARGET=kafka runs the parts Kafka shares against Apache
 * Kafka 4.4.0, whose answers these expectations are.
 */

const TARGET = process.env.TSKAFKA_LOGDIRS_TARGET === "kafka" ? "kafka" : "tskafka";
const NONE = 0;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const KAFKA_STORAGE_ERROR = 56;
const INVALID_REPLICA_ASSIGNMENT = 39;
const LOG_DIR_NOT_FOUND = 57;
const NO_REASSIGNMENT_IN_PROGRESS = 85;
/** The small directory that fills up (a tmpfs) and the file that fills it. */
const SMALL_FS_BYTES = 24 << 20;
const BALLAST_BYTES = 20 << 20;
/** Records of 100 KB in the partition that moves (batches of 9), so that its copy takes a while. */
const PREFILL = 270;

/** The broker under test with its log directories, restartable on the same directories. */
interface Target {
  readonly port: number;
  readonly bootstrap: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function startTskafka(root: string, dirs: readonly string[]): Promise<Target> {
  const port = await freePort();
  const start = (): Promise<BrokerProcess> =>
    startBroker({ dataDir: root, logDirs: dirs, port, properties: { "log.segment.bytes": 8 << 20 } });
  let broker = await start();
  return {
    port,
    bootstrap: broker.bootstrap,
    async restart() {
      assert.equal(await broker.stop(), 0, broker.output());
      await broker.cleanup();
      broker = await start();
    },
    async stop() {
      await broker.stop();
      await broker.cleanup();
    },
  };
}

/** Apache Kafka 4.4.0 on the same log directories (txn-target's launcher); a restart is a kill -9 and a start. */
async function startKafka(dirs: readonly string[]): Promise<Target> {
  const kafka = await startTxnTarget({ "log.dirs": dirs.join(","), "log.segment.bytes": 8 << 20 }, "kafka");
  return {
    port: Number(kafka.bootstrap.split(":")[1]),
    bootstrap: kafka.bootstrap,
    async restart() {
      await kafka.kill9();
      await kafka.restart();
    },
    stop: () => kafka.cleanup(),
  };
}

function tryMount(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${SMALL_FS_BYTES}`, "tmpfs", dir], {
    stdio: "ignore",
    timeout: 10_000,
  });
  return r.status === 0;
}

async function fill(path: string, bytes: number): Promise<void> {
  const fh = await open(path, "w");
  try {
    const chunk = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < bytes; i += chunk.length) await fh.write(chunk);
  } finally {
    await fh.close();
  }
}

/** `<topic>-<partition>` names of the replicas of a DescribeLogDirs result, futures marked `*`. */
function replicasOf(result: DescribeLogDirsResponseDescribeLogDirsResult): string[] {
  return result.topics
    .flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partitionIndex}${p.isFutureKey ? "*" : ""}`))
    .sort();
}

const root = await mkdtemp(join(tmpdir(), "tskafka-logdirs-"));
const dirs = ["d0", "d1", "d2"].map((d) => join(root, d));
await Promise.all(dirs.map((d) => mkdir(d)));
/** The third directory is a small tmpfs that the storage test fills up. */
const mounted = tryMount(dirs[2]!);
const skipJava = skipUnless(haveKafka44(), KAFKA44_REQUIREMENT);

describe(`several log directories (${TARGET})`, { skip: skipJava, timeout: 120_000 }, () => {
  let target: Target;
  let client: RawClient;

  async function describeDirs(topics: { topic: string; partitions: number[] }[] | null = null) {
    const res = await client.request(ApiKey.DescribeLogDirs, 4, createDescribeLogDirsRequest({ topics }));
    assert.equal(res.errorCode, NONE);
    return new Map(res.results.map((r) => [r.logDir, r]));
  }

  /** The log directory holding the current replica of a partition. */
  async function dirOf(topic: string, partition: number): Promise<string> {
    for (const [dir, r] of await describeDirs([{ topic, partitions: [partition] }])) {
      if (replicasOf(r).includes(`${topic}-${partition}`)) return dir;
    }
    throw new Error(`${topic}-${partition} is in no log directory`);
  }

  async function createTopic(name: string, numPartitions: number): Promise<void> {
    const res = await client.request(
      ApiKey.CreateTopics,
      5,
      createCreateTopicsRequest({
        topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 10_000,
      }),
    );
    assert.equal(res.topics[0]!.errorCode, NONE, res.topics[0]!.errorMessage ?? "");
    // Kafka creates the logs once the controller's record reaches the broker.
    const all = Array.from({ length: numPartitions }, (_, i) => i);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const found = [...(await describeDirs([{ topic: name, partitions: all }])).values()].flatMap(replicasOf);
      if (found.length === numPartitions) break;
      assert.ok(Date.now() < deadline, `the logs of ${name}: ${found.join(", ")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await client.metadata([name]);
  }

  async function alterDir(path: string, topic: string, partitions: number[]): Promise<number[]> {
    const res = await client.request(
      ApiKey.AlterReplicaLogDirs,
      2,
      createAlterReplicaLogDirsRequest({ dirs: [{ path, topics: [{ name: topic, partitions }] }] }),
    );
    return res.results.flatMap((t) => t.partitions.map((p) => p.errorCode));
  }

  async function reconnect(): Promise<void> {
    client?.close();
    client = await RawClient.connect(target.port, { requestTimeoutMs: 10_000 });
  }

  before(async () => {
    target = TARGET === "kafka" ? await startKafka(dirs) : await startTskafka(root, dirs);
    await reconnect();
  });

  after(async () => {
    client?.close();
    await target?.stop();
    if (mounted) spawnSync("umount", [dirs[2]!], { stdio: "ignore", timeout: 10_000 });
    await rm(root, { recursive: true, force: true });
  });

  test("new partitions go to the directory with the fewest; kafka-log-dirs.sh lists each directory", async () => {
    await createTopic("spread", 6);
    const described = await describeDirs([{ topic: "spread", partitions: [0, 1, 2, 3, 4, 5, 9] }]);
    assert.deepEqual([...described.keys()].sort(), [...dirs].sort());
    const counts = dirs.map((d) => replicasOf(described.get(d)!).length);
    assert.deepEqual(counts, [2, 2, 2], `partitions per directory: ${counts.join(", ")}`);
    for (const r of described.values()) {
      assert.equal(r.errorCode, NONE);
      assert.ok(r.totalBytes > 0n && r.usableBytes > 0n && r.usableBytes <= r.totalBytes);
    }

    const out = await tool44("org.apache.kafka.tools.LogDirsCommand", [
      "--bootstrap-server",
      target.bootstrap,
      "--describe",
      "--topic-list",
      "spread",
    ]);
    const json = JSON.parse(out.stdout.split("\n").find((l) => l.startsWith("{"))!) as {
      brokers: {
        broker: number;
        logDirs: { logDir: string; error: string | null; partitions: { partition: string; isFuture: boolean }[] }[];
      }[];
    };
    assert.equal(json.brokers.length, 1);
    const listed = json.brokers[0]!.logDirs;
    assert.deepEqual(listed.map((d) => d.logDir).sort(), [...dirs].sort());
    for (const d of listed) {
      assert.equal(d.error, null);
      assert.deepEqual(
        d.partitions.map((p) => p.partition).sort(),
        replicasOf(described.get(d.logDir)!),
        `${d.logDir} as kafka-log-dirs.sh lists it`,
      );
    }
  });

  test("records survive a restart in their directories", async () => {
    const before = await describeDirs([{ topic: "spread", partitions: [0, 1, 2, 3, 4, 5] }]);
    for (let p = 0; p < 6; p++) {
      const r = await client.produce("spread", p, [{ value: `v${p}-a` }, { value: `v${p}-b` }]);
      assert.equal(r.errorCode, NONE);
    }
    await target.restart();
    await reconnect();
    for (let p = 0; p < 6; p++) {
      const values = (await client.fetchAll("spread", p)).map((r) => r.record.value?.toString());
      assert.deepEqual(values, [`v${p}-a`, `v${p}-b`]);
    }
    const after = await describeDirs([{ topic: "spread", partitions: [0, 1, 2, 3, 4, 5] }]);
    for (const d of dirs) assert.deepEqual(replicasOf(after.get(d)!), replicasOf(before.get(d)!), d);
    if (TARGET === "tskafka") {
      // The cluster metadata lives in the first directory (metadata.log.dir's default) only.
      assert.ok((await readdir(dirs[0]!)).includes("__tskafka_topics.json"));
      for (const d of dirs.slice(1)) assert.ok(!(await readdir(d)).some((n) => n.startsWith("__tskafka")), d);
    }
  });

  test("AlterReplicaLogDirs answers LOG_DIR_NOT_FOUND and UNKNOWN_TOPIC_OR_PARTITION as Kafka", async () => {
    const here = await dirOf("spread", 0);
    assert.deepEqual(await alterDir(join(root, "elsewhere"), "spread", [0]), [LOG_DIR_NOT_FOUND]);
    assert.deepEqual(await alterDir(relative(process.cwd(), dirs[1]!), "spread", [0]), [LOG_DIR_NOT_FOUND]);
    assert.deepEqual(await alterDir(dirs[1]!, "no-such-topic", [0]), [UNKNOWN_TOPIC_OR_PARTITION]);
    assert.deepEqual(await alterDir(dirs[1]!, "spread", [99]), [UNKNOWN_TOPIC_OR_PARTITION]);
    // To the directory it is in: nothing to do.
    assert.deepEqual(await alterDir(here, "spread", [0]), [NONE]);
    assert.equal(await dirOf("spread", 0), here);
  });

  test("a partition moves to another directory under a producer, losing no acknowledged record", async () => {
    await createTopic("moving", 1);
    // Enough data that the copy takes a while and shows as a future replica.
    const big = Buffer.alloc(100_000, 0x62);
    for (let i = 0; i < PREFILL / 9; i++) {
      const r = await client.produce(
        "moving",
        0,
        Array.from({ length: 9 }, () => ({ value: big })),
      );
      assert.equal(r.errorCode, NONE);
    }
    const from = await dirOf("moving", 0);
    const to = dirs.find((d) => d !== from && d !== dirs[2])!;

    const producer = await RawClient.connect(target.port, { requestTimeoutMs: 10_000 });
    const watcher = await RawClient.connect(target.port, { requestTimeoutMs: 10_000 });
    const acked: string[] = [];
    const errors: number[] = [];
    const futures: string[] = [];
    let moving = true;
    const produceLoop = (async () => {
      for (let n = 0; moving || n < 50; n++) {
        const r = await producer.produce("moving", 0, [{ value: `m-${n}` }]);
        if (r.errorCode === NONE) acked.push(`m-${n}`);
        else errors.push(r.errorCode);
      }
    })();
    const reader = await RawClient.connect(target.port, { requestTimeoutMs: 10_000 });
    let reads = 0;
    const readLoop = (async () => {
      // A consumer reading from the start, round after round, while the log is copied and swapped.
      while (moving) {
        assert.ok((await reader.fetchAll("moving", 0)).length >= PREFILL);
        reads++;
      }
    })();
    const watchLoop = (async () => {
      while (moving) {
        const res = await watcher.request(
          ApiKey.DescribeLogDirs,
          4,
          createDescribeLogDirsRequest({ topics: [{ topic: "moving", partitions: [0] }] }),
        );
        for (const r of res.results) {
          for (const p of r.topics.flatMap((t) => t.partitions)) {
            if (p.isFutureKey) futures.push(`${r.logDir} lag ${p.offsetLag} size ${p.partitionSize}`);
          }
        }
      }
    })();
    try {
      const run = await programFrom(["LogDirMove.java"], "LogDirMove", [
        target.bootstrap,
        "1",
        "moving",
        "0",
        to,
        "30000",
      ]);
      assert.match(run.stdout, /ALTERED\nMOVED/, run.stdout + run.stderr);
    } finally {
      moving = false;
      await Promise.all([produceLoop, watchLoop, readLoop]);
      producer.close();
      watcher.close();
      reader.close();
    }
    assert.deepEqual(errors, [], "every produce during the move was taken");
    assert.ok(reads > 0);
    assert.ok(acked.length >= 50);
    assert.ok(futures.length > 0, "DescribeLogDirs showed the future replica while it was copied");
    assert.ok(
      futures.every((f) => f.startsWith(`${to} `)),
      futures.join("; "),
    );
    assert.equal(await dirOf("moving", 0), to);

    const check = async (): Promise<void> => {
      const values = (await client.fetchAll("moving", 0)).map((r) => r.record.value!.toString());
      assert.equal(values.length, PREFILL + acked.length);
      assert.deepEqual(values.slice(PREFILL), acked);
      const files = await readdir(join(to, "moving-0"));
      assert.ok(files.some((f) => f.endsWith(".log")));
      assert.ok(!(await readdir(from)).includes("moving-0"), "the old directory is gone");
      assert.ok((await stat(join(to, "moving-0"))).isDirectory());
    };
    await check();
    await target.restart();
    await reconnect();
    await check();
    assert.equal(await dirOf("moving", 0), to);
    assert.equal((await client.produce("moving", 0, [{ value: "after" }])).errorCode, NONE);
  });

  test("AlterPartitionReassignments: the one replica it has, and Kafka's errors", async () => {
    const res = await client.request(
      ApiKey.AlterPartitionReassignments,
      0,
      createAlterPartitionReassignmentsRequest({
        timeoutMs: 10_000,
        topics: [
          {
            name: "spread",
            partitions: [
              { partitionIndex: 0, replicas: [1] },
              { partitionIndex: 1, replicas: null },
              { partitionIndex: 2, replicas: [] },
              { partitionIndex: 3, replicas: [1, 2] },
              { partitionIndex: 4, replicas: [1, 1] },
              { partitionIndex: 99, replicas: [1] },
            ],
          },
          { name: "no-such-topic", partitions: [{ partitionIndex: 0, replicas: [1] }] },
        ],
      }),
    );
    assert.equal(res.errorCode, NONE);
    assert.deepEqual(
      res.responses.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.errorCode, p.errorMessage])),
      [
        ["spread", 0, NONE, null],
        ["spread", 1, NO_REASSIGNMENT_IN_PROGRESS, null],
        ["spread", 2, INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes an empty replica list."],
        [
          "spread",
          3,
          INVALID_REPLICA_ASSIGNMENT,
          "The manual partition assignment includes broker 2, but no such broker is registered.",
        ],
        [
          "spread",
          4,
          INVALID_REPLICA_ASSIGNMENT,
          "The manual partition assignment includes the broker 1 more than once.",
        ],
        ["spread", 99, UNKNOWN_TOPIC_OR_PARTITION, "Unable to find partition spread:99."],
        ["no-such-topic", 0, UNKNOWN_TOPIC_OR_PARTITION, "Unable to find a topic named no-such-topic."],
      ],
    );
    const listed = await client.request(
      ApiKey.ListPartitionReassignments,
      0,
      createListPartitionReassignmentsRequest({ timeoutMs: 10_000, topics: null }),
    );
    assert.deepEqual([listed.errorCode, listed.topics], [NONE, []]);
  });

  test("kafka-reassign-partitions.sh moves a partition to the log_dirs of its plan", async () => {
    const from = await dirOf("spread", 3);
    const to = dirs.find((d) => d !== from && d !== dirs[2])!;
    const plan = join(root, "plan.json");
    await writeFile(
      plan,
      JSON.stringify({ version: 1, partitions: [{ topic: "spread", partition: 3, replicas: [1], log_dirs: [to] }] }),
    );
    const tool = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";
    const args = ["--bootstrap-server", target.bootstrap, "--reassignment-json-file", plan];
    const executed = await tool44(tool, [...args, "--execute"]);
    assert.match(executed.stdout, /Successfully started partition reassignment for spread-3\n/);
    assert.ok(
      executed.stdout.includes(`Successfully started moving log directory to ${to} for replica spread-3 with broker 1`),
      executed.stdout,
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      const verified = await tool44(tool, [...args, "--verify"]);
      if (/Reassignment of replica spread-3-1 completed successfully/.test(verified.stdout)) break;
      assert.ok(Date.now() < deadline, verified.stdout);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(await dirOf("spread", 3), to);
    const values = (await client.fetchAll("spread", 3)).map((r) => r.record.value?.toString());
    assert.deepEqual(values, ["v3-a", "v3-b"]);
  });

  test(
    "a full directory fails only its own partitions with KAFKA_STORAGE_ERROR",
    {
      skip:
        TARGET === "kafka"
          ? "Kafka takes the directory offline for good"
          : skipUnless(mounted, "mounting a tmpfs (as root)"),
    },
    async () => {
      const small = dirs[2]!;
      const described = await describeDirs([{ topic: "spread", partitions: [0, 1, 2, 3, 4, 5] }]);
      const inSmall = replicasOf(described.get(small)!).map((n) => Number(n.slice("spread-".length)));
      const elsewhere = [0, 1, 2, 3, 4, 5].filter((p) => !inSmall.includes(p));
      assert.equal(inSmall.length, 2);
      const ballast = join(small, "ballast");
      await fill(ballast, BALLAST_BYTES);
      try {
        const value = Buffer.alloc(10_000, 0x61);
        let code = NONE;
        for (let i = 0; i < 2000 && code === NONE; i++)
          code = (await client.produce("spread", inSmall[0]!, [{ value }])).errorCode;
        assert.equal(code, KAFKA_STORAGE_ERROR);
        // The directory is offline: its other partition refuses even a record that would fit.
        assert.equal((await client.produce("spread", inSmall[1]!, [{ value: "x" }])).errorCode, KAFKA_STORAGE_ERROR);
        for (const p of elsewhere) assert.equal((await client.produce("spread", p, [{ value }])).errorCode, NONE);
        const offline = (await describeDirs()).get(small)!;
        assert.equal(offline.errorCode, KAFKA_STORAGE_ERROR);
        assert.deepEqual(offline.topics, []);
        assert.equal(offline.totalBytes, -1n);
        for (const d of dirs.slice(0, 2)) assert.equal((await describeDirs()).get(d)!.errorCode, NONE);
        // No move while a directory is offline, to it or elsewhere.
        assert.deepEqual(await alterDir(small, "spread", [elsewhere[0]!]), [KAFKA_STORAGE_ERROR]);
        assert.deepEqual(await alterDir(dirs[1]!, "spread", [inSmall[0]!]), [KAFKA_STORAGE_ERROR]);
      } finally {
        await rm(ballast, { force: true });
      }
      // Space is back: each partition of the directory takes appends again (after its probe), without a restart.
      const deadline = Date.now() + 15_000;
      for (const p of inSmall) {
        while ((await client.produce("spread", p, [{ value: "back" }])).errorCode !== NONE) {
          assert.ok(Date.now() < deadline, `spread-${p} did not take appends again`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.equal((await describeDirs()).get(small)!.errorCode, NONE);
    },
  );

  test(
    "a partition found in two directories stops start-up",
    { skip: TARGET === "kafka" ? "checked against Kafka's LogManager source only" : undefined },
    async () => {
      const described = await describeDirs([{ topic: "spread", partitions: [0, 1, 2, 3, 4, 5] }]);
      const name = replicasOf(described.get(dirs[0]!)!)[0]!;
      const stored = (await client.fetchAll("spread", Number(name.slice("spread-".length)))).length;
      client.close();
      await target.stop();
      await cp(join(dirs[0]!, name), join(dirs[1]!, name), { recursive: true });
      await assert.rejects(
        startBroker({ dataDir: root, logDirs: dirs, properties: { "log.segment.bytes": 8 << 20 } }),
        new RegExp(`duplicate log directories for ${name}`),
      );
      await rm(join(dirs[1]!, name), { recursive: true, force: true });
      target = await startTskafka(root, dirs);
      await reconnect();
      assert.equal((await client.fetchAll("spread", Number(name.slice("spread-".length)))).length, stored);
    },
  );
});
