import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { delimiter, join } from "node:path";
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

const SHARE_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ShareGroupCommand";

/**
 * Share groups (KIP-932) with Kafka 4.4's KafkaShareConsumer (clients/java/ShareWork.java), explicit
 * acknowledgement, over a 6-partition topic whose group config share.auto.offset.reset=earliest is set
 * with the Admin client before anyone joins:
 * - a consumer takes records and is killed (SIGKILL) holding them; then three consumers in the group take
 *   every record: each one accepted exactly once across them, a record released is delivered again
 *   (delivery count 2) and accepted, a rejected one is never delivered again, one released at every
 *   delivery is archived after group.share.delivery.count.limit (5) deliveries, and the killed consumer's
 *   records come back to the others once their lock (3 s) or its session (6 s) runs out; then
 *   `kafka-share-groups.sh --describe --offsets` shows every partition with lag 0, `--reset-offsets
 *   --to-earliest` puts them back at 0 with every record to deliver, `--delete-offsets` forgets them;
 * - implicit acknowledgement (the client's default): two consumers accept every record exactly once;
 * - the broker killed (SIGKILL) and restarted while three consumers work: no acknowledgement the broker
 *   confirmed is lost (no record accepted and confirmed twice) and every record is accepted in the end (or
 *   its acknowledgement was in flight at the crash).
 *
 * TSKAFKA_TXN_TARGET=kafka runs the same against Apache Kafka 4.4.0 (how the expectations were checked).
 */

const skip = skipUnless(haveKafka44(), KAFKA44_REQUIREMENT) ?? skipUnless(haveTarget(), TARGET_REQUIREMENT);

/** Kafka's names; each broker ignores the keys it does not know. Short locks and sessions keep it quick. */
const PROPERTIES = {
  "offsets.topic.num.partitions": 3,
  "share.coordinator.state.topic.num.partitions": 3,
  "share.coordinator.state.topic.replication.factor": 1,
  "share.coordinator.state.topic.min.isr": 1,
  "group.share.record.lock.duration.ms": 3000,
  "group.share.min.record.lock.duration.ms": 1000,
  "group.share.session.timeout.ms": 6000,
  "group.share.min.session.timeout.ms": 1000,
  "group.share.heartbeat.interval.ms": 1000,
  "group.share.min.heartbeat.interval.ms": 1000,
  "group.initial.rebalance.delay.ms": 0,
  // Snapshots often, so that a restart rebuilds state from snapshots and updates (and tskafka prunes).
  "share.coordinator.snapshot.update.records.per.snapshot": 10,
};

function shareWork(args: readonly string[]): Watched {
  const classes = compileJava(["ShareWork.java"]);
  const child = spawn(
    "java",
    [
      "-Xmx256m",
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      `-Dlog4j2.configurationFile=${log4j2()}`,
      "-cp",
      [classes, join(KAFKA44_LIB, "*")].join(delimiter),
      "ShareWork",
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  return watch(child, 90_000);
}

async function runShareWork(args: readonly string[]): Promise<string> {
  const w = shareWork(args);
  const code = await w.exited;
  assert.equal(code, 0, `ShareWork ${args.join(" ")} exited ${code}:\n${w.stderr().slice(-3000)}`);
  return w.stdout();
}

interface Delivery {
  tag: string;
  client: string;
  partition: number;
  offset: number;
  count: number;
  value: string;
}

function deliveries(out: string): Delivery[] {
  const all: Delivery[] = [];
  for (const line of out.split("\n")) {
    const [tag, client, partition, offset, count, value] = line.split(" ");
    if (tag === undefined || !/^(ACK|REL|REJ)\??$/.test(tag)) continue;
    all.push({
      tag,
      client: client!,
      partition: Number(partition),
      offset: Number(offset),
      count: Number(count),
      value: value!,
    });
  }
  return all;
}

/** The values of records 0..n-1 as ShareWork's setup produces them. */
function values(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    i % 1000 === 13 ? `poison-${i}` : i % 500 === 7 ? `release-${i}` : i % 500 === 11 ? `reject-${i}` : `v-${i}`,
  );
}

/** The rows of `kafka-share-groups.sh --describe --offsets` for one group and topic, split in columns. */
function offsetRows(stdout: string, group: string, topic: string): string[][] {
  return stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((cols) => cols[0] === group && cols[1] === topic);
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return m;
}

describe(`share groups with the Java 4.4 KafkaShareConsumer (${TARGET_KIND})`, { skip }, () => {
  let target: TxnTarget;

  before(async () => {
    target = await startTxnTarget(PROPERTIES);
  });
  after(async () => {
    await target?.cleanup();
  });

  test("three consumers share a topic: each record accepted once, released ones redelivered, rejected ones not, a killed consumer's records redelivered", async () => {
    const suffix = Date.now().toString(36);
    const [topic, group, n] = [`share-a-${suffix}`, `sg-a-${suffix}`, 3000];
    const setup = await runShareWork(["setup", target.bootstrap, topic, group, "6", String(n)]);
    assert.match(setup, /PRODUCED 3000/);

    const holder = shareWork(["hold", target.bootstrap, topic, group]);
    await waitFor("the holder to get records", () => holder.stdout().includes("HOLDING"), 45_000);
    holder.kill();
    await holder.exited;
    const held = tagged(holder.stdout(), "HELD").map((l) => l.split(" ")[2]!);
    assert.ok(held.length > 0);

    const expected = values(n).filter((v) => v.startsWith("v-") || v.startsWith("release-"));
    const out = await runShareWork(["consume", target.bootstrap, topic, group, "3", String(expected.length), "60000"]);
    const all = deliveries(out);
    assert.deepEqual(tagged(out, "ERROR"), [], "consumer errors");
    const accepted = all.filter((d) => d.tag === "ACK");
    const acceptedCount = countBy(accepted, (d) => d.value);
    const missing = expected.filter((v) => acceptedCount.get(v) !== 1);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} records not accepted exactly once`);
    assert.equal(accepted.length, expected.length, "no record accepted twice");
    // Shared, not taken by one: a consumer whose JVM starts late on a loaded machine may find no records left.
    assert.ok(new Set(accepted.map((d) => d.client)).size >= 2, "records accepted by more than one consumer");

    const rejected = all.filter((d) => d.value.startsWith("reject-"));
    // Each rejected record reaches the three once (the held ones a second time after the holder), then never again.
    assert.ok(rejected.every((d) => d.tag === "REJ"));
    assert.deepEqual([...countBy(rejected, (d) => d.value).values()], [1, 1, 1, 1, 1, 1]);

    const released = all.filter((d) => d.tag === "REL" && d.value.startsWith("release-"));
    assert.ok(released.length > 0, "some records were released");
    for (const r of released) {
      const again = accepted.find((d) => d.value === r.value);
      assert.equal(again?.count, 2, `${r.value} released, then delivered again with delivery count 2`);
    }
    // A record released at every delivery is delivered group.share.delivery.count.limit (5) times, then archived.
    const poison = all.filter((d) => d.value.startsWith("poison-"));
    for (const v of values(n).filter((x) => x.startsWith("poison-"))) {
      const counts = poison.filter((d) => d.value === v).map((d) => d.count);
      const expectedCounts = held.includes(v) ? [2, 3, 4, 5] : [1, 2, 3, 4, 5];
      assert.deepEqual(counts.sort(), expectedCounts, `${v}: delivered up to the delivery count limit, then archived`);
    }
    const byValue = new Map(accepted.map((d) => [d.value, d]));
    for (const v of held.filter((h) => h.startsWith("v-") || h.startsWith("release-")))
      assert.ok((byValue.get(v)?.count ?? 0) >= 2, `${v}, held by the killed consumer, delivered again`);

    // kafka-share-groups.sh: every partition started, nothing left to deliver.
    const described = await tool44(SHARE_GROUP_COMMAND, [
      "--bootstrap-server",
      target.bootstrap,
      "--describe",
      "--group",
      group,
      "--offsets",
    ]);
    const rows = offsetRows(described.stdout, group, topic);
    assert.equal(rows.length, 6, described.stdout);
    // Kafka moves the start offset it reports lazily (records done above it count as delivered): lag is the measure.
    assert.ok(
      rows.every((cols) => Number(cols[3]) >= 0 && cols[4] === "0"),
      described.stdout,
    );

    // --reset-offsets --to-earliest (the group is empty now): everything is to be delivered again.
    const reset = await tool44(SHARE_GROUP_COMMAND, [
      "--bootstrap-server",
      target.bootstrap,
      "--reset-offsets",
      "--group",
      group,
      "--topic",
      topic,
      "--to-earliest",
      "--execute",
    ]);
    assert.match(reset.stdout, new RegExp(`${group}\\s+${topic}\\s+0\\s+0`), reset.stdout);
    const afterReset = offsetRows(
      (
        await tool44(SHARE_GROUP_COMMAND, [
          "--bootstrap-server",
          target.bootstrap,
          "--describe",
          "--group",
          group,
          "--offsets",
        ])
      ).stdout,
      group,
      topic,
    );
    assert.deepEqual(
      afterReset.map((cols) => cols[3]),
      ["0", "0", "0", "0", "0", "0"],
    );
    assert.equal(
      afterReset.reduce((sum, cols) => sum + Number(cols[4]), 0),
      n,
      "lag: every record",
    );
    // --delete-offsets: the group forgets the topic.
    const deleted = await tool44(SHARE_GROUP_COMMAND, [
      "--bootstrap-server",
      target.bootstrap,
      "--delete-offsets",
      "--group",
      group,
      "--topic",
      topic,
    ]);
    assert.match(deleted.stdout, new RegExp(topic), deleted.stdout);
    const afterDelete = await tool44(SHARE_GROUP_COMMAND, [
      "--bootstrap-server",
      target.bootstrap,
      "--describe",
      "--group",
      group,
      "--offsets",
    ]);
    assert.deepEqual(offsetRows(afterDelete.stdout, group, topic), [], afterDelete.stdout);
  });

  test("implicit acknowledgement: two consumers accept every record once", async () => {
    const suffix = Date.now().toString(36);
    const [topic, group, n] = [`share-c-${suffix}`, `sg-c-${suffix}`, 1000];
    await runShareWork(["setup", target.bootstrap, topic, group, "6", String(n)]);
    const out = await runShareWork(["consume", target.bootstrap, topic, group, "2", String(n), "45000", "implicit"]);
    const accepted = deliveries(out).filter((d) => d.tag === "ACK");
    assert.deepEqual(
      [...countBy(accepted, (d) => d.value).values()].filter((c) => c !== 1),
      [],
      "no record delivered twice",
    );
    assert.deepEqual(new Set(accepted.map((d) => d.value)), new Set(values(n)));
    assert.ok(accepted.every((d) => d.count === 1));
  });

  test("the broker killed and restarted mid-run loses no confirmed acknowledgement", async () => {
    const suffix = Date.now().toString(36);
    const [topic, group, n] = [`share-b-${suffix}`, `sg-b-${suffix}`, 2000];
    await runShareWork(["setup", target.bootstrap, topic, group, "6", String(n)]);
    const expected = values(n).filter((v) => v.startsWith("v-") || v.startsWith("release-"));
    const consumers = shareWork(["consume", target.bootstrap, topic, group, "3", String(expected.length), "80000"]);
    const acks = () => deliveries(consumers.stdout()).filter((d) => d.tag === "ACK").length;
    await waitFor("300 acknowledgements", () => acks() >= 300, 45_000);
    await target.kill9();
    await target.restart();
    const code = await consumers.exited;
    const out = consumers.stdout();
    assert.equal(code, 0, `consumers exited ${code}:\n${consumers.stderr().slice(-3000)}`);
    const accepted = deliveries(out).filter((d) => d.tag === "ACK");
    const twice = [...countBy(accepted, (d) => d.value)].filter(([, c]) => c > 1).map(([v]) => v);
    assert.deepEqual(twice.slice(0, 10), [], `${twice.length} records accepted and confirmed twice`);
    // An acknowledgement the crash left unconfirmed may have been applied: then the record is not delivered again.
    const acceptedSet = new Set(
      deliveries(out)
        .filter((d) => d.tag.startsWith("ACK"))
        .map((d) => d.value),
    );
    const missing = expected.filter((v) => !acceptedSet.has(v));
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} records never accepted`);
    assert.ok(!accepted.some((d) => d.value.startsWith("reject-") || d.value.startsWith("poison-")));
  });
});
