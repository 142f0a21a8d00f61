import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { skipUnless } from "./harness.js";
import {
  KAFKA44_REQUIREMENT,
  haveKafka44,
  program44,
  startTarget,
  unique,
  type Target,
} from "./clients/java/kafka44.js";

/**
 * Kafka Streams 4.4 (at_least_once) running our word count (clients/java/WordCountApp.java): input topic ->
 * re-keyed by word (a repartition topic) -> counted in a state store (a compacted changelog topic) -> output
 * topic. A known input is produced, the application runs until its output adds up to every word, and the
 * final count of every word must be exact. A second run with an empty state directory must restore the
 * store from the changelog and go on counting from there.
 *
 * TSKAFKA_REFERENCE_BOOTSTRAP=host:port runs it against an outside broker (Apache Kafka 4.4) instead.
 */

const skip = skipUnless(haveKafka44(), KAFKA44_REQUIREMENT);

const APP = unique("j44-wordcount");
const INPUT = `${APP}-input`;
const OUTPUT = `${APP}-output`;
const REPARTITION = `${APP}-words-repartition`;
const CHANGELOG = `${APP}-word-counts-changelog`;
const PARTITIONS = 3;

let target: Target;
let admin: Admin;
let kafka: Kafka;
let work: string;

before(async () => {
  if (skip !== undefined) return;
  target = await startTarget({ properties: { "group.initial.rebalance.delay.ms": 0, "num.partitions": 1 } });
  work = await mkdtemp(join(tmpdir(), "tskafka-streams-"));
  kafka = new Kafka({ clientId: "streams-test", brokers: [target.bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [INPUT, OUTPUT].map((topic) => ({ topic, numPartitions: PARTITIONS })),
    waitForLeaders: true,
  });
});

after(async () => {
  await admin?.disconnect();
  await target?.cleanup();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

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
  // 40 words of different frequencies: the low indices come up more often.
  return Array.from({ length: count }, () => `word${String(Math.floor(40 * next() * next())).padStart(2, "0")}`);
}

/** Produces the words keyed by their line number (not by the word: the application must re-key them). */
async function produce(list: string[], firstLine: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < list.length; i += 500) {
      await producer.send({
        topic: INPUT,
        messages: list.slice(i, i + 500).map((w, j) => ({ key: `line-${firstLine + i + j}`, value: w })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

function tally(list: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const w of list) counts[w] = (counts[w] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** Runs the application until its output adds up to `total` words; returns the last count per word. */
async function runApp(stateDir: string, total: number): Promise<Record<string, number>> {
  const r = await program44("WordCountApp", [target.bootstrap, APP, INPUT, OUTPUT, stateDir, String(total), "60000"], {
    heap: "384m",
    timeoutMs: 90_000,
  });
  const log = `${r.stdout.slice(-3000)}\n${r.stderr.slice(-4000)}`;
  assert.equal(r.code, 0, log);
  const line = r.stdout.split("\n").find((l) => l.startsWith("COUNTS "));
  assert.ok(line !== undefined, log);
  assert.match(r.stdout, /STATE REBALANCING -> RUNNING/);
  return JSON.parse(line.slice("COUNTS ".length)) as Record<string, number>;
}

async function topicConfig(name: string): Promise<Record<string, string>> {
  const described = await admin.describeConfigs({ resources: [{ type: 2 /* TOPIC */, name }], includeSynonyms: false });
  return Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
}

test(
  "Kafka Streams 4.4 word count: repartition, state store with a compacted changelog, exact counts, restore",
  { skip, timeout: 240_000 },
  async () => {
    const first = words(42, 2000);
    await produce(first, 0);
    const counts = await runApp(join(work, "state-1"), first.length);
    assert.deepEqual(counts, tally(first));

    // The internal topics Streams created: the repartition topic with as many partitions as the input, kept
    // until Streams itself deletes what it consumed; the changelog compacted.
    const listed = await admin.listTopics();
    assert.ok(listed.includes(REPARTITION) && listed.includes(CHANGELOG), listed.join(" "));
    const metadata = await admin.fetchTopicMetadata({ topics: [REPARTITION, CHANGELOG] });
    for (const t of metadata.topics) assert.equal(t.partitions.length, PARTITIONS, t.name);
    const changelog = await topicConfig(CHANGELOG);
    assert.equal(changelog["cleanup.policy"], "compact");
    const repartition = await topicConfig(REPARTITION);
    assert.equal(repartition["cleanup.policy"], "delete");
    assert.equal(repartition["retention.ms"], "-1");

    // The application's group committed its position in the input: everything.
    const committed = await admin.fetchOffsets({ groupId: APP, topics: [INPUT] });
    const ends = await admin.fetchTopicOffsets(INPUT);
    const end = new Map(ends.map((p) => [p.partition, p.high]));
    for (const p of committed[0]!.partitions)
      assert.equal(p.offset, end.get(p.partition), `input partition ${p.partition}`);
    assert.equal(
      ends.reduce((n, p) => n + Number(p.high), 0),
      first.length,
    );

    // More input, and a fresh state directory: the store comes back from the changelog, and counting goes on.
    const second = words(7, 500);
    await produce(second, first.length);
    const more = await runApp(join(work, "state-2"), first.length + second.length);
    assert.deepEqual(more, tally([...first, ...second]));
  },
);
