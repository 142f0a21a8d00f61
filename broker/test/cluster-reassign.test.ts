import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ApiKey,
  createAlterPartitionReassignmentsRequest,
  createCreateTopicsRequest,
  createDeleteTopicsRequest,
  createListPartitionReassignmentsRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import kafkajs from "kafkajs";
import { EtcdClusterMetadata } from "../src/cluster/etcd-metadata.js";
import type { PartitionState } from "../src/cluster/metadata.js";
import { ErrorCode } from "../src/errors.js";
import { KAFKA44_REQUIREMENT, haveKafka44, tool44, tool44Result } from "./clients/java/kafka44.js";
import { RawClient } from "./clients/raw-client.js";
import { haveCommand, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { startTestEtcd, type EtcdHandle } from "./etcd-fixture.js";

const { Kafka, logLevel } = kafkajs;

/**
 * Partition reassignment between brokers (issue 16, KIP-455): etcd and three brokers as processes on
 * loopback. kafka-reassign-partitions.sh moves a partition from brokers {1,2} to {2,3} while a producer
 * writes to it: every acknowledged record is there after the move, the new replicas hold the same bytes,
 * and the old replica's log directory is gone. A reassignment held in progress (its new replica paused)
 * is listed with its adding and removing replicas, and cancelled back. Errors are Kafka's controller's.
 * A deleted topic's logs go from every broker.
 */

const HAVE_ETCD = haveCommand("etcd");
/** Long enough for a broker to stay registered while it is paused (a Java tool runs meanwhile). */
const SESSION_MS = 60_000;
let etcd: EtcdHandle;
let observer: EtcdClusterMetadata;
const brokers = new Map<number, BrokerProcess>();
const dataDirs: string[] = [];

async function withClient<T>(b: BrokerProcess, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(b.port);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

function bootstrap(): string {
  return [...brokers.values()].map((b) => b.bootstrap).join(",");
}

function state(topic: string, partition = 0): PartitionState {
  return observer.partitionStates(topic)![partition]!;
}

/** Whether a move to `replicas` has finished: "no reassignment" alone also holds before the observer saw it start. */
function movedTo(topic: string, replicas: number[]): boolean {
  const s = state(topic);
  return s.adding === undefined && s.replicas.join() === replicas.join();
}

async function createTopic(name: string, assignments: number[][]): Promise<void> {
  const res = await withClient(brokers.get(1)!, (c) =>
    c.request(
      ApiKey.CreateTopics,
      7,
      createCreateTopicsRequest({
        topics: [
          {
            name,
            numPartitions: -1,
            replicationFactor: -1,
            assignments: assignments.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
            configs: [],
          },
        ],
        timeoutMs: 10_000,
      }),
    ),
  );
  assert.equal(res.topics[0]!.errorCode, 0, res.topics[0]!.errorMessage ?? "");
  await waitFor(`${name}: every replica in sync`, () => {
    const s = observer.partitionStates(name);
    return s !== undefined && s.every((p) => p.isr.length === p.replicas.length);
  });
}

/** AlterPartitionReassignments from broker `via`: [errorCode, errorMessage] of each partition, in order. */
async function alter(
  via: number,
  topic: string,
  targets: (number[] | null)[],
  version = 0,
  allowReplicationFactorChange = true,
): Promise<[number, string | null][]> {
  const res = await withClient(brokers.get(via)!, (c) =>
    c.request(
      ApiKey.AlterPartitionReassignments,
      version,
      createAlterPartitionReassignmentsRequest({
        allowReplicationFactorChange,
        topics: [
          { name: topic, partitions: targets.map((replicas, partitionIndex) => ({ partitionIndex, replicas })) },
        ],
      }),
    ),
  );
  assert.equal(res.errorCode, 0);
  return res.responses[0]!.partitions.map((p) => [p.errorCode, p.errorMessage]);
}

async function list(via: number, topics: { name: string; partitionIndexes: number[] }[] | null) {
  const res = await withClient(brokers.get(via)!, (c) =>
    c.request(ApiKey.ListPartitionReassignments, 0, createListPartitionReassignmentsRequest({ topics })),
  );
  assert.equal(res.errorCode, 0);
  return res.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => [p.partitionIndex, p.replicas, p.addingReplicas, p.removingReplicas]),
  }));
}

/** The bytes of a partition's log on one broker, its segments in order. */
async function logBytes(nodeId: number, topic: string, partition = 0): Promise<Buffer> {
  const dir = join(brokers.get(nodeId)!.dataDir, `${topic}-${partition}`);
  const segments = (await readdir(dir)).filter((f) => f.endsWith(".log")).sort();
  return Buffer.concat(await Promise.all(segments.map((f) => readFile(join(dir, f)))));
}

/** Whether broker `nodeId` has no directory of the partition left (removed, or renamed for removal). */
async function noLogDir(nodeId: number, topic: string, partition = 0): Promise<boolean> {
  const names = await readdir(brokers.get(nodeId)!.dataDir);
  return !names.some((n) => n === `${topic}-${partition}` || n.startsWith(`${topic}-${partition}.`));
}

async function waitUntil(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts broker `nodeId`, again on its data and port when it ran before. */
async function start(nodeId: number): Promise<void> {
  const before = brokers.get(nodeId);
  const b = await startBroker({
    ...(before !== undefined ? { dataDir: before.dataDir, port: before.port } : {}),
    // The machine may be busy: a broker's start is not what this test measures.
    timeoutMs: 60_000,
    properties: {
      "node.id": nodeId,
      "etcd.endpoints": etcd.endpoint,
      "broker.session.timeout.ms": SESSION_MS,
      "replica.fetch.wait.max.ms": 200,
      "offsets.topic.num.partitions": 3,
      "transaction.state.log.num.partitions": 3,
    },
  });
  if (before === undefined) dataDirs.push(b.dataDir);
  brokers.set(nodeId, b);
}

describe(
  "partition reassignment: etcd and three brokers",
  { skip: skipUnless(HAVE_ETCD, "etcd"), timeout: 150_000 },
  () => {
    before(async () => {
      etcd = await startTestEtcd();
      observer = await EtcdClusterMetadata.open({ endpoints: [etcd.endpoint], nodeId: 99, prefix: "/tskafka/" });
      await Promise.all([1, 2, 3].map((nodeId) => start(nodeId)));
      await waitFor("three brokers registered", () => observer.brokers().length === 3, 30_000);
    });

    after(async () => {
      for (const b of brokers.values()) {
        if (b.process.signalCode === null && b.process.exitCode === null) b.process.kill("SIGCONT");
        await b.cleanup();
      }
      for (const d of dataDirs) await rm(d, { recursive: true, force: true });
      await observer?.close();
      await etcd?.close();
    });

    test("kafka-reassign-partitions.sh moves a partition from {1,2} to {2,3} under load: nothing lost, same bytes, old log gone", async (t) => {
      if (!haveKafka44()) return void t.skip(skipUnless(false, KAFKA44_REQUIREMENT));
      const topic = "moving";
      await createTopic(topic, [[1, 2]]);
      const before = state(topic);
      const kafka = new Kafka({ clientId: "mover", brokers: bootstrap().split(","), logLevel: logLevel.NOTHING });
      const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 20, initialRetryTime: 50 } });
      await producer.connect();
      const acked: string[] = [];
      const send = async (values: string[]) => {
        await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value, partition: 0 })) });
        acked.push(...values);
      };
      const payload = "x".repeat(200);
      for (let i = 0; i < 200; i++) await send(Array.from({ length: 25 }, (_, j) => `before-${i * 25 + j}-${payload}`));
      // The producer goes on writing while the partition moves.
      let writing = true;
      let sent = 0;
      const load = (async () => {
        while (writing) await send(Array.from({ length: 10 }, () => `during-${sent++}-${payload}`));
      })();

      const plan = join(brokers.get(1)!.dataDir, "..", `reassign-${process.pid}.json`);
      await writeFile(plan, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, replicas: [2, 3] }] }));
      try {
        const tool = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";
        const args = ["--bootstrap-server", bootstrap(), "--reassignment-json-file", plan];
        const executed = await tool44(tool, [...args, "--execute"], { timeoutMs: 60_000 });
        assert.match(executed.stdout, /Successfully started partition reassignment for moving-0\n/);
        assert.match(executed.stdout, /"replicas":\[1,2\]/, "the current assignment, for a rollback");
        await waitFor("the reassignment completed", () => movedTo(topic, [2, 3]), 60_000);
        const verified = await tool44(tool, [...args, "--verify"], { timeoutMs: 60_000 });
        assert.match(verified.stdout, /Reassignment of partition moving-0 is completed\./);
      } finally {
        await rm(plan, { force: true });
      }
      // A little more load on the new replicas, then stop.
      const afterMove = sent;
      await waitFor("records written after the move", () => sent > afterMove + 20, 30_000);
      writing = false;
      await load;
      await producer.disconnect();

      const now = state(topic);
      assert.deepEqual(now.replicas, [2, 3]);
      assert.deepEqual([...now.isr].sort(), [2, 3]);
      assert.equal(now.leader, 2, "broker 1 led and was removed: the first target replica in the ISR leads");
      assert.ok(now.leaderEpoch > before.leaderEpoch, "a new leader epoch fences the removed replica");
      assert.ok(sent > 0, "records were written during the move");

      // Every acknowledged record is there (a retried send may be there twice).
      const seen = new Set<string>();
      const consumer = kafka.consumer({ groupId: "mover-check" });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
      try {
        await waitFor("every acknowledged record read", () => acked.every((v) => seen.has(v)), 60_000);
      } finally {
        await consumer.disconnect();
      }
      await waitUntil("the new replicas hold the same bytes", async () =>
        (await logBytes(2, topic)).equals(await logBytes(3, topic)),
      );
      assert.ok((await logBytes(2, topic)).length > 200 * 25 * 200, "the log holds the records");
      await waitUntil("broker 1's log of moving-0 removed", () => noLogDir(1, topic));
      assert.match(brokers.get(1)!.output(), /removed the log of moving-0/);
    });

    test("a reassignment in progress is listed (and by --verify), and cancelled back", async (t) => {
      const topic = "held";
      // The broker paused is not the controller (the admin client sends it ListPartitionReassignments).
      const controller = observer.controller()!.nodeId;
      const p = [1, 2, 3].filter((id) => id !== controller).at(-1)!;
      const [a, b] = [1, 2, 3].filter((id) => id !== p) as [number, number];
      await createTopic(topic, [[a, b]]);
      const before = state(topic);
      const paused = brokers.get(p)!;
      // Broker p stays registered but cannot fetch: the reassignment cannot complete.
      paused.process.kill("SIGSTOP");
      try {
        assert.deepEqual(await alter(b, topic, [[p, a]]), [[ErrorCode.NONE, null]]);
        // The observer's view follows etcd a moment after the write.
        await waitFor("the reassignment seen", () => state(topic).adding !== undefined);
        const moving = state(topic);
        assert.deepEqual(
          [moving.replicas, moving.adding, moving.removing, moving.leader, moving.leaderEpoch],
          [[p, a, b], [p], [b], a, before.leaderEpoch],
          "the union of the replicas, the leader stays",
        );
        const listed = [{ name: topic, partitions: [[0, [p, a, b], [p], [b]]] }];
        assert.deepEqual(await list(a, null), listed);
        assert.deepEqual(await list(b, [{ name: topic, partitionIndexes: [0, 1] }]), listed);
        assert.deepEqual(await list(b, [{ name: "moving", partitionIndexes: [0] }]), []);
        if (haveKafka44()) {
          const dir = join(brokers.get(a)!.dataDir, "..");
          const plan = join(dir, `held-${process.pid}.json`);
          await writeFile(
            plan,
            JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, replicas: [p, a] }] }),
          );
          // The admin client may pick the paused broker for a request: it gives up on it soon and asks another.
          const config = join(dir, `held-${process.pid}.properties`);
          await writeFile(config, "request.timeout.ms=2000\n");
          const verify = await tool44Result(
            "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
            [
              ...["--bootstrap-server", [a, b].map((id) => brokers.get(id)!.bootstrap).join(",")],
              ...["--command-config", config, "--reassignment-json-file", plan, "--verify"],
            ],
            { timeoutMs: 40_000 },
          );
          await rm(plan, { force: true });
          await rm(config, { force: true });
          assert.match(verify.stdout, /Reassignment of partition held-0 is still in progress\./, verify.stderr);
        } else t.diagnostic(skipUnless(false, KAFKA44_REQUIREMENT) ?? "");
        assert.deepEqual(await alter(a, topic, [null]), [[ErrorCode.NONE, null]]);
        await waitFor("the cancellation seen", () => state(topic).adding === undefined);
        const back = state(topic);
        assert.deepEqual(
          [back.replicas, back.isr, back.adding, back.removing],
          [[a, b], before.isr, undefined, undefined],
        );
        assert.equal(back.leader, a);
        assert.equal(back.leaderEpoch, before.leaderEpoch + 1, "the replica taken out is fenced");
        assert.deepEqual(await list(a, null), []);
        assert.deepEqual(await alter(a, topic, [null]), [[ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, null]]);
      } finally {
        paused.process.kill("SIGCONT");
      }
      assert.ok(
        observer.brokers().some((x) => x.nodeId === p),
        `broker ${p} stayed registered`,
      );
      // Broker p took the partition up when it resumed, if at all, and gave it up again.
      await waitUntil(`broker ${p} has no log of held-0`, () => noLogDir(p, topic), 20_000);
    });

    test("errors as Kafka's controller: unknown brokers, repeats, unknown partitions, replication factor (v1)", async () => {
      const topic = "checked";
      await createTopic(topic, [[1, 2]]);
      const epoch = state(topic).partitionEpoch;
      const invalid = ErrorCode.INVALID_REPLICA_ASSIGNMENT;
      assert.deepEqual(await alter(3, topic, [[2, 9]]), [
        [invalid, "The manual partition assignment includes broker 9, but no such broker is registered."],
      ]);
      assert.deepEqual(await alter(3, topic, [[3, 3]]), [
        [invalid, "The manual partition assignment includes the broker 3 more than once."],
      ]);
      assert.deepEqual(await alter(3, topic, [[]]), [
        [invalid, "The manual partition assignment includes an empty replica list."],
      ]);
      assert.deepEqual(
        await alter(3, topic, [
          [1, 2],
          [1, 2],
        ]),
        [
          [ErrorCode.NONE, null],
          [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find partition checked:1."],
        ],
      );
      assert.deepEqual(await alter(3, "nowhere", [[1]]), [
        [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find a topic named nowhere."],
      ]);
      assert.deepEqual(await alter(3, topic, [[1, 2, 3]], 1, false), [
        [ErrorCode.INVALID_REPLICATION_FACTOR, "The replication factor is changed from 2 to 3"],
      ]);
      assert.equal(state(topic).partitionEpoch, epoch, "nothing was written");
      // Reordering replicas in sync completes at once; the leader stays.
      assert.deepEqual(await alter(3, topic, [[2, 1]], 1, false), [[ErrorCode.NONE, null]]);
      await waitFor("the reorder seen", () => state(topic).partitionEpoch > epoch);
      assert.deepEqual([state(topic).replicas, state(topic).adding, state(topic).leader], [[2, 1], undefined, 1]);
      // Fewer replicas (allowed by v0): complete at once, the removed log goes.
      assert.deepEqual(await alter(3, topic, [[2]]), [[ErrorCode.NONE, null]]);
      await waitFor("the shrink seen", () => state(topic).replicas.length === 1);
      assert.deepEqual([state(topic).replicas, state(topic).isr, state(topic).leader], [[2], [2], 2]);
      await waitUntil("broker 1's log of checked-0 removed", () => noLogDir(1, topic));
    });

    test("a deleted topic's logs go from every broker", async () => {
      const topic = "doomed";
      await createTopic(topic, [
        [1, 2, 3],
        [2, 3, 1],
      ]);
      for (const id of [1, 2, 3])
        await waitUntil(`broker ${id} has ${topic}-1`, async () =>
          existsSync(join(brokers.get(id)!.dataDir, `${topic}-1`)),
        );
      const res = await withClient(brokers.get(1)!, (c) =>
        c.request(
          ApiKey.DeleteTopics,
          6,
          createDeleteTopicsRequest({ topics: [{ name: topic, topicId: ZERO_UUID }], timeoutMs: 10_000 }),
        ),
      );
      assert.equal(res.responses[0]!.errorCode, 0);
      for (const id of [1, 2, 3])
        for (const p of [0, 1]) await waitUntil(`broker ${id}: ${topic}-${p} removed`, () => noLogDir(id, topic, p));
    });

    test("a broker back from a clean stop removes the logs of partitions moved away and topics deleted meanwhile", async () => {
      await createTopic("left", [[3, 1]]);
      await createTopic("gone", [[1, 3]]);
      for (const topic of ["left", "gone"])
        await waitUntil(`broker 3 has ${topic}-0`, async () => existsSync(join(brokers.get(3)!.dataDir, `${topic}-0`)));
      await brokers.get(3)!.stop();
      await waitFor("broker 3 gone", () => !observer.brokers().some((b) => b.nodeId === 3));
      assert.deepEqual(await alter(1, "left", [[1, 2]]), [[ErrorCode.NONE, null]]);
      await waitFor("left-0 moved to {1,2}", () => movedTo("left", [1, 2]), 30_000);
      const res = await withClient(brokers.get(1)!, (c) =>
        c.request(
          ApiKey.DeleteTopics,
          6,
          createDeleteTopicsRequest({ topics: [{ name: "gone", topicId: ZERO_UUID }], timeoutMs: 10_000 }),
        ),
      );
      assert.equal(res.responses[0]!.errorCode, 0);
      await start(3);
      await waitUntil("broker 3 removed left-0", () => noLogDir(3, "left"));
      await waitUntil("broker 3 removed gone-0", () => noLogDir(3, "gone"));
    });
  },
);
