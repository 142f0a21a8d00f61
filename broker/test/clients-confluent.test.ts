import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ApiKey, createApiVersionsRequest, decodeRecordBatches } from "@tskafka/protocol";
import { startBroker, skipUnless, type BrokerProcess } from "./harness.js";
import { runOk } from "./clients/run.js";
import { RawClient } from "./clients/raw-client.js";
import { CLIENTS_DIR, VENV_PYTHON, haveVenvModules } from "./clients/venv.js";

/**
 * confluent-kafka 2.16 from PyPI (librdkafka 2.16 inside), in the project's venv, against the broker:
 * its AdminClient (list_topics sends Metadata v12 with three trailing bytes), an idempotent producer
 * with every codec librdkafka has, and groups of two members, classic and KIP-848 (group.protocol=consumer),
 * that split a topic, commit and resume.
 */

const skip = skipUnless(haveVenvModules("confluent_kafka"), "confluent-kafka in .cache/venv");
const SCRIPT = join(CLIENTS_DIR, "confluent_client.py");
const PARTITIONS = 4;
/** librdkafka's OFFSET_INVALID: no committed offset. */
const NO_OFFSET = -1001;

async function py<T>(args: string[], timeoutMs = 40_000): Promise<T> {
  const r = await runOk(VENV_PYTHON, [SCRIPT, ...args], { timeoutMs });
  return JSON.parse(r.stdout) as T;
}

interface ProduceOut {
  unflushed: number;
  reports: { error: string | null; partition: number; offset: number; key: string }[];
  records?: { partition: number; offset: number; key: string; value: string; headers: [string, string][] }[];
  consumeErrors?: string[];
}

interface MemberOut {
  assignment: number[];
  events: [string, number[] | string][];
  eventsOnClose: [string, number[] | string][];
  records: [number, number, string][];
  commitErrors: string[];
}

interface GroupOut {
  members: Record<string, MemberOut>;
  /** Each member's partitions once the group was balanced, before anything was consumed. */
  settled: number[][] | null;
  extra: unknown[];
  timedOut: boolean;
  committed: [number, number][];
  /** describe_consumer_groups while both members were in the group. */
  describe: unknown;
}

/** The script's record text (confluent_client.py record_value). */
const value = (codec: string, p: number, i: number): string => `${codec} value ${p}/${i} ${"abc".repeat(i * 5)}`;

describe("confluent-kafka (librdkafka 2.16)", { skip, timeout: 180_000 }, () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({
      properties: {
        "num.partitions": PARTITIONS,
        "offsets.topic.num.partitions": 3,
        "group.initial.rebalance.delay.ms": 1000,
        "group.consumer.heartbeat.interval.ms": 500,
      },
    });
  });
  after(async () => {
    await broker?.stop();
    await broker?.cleanup();
  });

  test("AdminClient: topics, configs, groups", { timeout: 60_000 }, async () => {
    const out = await py<Record<string, unknown>>(["admin", broker.bootstrap, "adm"]);
    // The reported bug: list_topics() is Metadata v12 for all topics with 3 trailing bytes.
    assert.deepEqual(out.metadata, {
      brokers: { "1": broker.bootstrap },
      controller: 1,
      clusterIdNonEmpty: true,
      topics: [],
    });
    assert.deepEqual(out.create, { "adm-a": null, "adm-b": null });
    assert.deepEqual(out.createAgain, { "adm-a": "TOPIC_ALREADY_EXISTS" });
    assert.deepEqual(out.createValidateOnly, { "adm-validate": null });
    assert.deepEqual(out.createBadConfig, { "adm-badconfig": "INVALID_CONFIG" });
    assert.deepEqual(out.createPartitions, { "adm-b": null });
    // Neither the validate-only topic nor the refused one exists.
    assert.deepEqual(out.listed, { "adm-a": [0, 1, 2], "adm-b": [0, 1, 2, 3] });
    const parts = (n: number) => Array.from({ length: n }, (_, p) => [p, 1, [1], [1]]);
    assert.deepEqual(out.describeTopics, {
      "adm-a": { name: "adm-a", internal: false, topicIdNonZero: true, partitions: parts(3) },
      "adm-b": { name: "adm-b", internal: false, topicIdNonZero: true, partitions: parts(4) },
    });
    assert.equal(out.describeUnknownTopic, "UNKNOWN_TOPIC_OR_PART");

    const dyn = (v: string) => ({ value: v, source: "DYNAMIC_TOPIC_CONFIG", default: false, readOnly: false });
    const dflt = (v: string) => ({ value: v, source: "DEFAULT_CONFIG", default: true, readOnly: false });
    assert.deepEqual(out.configsBefore, {
      "retention.ms": dyn("3600000"),
      "cleanup.policy": dyn("compact"),
      "max.message.bytes": dyn("200000"),
      "segment.bytes": dflt("1073741824"),
    });
    assert.equal(out.alter, null);
    assert.deepEqual(out.configsAfter, {
      "retention.ms": dyn("7200000"),
      "cleanup.policy": dflt("delete"),
      "max.message.bytes": dyn("200000"),
      "segment.bytes": dyn("1048576"),
    });
    assert.equal(out.alterBad, "INVALID_CONFIG");
    assert.deepEqual(out.configsAfterBad, { "retention.ms": dyn("7200000") }, "a refused alter changes nothing");

    // One classic member consumed the 8 records (2 per partition of adm-b) and committed.
    assert.equal(out.groupProduceUnflushed, 0);
    assert.deepEqual(out.groupProduceErrors, []);
    assert.deepEqual(out.groupSeen, ["g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7"]);
    assert.deepEqual(out.groupCommitted, [
      [0, 2],
      [1, 2],
      [2, 2],
      [3, 2],
    ]);
    assert.deepEqual(out.groupsWhileActive, { valid: [["adm-group", false, "STABLE", "CLASSIC"]], errors: [] });
    const member = { clientId: "tskafka-member", memberIdNonEmpty: true, host: "/127.0.0.1", instanceId: null };
    assert.deepEqual(out.describeWhileActive, {
      state: "STABLE",
      type: "CLASSIC",
      simple: false,
      assignor: "range",
      coordinator: 1,
      members: [{ ...member, assignment: [0, 1, 2, 3].map((p) => ["adm-b", p]) }],
    });
    assert.deepEqual(
      out.groupOffsets,
      [0, 1, 2, 3].map((p) => ["adm-b", p, 2]),
    );
    assert.equal(out.deleteActiveGroup, "NON_EMPTY_GROUP");
    assert.deepEqual(out.describeAfterClose, {
      state: "EMPTY",
      type: "CLASSIC",
      simple: false,
      assignor: "",
      coordinator: 1,
      members: [],
    });
    assert.equal(out.deleteGroup, null);
    assert.deepEqual(out.groupsAfterDelete, { valid: [], errors: [] });

    assert.deepEqual(out.delete, { "adm-a": null, "adm-b": null });
    assert.deepEqual(out.deleteUnknown, { "adm-missing": "UNKNOWN_TOPIC_OR_PART" });
    assert.deepEqual(out.topicsAfterDelete, ["__consumer_offsets"]);
  });

  const codecIds = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
  const PER_PARTITION = 30;
  for (const codec of Object.keys(codecIds) as (keyof typeof codecIds)[]) {
    test(`idempotent producer, acks=all, ${codec}`, { timeout: 40_000 }, async () => {
      const topic = `cfk-${codec}`;
      const out = await py<ProduceOut>([
        "produce",
        broker.bootstrap,
        topic,
        codec,
        String(PARTITIONS),
        String(PER_PARTITION),
      ]);
      assert.equal(out.unflushed, 0);
      assert.equal(out.consumeErrors, undefined);
      const expected = Array.from({ length: PARTITIONS }, (_, p) =>
        Array.from({ length: PER_PARTITION }, (_, i) => ({
          partition: p,
          offset: i,
          key: `k${p}-${i}`,
          value: value(codec, p, i),
          headers: [
            ["codec", codec],
            ["seq", String(i)],
            ["empty", ""],
          ],
        })),
      );
      // Delivery reports: every record acknowledged, in send order per partition, at the offset it has.
      for (let p = 0; p < PARTITIONS; p++) {
        assert.deepEqual(
          out.reports.filter((r) => r.partition === p),
          expected[p]!.map((e) => ({ error: null, partition: p, offset: e.offset, key: e.key })),
          `delivery reports of partition ${p}`,
        );
        assert.deepEqual(
          out.records!.filter((r) => r.partition === p),
          expected[p],
          `records of partition ${p}`,
        );
      }
      assert.equal(out.reports.length, PARTITIONS * PER_PARTITION);
      assert.equal(out.records!.length, PARTITIONS * PER_PARTITION);

      // What the broker stored: the producer's batches with its codec, producer id and sequences.
      const producerIds = new Set<bigint>();
      for (let p = 0; p < PARTITIONS; p++) {
        const batches = decodeRecordBatches(
          await readFile(join(broker.dataDir, `${topic}-${p}`, "00000000000000000000.log")),
        );
        assert.ok(
          batches.length >= Math.ceil(PER_PARTITION / 7),
          `batch.num.messages=7 gives several batches (${batches.length})`,
        );
        let next = 0;
        for (const b of batches) {
          assert.equal(b.attributes & 0x07, codecIds[codec], `codec of the batch at ${b.baseOffset}`);
          assert.equal(b.baseOffset, BigInt(next));
          assert.equal(b.baseSequence, next, "idempotent sequence = offset for a fresh producer");
          assert.equal(b.producerEpoch, 0);
          assert.ok(b.producerId >= 0n, "an idempotent batch has a producer id");
          producerIds.add(b.producerId);
          next += b.recordCount;
        }
        assert.equal(next, PER_PARTITION);
      }
      assert.equal(producerIds.size, 1, "one producer id for the producer's batches in every partition");
    });
  }

  /**
   * Two runs of a group of two members (one process each run): the first reads 37 of the 100 records, the
   * second the rest. The members wait for a balanced assignment before reading, commit what they processed
   * when partitions are taken from them and at the end. Checked: each member reads only its partitions, no
   * record twice, none missing, the second run resumes at the first's commits, committed offsets exact.
   */
  async function groupRun(topic: string, group: string, protocol: "classic" | "consumer", total: number) {
    const firstCount = 37;
    const all = new Set<string>();
    for (let p = 0; p < PARTITIONS; p++) for (let i = 0; i < total / PARTITIONS; i++) all.add(`${p}/${i}`);
    const seen = new Map<string, string>();
    const nextOffset = new Map<number, number>();
    const phases: GroupOut[] = [];
    for (const [phase, count, extraWait] of [
      [1, firstCount, "0"],
      [2, total - firstCount, "1.5"],
    ] as const) {
      const args = [
        "group",
        broker.bootstrap,
        topic,
        group,
        String(count),
        "--protocol",
        protocol,
        "--extra-wait",
        extraWait,
        "--settle",
      ];
      const out = await py<GroupOut>(args, 60_000);
      phases.push(out);
      assert.notEqual(out.settled, null, `phase ${phase}: the two members came to own two partitions each`);
      assert.equal(out.timedOut, false, `phase ${phase} got its ${count} records`);
      assert.deepEqual(out.extra, [], `phase ${phase}: nothing served beyond the records left`);
      const names = Object.keys(out.members).sort();
      assert.deepEqual(names, ["member-0", "member-1"]);
      const finals = names.map((n) => out.members[n]!.assignment);
      assert.deepEqual(finals, out.settled, `phase ${phase}: no partition moved after the group settled`);
      assert.deepEqual(
        finals.map((f) => f.length),
        [2, 2],
      );
      assert.deepEqual(
        finals.flat().sort(),
        [0, 1, 2, 3],
        `phase ${phase}: the members split the partitions: ${JSON.stringify(finals)}`,
      );
      const member = (n: string) => ({ clientId: n, memberIdNonEmpty: true, host: "/127.0.0.1", instanceId: null });
      assert.deepEqual(out.describe, {
        state: "STABLE",
        type: protocol === "consumer" ? "CONSUMER" : "CLASSIC",
        simple: false,
        assignor: protocol === "consumer" ? "uniform" : "range",
        coordinator: 1,
        members: names.map((n) => ({ ...member(n), assignment: out.members[n]!.assignment.map((p) => [topic, p]) })),
      });
      for (const n of names) {
        const m = out.members[n]!;
        assert.deepEqual(
          m.commitErrors,
          [],
          `phase ${phase}: ${n} commit errors; its events ${JSON.stringify([m.events, m.eventsOnClose])}`,
        );
        const foreign = m.records.filter(([p]) => !m.assignment.includes(p));
        assert.deepEqual(foreign, [], `${n} read only its own partitions ${JSON.stringify(m.assignment)}`);
      }
      // Every record read, in partition and offset order.
      const read = names.flatMap((n) => out.members[n]!.records.map(([p, offset, v]) => ({ n, p, offset, v })));
      read.sort((a, b) => a.p - b.p || a.offset - b.offset);
      for (const { n, p, offset, v } of read) {
        const id = `${p}/${offset}`;
        assert.ok(all.has(id), `${n} read ${id}, which was never produced`);
        assert.equal(seen.get(id), undefined, `${id} read twice (phase ${phase} by ${n}, before in ${seen.get(id)})`);
        seen.set(id, `phase ${phase} by ${n}`);
        assert.equal(v, value("none", p, offset));
        // Each partition resumes where the last reader of it (this phase or the one before) stopped.
        assert.equal(offset, nextOffset.get(p) ?? 0, `partition ${p} continues at ${nextOffset.get(p) ?? 0}`);
        nextOffset.set(p, offset + 1);
      }
      assert.equal(seen.size, phase === 1 ? firstCount : total);
      // The group's committed offsets are exactly what was read.
      assert.deepEqual(
        out.committed,
        [0, 1, 2, 3].map((p) => [p, nextOffset.get(p) ?? NO_OFFSET]),
        `phase ${phase} committed offsets`,
      );
    }
    return phases;
  }

  async function fillGroupTopic(topic: string, perPartition: number): Promise<void> {
    const out = await py<ProduceOut>([
      "produce",
      broker.bootstrap,
      topic,
      "none",
      String(PARTITIONS),
      String(perPartition),
      "--no-readback",
    ]);
    assert.equal(out.unflushed, 0);
    assert.deepEqual(
      out.reports.filter((r) => r.error !== null),
      [],
    );
  }

  test("classic group of two: split, commit, restart resumes from the commits", { timeout: 90_000 }, async () => {
    await fillGroupTopic("cfk-group", 25);
    const phases = await groupRun("cfk-group", "cfk-classic", "classic", 100);
    for (const out of phases) {
      // Both members joined within group.initial.rebalance.delay.ms: one generation, range assignment.
      const finals = Object.values(out.members).map((m) => m.assignment);
      assert.deepEqual(
        [...finals].sort((a, b) => a[0]! - b[0]!),
        [
          [0, 1],
          [2, 3],
        ],
      );
      for (const m of Object.values(out.members)) {
        assert.deepEqual(m.events, [["assign", m.assignment]]);
        assert.deepEqual(m.eventsOnClose, [["revoke", m.assignment]]);
      }
    }
  });

  test(
    "KIP-848 group (group.protocol=consumer): split, commit, restart resumes from the commits",
    { timeout: 90_000 },
    async () => {
      // librdkafka >= 2.10 speaks ConsumerGroupHeartbeat v1 only (client-chosen member ids, KIP-1082); with v0
      // alone it marks the coordinator dead ("ConsumerGroupHeartbeatRequest not supported by broker").
      const client = await RawClient.connect(broker.port);
      try {
        const res = await client.request(
          ApiKey.ApiVersions,
          3,
          createApiVersionsRequest({ clientSoftwareName: "raw-test", clientSoftwareVersion: "0" }),
        );
        const maxVersion = res.apiKeys.find((k) => k.apiKey === ApiKey.ConsumerGroupHeartbeat)?.maxVersion ?? -1;
        assert.ok(maxVersion >= 1, `ConsumerGroupHeartbeat up to v${maxVersion}; librdkafka 2.16 needs v1`);
      } finally {
        client.close();
      }
      await fillGroupTopic("cfk-group848", 25);
      await groupRun("cfk-group848", "cfk-consumer", "consumer", 100);
    },
  );
});
