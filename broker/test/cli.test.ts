import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Partitioners } from "kafkajs";
import { startTxnTarget, type TargetKind, type TxnTarget } from "./clients/txn-target.js";
import { existsSync } from "node:fs";
import { KAFKA44_LIB } from "./clients/java/kafka44.js";
import { haveCommand, skipUnless } from "./harness.js";
import { MAIN, cli, ok, rows } from "./cli-run.js";

/**
 * The `tskafka` CLI as people run it (the built bin, a real process) against our broker and against
 * Apache Kafka 4.4: topics, produce from stdin with a key, headers and JSON, consume alone, as a
 * KIP-848 group member and as two classic group members sharing the partitions, group lag and offset
 * resets. The same steps and expectations for both brokers.
 */

const haveKafka = existsSync(join(KAFKA44_LIB, ".complete")) && haveCommand("java", ["-version"]);
const kafkaSkip = skipUnless(haveKafka, "Apache Kafka 4.4's jars and Java");

/** A `tskafka consume` left running: its output so far, and a SIGTERM that waits for the exit code. */
function background(
  bootstrap: string,
  args: readonly string[],
): { out: () => string; stop: () => Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, ...args, "-b", bootstrap], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return {
    out: () => stdout + (stderr === "" ? "" : `\n[stderr] ${stderr}`),
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Where Kafka's Java client (and KafkaJS's default partitioner, the same murmur2) puts a key. */
function javaPartition(key: string, partitionCount: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitionCount }, (_, i) => ({
    partitionId: i,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));
  return partitioner({ topic: "t", partitionMetadata, message: { key, value: "" } });
}

const KINDS: TargetKind[] = haveKafka ? ["tskafka", "kafka"] : ["tskafka"];

// Both brokers start at once, and the tskafka steps run while the JVM is still starting (most of this
// file's time); each suite waits for its own broker.
const starting = new Map(
  KINDS.map((kind) => {
    const p = startTxnTarget({ "group.initial.rebalance.delay.ms": 0 }, kind);
    p.catch(() => undefined); // reported by the suite that awaits it
    return [kind, p] as const;
  }),
);

after(async () => {
  const started = await Promise.allSettled(starting.values());
  // SIGKILL first: a graceful JVM shutdown would add seconds and nothing is checked after it.
  await Promise.all(
    started.map(async (s) => {
      if (s.status !== "fulfilled") return;
      await s.value.kill9();
      await s.value.cleanup();
    }),
  );
});

for (const kind of ["tskafka", "kafka"] as TargetKind[]) {
  describe(
    `the tskafka CLI against ${kind === "kafka" ? "Apache Kafka 4.4" : "tskafka"}`,
    {
      skip: kind === "kafka" ? kafkaSkip : undefined,
    },
    () => {
      let b: string;
      before(
        async () => {
          b = (await starting.get(kind)!).bootstrap;
        },
        { timeout: 60_000 },
      );

      test(
        "topics create, list, describe; produce and consume; groups with lag and resets; delete",
        { timeout: 120_000 },
        async () => {
          const topic = "cli-orders";
          assert.match(
            await ok(b, ["topics", "create", topic, "-p", "3", "-c", "retention.ms=3600000"]),
            /created topic cli-orders/,
          );
          const again = await cli(b, ["topics", "create", topic, "-p", "3"]);
          assert.equal(again.code, 1);
          assert.match(again.stderr, /TOPIC_ALREADY_EXISTS/);

          const list = rows(await ok(b, ["topics", "list"]));
          assert.deepEqual(list[0], ["TOPIC", "PARTITIONS", "REPLICAS", "SIZE", "TOPIC ID"]);
          const listed = list.find((r) => r[0] === topic);
          assert.ok(listed, JSON.stringify(list));
          assert.equal(listed[1], "3");
          assert.equal(
            list.some((r) => r[0] === "__consumer_offsets"),
            false,
            "internal topics only with --internal",
          );

          const lines = Array.from({ length: 6 }, (_, i) => JSON.stringify({ order: i, item: `item-${i}` }));
          await ok(
            b,
            ["produce", topic, "--key", "cust-42", "--header", "source=cli", "--header", "v=1", "--json"],
            lines.join("\n") + "\n",
          );
          const notJson = await cli(b, ["produce", topic, "--json"], "{broken\n");
          assert.equal(notJson.code, 1);
          assert.match(notJson.stderr, /line 1 is not JSON/);

          // The key picks the partition as Kafka's own default partitioner does.
          const p = javaPartition("cust-42", 3);
          const described = await ok(b, ["topics", "describe", topic]);
          const parts = rows(described.split("\n\n")[1]!);
          assert.deepEqual(parts[0], ["PARTITION", "LEADER", "REPLICAS", "ISR", "EARLIEST", "LATEST", "SIZE"]);
          for (const r of parts.slice(1)) assert.equal(r[5], r[0] === String(p) ? "6" : "0", `partition ${r[0]}`);
          assert.match(described, /retention\.ms\s+3600000/);

          const json = (await ok(b, ["consume", topic, "--from-beginning", "-n", "6", "-f", "json"]))
            .trim()
            .split("\n");
          assert.equal(json.length, 6);
          const first = JSON.parse(json[0]!) as Record<string, unknown>;
          assert.deepEqual(
            {
              partition: first.partition,
              offset: first.offset,
              key: first.key,
              headers: first.headers,
              value: first.value,
            },
            {
              partition: p,
              offset: 0,
              key: "cust-42",
              headers: { source: "cli", v: "1" },
              value: { order: 0, item: "item-0" },
            },
          );
          const hex = (
            await ok(b, ["consume", topic, "--from-beginning", "-n", "1", "-f", "hex", "--print-key"])
          ).trim();
          assert.equal(hex, `${Buffer.from("cust-42").toString("hex")}\t${Buffer.from(lines[0]!).toString("hex")}`);

          // As a KIP-848 member: the broker assigns the partitions; offsets committed as it goes.
          const text = (
            await ok(b, [
              "consume",
              topic,
              "--group",
              "cli-group",
              "--from-beginning",
              "-n",
              "6",
              "--timeout-ms",
              "15000",
            ])
          )
            .trim()
            .split("\n");
          assert.deepEqual(text, lines);

          const groups = rows(await ok(b, ["groups", "list"]));
          assert.deepEqual(groups[0], ["GROUP", "TYPE", "STATE", "PROTOCOL TYPE"]);
          assert.deepEqual(groups.find((r) => r[0] === "cli-group")?.slice(0, 2), ["cli-group", "consumer"]);

          const lagOf = async (): Promise<string[][]> => {
            const out = await ok(b, ["groups", "describe", "cli-group"]);
            assert.match(out, /^Group cli-group {2}type consumer {2}state Empty/);
            return rows(out.split("\n\n")[1]!).filter((r) => r[1] === String(p));
          };
          assert.deepEqual((await lagOf())[0]!.slice(0, 5), [topic, String(p), "6", "6", "0"]);

          const dry = await ok(b, ["groups", "reset-offsets", "cli-group", "-t", topic, "--to-offset", "2"]);
          assert.match(dry, /dry run/);
          assert.deepEqual((await lagOf())[0]!.slice(0, 5), [topic, String(p), "6", "6", "0"]);
          const done = await ok(b, [
            "groups",
            "reset-offsets",
            "cli-group",
            "-t",
            topic,
            "--to-offset",
            "2",
            "--execute",
          ]);
          assert.deepEqual(
            rows(done).find((r) => r[1] === String(p)),
            [topic, String(p), "2"],
          );
          assert.deepEqual((await lagOf())[0]!.slice(0, 5), [topic, String(p), "2", "6", "4"]);
          const rest = (await ok(b, ["consume", topic, "--group", "cli-group", "-n", "4", "--timeout-ms", "15000"]))
            .trim()
            .split("\n");
          assert.deepEqual(rest, lines.slice(2));
          assert.deepEqual((await lagOf())[0]!.slice(0, 5), [topic, String(p), "6", "6", "0"]);

          assert.match(await ok(b, ["topics", "delete", topic]), /deleted topic cli-orders/);
          const gone = await cli(b, ["topics", "describe", topic]);
          assert.equal(gone.code, 1);
          assert.match(gone.stderr, /UNKNOWN_TOPIC_OR_PARTITION/);

          // Producing to a topic that does not exist creates it, as Kafka's producers let the broker do.
          assert.match((await cli(b, ["produce", "cli-auto"], "made\n")).stderr, /produced 1 records to cli-auto/);
          assert.equal(await ok(b, ["consume", "cli-auto", "--from-beginning", "-n", "1"]), "made\n");
        },
      );

      for (const protocol of ["classic", "consumer"] as const)
        test(
          `two \`consume --group --group-protocol ${protocol}\` processes split the partitions`,
          { timeout: 90_000 },
          async () => {
            const topic = `cli-split-${protocol}`;
            const group = `cli-${protocol}`;
            await ok(b, ["topics", "create", topic, "-p", "4"]);
            const args = [
              "consume",
              topic,
              "--group",
              group,
              "--group-protocol",
              protocol,
              "--from-beginning",
              "-f",
              "json",
            ];
            const members = [background(b, args), background(b, args)];
            try {
              // Both joined and each owns two partitions before anything is produced (a KIP-848 member
              // first owning all four gives two up once the other joins).
              const owned = await until("two members sharing the partitions", 40_000, async () => {
                const r = await cli(b, ["groups", "describe", group]);
                if (r.code !== 0 || !new RegExp(`type ${protocol} {2}state Stable .* members 2`).test(r.stdout))
                  return undefined;
                const owners = rows(r.stdout.split("\n\n")[2] ?? "")
                  .slice(1)
                  .map((o) => (o[3] ?? "").replace(`${topic}:`, ""));
                return owners.length === 2 && owners.every((o) => o.split(",").length === 2)
                  ? owners.sort()
                  : undefined;
              });
              if (protocol === "classic") assert.deepEqual(owned, ["0,1", "2,3"], "the range assignor's ranges");
              assert.deepEqual(owned.join(",").split(",").sort(), ["0", "1", "2", "3"]);
              for (let p = 0; p < 4; p++)
                await ok(
                  b,
                  ["produce", topic, "--partition", String(p)],
                  [0, 1, 2].map((i) => `p${p}-${i}`).join("\n") + "\n",
                );
              const seen = await until("the 12 records, between them", 30_000, () => {
                const lines = members.map((m) =>
                  m
                    .out()
                    .split("\n")
                    .filter((l) => l.startsWith("{"))
                    .map((l) => JSON.parse(l) as { partition: number; value: string }),
                );
                return Promise.resolve(lines.flat().length >= 12 ? lines : undefined);
              });
              const partitionsOf = seen.map((l) => [...new Set(l.map((r) => r.partition))].sort().join(","));
              assert.deepEqual(partitionsOf.sort(), owned, "each member read only its own partitions");
              assert.deepEqual(
                seen
                  .flat()
                  .map((r) => r.value)
                  .sort(),
                [0, 1, 2, 3].flatMap((p) => [0, 1, 2].map((i) => `p${p}-${i}`)),
              );
            } finally {
              for (const m of members) assert.equal(await m.stop(), 0, m.out());
            }
            // On SIGTERM each committed its positions and left the group.
            const after = await ok(b, ["groups", "describe", group]);
            assert.match(after, new RegExp(`^Group ${group} {2}type ${protocol} {2}state Empty`));
            for (const r of rows(after.split("\n\n")[1]!).slice(1)) assert.deepEqual(r.slice(2, 5), ["3", "3", "0"]);
            await ok(b, ["topics", "delete", topic]);
          },
        );
    },
  );
}
