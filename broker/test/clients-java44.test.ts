import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { skipUnless } from "./harness.js";
import {
  KAFKA44_REQUIREMENT,
  haveKafka44,
  program44,
  startTarget,
  tool44,
  tool44Result,
  toolBatch,
  unique,
  type Target,
  type ToolRun,
} from "./clients/java/kafka44.js";

/**
 * Apache Kafka 4.4's Java client and tools against the broker: the console producer and consumer,
 * kafka-topics, kafka-configs and kafka-consumer-groups, and consumer groups of our own program
 * (clients/java/GroupSplit.java): two members splitting the partitions with the classic protocol and
 * with KIP-848 (group.protocol=consumer), and regular-expression subscriptions under KIP-848.
 *
 * The expectations are Apache Kafka 4.4's: TSKAFKA_REFERENCE_BOOTSTRAP=host:port runs this file against
 * an outside broker instead, such as Apache Kafka 4.4.0 run from its jars (scripts/kafka/).
 */

const skip = skipUnless(haveKafka44(), KAFKA44_REQUIREMENT);

const TOPICS = "org.apache.kafka.tools.TopicCommand";
const CONFIGS = "org.apache.kafka.tools.ConfigCommand";
const FEATURES = "org.apache.kafka.tools.FeatureCommand";
const GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
const PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
const CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";

let target: Target;

before(async () => {
  if (skip !== undefined) return;
  target = await startTarget({
    properties: {
      "group.initial.rebalance.delay.ms": 0,
      "group.consumer.heartbeat.interval.ms": 500,
      "offsets.topic.num.partitions": 3,
    },
  });
});

after(async () => {
  await target?.cleanup();
});

const topics = (...args: string[]) =>
  tool44(TOPICS, ["--bootstrap-server", target.bootstrap, ...args], { timeoutMs: 40_000 });
const groups = (...args: string[]) =>
  tool44(GROUPS, ["--bootstrap-server", target.bootstrap, ...args], { timeoutMs: 40_000 });

/** A tool's run in a batch succeeded, and printed what `expected` matches. */
function ok(run: ToolRun, expected?: RegExp): void {
  assert.equal(run.code, 0, `${run.command}\n${run.out}`);
  if (expected !== undefined) assert.match(run.out, expected, run.command);
}

/** A tool's run in a batch failed, saying what `expected` matches. */
function failed(run: ToolRun, expected: RegExp): void {
  assert.notEqual(run.code, 0, `${run.command}\n${run.out}`);
  assert.match(run.out, expected, run.command);
}

/** What GroupSplit prints last: each member's assignment once stable, and what it consumed per partition. */
interface SplitResult {
  members: { assigned: string[]; consumed: Record<string, number> }[];
  distinct: number;
  duplicates: number;
}

interface SplitRun {
  code: number | null;
  result: SplitResult;
  /** Everything printed, for failure messages. */
  log: string;
}

async function groupSplit(args: Record<string, string | number>, timeoutMs = 60_000): Promise<SplitRun> {
  const r = await program44(
    "GroupSplit",
    Object.entries({ bootstrap: target.bootstrap, ...args }).map(([k, v]) => `${k}=${v}`),
    { timeoutMs },
  );
  const log = `${r.stdout.slice(-4000)}\n${r.stderr.slice(-3000)}`;
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line !== undefined, `GroupSplit printed no result (exit ${r.code}):\n${log}`);
  return { code: r.code, result: JSON.parse(line.slice("RESULT ".length)) as SplitResult, log };
}

/** Every record consumed exactly once, each member from the partitions it was assigned. */
function assertSplit(run: SplitRun, partitions: string[], perPartition: number): void {
  assert.equal(run.code, 0, run.log);
  const { members, distinct, duplicates } = run.result;
  assert.equal(distinct, partitions.length * perPartition, run.log);
  assert.equal(duplicates, 0, run.log);
  const assigned = members.flatMap((m) => m.assigned).sort();
  assert.deepEqual(
    assigned,
    [...partitions].sort(),
    `assignments cover the partitions once: ${JSON.stringify(members)}`,
  );
  for (const m of members) {
    assert.deepEqual(
      Object.keys(m.consumed).sort(),
      [...m.assigned].sort(),
      `a member consumes what it was assigned: ${JSON.stringify(m)}`,
    );
    for (const n of Object.values(m.consumed)) assert.equal(n, perPartition);
  }
}

/** kafka-consumer-groups --describe rows: topic, partition, current offset, log end offset, lag. */
function offsetRows(
  out: string,
  group: string,
): { topic: string; partition: number; current: string; end: string; lag: string }[] {
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0] === group && f.length >= 6 && /^\d+$/.test(f[2]!))
    .map((f) => ({ topic: f[1]!, partition: Number(f[2]), current: f[3]!, end: f[4]!, lag: f[5]! }));
}

describe("Kafka 4.4 tools", { skip, timeout: 120_000 }, () => {
  test(
    "console producer (keys, headers, zstd) and console consumer read everything back",
    { timeout: 60_000 },
    async () => {
      const topic = unique("j44-console");
      await topics("--create", "--topic", topic, "--partitions", "2");
      const lines = Array.from({ length: 40 }, (_, i) => `h${i % 3}:x${i}\tk${i}\tvalue-${i}`);
      await tool44(
        PRODUCER,
        [
          "--bootstrap-server",
          target.bootstrap,
          "--topic",
          topic,
          "--compression-codec",
          "zstd",
          "--reader-property",
          "parse.key=true",
          "--reader-property",
          "parse.headers=true",
          "--command-property",
          "linger.ms=5",
        ],
        { input: lines.join("\n") + "\n", timeoutMs: 40_000 },
      );
      const r = await tool44(
        CONSUMER,
        [
          "--bootstrap-server",
          target.bootstrap,
          "--topic",
          topic,
          "--from-beginning",
          "--max-messages",
          "40",
          "--timeout-ms",
          "20000",
          "--formatter-property",
          "print.key=true",
          "--formatter-property",
          "print.headers=true",
          "--formatter-property",
          "print.partition=true",
          "--command-property",
          "fetch.max.wait.ms=100",
        ],
        { timeoutMs: 40_000 },
      );
      // `Partition:P\theaders\tkey\tvalue`
      const got = r.stdout
        .split("\n")
        .filter((l) => l.startsWith("Partition:"))
        .map((l) => l.split("\t"));
      assert.equal(got.length, 40, r.stdout + r.stderr);
      const byKey = new Map(got.map(([, h, k, v]) => [k!, { headers: h!, value: v! }]));
      for (let i = 0; i < 40; i++) {
        const g = byKey.get(`k${i}`);
        assert.ok(g !== undefined, `k${i} missing`);
        assert.equal(g.value, `value-${i}`);
        assert.equal(g.headers, `h${i % 3}:x${i}`);
      }
      assert.deepEqual(
        new Set(got.map(([p]) => p)),
        new Set(["Partition:0", "Partition:1"]),
        "keys spread over both partitions",
      );
    },
  );

  test("kafka-topics: create, describe, list, alter, delete, and its errors", { timeout: 90_000 }, async () => {
    const topic = unique("j44-topics");
    const t = (...args: string[]) => [TOPICS, "--bootstrap-server", target.bootstrap, ...args];
    const [created, dup, described, altered, redescribed, listed, deleted, relisted, gone] = await toolBatch([
      t(
        "--create",
        "--topic",
        topic,
        "--partitions",
        "2",
        "--replication-factor",
        "1",
        "--config",
        "retention.ms=120000",
      ),
      t("--create", "--topic", topic, "--partitions", "2"),
      t("--describe", "--topic", topic),
      t("--alter", "--topic", topic, "--partitions", "3"),
      t("--describe", "--topic", topic),
      t("--list"),
      t("--delete", "--topic", topic),
      t("--list"),
      t("--describe", "--topic", topic),
    ]);
    ok(created!, new RegExp(`Created topic ${topic}\\.`));
    failed(dup!, new RegExp(`Topic '${topic}' already exists`));
    ok(
      described!,
      new RegExp(
        `Topic: ${topic}\\tTopicId: \\S{22}\\tPartitionCount: 2\\tReplicationFactor: 1\\tConfigs: .*retention.ms=120000`,
      ),
    );
    // Kafka 4 adds the eligible leader replicas columns.
    ok(
      described!,
      new RegExp(`Topic: ${topic}\\tPartition: 1\\tLeader: 1\\tReplicas: 1\\tIsr: 1\\tElr: \\tLastKnownElr: `),
    );
    ok(altered!);
    ok(redescribed!, /PartitionCount: 3/);
    ok(listed!);
    assert.ok(listed!.out.split("\n").includes(topic), listed!.out);
    ok(deleted!);
    ok(relisted!);
    assert.ok(!relisted!.out.split("\n").includes(topic), relisted!.out);
    failed(gone!, new RegExp(`Topic '${topic}' does not exist as expected`));
  });

  test(
    "kafka-configs: alter and describe topic configs and the brokers' dynamic defaults",
    { timeout: 90_000 },
    async () => {
      const topic = unique("j44-configs");
      const c = (...args: string[]) => [CONFIGS, "--bootstrap-server", target.bootstrap, ...args];
      const topicConfigs = (...args: string[]) => c("--entity-type", "topics", "--entity-name", topic, ...args);
      const defaults = (...args: string[]) => c("--entity-type", "brokers", "--entity-default", ...args);
      const runs = await toolBatch([
        [TOPICS, "--bootstrap-server", target.bootstrap, "--create", "--topic", topic, "--partitions", "1"],
        topicConfigs("--alter", "--add-config", "retention.ms=5000,cleanup.policy=[compact,delete]"),
        topicConfigs("--describe"),
        // An incremental delete leaves the other override in place.
        topicConfigs("--alter", "--delete-config", "cleanup.policy"),
        topicConfigs("--describe"),
        // All of a topic's configs, defaults included.
        topicConfigs("--describe", "--all"),
        topicConfigs("--alter", "--add-config", "retention.ms=soon"),
        // A cluster-wide dynamic default, then removed again.
        defaults("--alter", "--add-config", "log.retention.ms=3600000"),
        defaults("--describe"),
        defaults("--alter", "--delete-config", "log.retention.ms"),
        defaults("--describe"),
        c("--entity-type", "brokers", "--entity-name", "1", "--alter", "--add-config", "num.partitions=3"),
      ]);
      const [
        create,
        alter,
        describe1,
        del,
        describe2,
        all,
        bad,
        setDefault,
        describeDefault,
        unsetDefault,
        describeDefault2,
        fixed,
      ] = runs;
      ok(create!);
      ok(alter!, new RegExp(`Completed updating config for topic ${topic}\\.`));
      ok(describe1!, new RegExp(`Dynamic configs for topic ${topic} are:`));
      ok(
        describe1!,
        /^ {2}cleanup.policy=compact,delete sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete\}$/m,
      );
      ok(describe1!, /^ {2}retention.ms=5000 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:retention.ms=5000[,}]/m);
      ok(del!);
      ok(describe2!, /retention.ms=5000/);
      assert.doesNotMatch(describe2!.out, /cleanup.policy/);
      ok(all!, new RegExp(`All configs for topic ${topic} are:`));
      ok(all!, /^ {2}cleanup.policy=delete sensitive=false synonyms=\{DEFAULT_CONFIG:log.cleanup.policy=delete\}$/m);
      ok(
        all!,
        /^ {2}segment.bytes=1073741824 sensitive=false synonyms=\{DEFAULT_CONFIG:log.segment.bytes=1073741824\}$/m,
      );
      ok(all!, /^ {2}retention.ms=5000 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:retention.ms=5000[,}]/m);
      failed(bad!, /InvalidConfigurationException: Invalid value soon for configuration retention.ms/);
      ok(setDefault!, /Completed updating default config for brokers in the cluster\./);
      ok(
        describeDefault!,
        /^ {2}log.retention.ms=3600000 sensitive=false synonyms=\{DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000\}$/m,
      );
      ok(unsetDefault!);
      ok(describeDefault2!);
      assert.doesNotMatch(describeDefault2!.out, /log.retention.ms/);
      failed(fixed!, /InvalidRequestException: Cannot update these configs dynamically/);
    },
  );

  // kafka-features.sh: describe reads ApiVersions' supported and finalized features; upgrade and downgrade
  // send UpdateFeatures.
  test(
    "kafka-features: describe group.version, upgrade to its level, refuse a downgrade",
    { timeout: 60_000 },
    async () => {
      const f = (...args: string[]) => [FEATURES, "--bootstrap-server", target.bootstrap, ...args];
      const [describe, same, down] = await toolBatch([
        f("describe"),
        f("upgrade", "--feature", "group.version=1"),
        f("downgrade", "--feature", "group.version=0"),
      ]);
      ok(
        describe!,
        /^Feature: group\.version\s+SupportedMinVersion: [01]\s+SupportedMaxVersion: 1\s+FinalizedVersionLevel: 1\s/m,
      );
      ok(same!);
      failed(down!, /group\.version/);
    },
  );
});

describe("Kafka 4.4 consumer groups", { skip, timeout: 240_000 }, () => {
  // A topic of four partitions per protocol.
  const splitTopic = { classic: unique("j44-split-classic"), consumer: unique("j44-split-consumer") };
  before(async () => {
    if (skip !== undefined) return;
    await toolBatch(
      Object.values(splitTopic).map((t) => [
        TOPICS,
        "--bootstrap-server",
        target.bootstrap,
        "--create",
        "--topic",
        t,
        "--partitions",
        "4",
      ]),
    );
  });

  for (const protocol of ["classic", "consumer"] as const) {
    test(
      `group.protocol=${protocol}: two members split four partitions, consume each record once, commit`,
      { timeout: 90_000 },
      async () => {
        const topic = splitTopic[protocol];
        const run = await groupSplit({
          group: unique(`j44-${protocol}`),
          protocol,
          members: 2,
          subscribe: `topics:${topic}`,
          expect: `${topic}:4`,
          records: 25,
        });
        assertSplit(
          run,
          [0, 1, 2, 3].map((p) => `${topic}-${p}`),
          25,
        );
        for (const m of run.result.members)
          assert.equal(m.assigned.length, 2, `two partitions each: ${JSON.stringify(run.result.members)}`);
      },
    );
  }

  test(
    "kafka-consumer-groups: list with types and states, describe offsets, state and a live member",
    { timeout: 120_000 },
    async () => {
      const classic = unique("j44-classic");
      const consumer = unique("j44-consumer");
      const g = (...args: string[]) => [GROUPS, "--bootstrap-server", target.bootstrap, ...args];
      const [list, types, empty, offsetsClassic, offsetsConsumer, stateClassic, stateConsumer] = await toolBatch([
        g("--list"),
        g("--list", "--type"),
        g("--list", "--state", "Empty"),
        g("--describe", "--group", classic),
        g("--describe", "--group", consumer),
        g("--describe", "--group", classic, "--state"),
        g("--describe", "--group", consumer, "--state"),
      ]);
      ok(list!);
      const listed = list!.out.split("\n").map((l) => l.trim());
      assert.ok(listed.includes(classic) && listed.includes(consumer), list!.out);
      ok(types!, /^GROUP\s+TYPE\s*$/m);
      ok(types!, new RegExp(`^${classic}\\s+Classic\\s*$`, "m"));
      ok(types!, new RegExp(`^${consumer}\\s+Consumer\\s*$`, "m"));
      ok(empty!, /^GROUP\s+STATE\s*$/m);
      ok(empty!, new RegExp(`^${consumer}\\s+Empty\\s*$`, "m"));
      // Both groups committed everything they consumed: 25 records on each of the four partitions.
      for (const [group, topic, run] of [
        [classic, splitTopic.classic, offsetsClassic!],
        [consumer, splitTopic.consumer, offsetsConsumer!],
      ] as const) {
        ok(run, new RegExp(`Consumer group '${group}' has no active members\\.`));
        const rows = offsetRows(run.out, group);
        assert.deepEqual(
          rows.map((r) => [r.topic, r.partition, r.current, r.end, r.lag]),
          [0, 1, 2, 3].map((p) => [topic, p, "25", "25", "0"]),
          run.out,
        );
      }
      ok(stateClassic!, new RegExp(`^${classic}\\s+127\\.0\\.0\\.1:\\d+\\s+\\(1\\)\\s+-\\s+Empty\\s+0\\s*$`, "m"));
      ok(
        stateConsumer!,
        new RegExp(`^${consumer}\\s+127\\.0\\.0\\.1:\\d+\\s+\\(1\\)\\s+uniform\\s+Empty\\s+0\\s*$`, "m"),
      );

      // A live KIP-848 member (a console consumer that stays 8 s after its last record), described while it is
      // in the group: a few looks at it from one JVM, a second apart.
      const live = unique("j44-live");
      const consuming = tool44Result(
        CONSUMER,
        [
          "--bootstrap-server",
          target.bootstrap,
          "--topic",
          splitTopic.consumer,
          "--group",
          live,
          "--from-beginning",
          "--timeout-ms",
          "8000",
          "--command-property",
          "group.protocol=consumer",
          "--command-property",
          "client.id=j44-live-client",
        ],
        { timeoutMs: 60_000 },
      );
      const looks = await toolBatch(
        [1, 2, 3, 4, 5].flatMap(() => [["sleep", "1000"], g("--describe", "--group", live, "--members")]),
      );
      const seen = looks.filter((l) => !l.command.startsWith("sleep")).map((l) => l.out);
      const member = new RegExp(`^${live}\\s+\\S{22}\\s+/127\\.0\\.0\\.1\\s+j44-live-client\\s+4\\s*$`, "m");
      const found = seen.find((out) => member.test(out));
      assert.ok(found !== undefined, `the live member, with its four partitions:\n${seen.join("\n")}`);
      assert.match(found, /^GROUP\s+CONSUMER-ID\s+HOST\s+CLIENT-ID\s+#PARTITIONS\s*$/m);
      const done = await consuming;
      assert.equal(
        done.stdout.split("\n").filter((l) => l.length > 0).length,
        100,
        "the live member read all 100 records",
      );
      const after = await groups("--describe", "--group", live, "--state");
      assert.match(
        after.stdout,
        new RegExp(`^${live}\\s+127\\.0\\.0\\.1:\\d+\\s+\\(1\\)\\s+uniform\\s+Empty\\s+0\\s*$`, "m"),
      );
    },
  );
});

describe("Kafka 4.4 regular-expression subscriptions (group.protocol=consumer)", { skip, timeout: 240_000 }, () => {
  const prefix = unique("j44rx");
  before(async () => {
    if (skip !== undefined) return;
    const create = ([t, n]: readonly [string, number]) => [
      TOPICS,
      "--bootstrap-server",
      target.bootstrap,
      "--create",
      "--topic",
      t,
      "--partitions",
      String(n),
    ];
    for (const r of await toolBatch(
      (
        [
          [`${prefix}-a`, 2],
          [`${prefix}-b`, 2],
          [`${prefix}other`, 1],
        ] as const
      ).map(create),
    ))
      ok(r);
  });

  // subscribe(java.util.regex.Pattern): the 4.4 client matches the pattern against the topics in its
  // metadata and heartbeats the matching names (SubscribedTopicNames); a topic created later is picked up.
  test("subscribe(Pattern): the matching topics, then one created later", { timeout: 90_000 }, async () => {
    const run = await groupSplit(
      {
        group: unique("j44-rx-pattern"),
        protocol: "consumer",
        members: 1,
        subscribe: `pattern:${prefix}-.*`,
        expect: `${prefix}-a:2,${prefix}-b:2`,
        later: `${prefix}-c:1`,
        records: 10,
        timeoutMs: 30_000,
      },
      90_000,
    );
    assertSplit(run, [`${prefix}-a-0`, `${prefix}-a-1`, `${prefix}-b-0`, `${prefix}-b-1`, `${prefix}-c-0`], 10);
  });

  // Until a topic matches, the client joins with an empty SubscribedTopicNames list: Kafka accepts that (only
  // a null list and a null regex together are refused) and assigns nothing until the subscription changes.
  test(
    "subscribe(Pattern) that matches nothing yet: joins with no topics, consumes a topic created later",
    { timeout: 90_000 },
    async () => {
      const late = unique("j44late");
      const run = await groupSplit(
        {
          group: unique("j44-rx-late"),
          protocol: "consumer",
          members: 1,
          subscribe: `pattern:${late}-.*`,
          expect: "",
          later: `${late}-a:2`,
          records: 10,
          timeoutMs: 30_000,
        },
        90_000,
      );
      assertSplit(run, [`${late}-a-0`, `${late}-a-1`], 10);
    },
  );

  // subscribe(SubscriptionPattern): the regex itself goes to the broker (ConsumerGroupHeartbeat v1
  // SubscribedTopicRegex, RE2J syntax), which resolves it, assigns across the members, and re-resolves it
  // when topics are created.
  test(
    "subscribe(SubscriptionPattern): broker-side regex, two members, a topic created later",
    { timeout: 120_000 },
    async () => {
      const run = await groupSplit(
        {
          group: unique("j44-rx-broker"),
          protocol: "consumer",
          members: 2,
          subscribe: `re2j:${prefix}-[ab]|${prefix}-d`,
          expect: `${prefix}-a:2,${prefix}-b:2`,
          later: `${prefix}-d:2`,
          records: 10,
          timeoutMs: 45_000,
        },
        120_000,
      );
      assertSplit(
        run,
        [`${prefix}-a-0`, `${prefix}-a-1`, `${prefix}-b-0`, `${prefix}-b-1`, `${prefix}-d-0`, `${prefix}-d-1`],
        10,
      );
      for (const m of run.result.members)
        assert.ok(m.assigned.length > 0, `both members hold partitions: ${JSON.stringify(run.result.members)}`);
    },
  );
});
