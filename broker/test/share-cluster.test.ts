import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { delimiter, join } from "node:path";
import {
  ApiKey,
  createDeleteShareGroupStateRequest,
  createFindCoordinatorRequest,
  createInitializeShareGroupStateRequest,
  createReadShareGroupStateRequest,
  createReadShareGroupStateSummaryRequest,
  createWriteShareGroupStateRequest,
} from "@tskafka/protocol";
import { EtcdClusterMetadata } from "../src/cluster/etcd-metadata.js";
import { ErrorCode } from "../src/errors.js";
import { javaStringHashCode } from "../src/group/java-hash.js";
import { KAFKA44_LIB, KAFKA44_REQUIREMENT, compileJava, haveKafka44, log4j2 } from "./clients/java/kafka44.js";
import { tagged, watch, type Watched } from "./clients/txn-target.js";
import { RawClient } from "./clients/raw-client.js";
import { haveCommand, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { startTestEtcd, type EtcdHandle } from "./etcd-fixture.js";

/**
 * Share groups across brokers (issue 16): etcd and three brokers as processes, a topic of three partitions
 * on all three, and Kafka 4.4's KafkaShareConsumer (clients/java/ShareWork.java, explicit acknowledgement).
 * A share-partition's state lives with its share coordinator, the leader of the `__share_group_state`
 * partition its key hashes to, and the partition's leader reads and writes it there
 * (Initialize/Read/WriteShareGroupState over the inter-broker connection when that is another broker).
 * - A consumer accepts part of the topic, another holds records it never acknowledges; the leader of most
 *   partitions is killed with -9 (and the holder with it). On the new leaders no record accepted before is
 *   delivered again and the held ones are; then the broker restarts, the share coordinator of a
 *   share-partition is killed, and again nothing accepted is delivered again and everything is accepted
 *   in the end.
 * - The five share coordinator APIs at the wire: FindCoordinator key type 2, NOT_COORDINATOR away from the
 *   coordinator, INVALID_REQUEST for a share-partition without state, FENCED_LEADER_EPOCH and
 *   FENCED_STATE_EPOCH, the summary, the delete: Kafka 4.4's answers, as
 *   scripts/kafka/share-coordinator-probe.ts shows them on one node of each.
 */

const skip =
  skipUnless(haveCommand("etcd"), "etcd (Debian's etcd-server) on PATH") ??
  skipUnless(haveKafka44(), KAFKA44_REQUIREMENT);

const STATE_TOPIC = "__share_group_state";
const STATE_PARTITIONS = 3;
const RECORDS = 3000;

let etcd: EtcdHandle;
let observer: EtcdClusterMetadata;
const brokers = new Map<number, BrokerProcess>();
const dataDirs = new Map<number, string>();
const started: BrokerProcess[] = [];
const javas: Watched[] = [];

async function start(nodeId: number): Promise<void> {
  const dataDir = dataDirs.get(nodeId);
  const port = brokers.get(nodeId)?.port;
  const b = await startBroker({
    ...(dataDir !== undefined ? { dataDir } : {}),
    ...(port !== undefined ? { port } : {}),
    logLevel: "warn",
    // Three brokers and etcd start at once on a machine that may be busy.
    timeoutMs: 60_000,
    properties: {
      "node.id": nodeId,
      "etcd.endpoints": etcd.endpoint,
      "broker.session.timeout.ms": 2000,
      "replica.lag.time.max.ms": 1500,
      "replica.fetch.wait.max.ms": 200,
      "replica.fetch.backoff.ms": 100,
      "offsets.topic.num.partitions": 3,
      "transaction.state.log.num.partitions": 3,
      "share.coordinator.state.topic.num.partitions": STATE_PARTITIONS,
      "group.share.record.lock.duration.ms": 3000,
      "group.share.min.record.lock.duration.ms": 1000,
      "group.share.session.timeout.ms": 6000,
      "group.share.heartbeat.interval.ms": 1000,
      "share.coordinator.snapshot.update.records.per.snapshot": 10,
    },
  });
  dataDirs.set(nodeId, b.dataDir);
  brokers.set(nodeId, b);
  started.push(b);
}

const bootstrap = (): string => [...brokers.values()].map((b) => b.bootstrap).join(",");

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
  const w = watch(child, 120_000);
  javas.push(w);
  return w;
}

async function runShareWork(args: readonly string[]): Promise<string> {
  const w = shareWork(args);
  const code = await w.exited;
  assert.equal(code, 0, `ShareWork ${args.join(" ")} exited ${code}:\n${w.stderr().slice(-3000)}`);
  return w.stdout();
}

interface Delivery {
  tag: string;
  partition: number;
  offset: number;
  count: number;
  value: string;
}

function deliveries(out: string): Delivery[] {
  const all: Delivery[] = [];
  for (const line of out.split("\n")) {
    const [tag, , partition, offset, count, value] = line.split(" ");
    if (tag === undefined || !/^(ACK|REL|REJ)\??$/.test(tag)) continue;
    all.push({ tag, partition: Number(partition), offset: Number(offset), count: Number(count), value: value! });
  }
  return all;
}

/** The values ShareWork's setup produces that a consumer accepts in the end (not rejected, not poison). */
function acceptable(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 1000 === 13 || i % 500 === 11) continue;
    out.push(i % 500 === 7 ? `release-${i}` : `v-${i}`);
  }
  return out;
}

/** The broker leading most of `topic`'s partitions. */
function busiestLeader(topic: string): number {
  const counts = new Map<number, number>();
  for (const s of observer.partitionStates(topic)!) counts.set(s.leader, (counts.get(s.leader) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
}

/** The `__share_group_state` partition of a share-partition: Java hash of "group:topicId:partition". */
function statePartition(group: string, topicId: string, partition: number): number {
  const h = javaStringHashCode(`${group}:${topicId}:${partition}`);
  return (h === -2147483648 ? 0 : Math.abs(h)) % STATE_PARTITIONS;
}

function stateLeader(group: string, topicId: string, partition: number): number {
  return observer.partitionStates(STATE_TOPIC)![statePartition(group, topicId, partition)]!.leader;
}

async function killAndWait(victim: number, topics: readonly string[]): Promise<void> {
  await brokers.get(victim)!.kill9();
  await waitFor(
    `new leaders without broker ${victim}`,
    () => topics.every((t) => observer.partitionStates(t)!.every((s) => s.leader >= 0 && s.leader !== victim)),
    20_000,
  );
}

async function withClient<T>(nodeId: number, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(brokers.get(nodeId)!.port);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

describe("share groups across brokers (etcd, three brokers, KafkaShareConsumer 4.4)", { skip }, () => {
  before(async () => {
    etcd = await startTestEtcd();
    observer = await EtcdClusterMetadata.open({ endpoints: [etcd.endpoint], nodeId: 99, prefix: "/tskafka/" });
    await Promise.all([1, 2, 3].map((id) => start(id)));
    await waitFor("three brokers registered", () => observer.brokers().length === 3, 15_000);
  });

  after(async () => {
    for (const j of javas) j.kill();
    await Promise.all(javas.map((j) => j.exited));
    for (const b of started) await b.kill9();
    for (const b of started) await b.cleanup();
    await observer?.close();
    await etcd?.close();
  });

  test("acknowledged records are not delivered again after the leader or the share coordinator dies; unacknowledged ones are", async () => {
    const [topic, group] = ["share-cl", "sg-cl"];
    const setup = await runShareWork(["setup", bootstrap(), topic, group, "3", String(RECORDS), "3"]);
    assert.match(setup, new RegExp(`PRODUCED ${RECORDS}`));
    const expected = acceptable(RECORDS);
    const confirmed = new Set<string>();
    const everAccepted = new Set<string>();
    /** A phase's deliveries: none of a record accepted (and confirmed) in an earlier phase. */
    const phase = (out: string, what: string): Delivery[] => {
      const all = deliveries(out);
      const again = all.filter((d) => confirmed.has(d.value));
      assert.deepEqual(again.slice(0, 5), [], `${what}: ${again.length} deliveries of records accepted before`);
      for (const d of all) if (d.tag === "ACK") confirmed.add(d.value);
      for (const d of all) if (d.tag.startsWith("ACK")) everAccepted.add(d.value);
      return all;
    };
    const hold = async (): Promise<{ w: Watched; held: string[] }> => {
      const w = shareWork(["hold", bootstrap(), topic, group]);
      await waitFor("the holder to get records", () => w.stdout().includes("HOLDING"), 60_000);
      const held = tagged(w.stdout(), "HELD").map((l) => l.split(" ")[2]!);
      assert.ok(held.length > 0);
      return { w, held };
    };

    // 1. Part of the topic accepted, more held; then the leader of most partitions dies with the holder.
    phase(await runShareWork(["take", bootstrap(), topic, group, "250", "60000"]), "first consumer");
    assert.ok(confirmed.size >= 250, `accepted ${confirmed.size}`);
    const first = await hold();
    const victim = busiestLeader(topic);
    await killAndWait(victim, [topic, STATE_TOPIC]);
    first.w.kill();
    await first.w.exited;

    // 2. On the new leaders: nothing accepted comes again, the held records do.
    const second = phase(
      await runShareWork(["take", bootstrap(), topic, group, "250", "60000"]),
      "after the leader died",
    );
    assert.ok(second.length > 0, "records delivered after the failover");
    const heldFirst = first.held.filter((v) => v.startsWith("v-") || v.startsWith("release-"));

    // 3. The broker back; the share coordinator of partition 0's share-partition dies with another holder.
    await start(victim);
    await waitFor(
      `broker ${victim} back in every ISR`,
      () => [topic, STATE_TOPIC].every((t) => observer.partitionStates(t)!.every((s) => s.isr.includes(victim))),
      30_000,
    );
    const topicId = observer.topic(topic)!.id;
    const second2 = await hold();
    const coordinator = stateLeader(group, topicId, 0);
    await killAndWait(coordinator, [topic, STATE_TOPIC]);
    second2.w.kill();
    await second2.w.exited;

    // 4. The rest: everything accepted in the end, nothing accepted twice.
    const left = expected.filter((v) => !confirmed.has(v)).length;
    const last = phase(
      await runShareWork(["consume", bootstrap(), topic, group, "2", String(left), "60000"]),
      "after the share coordinator died",
    );
    // What the holders had (acquired, never acknowledged) when a broker died came again afterwards.
    const after1 = new Set([...second, ...last].map((d) => d.value));
    const after2 = new Set(last.map((d) => d.value));
    const notAgain1 = heldFirst.filter((v) => !after1.has(v));
    assert.deepEqual(
      notAgain1.slice(0, 5),
      [],
      `${notAgain1.length} records held at the leader's death not delivered again`,
    );
    const held2 = second2.held.filter((v) => v.startsWith("v-") || v.startsWith("release-"));
    const notAgain2 = held2.filter((v) => !after2.has(v));
    assert.deepEqual(
      notAgain2.slice(0, 5),
      [],
      `${notAgain2.length} records held at the coordinator's death not delivered again`,
    );
    const missing = expected.filter((v) => !everAccepted.has(v));
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} records never accepted`);
  });

  test("the share coordinator's APIs at the wire", async () => {
    const topicId = observer.topic("share-cl")?.id;
    assert.ok(topicId !== undefined);
    const group = "raw-g";
    const key = `${group}:${topicId}:1`;
    const live = [...brokers.keys()].filter((id) => {
      const p = brokers.get(id)!.process;
      return p.exitCode === null && p.signalCode === null;
    });
    const asker = live[0]!;
    const found = await withClient(asker, (c) =>
      c.request(
        ApiKey.FindCoordinator,
        6,
        createFindCoordinatorRequest({ keyType: 2, coordinatorKeys: [key, "no-colons"] }),
      ),
    );
    const coordinator = stateLeader(group, topicId, 1);
    assert.equal(found.coordinators[0]!.errorCode, ErrorCode.NONE);
    assert.equal(found.coordinators[0]!.nodeId, coordinator);
    assert.equal(found.coordinators[1]!.errorCode, ErrorCode.INVALID_REQUEST);

    const read = (nodeId: number, partition: number, leaderEpoch: number) =>
      withClient(nodeId, (c) =>
        c.request(
          ApiKey.ReadShareGroupState,
          0,
          createReadShareGroupStateRequest({
            groupId: group,
            topics: [{ topicId, partitions: [{ partition, leaderEpoch }] }],
          }),
        ),
      ).then((r) => r.results[0]!.partitions[0]!);
    const write = (leaderEpoch: number, stateEpoch: number) =>
      withClient(coordinator, (c) =>
        c.request(
          ApiKey.WriteShareGroupState,
          1,
          createWriteShareGroupStateRequest({
            groupId: group,
            topics: [
              {
                topicId,
                partitions: [
                  {
                    partition: 1,
                    stateEpoch,
                    leaderEpoch,
                    startOffset: 12n,
                    deliveryCompleteCount: -1,
                    stateBatches: [{ firstOffset: 12n, lastOffset: 14n, deliveryState: 2, deliveryCount: 1 }],
                  },
                ],
              },
            ],
          }),
        ),
      ).then((r) => r.results[0]!.partitions[0]!.errorCode);
    const initialize = (stateEpoch: number, startOffset: bigint) =>
      withClient(coordinator, (c) =>
        c.request(
          ApiKey.InitializeShareGroupState,
          0,
          createInitializeShareGroupStateRequest({
            groupId: group,
            topics: [{ topicId, partitions: [{ partition: 1, stateEpoch, startOffset }] }],
          }),
        ),
      ).then((r) => r.results[0]!.partitions[0]!.errorCode);
    const summary = () =>
      withClient(coordinator, (c) =>
        c.request(
          ApiKey.ReadShareGroupStateSummary,
          1,
          createReadShareGroupStateSummaryRequest({
            groupId: group,
            topics: [{ topicId, partitions: [{ partition: 1, leaderEpoch: 0 }] }],
          }),
        ),
      ).then((r) => r.results[0]!.partitions[0]!);

    const other = live.find((id) => id !== coordinator)!;
    assert.equal((await read(other, 1, 0)).errorCode, ErrorCode.NOT_COORDINATOR, "away from the coordinator");
    assert.equal((await read(coordinator, 1, 0)).errorCode, ErrorCode.INVALID_REQUEST, "no state yet");
    assert.equal((await read(coordinator, 1, -1)).errorCode, ErrorCode.INVALID_REQUEST, "a negative leader epoch");
    assert.equal(await write(0, 0), ErrorCode.INVALID_REQUEST, "a write before the state is initialized");
    assert.equal((await summary()).startOffset, -1n, "the summary of no state");

    assert.equal(await initialize(0, 10n), ErrorCode.NONE);
    const r = await read(coordinator, 1, 3);
    assert.deepEqual([r.errorCode, r.startOffset, r.stateEpoch, r.stateBatches], [ErrorCode.NONE, 10n, 0, []]);
    assert.equal(await write(2, 0), ErrorCode.FENCED_LEADER_EPOCH, "a write of a leader before the last reader");
    assert.equal((await read(coordinator, 1, 2)).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
    assert.equal(await write(3, 0), ErrorCode.NONE);
    const s = await summary();
    // The count is the leader's, written with the state (this write sent none: -1).
    assert.deepEqual(
      [s.errorCode, s.startOffset, s.leaderEpoch, s.deliveryCompleteCount],
      [ErrorCode.NONE, 12n, 3, -1],
    );
    const after = await read(coordinator, 1, 3);
    assert.deepEqual(
      after.stateBatches.map((b) => [b.firstOffset, b.lastOffset, b.deliveryState, b.deliveryCount]),
      [[12n, 14n, 2, 1]],
    );

    assert.equal(await initialize(1, 20n), ErrorCode.NONE, "offsets reset: the next state epoch");
    assert.equal(await initialize(0, 20n), ErrorCode.FENCED_STATE_EPOCH);
    assert.equal(await write(3, 0), ErrorCode.FENCED_STATE_EPOCH, "a leader of the state before the reset");
    assert.equal((await summary()).startOffset, 20n);

    // Partition 7 of a 3-partition topic, asked of the coordinator of its key.
    const unknownPartition = await withClient(stateLeader(group, topicId, 7), (c) =>
      c.request(
        ApiKey.ReadShareGroupStateSummary,
        1,
        createReadShareGroupStateSummaryRequest({
          groupId: group,
          topics: [{ topicId, partitions: [{ partition: 7, leaderEpoch: 0 }] }],
        }),
      ),
    );
    assert.equal(unknownPartition.results[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    const deleted = await withClient(coordinator, (c) =>
      c.request(
        ApiKey.DeleteShareGroupState,
        0,
        createDeleteShareGroupStateRequest({ groupId: group, topics: [{ topicId, partitions: [{ partition: 1 }] }] }),
      ),
    );
    assert.equal(deleted.results[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    assert.equal((await summary()).startOffset, -1n, "deleted");
    const empty = await withClient(coordinator, (c) =>
      c.request(ApiKey.DeleteShareGroupState, 0, createDeleteShareGroupStateRequest({ groupId: "", topics: [] })),
    );
    assert.deepEqual(empty.results, []);
  });
});
