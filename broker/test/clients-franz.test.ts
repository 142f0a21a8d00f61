import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CompressionType, readBatchHeader } from "@tskafka/protocol";
import { REPO_ROOT, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { runOk } from "./clients/run.js";

/**
 * franz-go (the Go client, through our small program in scripts/clients/franz, built into
 * .cache/go/bin/franz) against the broker: kadm's topic, config and group administration; every
 * codec with keys, headers and offsets read back, checked down to the batches on disk; a group of two
 * members splitting a topic, and its committed offsets resuming after the group and the broker
 * restart, with the classic protocol and, where the broker offers ConsumerGroupHeartbeat v1 (which
 * franz-go requires), the KIP-848 consumer protocol.
 */

const FRANZ = join(REPO_ROOT, ".cache", "go", "bin", "franz");
const skip = skipUnless(existsSync(FRANZ), "the franz-go test client (.cache/go/bin/franz)");

// Properties of every broker here: groups start at once; the KIP-848 heartbeat is fast.
const PROPERTIES = {
  "group.initial.rebalance.delay.ms": 0,
  "offsets.topic.num.partitions": 3,
  "group.consumer.heartbeat.interval.ms": 500,
};
const ZERO_ID = "AAAAAAAAAAAAAAAAAAAAAA==";

/** One JSON line of the franz program; each check reads the fields it names. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Line = Record<string, any>;

function parseLines(out: string): Line[] {
  return out
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line);
}

/** Runs the franz program to completion; its JSON lines. */
async function franz(broker: BrokerProcess, args: string[], input?: string): Promise<Line[]> {
  const [command, ...rest] = args;
  const r = await runOk(FRANZ, [command!, ...rest, "--brokers", broker.bootstrap, "--deadline", "25s"], {
    input: input ?? "",
    timeoutMs: 35_000,
  });
  return parseLines(r.stdout);
}

async function admin(broker: BrokerProcess, op: string, ...args: string[]): Promise<Line[]> {
  const lines = await franz(broker, ["admin", op, ...args]);
  for (const l of lines) assert.equal(l.op, op, JSON.stringify(l));
  return lines;
}

async function only(broker: BrokerProcess, op: string, ...args: string[]): Promise<Line> {
  const lines = await admin(broker, op, ...args);
  assert.equal(lines.length, 1, `${op}: ${JSON.stringify(lines)}`);
  return lines[0]!;
}

interface InRecord {
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
  partition: number;
}

/** Produces records (each names its partition) and returns the acknowledgements, checked for errors. */
async function produce(broker: BrokerProcess, topic: string, codec: string, records: InRecord[]): Promise<Line[]> {
  const lines = await franz(
    broker,
    ["produce", "--topic", topic, "--codec", codec],
    records.map((r) => JSON.stringify(r)).join("\n"),
  );
  const acks = lines.filter((l) => l.done === undefined);
  assert.deepEqual(lines.at(-1), { done: true, produced: records.length, failed: 0, codec });
  assert.equal(acks.length, records.length);
  acks.forEach((a, i) => {
    assert.equal(a.i, i);
    assert.equal(a.error, undefined, JSON.stringify(a));
    assert.equal(a.partition, records[i]!.partition);
    assert.equal(a.key, records[i]!.key);
  });
  return acks;
}

/** Records numbered from..to-1 round-robin over `partitions`; keys and values carry the number. */
function numbered(tag: string, from: number, to: number, partitions: number): InRecord[] {
  return Array.from({ length: to - from }, (_, j) => {
    const i = from + j;
    return {
      key: `${tag}-k${i}`,
      value: `${tag}-v${i}`,
      headers: [{ key: "n", value: String(i) }],
      partition: i % partitions,
    };
  });
}

/** Committed offsets of a group, as fetch-offsets reports them. */
async function committed(broker: BrokerProcess, group: string): Promise<Record<string, Record<string, number>>> {
  const l = await only(broker, "fetch-offsets", "--group", group);
  assert.equal(l.error, null);
  assert.deepEqual(l.partitionErrors, []);
  return l.offsets;
}

/** Retries an async check until it passes (the broker's view of a group settles a moment after the members'). */
async function eventually(what: string, check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** The batches stored for one partition, read from its segment files. */
async function storedBatches(broker: BrokerProcess, topic: string, partition: number) {
  const dir = join(broker.dataDir, `${topic}-${partition}`);
  const logs = (await readdir(dir)).filter((f) => f.endsWith(".log")).sort();
  const out = [];
  for (const f of logs) {
    const buf = await readFile(join(dir, f));
    for (let off = 0; off + 61 <= buf.length;) {
      const h = readBatchHeader(buf, off);
      out.push(h);
      off += h.batchLength + 12;
    }
  }
  return out;
}

/** A consumer group member running until its stdin is closed. */
class Member {
  readonly proc: ChildProcess;
  readonly lines: Line[] = [];
  readonly exited: Promise<number | null>;
  private partial = "";
  private stderr = "";

  constructor(
    broker: BrokerProcess,
    readonly name: string,
    args: string[],
  ) {
    this.proc = spawn(
      FRANZ,
      ["consume", "--brokers", broker.bootstrap, "--deadline", "45s", "--client-id", name, "--stop-on-eof", ...args],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    this.proc.stdout!.on("data", (d: Buffer) => {
      const text = this.partial + d.toString();
      const parts = text.split("\n");
      this.partial = parts.pop()!;
      for (const p of parts) if (p.trim() !== "") this.lines.push(JSON.parse(p) as Line);
    });
    this.proc.stderr!.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.exited = new Promise((res) => this.proc.once("exit", (code) => res(code)));
  }

  /** Partitions of the topic it holds now, by its own account. */
  current(topic: string): number[] {
    const last = this.lines.filter((l) => ["assigned", "revoked", "lost"].includes(l.event)).at(-1);
    return last?.current[topic] ?? [];
  }

  records(): Line[] {
    return this.lines.filter((l) => l.event === "record");
  }

  /** Ends it (stdin closed: it commits and leaves); its "done" line. */
  async stop(): Promise<Line> {
    this.proc.stdin!.end();
    const code = await this.exited;
    assert.equal(code, 0, `${this.name} exited ${code}: ${this.stderr}`);
    // franz-go may still report a revocation from its leave while it closes, after our "done" line.
    const done = [...this.lines].reverse().find((l) => l.event === "done");
    assert.ok(done !== undefined, `${this.name} printed no "done" line: ${JSON.stringify(this.lines.at(-1))}`);
    const after = this.lines.slice(this.lines.indexOf(done) + 1);
    assert.ok(
      after.every((l) => l.event === "revoked" || l.event === "lost"),
      `after "done": ${JSON.stringify(after)}`,
    );
    return done;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

describe("franz-go", { skip, timeout: 170_000 }, () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({ properties: PROPERTIES });
  });
  after(async () => {
    await broker?.stop();
    await broker?.cleanup();
  });

  test("kadm: create, list, describe and alter configs, groups, delete", { timeout: 60_000 }, async () => {
    // Create: two topics in one request, one with configs.
    const created = await admin(
      broker,
      "create",
      "--topic",
      "fa-1",
      "--topic",
      "fa-2",
      "--partitions",
      "3",
      "--config",
      "retention.ms=3600000",
      "--config",
      "cleanup.policy=compact",
    );
    assert.deepEqual(
      created.map((c) => [
        c.topic,
        c.error,
        c.partitions,
        c.replicationFactor,
        c.configs["retention.ms"],
        c.configs["cleanup.policy"],
      ]),
      [
        ["fa-1", null, 3, 1, "3600000", "compact"],
        ["fa-2", null, 3, 1, "3600000", "compact"],
      ],
    );
    const ids = created.map((c) => c.id as string);
    assert.ok(ids.every((id) => id !== ZERO_ID) && ids[0] !== ids[1], `topic ids ${ids}`);
    const single = await only(broker, "create", "--topic", "fa-3", "--partitions", "1");
    assert.equal(single.error, null);
    assert.equal(single.configs["cleanup.policy"], "delete");

    // Create errors, with Kafka's codes.
    for (const [args, error] of [
      [["--topic", "fa-1", "--partitions", "2"], "TOPIC_ALREADY_EXISTS"],
      [["--topic", "fa-bad", "--partitions", "1", "--config", "no.such.config=1"], "INVALID_CONFIG"],
      [["--topic", "fa-bad", "--partitions", "1", "--config", "retention.ms=soon"], "INVALID_CONFIG"],
      [["--topic", "fa-bad", "--partitions", "0"], "INVALID_PARTITIONS"],
      [["--topic", "fa-bad", "--partitions", "1", "--replication-factor", "3"], "INVALID_REPLICATION_FACTOR"],
    ] as const) {
      const r = await only(broker, "create", ...args);
      assert.equal(r.error, error, JSON.stringify(r));
    }

    // List: every partition led by this node (id 1), ids as created; the failed ones absent.
    const listed = await admin(broker, "list");
    assert.deepEqual(
      listed.map((t) => t.topic),
      ["fa-1", "fa-2", "fa-3"],
    );
    for (const t of listed) {
      assert.equal(t.error, null);
      assert.equal(t.internal, false);
      assert.equal(t.id, t.topic === "fa-3" ? single.id : ids[["fa-1", "fa-2"].indexOf(t.topic)]);
      assert.deepEqual(
        t.partitions,
        Array.from({ length: t.topic === "fa-3" ? 1 : 3 }, (_, p) => ({
          partition: p,
          leader: 1,
          leaderEpoch: 0,
          replicas: [1],
          isr: [1],
          error: null,
        })),
      );
    }
    assert.deepEqual(
      (await admin(broker, "list", "--topic", "fa-2")).map((t) => t.topic),
      ["fa-2"],
    );

    // Describe configs: what was set is a dynamic topic config over the broker's default.
    const described = async (topic: string) => {
      const d = await only(broker, "describe-configs", "--topic", topic);
      assert.equal(d.error, null, JSON.stringify(d));
      return d.configs as Record<
        string,
        {
          value: string | null;
          source: string;
          sensitive: boolean;
          synonyms: { key: string; value: string; source: string }[];
        }
      >;
    };
    let c = await described("fa-1");
    assert.deepEqual(c["retention.ms"], {
      value: "3600000",
      source: "DYNAMIC_TOPIC_CONFIG",
      sensitive: false,
      synonyms: [{ key: "retention.ms", value: "3600000", source: "DYNAMIC_TOPIC_CONFIG" }],
    });
    assert.deepEqual([c["cleanup.policy"]!.value, c["cleanup.policy"]!.source], ["compact", "DYNAMIC_TOPIC_CONFIG"]);
    assert.deepEqual([c["segment.bytes"]!.value, c["segment.bytes"]!.source], ["1073741824", "DEFAULT_CONFIG"]);
    assert.deepEqual([c["max.message.bytes"]!.value, c["max.message.bytes"]!.source], ["1048588", "DEFAULT_CONFIG"]);

    // IncrementalAlterConfigs: set, change and delete (back to the default).
    let altered = await only(
      broker,
      "alter-configs",
      "--topic",
      "fa-1",
      "--set",
      "retention.ms=7200000",
      "--set",
      "max.message.bytes=2000000",
      "--delete",
      "cleanup.policy",
    );
    assert.deepEqual([altered.api, altered.error], ["IncrementalAlterConfigs", null]);
    c = await described("fa-1");
    assert.deepEqual([c["retention.ms"]!.value, c["retention.ms"]!.source], ["7200000", "DYNAMIC_TOPIC_CONFIG"]);
    assert.deepEqual(
      [c["max.message.bytes"]!.value, c["max.message.bytes"]!.source],
      ["2000000", "DYNAMIC_TOPIC_CONFIG"],
    );
    assert.deepEqual([c["cleanup.policy"]!.value, c["cleanup.policy"]!.source], ["delete", "DEFAULT_CONFIG"]);
    // The other topic created in the same request is untouched.
    c = await described("fa-2");
    assert.deepEqual([c["retention.ms"]!.value, c["cleanup.policy"]!.value], ["3600000", "compact"]);
    // AlterConfigs replaces the whole set: what it does not name goes back to the default.
    altered = await only(broker, "alter-configs", "--state", "--topic", "fa-1", "--set", "segment.ms=100000");
    assert.deepEqual([altered.api, altered.error], ["AlterConfigs", null]);
    c = await described("fa-1");
    assert.deepEqual([c["segment.ms"]!.value, c["segment.ms"]!.source], ["100000", "DYNAMIC_TOPIC_CONFIG"]);
    assert.deepEqual([c["retention.ms"]!.value, c["retention.ms"]!.source], ["604800000", "DEFAULT_CONFIG"]);
    assert.deepEqual([c["max.message.bytes"]!.value, c["max.message.bytes"]!.source], ["1048588", "DEFAULT_CONFIG"]);
    // Errors.
    altered = await only(broker, "alter-configs", "--topic", "fa-1", "--set", "retention.ms=soon");
    assert.equal(altered.error, "INVALID_CONFIG");
    altered = await only(broker, "alter-configs", "--topic", "fa-none", "--set", "retention.ms=1");
    assert.equal(altered.error, "UNKNOWN_TOPIC_OR_PARTITION");
    assert.equal((await only(broker, "describe-configs", "--topic", "fa-none")).error, "UNKNOWN_TOPIC_OR_PARTITION");

    // Groups: one member consumes fa-3 and leaves; the group stays with its offsets.
    await produce(broker, "fa-3", "none", numbered("fa", 0, 3, 1));
    const consumed = await franz(broker, ["consume", "--group", "fa-group", "--topic", "fa-3", "--count", "3"]);
    assert.equal(consumed.filter((l) => l.event === "record").length, 3);
    assert.deepEqual([consumed.at(-1)!.event, consumed.at(-1)!.reason], ["done", "count"]);
    const groups = await admin(broker, "list-groups");
    assert.deepEqual(groups, [
      {
        op: "list-groups",
        group: "fa-group",
        type: "classic",
        protocolType: "consumer",
        state: "Empty",
        coordinator: 1,
      },
    ]);
    assert.deepEqual(await admin(broker, "list-groups", "--type", "consumer"), []);
    assert.deepEqual(await admin(broker, "list-groups", "--state-filter", "Stable"), []);
    assert.deepEqual(await admin(broker, "describe-groups", "--group", "fa-group"), [
      {
        op: "describe-groups",
        group: "fa-group",
        error: null,
        message: "",
        state: "Empty",
        protocolType: "consumer",
        protocol: "",
        members: [],
      },
    ]);
    assert.deepEqual(await committed(broker, "fa-group"), { "fa-3": { "0": 3 } });
    assert.equal((await only(broker, "describe-groups", "--group", "fa-nobody")).state, "Dead");
    assert.deepEqual(await admin(broker, "delete-groups", "--group", "fa-group", "--group", "fa-nobody"), [
      { op: "delete-groups", group: "fa-group", error: null },
      { op: "delete-groups", group: "fa-nobody", error: "GROUP_ID_NOT_FOUND" },
    ]);
    assert.deepEqual(await admin(broker, "list-groups"), []);

    // Delete topics.
    const deleted = await admin(broker, "delete-topics", "--topic", "fa-1", "--topic", "fa-2", "--topic", "fa-3");
    assert.deepEqual(
      deleted.map((d) => [d.topic, d.error]),
      [
        ["fa-1", null],
        ["fa-2", null],
        ["fa-3", null],
      ],
    );
    assert.deepEqual(await admin(broker, "list"), []);
    assert.equal((await only(broker, "delete-topics", "--topic", "fa-1")).error, "UNKNOWN_TOPIC_OR_PARTITION");
  });

  for (const codec of ["none", "gzip", "snappy", "lz4", "zstd"] as const) {
    test(`produce and consume with ${codec}: keys, headers, offsets`, { timeout: 60_000 }, async () => {
      const topic = `fc-${codec}`;
      const PARTITIONS = 3;
      const N = 60;
      assert.equal((await only(broker, "create", "--topic", topic, "--partitions", String(PARTITIONS))).error, null);
      // Values repeat enough that every batch compresses (franz-go sends a batch uncompressed when
      // compressing does not make it smaller).
      const records: InRecord[] = Array.from({ length: N }, (_, i) => ({
        key: i === 7 ? null : `${codec}-key-${i}`,
        value: i === 11 ? null : `${codec} value ${i} ${"payload ".repeat(10 + (i % 7))}ünïcödé`,
        headers:
          i % 5 === 0
            ? []
            : [
                { key: "codec", value: codec },
                { key: "i", value: String(i) },
                { key: "i", value: `again ${i}` },
                { key: "nothing", value: null },
              ],
        partition: i % PARTITIONS,
      }));
      const acks = await produce(broker, topic, codec, records);
      // Per partition, offsets 0.. in the order sent; one idempotent producer for all of them.
      const next = [0, 0, 0];
      acks.forEach((a, i) => {
        assert.equal(a.offset, next[i % PARTITIONS]!++, `record ${i}`);
      });
      const producerIds = new Set(acks.map((a) => a.producerId));
      assert.equal(producerIds.size, 1);
      const producerId = acks[0]!.producerId as number;
      assert.ok(producerId >= 0, `idempotent producer id ${producerId}`);
      assert.ok(acks.every((a) => a.producerEpoch >= 0));

      // What the broker stored: batches in this codec, with the producer id and sequence numbers.
      for (let p = 0; p < PARTITIONS; p++) {
        const batches = await storedBatches(broker, topic, p);
        assert.ok(batches.length >= 1);
        assert.equal(
          batches.reduce((n, b) => n + b.recordCount, 0),
          N / PARTITIONS,
        );
        let expected = 0;
        for (const b of batches) {
          assert.equal(
            b.attributes & 7,
            CompressionType[codec],
            `partition ${p} batch at ${b.baseOffset}: attributes ${b.attributes}`,
          );
          assert.equal(b.producerId, BigInt(producerId));
          assert.equal(b.baseOffset, BigInt(expected));
          assert.equal(b.baseSequence, expected);
          expected += b.recordCount;
        }
      }

      // Read back by a group member: every record, exactly.
      const lines = await franz(broker, ["consume", "--group", `${topic}-g`, "--topic", topic, "--count", String(N)]);
      const got = lines.filter((l) => l.event === "record");
      assert.deepEqual(lines.at(-1)!.reason, "count");
      assert.equal(got.length, N);
      const byPartitionOffset = new Map(got.map((r) => [`${r.partition}/${r.offset}`, r]));
      assert.equal(byPartitionOffset.size, N, "a record came twice");
      records.forEach((rec, i) => {
        const r = byPartitionOffset.get(`${acks[i]!.partition}/${acks[i]!.offset}`);
        assert.ok(r !== undefined, `record ${i} missing`);
        assert.deepEqual(
          { key: r.key, value: r.value, headers: r.headers, compression: r.compression },
          { key: rec.key, value: rec.value, headers: rec.headers, compression: CompressionType[codec] },
          `record ${i}`,
        );
      });
      assert.deepEqual(await committed(broker, `${topic}-g`), { [topic]: { "0": 20, "1": 20, "2": 20 } });
    });
  }
});

/**
 * Two members split a 4-partition topic: nothing missing, nothing twice, each only from its own
 * partitions. Then the group is empty with its offsets committed; they survive a broker restart and
 * a new member resumes from them.
 */
async function groupSplitAndResume(t: TestContext, protocol: "classic" | "consumer", balancer: string): Promise<void> {
  const group = `fg-${protocol}-${balancer}`;
  const topic = `${group}-t`;
  const PARTITIONS = 4;
  const N = 200;
  const MORE = 40;
  let broker = await startBroker({ properties: PROPERTIES });
  const first = broker;
  const members: Member[] = [];
  try {
    if (protocol === "consumer") {
      const versions = await only(broker, "api-versions");
      const max = versions.apis.ConsumerGroupHeartbeat?.max ?? -1;
      if (max < 1) {
        // franz-go runs KIP-848 only over ConsumerGroupHeartbeat v1 (Kafka 4.0); on v0 it would
        // quietly fall back to the classic protocol, which the classic test already covers.
        t.skip(`the broker offers ConsumerGroupHeartbeat up to v${max}; franz-go's KIP-848 needs v1`);
        return;
      }
    }
    assert.equal((await only(broker, "create", "--topic", topic, "--partitions", String(PARTITIONS))).error, null);
    const args = ["--group", group, "--topic", topic, "--protocol", protocol, "--balancer", balancer];
    members.push(new Member(broker, "member-a", args));
    // The second joins once the first holds the topic, so the group really rebalances.
    await waitFor("member-a assigned", () => members[0]!.current(topic).length === PARTITIONS, 20_000);
    members.push(new Member(broker, "member-b", args));
    const [a, b] = members as [Member, Member];
    await waitFor(
      "the partitions split between the two members",
      () => {
        const pa = a.current(topic);
        const pb = b.current(topic);
        return pa.length > 0 && pb.length > 0 && [...pa, ...pb].sort().join() === "0,1,2,3";
      },
      30_000,
    );
    const split = { a: a.current(topic), b: b.current(topic) };

    // The broker's view of the same group.
    await eventually("the broker's view of the group", async () => {
      if (protocol === "classic") {
        const d = await only(broker, "describe-groups", "--group", group);
        assert.deepEqual([d.error, d.state, d.protocolType, d.protocol], [null, "Stable", "consumer", balancer]);
        assert.deepEqual(d.members.map((m: Line) => [m.clientId, m.topics, m.assigned]).sort(), [
          ["member-a", [topic], { [topic]: split.a }],
          ["member-b", [topic], { [topic]: split.b }],
        ]);
      } else {
        const d = await only(broker, "describe-consumer-groups", "--group", group);
        assert.deepEqual([d.error, d.state, d.assignor], [null, "Stable", balancer === "range" ? "range" : "uniform"]);
        assert.deepEqual(d.members.map((m: Line) => [m.clientId, m.subscribedTopics, m.assigned]).sort(), [
          ["member-a", [topic], { [topic]: split.a }],
          ["member-b", [topic], { [topic]: split.b }],
        ]);
      }
      const listed = await only(broker, "list-groups");
      assert.deepEqual([listed.group, listed.type, listed.state], [group, protocol, "Stable"]);
    });

    const acks = await produce(broker, topic, "lz4", numbered(group, 0, N, PARTITIONS));
    await waitFor(`${N} records between the two members`, () => a.records().length + b.records().length >= N, 30_000);
    const [doneA, doneB] = await Promise.all([a.stop(), b.stop()]);
    assert.deepEqual([doneA.reason, doneB.reason], ["eof", "eof"]);

    const got = [...a.records(), ...b.records()];
    assert.equal(got.length, N);
    const seen = new Set(got.map((r) => `${r.partition}/${r.offset}`));
    assert.equal(seen.size, N, "a record came twice");
    acks.forEach((ack, i) => assert.ok(seen.has(`${ack.partition}/${ack.offset}`), `record ${i} missing`));
    for (const r of got) assert.equal(r.value, `${group}-v${r.key.slice(`${group}-k`.length)}`);
    assert.ok(
      a.records().every((r) => split.a.includes(r.partition)),
      "member-a read outside its partitions",
    );
    assert.ok(
      b.records().every((r) => split.b.includes(r.partition)),
      "member-b read outside its partitions",
    );

    const all = { [topic]: { "0": 50, "1": 50, "2": 50, "3": 50 } };
    assert.deepEqual(await committed(broker, group), all);
    assert.equal((await only(broker, "list-groups")).state, "Empty");

    // The broker restarts; the offsets are still there and a new member resumes from them.
    assert.equal(await broker.stop(), 0);
    broker = await startBroker({ properties: PROPERTIES, dataDir: first.dataDir });
    assert.deepEqual(await committed(broker, group), all);
    await produce(broker, topic, "gzip", numbered(group, N, N + MORE, PARTITIONS));
    const lines = await franz(broker, ["consume", ...args, "--count", String(MORE)]);
    const resumed = lines.filter((l) => l.event === "record");
    assert.equal(lines.at(-1)!.reason, "count");
    assert.deepEqual(
      resumed.map((r) => `${r.partition}/${r.offset}/${r.key}`).sort(),
      numbered(group, N, N + MORE, PARTITIONS)
        .map((r, j) => `${r.partition}/${50 + Math.floor(j / PARTITIONS)}/${r.key}`)
        .sort(),
    );
    assert.deepEqual(await committed(broker, group), { [topic]: { "0": 60, "1": 60, "2": 60, "3": 60 } });
  } finally {
    for (const m of members) m.kill();
    if (broker !== first) {
      await broker.stop();
      await broker.cleanup();
    }
    await first.stop();
    await first.cleanup();
  }
}

describe("franz-go groups", { skip, timeout: 300_000 }, () => {
  test("classic protocol, cooperative-sticky: two members split a topic, offsets resume", { timeout: 90_000 }, (t) =>
    groupSplitAndResume(t, "classic", "cooperative-sticky"),
  );
  test("classic protocol, range (eager): two members split a topic, offsets resume", { timeout: 90_000 }, (t) =>
    groupSplitAndResume(t, "classic", "range"),
  );
  test(
    "consumer protocol (KIP-848), uniform assignor: two members split a topic, offsets resume",
    { timeout: 90_000 },
    (t) => groupSplitAndResume(t, "consumer", "cooperative-sticky"),
  );
  test(
    "consumer protocol (KIP-848), range assignor: two members split a topic, offsets resume",
    { timeout: 90_000 },
    (t) => groupSplitAndResume(t, "consumer", "range"),
  );
});
