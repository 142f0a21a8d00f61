import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { CompressionType, decodeRecordBatches } from "@tskafka/protocol";
import { REPO_ROOT, haveCommand, startBroker, skipUnless, withBrokerLog, type BrokerProcess } from "./harness.js";
import { runOk } from "./clients/run.js";

/**
 * @platformatic/kafka (a pure-JS client that needs Node 22.22 or later) through our script
 * `clients/platformatic.mjs`, run as a child process by a Node that fits: this one when it is recent
 * enough, otherwise the Node 24 in `.cache/node/24`. Admin calls, produce with every codec (idempotent
 * and not, acks=all) checked record by record and batch by batch in the log files, and consumer groups:
 * classic, whose committed offsets survive a broker restart, and KIP-848.
 */

const SCRIPT = join(REPO_ROOT, "broker", "test", "clients", "platformatic.mjs");
const CACHED_NODE = join(REPO_ROOT, ".cache", "node", "24", "node_modules", "node", "bin", "node");
const CLIENT_PACKAGE = join(REPO_ROOT, "node_modules", "@platformatic", "kafka", "package.json");

/** A Node binary that @platformatic/kafka supports (>= 22.22), or undefined. */
function clientNode(): string | undefined {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major > 22 || (major === 22 && minor >= 22)) return process.execPath;
  return haveCommand(CACHED_NODE) ? CACHED_NODE : undefined;
}

const NODE = clientNode();
const skip =
  skipUnless(NODE !== undefined, "Node >= 22.22 for @platformatic/kafka (.cache/node/24)") ??
  skipUnless(existsSync(CLIENT_PACKAGE), "@platformatic/kafka (a devDependency: npm ci)");

const PROPS = {
  "num.partitions": 2,
  "group.initial.rebalance.delay.ms": 0,
  "group.min.session.timeout.ms": 1000,
  "group.consumer.heartbeat.interval.ms": 500,
  "offsets.topic.num.partitions": 3,
};
const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
const PARTITIONS = 2;
const PER_PARTITION = 12;
const CHUNK = 5;

interface Rec {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string;
  headers: [string, string][];
  timestamp: number;
}

/** Record i of partition p of a `produce` run, as the script builds it (`recordOf`). */
function expectedRecord(tag: string, p: number, i: number, offset = i): Rec {
  return {
    topic: tag,
    partition: p,
    offset,
    key: i === 0 ? null : `${tag}-k${p}-${i}`,
    value: `${tag} ${p}/${i} \u00e9\u20ac ${"x".repeat(i * 29)}`,
    headers: [
      ["tag", tag],
      ["seq", String(i)],
    ],
    timestamp: 1_700_000_000_000 + p * 1000 + i,
  };
}

const byPosition = (a: Rec, b: Rec): number =>
  a.topic === b.topic
    ? a.partition === b.partition
      ? a.offset - b.offset
      : a.partition - b.partition
    : a.topic < b.topic
      ? -1
      : 1;

describe("@platformatic/kafka", { skip, timeout: 90_000 }, () => {
  let broker: BrokerProcess;
  let firstDataDir = "";
  before(async () => {
    broker = await startBroker({ properties: PROPS });
    firstDataDir = broker.dataDir;
  });
  after(async () => {
    await broker?.stop();
    await broker?.cleanup();
    if (firstDataDir !== "") await rm(firstDataDir, { recursive: true, force: true });
  });

  async function plt<T>(command: string, args: object): Promise<T> {
    const r = await withBrokerLog(broker, () =>
      runOk(NODE!, [SCRIPT, command, broker.bootstrap, JSON.stringify(args)], { timeoutMs: 35_000 }),
    );
    return JSON.parse(r.stdout) as T;
  }

  test("admin: topics, metadata, configs, partitions", { timeout: 30_000 }, async () => {
    const out = await plt<Record<string, unknown>>("admin", { topic: "plt-admin-a", other: "plt-admin-b" });
    const created = (name: string) => ({
      name,
      partitions: 3,
      replicas: 1,
      retention: "3600000",
      maxMessage: "500000",
      idLength: 36,
    });
    const partition = { leader: 1, replicas: [1], isr: [1] };
    const brokers = [{ id: 1, host: "127.0.0.1", port: broker.port }];
    const config = (value: string | null, source: number, readOnly = false) => ({ value, source, readOnly });
    // ConfigSource: 1 topic config, 4 static broker config (the --config file), 5 default.
    const topicConfigs = (configs: Record<string, ReturnType<typeof config>>) => ({
      resourceType: 2,
      resourceName: "plt-admin-a",
      configs,
    });
    assert.deepEqual(out, {
      created: [created("plt-admin-a"), created("plt-admin-b")],
      createAgain: { name: "AggregateError", code: "PLT_KFK_MULTIPLE", apiCodes: [36] }, // TOPIC_ALREADY_EXISTS
      listed: ["plt-admin-a", "plt-admin-b"],
      metadata: {
        brokers,
        controllerId: 1,
        topics: {
          "plt-admin-a": { partitionsCount: 3, partitions: [partition, partition, partition] },
          "plt-admin-b": { partitionsCount: 3, partitions: [partition, partition, partition] },
        },
      },
      configsCreated: topicConfigs({
        "cleanup.policy": config("delete", 5),
        "max.message.bytes": config("500000", 1),
        "retention.ms": config("3600000", 1),
        "segment.ms": config("604800000", 5),
      }),
      // AlterConfigs replaces the whole set: max.message.bytes is back to its default.
      configsAltered: topicConfigs({
        "cleanup.policy": config("delete", 5),
        "max.message.bytes": config("1048588", 5),
        "retention.ms": config("7200000", 1),
        "segment.ms": config("604800000", 5),
      }),
      configsIncremental: topicConfigs({
        "cleanup.policy": config("delete", 5),
        "max.message.bytes": config("1048588", 5),
        "retention.ms": config("604800000", 5),
        "segment.ms": config("600000", 1),
      }),
      alterInvalid: { name: "AggregateError", code: "PLT_KFK_MULTIPLE", apiCodes: [40] }, // INVALID_CONFIG
      brokerConfigs: {
        resourceType: 4,
        resourceName: "1",
        configs: { "log.retention.ms": config(null, 5), "num.partitions": config("2", 4, true) },
      },
      metadataGrown: {
        brokers,
        controllerId: 1,
        topics: {
          "plt-admin-a": { partitionsCount: 5, partitions: [partition, partition, partition, partition, partition] },
        },
      },
      listedAfterDelete: ["plt-admin-a"],
      deleteMissing: { name: "AggregateError", code: "PLT_KFK_MULTIPLE", apiCodes: [3] }, // UNKNOWN_TOPIC_OR_PARTITION
    });
  });

  test(
    "produce with every codec, idempotent and not, acks=all; read back; batches as sent",
    { timeout: 30_000 },
    async () => {
      const runs = CODECS.flatMap((compression) =>
        [false, true].map((idempotent) => ({
          topic: `plt-${compression}-${idempotent ? "idem" : "plain"}`,
          compression,
          idempotent,
        })),
      );
      const produced = await plt<
        { topic: string; producerId?: number; producerEpoch?: number; offsets: [string, number, number][] }[]
      >("produce", {
        runs,
        partitions: PARTITIONS,
        perPartition: PER_PARTITION,
        chunk: CHUNK,
      });
      const chunkStarts = Array.from({ length: Math.ceil(PER_PARTITION / CHUNK) }, (_, c) => c * CHUNK);
      assert.deepEqual(
        produced.map((r) => ({ topic: r.topic, offsets: r.offsets })),
        runs.map((r) => ({
          topic: r.topic,
          offsets: Array.from({ length: PARTITIONS }, (_, p) => chunkStarts.map((o) => [r.topic, p, o])).flat(),
        })),
      );
      // Each idempotent producer has an id of its own at epoch 0; the others have none.
      const ids = produced.filter((r) => r.producerId !== undefined).map((r) => r.producerId!);
      assert.deepEqual(
        produced.map((r) => [r.topic, r.producerId !== undefined, r.producerEpoch ?? null]),
        runs.map((r) => [r.topic, r.idempotent, r.idempotent ? 0 : null]),
      );
      assert.equal(new Set(ids).size, ids.length, `producer ids ${ids.join(", ")} are not distinct`);
      assert.ok(ids.every((id) => Number.isSafeInteger(id) && id >= 0));

      // The batches in the log files: one per send, with the codec, producer id and sequences the client sent.
      // Without idempotence the client writes producer id -1 but epoch 0 and sequence 0 (the Java client
      // writes -1 for all three); with producer id -1, Kafka and we ignore the other two.
      for (const [n, run] of runs.entries()) {
        for (let p = 0; p < PARTITIONS; p++) {
          const file = join(broker.dataDir, `${run.topic}-${p}`, "00000000000000000000.log");
          const batches = decodeRecordBatches(await readFile(file));
          assert.deepEqual(
            batches.map((b) => ({
              baseOffset: Number(b.baseOffset),
              count: b.recordCount,
              codec: b.attributes & 7,
              producerId: Number(b.producerId),
              producerEpoch: b.producerEpoch,
              baseSequence: b.baseSequence,
              baseTimestamp: Number(b.baseTimestamp),
            })),
            chunkStarts.map((o) => ({
              baseOffset: o,
              count: Math.min(CHUNK, PER_PARTITION - o),
              codec: CompressionType[run.compression],
              producerId: run.idempotent ? produced[n]!.producerId! : -1,
              producerEpoch: 0,
              baseSequence: run.idempotent ? o : 0,
              baseTimestamp: expectedRecord(run.topic, p, o).timestamp,
            })),
            `${run.topic}-${p}`,
          );
        }
      }

      const { records } = await plt<{ records: Rec[] }>("read", {
        topics: runs.map((r) => r.topic),
        expected: runs.length * PARTITIONS * PER_PARTITION,
        groupId: "plt-reader",
      });
      const expected = runs.flatMap((r) =>
        Array.from({ length: PARTITIONS }, (_, p) =>
          Array.from({ length: PER_PARTITION }, (_, i) => expectedRecord(r.topic, p, i)),
        ).flat(),
      );
      assert.deepEqual([...records].sort(byPosition), expected.sort(byPosition));
      // Within a partition, in offset order.
      for (const r of runs) {
        for (let p = 0; p < PARTITIONS; p++) {
          const offsets = records.filter((x) => x.topic === r.topic && x.partition === p).map((x) => x.offset);
          assert.deepEqual(
            offsets,
            [...offsets].sort((a, b) => a - b),
          );
        }
      }
    },
  );

  interface GroupOut {
    assignments: number[][];
    generations: number[];
    records: Rec[][];
    listed: { id: string; state: string; groupType: string; protocolType: string }[];
    committed: { topic: string; partition: number; offset: number }[];
    described?: {
      id: string;
      state: string;
      protocolType: string;
      protocol: string;
      members: {
        clientId: string;
        clientHost: string;
        topics: string[];
        assignment: { topic: string; partitions: number[] }[];
      }[];
    };
  }

  /** Record j of the `group` command's production: partition j % 4, offset floor(j / 4) + `base`. */
  const groupRecord = (topic: string, j: number, base = 0): Rec => ({
    topic,
    partition: j % 4,
    offset: base + Math.floor(j / 4),
    key: `g${j}`,
    value: `m${j}`,
    headers: [],
    timestamp: 0,
  });
  const withoutTimestamp = (r: Rec): Rec => ({ ...r, timestamp: 0 });

  /** Two members split 4 partitions evenly; each got exactly the records of its own partitions. */
  function assertSplit(out: GroupOut, topic: string, count: number): void {
    assert.equal(out.assignments.length, 2);
    assert.deepEqual(
      out.assignments.map((a) => a.length),
      [2, 2],
    );
    assert.deepEqual(out.assignments.flat().sort(), [0, 1, 2, 3]);
    const all = Array.from({ length: count }, (_, j) => groupRecord(topic, j));
    for (const [m, partitions] of out.assignments.entries()) {
      assert.deepEqual(
        out.records[m]!.map(withoutTimestamp).sort(byPosition),
        all.filter((r) => partitions.includes(r.partition)).sort(byPosition),
        `member ${m} (partitions ${partitions.join(",")})`,
      );
    }
  }

  test(
    "classic group: two members split 4 partitions and commit; a restart resumes from the commits",
    { timeout: 45_000 },
    async () => {
      const topic = "plt-group";
      const groupId = "plt-group";
      const first = await plt<GroupOut>("group", {
        topic,
        groupId,
        members: 2,
        produce: 20,
        expected: 20,
        partitions: 4,
        create: true,
      });
      assertSplit(first, topic, 20);
      assert.equal(first.generations[0], first.generations[1]);
      assert.ok(first.generations[0]! >= 1);
      const committed = (offset: number) => [0, 1, 2, 3].map((partition) => ({ topic, partition, offset }));
      assert.deepEqual(first.committed, committed(5));
      assert.deepEqual(first.listed, [
        { id: groupId, state: "Stable", groupType: "classic", protocolType: "consumer" },
      ]);
      assert.deepEqual(first.described, {
        id: groupId,
        state: "Stable",
        protocolType: "consumer",
        protocol: "roundrobin",
        members: first.assignments.map((partitions, m) => ({
          clientId: `plt-member-${m}`,
          clientHost: "/127.0.0.1",
          topics: [topic],
          assignment: [{ topic, partitions }],
        })),
      });

      // Three more records per partition, then a restart on the same data.
      const more = await plt<{ offsets: [string, number, number][] }[]>("produce", {
        runs: [{ topic, compression: "lz4", idempotent: true }],
        partitions: 4,
        perPartition: 3,
        chunk: 3,
      });
      assert.deepEqual(
        more[0]!.offsets,
        [0, 1, 2, 3].map((p) => [topic, p, 5]),
      );
      const { dataDir, port } = broker;
      assert.equal(await broker.stop(), 0);
      broker = await startBroker({ properties: PROPS, dataDir, port });

      // One member now: all four partitions, and only what came after the committed offsets.
      const resumed = await plt<GroupOut>("group", {
        topic,
        groupId,
        members: 1,
        produce: 0,
        expected: 12,
        partitions: 4,
      });
      assert.deepEqual(resumed.assignments, [[0, 1, 2, 3]]);
      const expected = [0, 1, 2, 3].flatMap((p) => [0, 1, 2].map((i) => expectedRecord(topic, p, i, 5 + i)));
      assert.deepEqual([...resumed.records[0]!].sort(byPosition), expected);
      assert.deepEqual(resumed.committed, committed(8));

      // The group once its members left, then deleted. The topics: those of the tests before this one
      // (which may have been filtered out), and the offsets topic only when internal ones are asked for.
      const admin = await plt<{ topics: string[] } & Record<string, unknown>>("group-admin", { groupId });
      assert.ok(admin.topics.includes(topic) && !admin.topics.some((t) => t.startsWith("__")), admin.topics.join(","));
      assert.deepEqual(admin, {
        described: { state: "Empty", protocolType: "consumer", protocol: "", members: 0 },
        listed: [{ id: groupId, state: "Empty", groupType: "classic", protocolType: "consumer" }],
        committed: committed(8),
        topics: admin.topics,
        topicsWithInternals: ["__consumer_offsets", ...admin.topics],
        listedAfterDelete: [],
      });
    },
  );

  test(
    "KIP-848 group (group.protocol=consumer): two members split 4 partitions and commit",
    { timeout: 30_000 },
    async () => {
      const topic = "plt-group-848";
      const groupId = "plt-group-848";
      const out = await plt<GroupOut>("group", {
        topic,
        groupId,
        members: 2,
        produce: 20,
        expected: 20,
        partitions: 4,
        create: true,
        protocol: "consumer",
      });
      assertSplit(out, topic, 20);
      assert.deepEqual(out.listed, [{ id: groupId, state: "Stable", groupType: "consumer", protocolType: "consumer" }]);
      assert.deepEqual(
        out.committed,
        [0, 1, 2, 3].map((partition) => ({ topic, partition, offset: 5 })),
      );
    },
  );
});
