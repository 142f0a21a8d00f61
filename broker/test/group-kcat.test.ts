import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { haveCommand, skipUnless, startBroker, waitFor } from "./harness.js";

/** librdkafka's balanced consumer (kcat -G): two members split a topic's partitions. */

const skip = skipUnless(haveCommand("kcat", ["-V"]), "kcat");

interface KcatMember {
  proc: ChildProcess;
  /** Partitions of the latest rebalance. */
  assigned: number[];
  messages: string[];
  exited: Promise<void>;
}

function kcatMember(bootstrap: string, group: string, topic: string): KcatMember {
  const proc = spawn(
    "kcat",
    [
      "-u",
      "-b",
      bootstrap,
      "-G",
      group,
      topic,
      "-X",
      "session.timeout.ms=6000",
      "-X",
      "auto.offset.reset=earliest",
      "-X",
      "auto.commit.interval.ms=200",
      "-f",
      "%p %s\\n",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const m: KcatMember = { proc, assigned: [], messages: [], exited: new Promise((r) => proc.once("exit", () => r())) };
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    const lines = err.split("\n");
    err = lines.pop()!;
    for (const line of lines) {
      const r = /rebalanced \(memberid [^)]*\): (assigned|revoked): (.*)$/.exec(line);
      if (r === null) continue;
      m.assigned =
        r[1] === "assigned" ? [...r[2]!.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1])).sort((a, b) => a - b) : [];
    }
  });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    const lines = out.split("\n");
    out = lines.pop()!;
    m.messages.push(...lines.filter((l) => l !== ""));
  });
  return m;
}

test("two kcat -G consumers split the partitions of a topic", { skip, timeout: 60_000 }, async () => {
  const broker = await startBroker({
    properties: { "group.initial.rebalance.delay.ms": 0, "offsets.topic.num.partitions": 3 },
  });
  const members: KcatMember[] = [];
  try {
    const kafka = new Kafka({ clientId: "kcat-group-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "kc", numPartitions: 4 }] });
    const producer = kafka.producer();
    await producer.connect();
    const send = (from: number, to: number) =>
      producer.send({
        topic: "kc",
        messages: Array.from({ length: to - from }, (_, i) => ({ value: `v${from + i}`, partition: (from + i) % 4 })),
      });
    await send(0, 40);

    members.push(kcatMember(broker.bootstrap, "kgrp", "kc"));
    await waitFor("the first member to own all four partitions", () => members[0]!.assigned.length === 4);
    members.push(kcatMember(broker.bootstrap, "kgrp", "kc"));
    await waitFor("two partitions each", () => members.every((m) => m.assigned.length === 2));
    assert.deepEqual(members.flatMap((m) => m.assigned).sort(), [0, 1, 2, 3], "disjoint and complete");

    await send(40, 80);
    const partitionsOf = (m: KcatMember) =>
      new Set(m.messages.filter((l) => Number(l.split(" ")[1]!.slice(1)) >= 40).map((l) => Number(l.split(" ")[0])));
    await waitFor(
      "the new messages at both members",
      () =>
        members.reduce((n, m) => n + m.messages.filter((l) => Number(l.split(" ")[1]!.slice(1)) >= 40).length, 0) >= 40,
    );
    for (const m of members)
      assert.deepEqual([...partitionsOf(m)].sort(), m.assigned, "each member reads only its own partitions");

    const described = await admin.describeGroups(["kgrp"]);
    assert.equal(described.groups[0]!.state, "Stable");
    assert.equal(described.groups[0]!.members.length, 2);
    // librdkafka commits what it consumed when it closes; both members leave on SIGTERM.
    for (const m of members) m.proc.kill("SIGTERM");
    await Promise.all(members.map((m) => m.exited));
    members.length = 0;
    const offsets = await admin.fetchOffsets({ groupId: "kgrp", topics: ["kc"] });
    assert.equal(
      offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0),
      80,
    );
    assert.equal((await admin.describeGroups(["kgrp"])).groups[0]!.state, "Empty");
    await producer.disconnect();
    await admin.disconnect();
  } finally {
    for (const m of members) m.proc.kill("SIGKILL");
    await broker.cleanup();
  }
});
