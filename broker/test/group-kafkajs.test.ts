import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { test } from "node:test";
import { AssignerProtocol, Kafka, logLevel, type Consumer } from "kafkajs";
import { startBroker, waitFor } from "./harness.js";

/**
 * Consumer groups of the classic protocol with KafkaJS: three members share a topic's partitions, a
 * member leaving hands its partitions to the others, and committed offsets survive a broker restart.
 */

const PROPS = {
  "group.initial.rebalance.delay.ms": 0,
  "group.min.session.timeout.ms": 1000,
  "offsets.topic.num.partitions": 5,
};

interface Member {
  consumer: Consumer;
  /** Partitions of the latest assignment. */
  assigned: number[];
  seen: string[];
}

async function member(kafka: Kafka, groupId: string, topic: string): Promise<Member> {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 6000,
    heartbeatInterval: 300,
    rebalanceTimeout: 10_000,
    maxWaitTimeInMs: 100,
  });
  const m: Member = { consumer, assigned: [], seen: [] };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    m.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommitInterval: 200,
    eachMessage: async ({ message }) => {
      m.seen.push(message.value!.toString());
    },
  });
  return m;
}

test(
  "three KafkaJS members split partitions, rebalance on leave, and resume after a restart",
  { timeout: 60_000 },
  async () => {
    let broker = await startBroker({ properties: PROPS, logLevel: "info" });
    const { dataDir, port } = broker;
    const members: Member[] = [];
    try {
      let kafka = new Kafka({ clientId: "group-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "g1", numPartitions: 6 }] });
      const producer = kafka.producer();
      await producer.connect();
      const send = async (from: number, to: number): Promise<void> => {
        const messages = [];
        for (let i = from; i < to; i++) messages.push({ value: `m${i}`, partition: i % 6 });
        await producer.send({ topic: "g1", messages });
      };
      await send(0, 60);

      for (let i = 0; i < 3; i++) members.push(await member(kafka, "grp", "g1"));
      const total = (): number => members.reduce((n, m) => n + m.seen.length, 0);
      await waitFor("three members with two partitions each", () => members.every((m) => m.assigned.length === 2));
      const all = members.flatMap((m) => m.assigned).sort((a, b) => a - b);
      assert.deepEqual(all, [0, 1, 2, 3, 4, 5], "every partition assigned exactly once");
      await waitFor("all 60 messages consumed", () => total() >= 60);

      const described = await admin.describeGroups(["grp"]);
      assert.equal(described.groups[0]!.state, "Stable");
      assert.equal(described.groups[0]!.members.length, 3);
      const decoded = described.groups[0]!.members.map((m) =>
        AssignerProtocol.MemberAssignment.decode(m.memberAssignment)!,
      );
      assert.equal(
        decoded.reduce((n, a) => n + (a.assignment["g1"]?.length ?? 0), 0),
        6,
      );

      // One leaves: the two others take over its partitions.
      const leaving = members.shift()!;
      await leaving.consumer.disconnect();
      await waitFor("two members with three partitions each", () => members.every((m) => m.assigned.length === 3));
      assert.deepEqual(
        members.flatMap((m) => m.assigned).sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5],
      );
      const before = total();
      await send(60, 90);
      await waitFor("30 more consumed by the two", () => total() - before >= 30);
      for (const m of members) await m.consumer.disconnect();
      members.length = 0;

      const committed = await admin.fetchOffsets({ groupId: "grp", topics: ["g1"] });
      const sum = committed[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
      assert.equal(sum, 90, "every consumed message committed");
      const groups = await admin.listGroups();
      assert.ok(groups.groups.some((g) => g.groupId === "grp" && g.protocolType === "consumer"));
      await admin.disconnect();
      await producer.disconnect();

      // Restart on the same data: the offsets are loaded back and consumption resumes after them.
      assert.equal(await broker.stop(), 0);
      broker = await startBroker({ properties: PROPS, logLevel: "info", dataDir, port });
      kafka = new Kafka({ clientId: "group-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
      const admin2 = kafka.admin();
      await admin2.connect();
      const reloaded = await admin2.fetchOffsets({ groupId: "grp", topics: ["g1"] });
      assert.deepEqual(
        reloaded[0]!.partitions.map((p) => [p.partition, p.offset]).sort(),
        committed[0]!.partitions.map((p) => [p.partition, p.offset]).sort(),
      );
      const producer2 = kafka.producer();
      await producer2.connect();
      const messages = [];
      for (let i = 90; i < 96; i++) messages.push({ value: `m${i}`, partition: i % 6 });
      await producer2.send({ topic: "g1", messages });
      const resumed = await member(kafka, "grp", "g1");
      members.push(resumed);
      await waitFor("the 6 new messages", () => resumed.seen.length >= 6);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual([...resumed.seen].sort(), ["m90", "m91", "m92", "m93", "m94", "m95"], "nothing consumed twice");
      await resumed.consumer.disconnect();
      members.length = 0;
      await producer2.disconnect();
      await admin2.disconnect();
    } finally {
      for (const m of members) await m.consumer.disconnect().catch(() => undefined);
      await broker.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
);
