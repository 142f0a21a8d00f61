import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
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
 * Transactions with the Java 4.4 client (clients/java/TxnJava.java) and Kafka 4.4's own tools:
 * - a transactional producer committing and aborting alternately over three partitions: read_committed sees
 *   every committed record once and no aborted one, read_uncommitted sees them all, and both end where Kafka's
 *   log ends (records plus one marker per transaction and partition);
 * - Kafka's TransactionalMessageCopier (kafka-tools) copying a topic in group mode with --use-group-metadata and
 *   random aborts: the copy, read_committed, holds every input record exactly once, and the group's offsets
 *   are at the input's end;
 * - fencing: a second producer with the same transactional.id fences the first;
 * - transaction.timeout.ms above transaction.max.timeout.ms: InvalidTxnTimeoutException;
 * - a transaction left open past its timeout is aborted by the coordinator, and its commit fails as Kafka's does;
 * - kill -9 of the broker in the middle of a stream of transactions, restart on the same data: every transaction
 *   the producer saw committed is there exactly once, no aborted one, and each one whose outcome the producer
 *   could not learn is there entirely or not at all;
 * - transaction.version set to 1 with Kafka's kafka-features tool (FeatureCommand), then the commit/abort check
 *   again with transactions v1 (AddPartitionsToTxn, EndTxn without the epoch bump), then fencing and the timeout.
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
  "transaction.max.timeout.ms": 300_000,
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": 1000,
};

interface Rec {
  isolation: string;
  topic: string;
  partition: number;
  offset: number;
  key: string;
  value: string;
}

function records(out: string): Rec[] {
  return tagged(out, "REC").map((l) => {
    const [isolation, topic, partition, offset, key, value] = l.split(" ");
    return {
      isolation: isolation!,
      topic: topic!,
      partition: Number(partition),
      offset: Number(offset),
      key: key!,
      value: value!,
    };
  });
}

/** `END isolation topic partition offset` lines as "topic/partition" -> offset, for one isolation level. */
function ends(out: string, isolation: string): Record<string, number> {
  const m: Record<string, number> = {};
  for (const l of tagged(out, "END")) {
    const [iso, topic, partition, offset] = l.split(" ");
    if (iso === isolation) m[`${topic}/${partition}`] = Number(offset);
  }
  return m;
}

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} exited ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

/** Values of one isolation level and topic, sorted. */
const valuesOf = (recs: Rec[], isolation: string, topic: string): string[] =>
  recs
    .filter((r) => r.isolation === isolation && r.topic === topic)
    .map((r) => r.value)
    .sort();

/** The values TxnJava's transaction n writes (record i goes to partition i % partitions). */
const txnValues = (tag: string, n: number, per: number): string[] =>
  Array.from({ length: per }, (_, i) => `${tag}:${n}:${i}`);

const PARTITIONS = 3;

describe(`transactions, Java 4.4 client and Kafka's tools (${TARGET_KIND})`, { skip, timeout: 600_000 }, () => {
  let target: TxnTarget;
  const suffix = Date.now().toString(36);
  const topic = (name: string): string => `txj-${name}-${suffix}`;

  before(
    async () => {
      target = await startTxnTarget(PROPERTIES);
      ok(
        await javaRun(
          "TxnJava",
          [
            "create",
            target.bootstrap,
            `${topic("alt")}:3`,
            `${topic("copy-in")}:3`,
            `${topic("copy-out")}:3`,
            `${topic("fence")}:1`,
            `${topic("expire")}:1`,
            `${topic("crash")}:3`,
            `${topic("alt-tv1")}:3`,
            `${topic("fence-tv1")}:1`,
            `${topic("expire-tv1")}:1`,
          ],
          { timeoutMs: 60_000 },
        ),
        "create",
      );
    },
    { timeout: 240_000 },
  );
  after(async () => {
    await target?.cleanup();
  });

  /** The commit/abort check: N transactions of PER records, even ones committed, odd ones aborted. */
  async function alternate(t: string, txnId: string): Promise<void> {
    const N = 20;
    const PER = 6;
    const out = ok(
      await javaRun("TxnJava", ["alternate", target.bootstrap, txnId, t, String(PARTITIONS), String(N), String(PER)], {
        timeoutMs: 90_000,
      }),
      "alternate",
    );
    assert.deepEqual(
      tagged(out, "COMMITTED").map(Number),
      Array.from({ length: N / 2 }, (_, i) => 2 * i),
    );
    assert.deepEqual(
      tagged(out, "ABORTED").map(Number),
      Array.from({ length: N / 2 }, (_, i) => 2 * i + 1),
    );
    const read = ok(
      await javaRun("TxnJava", ["read", target.bootstrap, "read_committed,read_uncommitted", "30000", t], {
        timeoutMs: 60_000,
      }),
      "read",
    );
    const recs = records(read);
    const committed = Array.from({ length: N }, (_, n) => (n % 2 === 0 ? txnValues(txnId, n, PER) : []))
      .flat()
      .sort();
    const all = Array.from({ length: N }, (_, n) => txnValues(txnId, n, PER))
      .flat()
      .sort();
    assert.deepEqual(valuesOf(recs, "read_committed", t), committed, "read_committed: the committed records, once");
    assert.deepEqual(valuesOf(recs, "read_uncommitted", t), all, "read_uncommitted: every record, once");
    // Each partition holds N * PER / PARTITIONS records and one marker per transaction; nothing is open.
    const perPartition = (N * PER) / PARTITIONS + N;
    const expected = Object.fromEntries(Array.from({ length: PARTITIONS }, (_, p) => [`${t}/${p}`, perPartition]));
    assert.deepEqual(ends(read, "read_committed"), expected, "last stable offsets");
    assert.deepEqual(ends(read, "read_uncommitted"), expected, "high watermarks");
    // In each partition the records come in the order of their transactions.
    for (const iso of ["read_committed", "read_uncommitted"]) {
      for (let p = 0; p < PARTITIONS; p++) {
        const inP = recs.filter((r) => r.isolation === iso && r.partition === p);
        const order = inP.map((r) => Number(r.value.split(":")[1]) * 1000 + Number(r.value.split(":")[2]));
        assert.deepEqual(
          order,
          [...order].sort((a, b) => a - b),
          `${iso} partition ${p} in order`,
        );
        assert.ok(
          inP.every((r) => Number(r.value.split(":")[2]) % PARTITIONS === p),
          `records in their partitions`,
        );
      }
    }
  }

  test("alternating commit and abort: read_committed sees the committed records once, read_uncommitted all", async () => {
    await alternate(topic("alt"), `txj-alt-${suffix}`);
  });

  test("TransactionalMessageCopier --group-mode --use-group-metadata --enable-random-aborts copies exactly once", async () => {
    const input = topic("copy-in");
    const output = topic("copy-out");
    const group = `txj-copier-${suffix}`;
    const COUNT = 600;
    const lines = Array.from({ length: COUNT }, (_, i) => `ck${i}\tcv${i}\t${i % PARTITIONS}`).join("\n") + "\n";
    const produced = ok(
      await javaRun("TxnJava", ["lines", target.bootstrap, input], { input: lines, timeoutMs: 60_000 }),
      "lines",
    );
    assert.deepEqual(tagged(produced, "PRODUCED"), [String(COUNT)]);
    const copier = await javaRun(
      "org.apache.kafka.tools.TransactionalMessageCopier",
      [
        "--broker-list",
        target.bootstrap,
        "--input-topic",
        input,
        "--input-partition",
        "0",
        "--output-topic",
        output,
        "--transactional-id",
        `txj-copier-${suffix}`,
        "--consumer-group",
        group,
        "--transaction-size",
        "40",
        "--max-messages",
        String(COUNT),
        "--group-mode",
        "--use-group-metadata",
        "--enable-random-aborts",
      ],
      { timeoutMs: 90_000 },
    );
    const status = ok(copier, "TransactionalMessageCopier")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = status.filter((s) => s.stage === "ShutdownComplete").at(-1);
    assert.ok(last !== undefined, copier.stdout.slice(-2000));
    assert.equal(last.totalProcessed, COUNT, JSON.stringify(last));
    assert.equal(last.remaining, 0, JSON.stringify(last));

    const read = ok(
      await javaRun("TxnJava", ["read", target.bootstrap, "read_committed", "30000", output], { timeoutMs: 60_000 }),
      "read",
    );
    // The copier keeps each record's partition, key and value.
    const copied = records(read)
      .map((r) => `${r.partition} ${r.key} ${r.value}`)
      .sort();
    const expected = Array.from({ length: COUNT }, (_, i) => `${i % PARTITIONS} ck${i} cv${i}`).sort();
    assert.deepEqual(copied, expected, "read_committed copy: every input record exactly once");

    const offsets = tagged(
      ok(await javaRun("TxnJava", ["offsets", target.bootstrap, group], { timeoutMs: 60_000 }), "offsets"),
      "OFFSET",
    ).sort();
    assert.deepEqual(
      offsets,
      Array.from({ length: PARTITIONS }, (_, p) => `${input} ${p} ${COUNT / PARTITIONS}`),
      "the group's committed offsets are at the input's end",
    );
  });

  /** A second producer with the same transactional.id fences the first; the second one commits. */
  async function fence(t: string, txnId: string, ctx: { diagnostic(m: string): void }): Promise<void> {
    const out = ok(await javaRun("TxnJava", ["fence", target.bootstrap, txnId, t], { timeoutMs: 90_000 }), "fence");
    assert.match(out, /^FIRST_SENT$/m);
    assert.match(out, /^SECOND_INITIALIZED$/m);
    assert.doesNotMatch(out, /^FIRST_COMMITTED$/m, "the fenced producer must not commit");
    const errors = [...tagged(out, "FIRST_SEND_ERROR"), ...tagged(out, "FIRST_COMMIT_ERROR")].join("\n");
    assert.match(errors, /ProducerFencedException|InvalidProducerEpochException/, out);
    ctx.diagnostic(`fenced producer: ${errors.replace(/\n/g, " | ")}`);
    assert.match(out, /^SECOND_COMMITTED$/m);
    const read = ok(
      await javaRun("TxnJava", ["read", target.bootstrap, "read_committed,read_uncommitted", "30000", t], {
        timeoutMs: 60_000,
      }),
      "read",
    );
    const recs = records(read);
    assert.deepEqual(valuesOf(recs, "read_committed", t), ["second-1"], "only the second producer's record");
    assert.deepEqual(valuesOf(recs, "read_uncommitted", t), ["first-1", "second-1"], "the fenced record was written");
  }

  test("a second producer with the same transactional.id fences the first", async (t) => {
    await fence(topic("fence"), `txj-fence-${suffix}`, t);
  });

  test("transaction.timeout.ms above transaction.max.timeout.ms: InvalidTxnTimeoutException", async () => {
    const out = ok(
      await javaRun("TxnJava", ["timeout", target.bootstrap, `txj-timeout-${suffix}`, "300001"], { timeoutMs: 60_000 }),
      "timeout",
    );
    // INVALID_TRANSACTION_TIMEOUT: the Java 4.4 client reports it as a KafkaException with that error's message.
    assert.match(
      tagged(out, "ERROR").join("\n"),
      /InvalidTxnTimeoutException|The transaction timeout is larger than the maximum value allowed by the broker/,
      out,
    );
    assert.doesNotMatch(out, /^INITIALIZED$/m);
  });

  /**
   * A transaction left open past its transaction.timeout.ms is aborted by the coordinator, and its producer's
   * commit then fails: Apache Kafka 4.4 answers EndTxn with INVALID_TXN_STATE under transactions v2 (the abort
   * bumped the epoch, so the commit is taken for a retry of an end that was an abort) and PRODUCER_FENCED
   * under v1.
   */
  async function expire(
    tp: string,
    txnId: string,
    expected: RegExp,
    ctx: { diagnostic(m: string): void },
  ): Promise<void> {
    const out = ok(
      await javaRun("TxnJava", ["expire", target.bootstrap, txnId, tp, "2000", "5000"], { timeoutMs: 60_000 }),
      "expire",
    );
    assert.match(out, /^SENT$/m);
    assert.doesNotMatch(out, /^COMMITTED$/m, "the commit of a transaction the coordinator aborted must fail");
    ctx.diagnostic(`commit after the timeout: ${tagged(out, "COMMIT_ERROR").join(" ")}`);
    assert.match(tagged(out, "COMMIT_ERROR").join("\n"), expected, out);
    const read = ok(
      await javaRun("TxnJava", ["read", target.bootstrap, "read_committed,read_uncommitted", "30000", tp], {
        timeoutMs: 60_000,
      }),
      "read",
    );
    const recs = records(read);
    assert.deepEqual(valuesOf(recs, "read_committed", tp), []);
    assert.deepEqual(valuesOf(recs, "read_uncommitted", tp), ["expired-1"]);
    // The abort marker ends the transaction: the last stable offset is the log's end.
    assert.deepEqual(ends(read, "read_committed"), { [`${tp}/0`]: 2 });
    assert.deepEqual(ends(read, "read_uncommitted"), { [`${tp}/0`]: 2 });
  }

  test("a transaction open past its transaction.timeout.ms is aborted by the coordinator", async (t) => {
    await expire(topic("expire"), `txj-expire-${suffix}`, /^InvalidTxnStateException /, t);
  });

  test("kill -9 of the broker during a stream of transactions: committed ones exactly once, no aborted or half one", async (tc) => {
    const t = topic("crash");
    const N = 150;
    const PER = 6;
    const producer = watch(
      javaSpawn("TxnJava", [
        "stream",
        target.bootstrap,
        `txj-crash-${suffix}`,
        t,
        String(PARTITIONS),
        String(N),
        String(PER),
        "150000",
      ]),
      180_000,
    );
    let killedAt = -1;
    try {
      await waitFor("20 committed transactions", () => tagged(producer.stdout(), "COMMITTED").length >= 20, 90_000);
      await target.kill9();
      killedAt = Math.max(...tagged(producer.stdout(), "BEGIN").map(Number));
      await new Promise((r) => setTimeout(r, 500));
      await target.restart();
      const code = await producer.exited;
      assert.equal(code, 0, `${producer.stdout().slice(-3000)}\n${producer.stderr().slice(-3000)}`);
    } finally {
      producer.kill();
    }
    const out = producer.stdout();
    assert.match(out, /^DONE$/m, out.slice(-2000));
    const committed = new Set(tagged(out, "COMMITTED").map(Number));
    const aborted = new Set(tagged(out, "ABORTED").map(Number));
    const failed = new Set(tagged(out, "FAILED").map((l) => Number(l.split(" ")[0])));
    const begun = new Set(tagged(out, "BEGIN").map(Number));
    assert.ok(
      [...committed].some((n) => n > killedAt),
      `transactions committed after the restart (killed at ${killedAt})`,
    );

    const read = ok(
      await javaRun("TxnJava", ["read", target.bootstrap, "read_committed", "30000", t], { timeoutMs: 60_000 }),
      "read",
    );
    const byTxn = new Map<number, string[]>();
    for (const r of records(read)) {
      const n = Number(r.value.split(":")[1]);
      byTxn.set(n, [...(byTxn.get(n) ?? []), r.value]);
    }
    const problems: string[] = [];
    for (const [n, values] of byTxn) {
      const whole = JSON.stringify([...values].sort()) === JSON.stringify(txnValues("s", n, PER).sort());
      if (aborted.has(n)) problems.push(`aborted transaction ${n} is visible: ${values.join(",")}`);
      else if (!begun.has(n)) problems.push(`transaction ${n} was never begun but is visible`);
      else if (!whole) problems.push(`transaction ${n} is not whole or not once: ${values.sort().join(",")}`);
    }
    for (const n of committed) if (!byTxn.has(n)) problems.push(`committed transaction ${n} is missing`);
    assert.deepEqual(
      problems,
      [],
      `killed at transaction ${killedAt}; failed: ${[...failed].join(",")}\n${out.slice(-2000)}`,
    );
    tc.diagnostic(
      `killed during transaction ${killedAt}; ${committed.size} committed, ${aborted.size} aborted, failed: ` +
        `${tagged(out, "FAILED").join(" | ").slice(0, 400) || "none"}; commit retries: ${tagged(out, "COMMIT_RETRY").length}`,
    );
  });

  test("transaction.version=1 set with kafka-features: commit/abort, fencing and the timeout with transactions v1", async (t) => {
    const set = await javaRun(
      "org.apache.kafka.tools.FeatureCommand",
      ["--bootstrap-server", target.bootstrap, "downgrade", "--feature", "transaction.version=1"],
      { timeoutMs: 60_000 },
    );
    ok(set, "kafka-features downgrade");
    const described = ok(
      await javaRun("org.apache.kafka.tools.FeatureCommand", ["--bootstrap-server", target.bootstrap, "describe"], {
        timeoutMs: 60_000,
      }),
      "kafka-features describe",
    );
    assert.match(
      described,
      /Feature: transaction\.version\s+SupportedMinVersion: 0\s+SupportedMaxVersion: 2\s+FinalizedVersionLevel: 1\b/,
      described,
    );
    await alternate(topic("alt-tv1"), `txj-alt-tv1-${suffix}`);
    await fence(topic("fence-tv1"), `txj-fence-tv1-${suffix}`, t);
    await expire(topic("expire-tv1"), `txj-expire-tv1-${suffix}`, /^ProducerFencedException /, t);
  });
});
