import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { skipUnless, waitFor } from "./harness.js";
import {
  TARGET_KIND,
  TARGET_REQUIREMENT,
  haveTarget,
  javaRun,
  javaSpawn,
  startTxnTarget,
  tagged,
  watch,
  type TxnTarget,
} from "./clients/txn-target.js";
import { KAFKA44_REQUIREMENT, haveKafka44 } from "./clients/java/kafka44.js";
import type { RunResult } from "./clients/run.js";

/**
 * Kafka Streams 4.4 with processing.guarantee=exactly_once_v2 (clients/java/TxnCountApp.java): input (user ->
 * region) regrouped by region through a repartition topic, counted in a state store, counts written to the
 * output. A known input is produced; the application runs until the last count per region, read with
 * read_committed, adds up to the input; every count must be exact. Then the same while the broker is killed
 * with SIGKILL in the middle of the run and restarted on the same data: still exact (no record counted twice,
 * none lost), and the repartition topic, read with read_committed, holds every input record exactly once.
 *
 * TSKAFKA_TXN_TARGET=kafka runs the same against Apache Kafka 4.4.0 (how the expectations were checked).
 */

const skip = skipUnless(haveKafka44(), KAFKA44_REQUIREMENT) ?? skipUnless(haveTarget(), TARGET_REQUIREMENT);

const PROPERTIES = {
  "num.partitions": 3,
  "auto.create.topics.enable": true,
  "offsets.topic.num.partitions": 3,
  "transaction.state.log.num.partitions": 3,
  "transaction.state.log.replication.factor": 1,
  "transaction.state.log.min.isr": 1,
  "group.initial.rebalance.delay.ms": 0,
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": 1000,
};
const PARTITIONS = 3;

/** Deterministic regions (mulberry32), skewed so that counts differ. */
function regions(seed: number, count: number): string[] {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => `region${String(Math.floor(25 * next() * next())).padStart(2, "0")}`);
}

function tally(list: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of list) counts[r] = (counts[r] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} exited ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

function countsOf(out: string): Record<string, number> {
  const line = tagged(out, "COUNTS").at(-1);
  assert.ok(line !== undefined, out.slice(-3000));
  return JSON.parse(line) as Record<string, number>;
}

describe(`Kafka Streams 4.4 exactly_once_v2 (${TARGET_KIND})`, { skip, timeout: 600_000 }, () => {
  let target: TxnTarget;
  let work: string;
  const suffix = Date.now().toString(36);

  before(
    async () => {
      target = await startTxnTarget(PROPERTIES);
      work = mkdtempSync(join(tmpdir(), "tskafka-txn-streams-"));
    },
    { timeout: 240_000 },
  );
  after(async () => {
    await target?.cleanup();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  /** Creates the app's topics and produces its input: user-i -> region, partition i % 3. */
  async function setUp(app: string, list: string[]): Promise<{ input: string; output: string }> {
    const input = `${app}-input`;
    const output = `${app}-output`;
    ok(
      await javaRun("TxnJava", ["create", target.bootstrap, `${input}:${PARTITIONS}`, `${output}:${PARTITIONS}`], {
        timeoutMs: 60_000,
      }),
      "create",
    );
    const lines = list.map((r, i) => `user-${i}\t${r}\t${i % PARTITIONS}`).join("\n") + "\n";
    const produced = ok(
      await javaRun("TxnJava", ["lines", target.bootstrap, input], { input: lines, timeoutMs: 60_000 }),
      "lines",
    );
    assert.deepEqual(tagged(produced, "PRODUCED"), [String(list.length)]);
    return { input, output };
  }

  test("repartition and a state store: the counts are exact", async (t) => {
    const app = `txs-count-${suffix}`;
    const list = regions(42, 3000);
    const { input, output } = await setUp(app, list);
    const r = await javaRun(
      "TxnCountApp",
      [target.bootstrap, app, input, output, join(work, "state-1"), String(list.length), "90000", "0"],
      { heap: "384m", timeoutMs: 120_000 },
    );
    const out = ok(r, "TxnCountApp");
    assert.deepEqual(countsOf(out), tally(list));
    assert.match(out, /STATE REBALANCING -> RUNNING/);
    t.diagnostic(`stream thread failures: ${tagged(out, "UNCAUGHT").length}`);

    // The output was written in transactions: read_uncommitted sees the same records as read_committed (none
    // aborted in a run without failures), and both end at the same offset (no transaction left open).
    const read = ok(
      await javaRun("TxnJava", ["read", target.bootstrap, "read_committed,read_uncommitted", "30000", output], {
        timeoutMs: 60_000,
      }),
      "read",
    );
    const recs = (iso: string): string[] =>
      tagged(read, "REC")
        .filter((l) => l.startsWith(`${iso} `))
        .sort();
    const committed = recs("read_committed");
    assert.ok(committed.length > 0);
    assert.deepEqual(
      recs("read_uncommitted").map((l) => l.slice(l.indexOf(" "))),
      committed.map((l) => l.slice(l.indexOf(" "))),
    );
    const ends = (iso: string): string[] =>
      tagged(read, "END")
        .filter((l) => l.startsWith(`${iso} `))
        .map((l) => l.slice(iso.length));
    assert.deepEqual(ends("read_committed"), ends("read_uncommitted"));
  });

  test("kill -9 of the broker in the middle of the run, restart on the same data: the counts are still exact", async (t) => {
    const app = `txs-crash-${suffix}`;
    const list = regions(7, 12_000);
    const { input, output } = await setUp(app, list);
    const streams = watch(
      javaSpawn(
        "TxnCountApp",
        [target.bootstrap, app, input, output, join(work, "state-2"), String(list.length), "150000", "3"],
        "384m",
      ),
      180_000,
    );
    const progress = (): number => Math.max(0, ...tagged(streams.stdout(), "PROGRESS").map(Number));
    const seen = (): number => Math.max(0, ...tagged(streams.stdout(), "SEEN").map(Number));
    let atKill = { seen: -1, counted: -1 };
    try {
      // The input is read (and written to the repartition topic, in transactions) before much is counted.
      await waitFor(
        "the application to process 3000 input records",
        () => seen() >= 3000 || streams.stdout().includes("COUNTS "),
        90_000,
      );
      atKill = { seen: seen(), counted: progress() };
      await target.kill9();
      await new Promise((r) => setTimeout(r, 500));
      await target.restart();
      const code = await streams.exited;
      assert.equal(code, 0, `${streams.stdout().slice(-3000)}\n${streams.stderr().slice(-3000)}`);
    } finally {
      streams.kill();
    }
    assert.ok(
      atKill.seen < list.length && atKill.counted < list.length,
      `the broker was killed before the run ended (at ${JSON.stringify(atKill)} of ${list.length})`,
    );
    assert.deepEqual(countsOf(streams.stdout()), tally(list));
    // What the first half of the application wrote, in transactions, to the repartition topic (user|region):
    // under read_committed every input record exactly once.
    const read = ok(
      await javaRun("TxnJava", ["read", target.bootstrap, "read_committed", "30000", `${app}-by-region-repartition`], {
        timeoutMs: 60_000,
      }),
      "read",
    );
    const users = tagged(read, "REC")
      .map((l) => l.split(" ")[5]!)
      .sort();
    const expectedUsers = list.map((r, i) => `user-${i}|${r}`).sort();
    assert.equal(users.length, list.length, "repartition records under read_committed");
    assert.deepEqual(users, expectedUsers, "the repartition topic holds every input record exactly once");
    t.diagnostic(
      `killed with ${atKill.seen} input records processed and ${atKill.counted} counted, of ${list.length}; stream thread failures: ${tagged(streams.stdout(), "UNCAUGHT").join(" | ").slice(0, 600)}`,
    );
  });
});
