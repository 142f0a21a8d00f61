import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { haveJava, spawnJava } from "./clients/run.js";
import { skipUnless, startBroker, waitFor } from "./harness.js";

/**
 * Kafka's own VerifiableConsumer (the tool Kafka's system tests judge consumers with) in a classic
 * group: members split the partitions; a clean rebalance, with commits on revocation, consumes nothing
 * twice; a member killed with SIGKILL loses its partitions to the others after the session timeout.
 */

const skip = skipUnless(haveJava(), "java with the Kafka 3.9.1 jars");
const TOPIC = "verifiable";
const PARTITIONS = 4;

interface Member {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Its current assignment, from the last partitions_assigned / partitions_revoked events. */
  assigned: Set<number>;
  /** Every offset it consumed, per partition. */
  consumed: Map<number, number[]>;
  stderr: string;
}

function startMember(name: string, bootstrap: string): Member {
  const proc = spawnJava("org.apache.kafka.tools.VerifiableConsumer", [
    "--bootstrap-server",
    bootstrap,
    "--topic",
    TOPIC,
    "--group-id",
    "vgroup",
    "--reset-policy",
    "earliest",
    "--session-timeout",
    "6000",
    "--verbose",
  ]);
  const m: Member = { name, proc, assigned: new Set(), consumed: new Map(), stderr: "" };
  let pending = "";
  proc.stdout!.on("data", (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      const e = JSON.parse(line) as {
        name: string;
        partitions?: { partition: number }[];
        partition?: number;
        offset?: number;
      };
      if (e.name === "partitions_assigned") for (const p of e.partitions ?? []) m.assigned.add(p.partition);
      if (e.name === "partitions_revoked") for (const p of e.partitions ?? []) m.assigned.delete(p.partition);
      if (e.name === "record_data") {
        const list = m.consumed.get(e.partition!) ?? [];
        list.push(e.offset!);
        m.consumed.set(e.partition!, list);
      }
    }
  });
  proc.stderr!.on("data", (d: Buffer) => (m.stderr += d.toString()));
  return m;
}

const total = (members: readonly Member[]): number =>
  members.reduce((n, m) => n + [...m.consumed.values()].reduce((k, l) => k + l.length, 0), 0);

test(
  "VerifiableConsumer: a group splits, rebalances cleanly without duplicates, and survives a killed member",
  { skip, timeout: 120_000 },
  async () => {
    const broker = await startBroker({
      properties: { "group.initial.rebalance.delay.ms": 0, "offsets.topic.num.partitions": 3 },
    });
    const members: Member[] = [];
    try {
      const kafka = new Kafka({ clientId: "verifiable-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      const send = (from: number, to: number) =>
        producer.send({
          topic: TOPIC,
          messages: Array.from({ length: to - from }, (_, i) => ({
            key: `k${from + i}`,
            value: `v${from + i}`,
            partition: (from + i) % PARTITIONS,
          })),
        });

      await send(0, 200);
      const a = startMember("a", broker.bootstrap);
      const b = startMember("b", broker.bootstrap);
      members.push(a, b);
      await waitFor(
        "two members holding two partitions each, everything consumed",
        () => a.assigned.size === 2 && b.assigned.size === 2 && total(members) >= 200,
      );
      assert.deepEqual([...a.assigned, ...b.assigned].sort(), [0, 1, 2, 3], "every partition assigned once");

      // A clean rebalance: a third member joins; revoked partitions are committed before they move.
      const c = startMember("c", broker.bootstrap);
      members.push(c);
      await waitFor(
        "the third member getting partitions",
        () => c.assigned.size > 0 && a.assigned.size + b.assigned.size + c.assigned.size === PARTITIONS,
      );
      await send(200, 400);
      await waitFor("400 records consumed", () => total(members) >= 400);
      const seen = new Map<number, Set<number>>();
      for (const m of members) {
        for (const [p, offsets] of m.consumed) {
          const s = seen.get(p) ?? new Set();
          for (const o of offsets) {
            assert.ok(!s.has(o), `partition ${p} offset ${o} consumed twice across a clean rebalance`);
            s.add(o);
          }
          seen.set(p, s);
        }
      }
      assert.equal(total(members), 400);

      // A member killed outright: after the session timeout the others take its partitions.
      const killed = [a, b, c].find((m) => m.assigned.size > 0)!;
      const orphaned = [...killed.assigned];
      killed.proc.kill("SIGKILL");
      const survivors = members.filter((m) => m !== killed);
      await waitFor(
        "the survivors owning every partition",
        () => survivors.reduce((n, m) => n + m.assigned.size, 0) === PARTITIONS,
        60_000,
      );
      await send(400, 440);
      await waitFor(
        "the new records of the orphaned partitions consumed by survivors",
        () => orphaned.every((p) => survivors.some((m) => (m.consumed.get(p) ?? []).some((o) => o >= 100))),
        60_000,
      );
    } finally {
      for (const m of members) m.proc.kill("SIGKILL");
      await broker.cleanup();
    }
  },
);
