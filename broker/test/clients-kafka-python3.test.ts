import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeRecordBatches } from "@tskafka/protocol";
import { startBroker, skipUnless, type BrokerProcess } from "./harness.js";
import { runOk } from "./clients/run.js";
import { CLIENTS_DIR, VENV_PYTHON, haveVenvModules } from "./clients/venv.js";

/**
 * kafka-python 3.x from PyPI, in the project's venv (Debian's 2.0 in the system interpreter is covered
 * by clients-python.test.ts): an idempotent producer with every codec it has modules for, a classic group
 * of two members that commit and resume, and its KafkaAdminClient.
 */

const skip = skipUnless(haveVenvModules("kafka"), "kafka-python 3.x in .cache/venv");
const SCRIPT = join(CLIENTS_DIR, "kafka_python3_client.py");
const PARTITIONS = 4;

/** Which codecs kafka-python can use here (snappy, lz4 and zstd need python-snappy, lz4, zstandard). */
function codecsAvailable(): Record<string, boolean> {
  if (skip !== undefined) return {};
  const r = spawnSync(VENV_PYTHON, [SCRIPT, "codecs"], { encoding: "utf8", timeout: 20_000 });
  return r.status === 0 ? (JSON.parse(r.stdout) as Record<string, boolean>) : {};
}
const have = codecsAvailable();

async function py<T>(args: string[], timeoutMs = 40_000): Promise<T> {
  const r = await runOk(VENV_PYTHON, [SCRIPT, ...args], { timeoutMs });
  return JSON.parse(r.stdout) as T;
}

interface ProduceOut {
  acked: { partition: number | null; offset: number | null; error: string | null }[];
  records?: { partition: number; offset: number; key: string; value: string; headers: [string, string][] }[];
}

interface MemberOut {
  assignment: number[];
  events: [string, number[]][];
  eventsOnClose: [string, number[]][];
  records: [number, number, string][];
  commitErrors: string[];
}

interface GroupOut {
  members: Record<string, MemberOut>;
  settled: number[][] | null;
  extra: unknown[];
  timedOut: boolean;
  committed: [number, number][];
}

/** The script's record text (kafka_python3_client.py record_value). */
const value = (codec: string, p: number, i: number): string => `${codec} value ${p}/${i} ${"xyz".repeat(i * 5)}`;

describe("kafka-python 3.x", { skip, timeout: 180_000 }, () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({
      properties: {
        "num.partitions": PARTITIONS,
        "offsets.topic.num.partitions": 3,
        "group.initial.rebalance.delay.ms": 1000,
      },
    });
  });
  after(async () => {
    await broker?.stop();
    await broker?.cleanup();
  });

  test("KafkaAdminClient: topics, configs, groups", { timeout: 60_000 }, async () => {
    const out = await py<Record<string, unknown>>(["admin", broker.bootstrap, "kadm"]);
    assert.deepEqual(out.cluster, { controller: 1, clusterIdNonEmpty: true, brokers: [[1, "127.0.0.1", broker.port]] });
    assert.deepEqual(out.topicsBefore, []);
    const cfg = (retention: string, policy: string, dynamic: boolean) => ({
      "retention.ms": [retention, dynamic ? "DYNAMIC_TOPIC_CONFIG" : "DEFAULT_CONFIG"],
      "cleanup.policy": [policy, dynamic ? "DYNAMIC_TOPIC_CONFIG" : "DEFAULT_CONFIG"],
      "segment.bytes": ["1073741824", "DEFAULT_CONFIG"],
    });
    // CreateTopics v7 answers with the topic's id, partitions, replication factor and configs.
    assert.deepEqual(out.create, {
      "kadm-a": {
        error: 0,
        partitions: 3,
        replicationFactor: 1,
        topicIdNonZero: true,
        configs: cfg("3600000", "compact", true),
      },
      "kadm-b": {
        error: 0,
        partitions: 2,
        replicationFactor: 1,
        topicIdNonZero: true,
        configs: cfg("604800000", "delete", false),
      },
    });
    assert.equal(out.createAgain, "TopicAlreadyExistsError");
    assert.deepEqual(out.createValidateOnly, [["kadm-validate", 0, 5]]);
    assert.deepEqual(out.listed, ["kadm-a", "kadm-b"], "validate_only created nothing");
    const parts = (n: number) => Array.from({ length: n }, (_, p) => [p, 1, [1], [1]]);
    assert.deepEqual(out.describeTopics, {
      "kadm-a": { error: 0, internal: false, partitions: parts(3) },
      "kadm-b": { error: 0, internal: false, partitions: parts(4) },
    });

    const dyn = (v: string) => ({ value: v, source: "DYNAMIC_TOPIC_CONFIG", readOnly: false });
    const dflt = (v: string) => ({ value: v, source: "DEFAULT_CONFIG", readOnly: false });
    assert.deepEqual(out.configsBefore, {
      "retention.ms": dyn("3600000"),
      "cleanup.policy": dyn("compact"),
      "segment.bytes": dflt("1073741824"),
    });
    // IncrementalAlterConfigs: SET, DELETE (back to the default), SET.
    assert.deepEqual(out.alter, { "kadm-a": "OK" });
    assert.deepEqual(out.configsAfter, {
      "retention.ms": dyn("7200000"),
      "cleanup.policy": dflt("delete"),
      "segment.bytes": dyn("1048576"),
    });
    assert.deepEqual(out.alterBad, {
      "kadm-a":
        "[Error 40] InvalidConfigurationError: Invalid value soon for configuration retention.ms: Not a number of type LONG",
    });
    assert.deepEqual(out.configsAfterBad, { "retention.ms": dyn("7200000") });

    assert.deepEqual(
      out.groupAcked,
      [0, 1, 2, 3].flatMap((p) => [
        [p, 0],
        [p, 1],
      ]),
    );
    assert.deepEqual(out.groupSeen, ["g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7"]);
    assert.deepEqual(out.groupsWhileActive, [["kadm-group", "consumer", "Stable", "classic"]]);
    assert.deepEqual(out.describeWhileActive, {
      state: "Stable",
      protocolType: "consumer",
      protocol: "range",
      error: null,
      members: [
        {
          clientId: "tskafka-member",
          host: "/127.0.0.1",
          memberIdNonEmpty: true,
          topics: ["kadm-b"],
          assignment: [0, 1, 2, 3].map((p) => ["kadm-b", p]),
        },
      ],
    });
    assert.deepEqual(
      out.groupOffsets,
      [0, 1, 2, 3].map((p) => ["kadm-b", p, 2]),
    );
    assert.deepEqual(out.deleteActiveGroup, { "kadm-group": "NonEmptyGroupError" });
    assert.deepEqual(out.describeAfterClose, {
      state: "Empty",
      protocolType: "consumer",
      protocol: "",
      error: null,
      members: [],
    });
    assert.deepEqual(out.deleteGroup, { "kadm-group": "OK" });
    assert.deepEqual(out.deleteUnknownGroup, { "kadm-nogroup": "GroupIdNotFoundError" });
    assert.deepEqual(out.groupsAfterDelete, []);

    assert.deepEqual(out.delete, [
      ["kadm-a", 0],
      ["kadm-b", 0],
    ]);
    assert.equal(out.deleteUnknown, "UnknownTopicOrPartitionError");
    assert.deepEqual(out.topicsAfterDelete, []);
  });

  const codecIds = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
  const PER_PARTITION = 30;
  for (const codec of Object.keys(codecIds) as (keyof typeof codecIds)[]) {
    const codecSkip =
      codec === "none" || skip !== undefined
        ? undefined
        : skipUnless(have[codec] === true, `kafka-python's ${codec} module in .cache/venv`);
    test(`idempotent producer, acks=all, ${codec}`, { skip: codecSkip, timeout: 40_000 }, async () => {
      const topic = `kp3-${codec}`;
      const out = await py<ProduceOut>([
        "produce",
        broker.bootstrap,
        topic,
        codec,
        String(PARTITIONS),
        String(PER_PARTITION),
      ]);
      // Acks in send order: record i of partition p at offset i.
      assert.deepEqual(
        out.acked,
        Array.from({ length: PER_PARTITION }, (_, i) =>
          Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, offset: i, error: null })),
        ).flat(),
      );
      const expected = Array.from({ length: PARTITIONS }, (_, p) =>
        Array.from({ length: PER_PARTITION }, (_, i) => ({
          partition: p,
          offset: i,
          key: `k${p}-${i}`,
          value: value(codec, p, i),
          headers: [
            ["codec", codec],
            ["seq", String(i)],
          ],
        })),
      ).flat();
      assert.deepEqual(out.records, expected);

      const producerIds = new Set<bigint>();
      for (let p = 0; p < PARTITIONS; p++) {
        const batches = decodeRecordBatches(
          await readFile(join(broker.dataDir, `${topic}-${p}`, "00000000000000000000.log")),
        );
        assert.ok(batches.length > 1, `batch_size=1024 gives several batches (${batches.length})`);
        let next = 0;
        // kafka-python sends a batch uncompressed when its codec would not make it smaller (a first batch
        // of one short record, say); the later records are long runs and always shrink.
        const codecs = batches.map((b) => b.attributes & 0x07);
        assert.ok(
          codecs.every((c) => c === codecIds[codec] || c === 0),
          `codecs of the batches: ${codecs.join(",")}`,
        );
        assert.equal(codecs.at(-1), codecIds[codec], `the last batch is ${codec}: ${codecs.join(",")}`);
        for (const b of batches) {
          assert.equal(b.baseOffset, BigInt(next));
          assert.equal(b.baseSequence, next, "idempotent sequence = offset for a fresh producer");
          assert.equal(b.producerEpoch, 0);
          assert.ok(b.producerId >= 0n, "an idempotent batch has a producer id");
          producerIds.add(b.producerId);
          next += b.recordCount;
        }
        assert.equal(next, PER_PARTITION);
      }
      assert.equal(producerIds.size, 1);
    });
  }

  test("classic group of two: split, commit, restart resumes from the commits", { timeout: 90_000 }, async () => {
    const topic = "kp3-group";
    const total = 100;
    const produced = await py<ProduceOut>([
      "produce",
      broker.bootstrap,
      topic,
      "none",
      String(PARTITIONS),
      String(total / PARTITIONS),
      "--no-readback",
    ]);
    assert.deepEqual(
      produced.acked.filter((a) => a.error !== null),
      [],
    );
    const firstCount = 37;
    const seen = new Map<string, string>();
    const nextOffset = new Map<number, number>();
    for (const [phase, count, extraWait] of [
      [1, firstCount, "0"],
      [2, total - firstCount, "1.5"],
    ] as const) {
      const out = await py<GroupOut>(
        ["group", broker.bootstrap, topic, "kp3-classic", String(count), "--extra-wait", extraWait],
        60_000,
      );
      assert.notEqual(out.settled, null, `phase ${phase}: the two members came to own two partitions each`);
      assert.equal(out.timedOut, false, `phase ${phase} got its ${count} records`);
      assert.deepEqual(out.extra, [], `phase ${phase}: nothing served beyond the records left`);
      const names = Object.keys(out.members).sort();
      assert.deepEqual(names, ["member-0", "member-1"]);
      const finals = names.map((n) => out.members[n]!.assignment);
      assert.deepEqual(finals, out.settled, `phase ${phase}: no partition moved after the group settled`);
      // Both joined within group.initial.rebalance.delay.ms: one generation, range assignment.
      assert.deepEqual(
        [...finals].sort((a, b) => a[0]! - b[0]!),
        [
          [0, 1],
          [2, 3],
        ],
      );
      for (const n of names) {
        const m = out.members[n]!;
        assert.deepEqual(
          m.commitErrors,
          [],
          `phase ${phase}: ${n} commit errors; its events ${JSON.stringify([m.events, m.eventsOnClose])}`,
        );
        // kafka-python calls on_partitions_revoked with nothing before its first assignment. It sometimes
        // joins once more right after a completed join (kafka-python 3.0.12 drops a join that finished between
        // two polls and sends JoinGroup again; Apache Kafka answers the same); every generation must then give
        // the same range assignment.
        assert.deepEqual(m.events[0], ["revoke", []]);
        assert.deepEqual(m.events.at(-1), ["assign", m.assignment]);
        const eager = (e: [string, number[]], i: number) =>
          i === 0 || JSON.stringify(e[1]) === JSON.stringify(m.assignment);
        assert.ok(
          m.events.every(eager),
          `${n}: every rebalance gave ${JSON.stringify(m.assignment)}: ${JSON.stringify(m.events)}`,
        );
        assert.deepEqual(m.eventsOnClose, [["revoke", m.assignment]]);
        assert.deepEqual(
          m.records.filter(([p]) => !m.assignment.includes(p)),
          [],
          `${n} read only its own partitions`,
        );
      }
      const read = names.flatMap((n) => out.members[n]!.records.map(([p, offset, v]) => ({ n, p, offset, v })));
      read.sort((a, b) => a.p - b.p || a.offset - b.offset);
      for (const { n, p, offset, v } of read) {
        const id = `${p}/${offset}`;
        assert.equal(seen.get(id), undefined, `${id} read twice (phase ${phase} by ${n}, before in ${seen.get(id)})`);
        seen.set(id, `phase ${phase} by ${n}`);
        assert.equal(v, value("none", p, offset));
        assert.equal(offset, nextOffset.get(p) ?? 0, `partition ${p} continues at ${nextOffset.get(p) ?? 0}`);
        nextOffset.set(p, offset + 1);
      }
      assert.equal(seen.size, phase === 1 ? firstCount : total);
      // kafka-python reports no commit as None (-1 here).
      assert.deepEqual(
        out.committed,
        [0, 1, 2, 3].map((p) => [p, nextOffset.get(p) ?? -1]),
        `phase ${phase} committed offsets`,
      );
    }
    assert.deepEqual(
      [...nextOffset.entries()].sort(),
      [0, 1, 2, 3].map((p) => [p, total / PARTITIONS]),
    );
  });
});
