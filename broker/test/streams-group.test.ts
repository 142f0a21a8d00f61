import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Kafka, logLevel, type Admin, type Consumer } from "kafkajs";
import { skipUnless, waitFor } from "./harness.js";
import {
  TARGET_KIND,
  TARGET_REQUIREMENT,
  haveTarget,
  startTxnTarget,
  tagged,
  watch,
  type TxnTarget,
  type Watched,
} from "./clients/txn-target.js";
import { KAFKA44_LIB, KAFKA44_REQUIREMENT, compileJava, haveKafka44, log4j2, tool44 } from "./clients/java/kafka44.js";

const STREAMS_GROUP_COMMAND = "org.apache.kafka.tools.streams.StreamsGroupCommand";

/**
 * Streams groups (KIP-1071): Kafka Streams 4.4 with group.protocol=streams (clients/java/StreamsGroupApp.java,
 * a word count with a repartition topic and a state store) against the broker's group coordinator, which
 * validates the topology, creates the internal topics and assigns the tasks:
 * - two instances count a known input exactly, their active tasks covering the 8 tasks once;
 * - a third instance joins: the tasks are rebalanced over three (each owner changes only by revocation
 *   first), more input is counted, and the counts stay exact;
 * - `kafka-streams-groups.sh --describe` (members, state, offsets) shows the group, its three members and
 *   their tasks, and no lag on the input and repartition topics;
 * - the instances leave; the group is empty, then deleted with `--delete`.
 *
 * TSKAFKA_TXN_TARGET=kafka runs the same against Apache Kafka 4.4.0 (how the expectations were checked).
 */

const skip = skipUnless(haveKafka44(), KAFKA44_REQUIREMENT) ?? skipUnless(haveTarget(), TARGET_REQUIREMENT);

/** Kafka's names; each broker ignores the keys it does not know. Short intervals keep rebalances quick. */
const PROPERTIES = {
  "offsets.topic.num.partitions": 3,
  "group.initial.rebalance.delay.ms": 0,
  "group.streams.initial.rebalance.delay.ms": 0,
  "group.streams.min.heartbeat.interval.ms": 500,
  "group.streams.heartbeat.interval.ms": 500,
  "group.streams.min.session.timeout.ms": 6000,
  "group.streams.session.timeout.ms": 10000,
};

const APP = `sg-wordcount-${Date.now().toString(36)}`;
const INPUT = `${APP}-input`;
const OUTPUT = `${APP}-output`;
const PARTITIONS = 4;
const ALL_TASKS = ["0_0", "0_1", "0_2", "0_3", "1_0", "1_1", "1_2", "1_3"];

/** A small deterministic generator (mulberry32), so the words are the same on every run. */
function words(seed: number, count: number): string[] {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => `word${String(Math.floor(30 * next() * next())).padStart(2, "0")}`);
}

function tally(list: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const w of [...list].sort()) counts[w] = (counts[w] ?? 0) + 1;
  return counts;
}

/** The active tasks in a row of `--describe --members` ("ACTIVE: 0:[1,3]; 1:[1];"), as "0_1" and so on, sorted. */
function activeTasksOfRow(row: string): string[] {
  const active = /ACTIVE:((?:\s*\d+:\[[\d,]*\];)*)/.exec(row)?.[1] ?? "";
  const tasks: string[] = [];
  for (const m of active.matchAll(/(\d+):\[([\d,]*)\]/g))
    for (const p of m[2]!.split(",").filter((x) => x !== "")) tasks.push(`${m[1]}_${p}`);
  return tasks.sort();
}

interface Instance {
  name: string;
  w: Watched;
  stdin: NodeJS.WritableStream;
}

function startInstance(name: string, bootstrap: string, stateDir: string): Instance {
  const classes = compileJava(["StreamsGroupApp.java"]);
  const child = spawn(
    "java",
    [
      "-Xmx256m",
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      `-Dlog4j2.configurationFile=${log4j2()}`,
      "-cp",
      [classes, join(KAFKA44_LIB, "*")].join(delimiter),
      "StreamsGroupApp",
      bootstrap,
      APP,
      INPUT,
      OUTPUT,
      stateDir,
    ],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  return { name, w: watch(child, 120_000), stdin: child.stdin! };
}

/** The active and standby tasks an instance reported last (empty before it reported any). */
function lastTasks(i: Instance): { active: string[]; standby: string[] } {
  const line = tagged(i.w.stdout(), "TASKS").at(-1);
  const m = line === undefined ? null : /^active=\[(.*)\]standby=\[(.*)\]$/.exec(line);
  const list = (s: string | undefined): string[] => (s === undefined || s === "" ? [] : s.split(","));
  return { active: list(m?.[1]), standby: list(m?.[2]) };
}

/** Waits until the instances' active tasks are every task once, each instance having some. */
async function settled(instances: readonly Instance[], what: string): Promise<void> {
  const describeAll = (): string =>
    instances.map((i) => `${i.name}: ${JSON.stringify(lastTasks(i))}\n${i.w.stderr().slice(-1500)}`).join("\n");
  try {
    await waitFor(
      what,
      () => {
        const actives = instances.map((i) => lastTasks(i).active);
        const all = actives.flat().sort();
        return actives.every((a) => a.length > 0) && JSON.stringify(all) === JSON.stringify(ALL_TASKS);
      },
      45_000,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${describeAll()}`);
  }
}

describe(`streams groups with Kafka Streams 4.4 (${TARGET_KIND})`, { skip }, () => {
  let target: TxnTarget;
  let admin: Admin;
  let kafka: Kafka;
  let work: string;
  let reader: Consumer;
  const counts = new Map<string, number>();
  const instances: Instance[] = [];

  before(async () => {
    target = await startTxnTarget(PROPERTIES);
    work = await mkdtemp(join(tmpdir(), "tskafka-streams-group-"));
    kafka = new Kafka({ clientId: "streams-group-test", brokers: [target.bootstrap], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [INPUT, OUTPUT].map((topic) => ({ topic, numPartitions: PARTITIONS })),
      waitForLeaders: true,
    });
    reader = kafka.consumer({ groupId: `${APP}-reader`, maxWaitTimeInMs: 100 });
    await reader.connect();
    await reader.subscribe({ topic: OUTPUT, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        counts.set(message.key!.toString(), Number(message.value!.readBigInt64BE(0)));
      },
    });
  });

  after(async () => {
    for (const i of instances) i.w.kill();
    await Promise.all(instances.map((i) => i.w.exited));
    await reader?.disconnect();
    await admin?.disconnect();
    await target?.cleanup();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  async function produce(list: readonly string[], firstLine: number): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: INPUT,
        messages: list.map((w, j) => ({ key: `line-${firstLine + j}`, value: w })),
      });
    } finally {
      await producer.disconnect();
    }
  }

  async function countsReach(expected: Record<string, number>): Promise<void> {
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    const sum = (): number => [...counts.values()].reduce((a, b) => a + b, 0);
    await waitFor(`output counts add up to ${total}`, () => sum() >= total, 45_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b))), expected);
  }

  async function streamsGroups(args: readonly string[]): Promise<string> {
    const r = await tool44(STREAMS_GROUP_COMMAND, ["--bootstrap-server", target.bootstrap, ...args], {
      timeoutMs: 30_000,
    });
    return r.stdout;
  }

  test("two instances count exactly; a third joins, tasks move, counts stay exact; the tool describes it", async () => {
    const first = words(42, 1500);
    await produce(first, 0);
    instances.push(startInstance("a", target.bootstrap, join(work, "a")));
    instances.push(startInstance("b", target.bootstrap, join(work, "b")));
    await settled(instances, "two instances share the 8 tasks");
    await countsReach(tally(first));

    instances.push(startInstance("c", target.bootstrap, join(work, "c")));
    await settled(instances, "three instances share the 8 tasks");
    const second = words(7, 500);
    await produce(second, first.length);
    await countsReach(tally([...first, ...second]));

    // Balanced: 8 active tasks over 3 members.
    const sizes = instances.map((i) => lastTasks(i).active.length).sort();
    assert.deepEqual(sizes, [2, 3, 3]);

    const members = await streamsGroups(["--describe", "--members", "--group", APP]);
    const rows = members.split("\n").filter((l) => l.startsWith(APP));
    assert.equal(rows.length, 3, members);
    // Each row's "ACTIVE: 0:[1,3]; 1:[1];" is one instance's active tasks.
    const described = rows.map((r) => activeTasksOfRow(r).join(",")).sort();
    const reported = instances.map((i) => lastTasks(i).active.join(",")).sort();
    assert.deepEqual(described, reported, members);
    const state = await streamsGroups(["--describe", "--state", "--group", APP]);
    assert.match(state, /Stable/, state);
    // Offsets: every partition of the input and of the repartition topic, nothing left to process (the last
    // commits come within the commit interval, so a few tries).
    let offsets = "";
    let offsetRows: string[][] = [];
    for (let i = 0; i < 5; i++) {
      offsets = await streamsGroups(["--describe", "--offsets", "--group", APP]);
      offsetRows = offsets
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((cols) => cols[0] === APP);
      if (offsetRows.length === 2 * PARTITIONS && offsetRows.every((cols) => cols[3] === "0")) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(
      offsetRows.map((cols) => `${cols[1]}:${cols[2]}:${cols[3]}`).sort(),
      [INPUT, `${APP}-words-repartition`].flatMap((t) => [0, 1, 2, 3].map((p) => `${t}:${p}:0`)).sort(),
      offsets,
    );
  });

  test("the instances leave; the empty group is deleted", async () => {
    for (const i of instances) i.stdin.write("close\n");
    const codes = await Promise.all(instances.map((i) => i.w.exited));
    assert.deepEqual(
      codes,
      instances.map(() => 0),
      instances.map((i) => i.w.stdout().slice(-500) + i.w.stderr().slice(-1500)).join("\n"),
    );
    const state = await streamsGroups(["--describe", "--state", "--group", APP]);
    assert.match(state, /Empty/, state);
    const listed = await streamsGroups(["--list"]);
    assert.ok(listed.includes(APP), listed);
    const deleted = await streamsGroups(["--delete", "--group", APP]);
    assert.match(deleted, /successful/i, deleted);
    const after = await streamsGroups(["--list"]);
    assert.ok(!after.includes(APP), after);
  });
});
