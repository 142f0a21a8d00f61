import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import kafkajs from "kafkajs";
import { skipUnless } from "./harness.js";
import { goBin, haveGoBin, runOk } from "./clients/run.js";
import { CLIENTS_DIR, VENV_PYTHON, haveVenvModules } from "./clients/venv.js";
import { TARGET_KIND, TARGET_REQUIREMENT, haveTarget, startTxnTarget, type TxnTarget } from "./clients/txn-target.js";

// kafkajs is CommonJS; its named exports are not all visible to an ESM import.
const { Kafka, logLevel } = kafkajs;

/**
 * Consume-transform-produce in transactions with three more clients, each copying an input topic to an output
 * topic while committing the group's offsets in the same transactions, and aborting some of them:
 * - confluent-kafka 2.16 (librdkafka): init_transactions, begin_transaction, send_offsets_to_transaction with the
 *   consumer's group metadata, commit_transaction, abort_transaction and a rewind to the committed offsets
 *   (clients/confluent_txn.py);
 * - KafkaJS: producer.transaction(), send, sendOffsets, commit and abort, the group's offsets checked after each;
 * - franz-go: a kgo.GroupTransactSession (scripts/clients/franztxn, built into .cache/go/bin/franztxn).
 * Each time read_committed must see every input record copied exactly once, the group's offsets must be at the
 * input's end, and read_uncommitted must also see the aborted copies.
 *
 * TSKAFKA_TXN_TARGET=kafka runs the same against Apache Kafka 4.4.0 (how the expectations were checked).
 */

const targetSkip = skipUnless(haveTarget(), TARGET_REQUIREMENT);
const PARTITIONS = 3;
const PROPERTIES = {
  "num.partitions": PARTITIONS,
  "auto.create.topics.enable": true,
  "offsets.topic.num.partitions": 3,
  "transaction.state.log.num.partitions": 3,
  "transaction.state.log.replication.factor": 1,
  "transaction.state.log.min.isr": 1,
  "group.initial.rebalance.delay.ms": 0,
};

/** [partition, key, value] of each copied record, sorted by value: input record i is copied as copy-vI. */
const expectedCopies = (count: number): [number, string, string][] =>
  Array.from({ length: count }, (_, i): [number, string, string] => [i % PARTITIONS, `k${i}`, `copy-v${i}`]).sort(
    (a, b) => (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0),
  );
const atEnd = (topic: string, count: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: PARTITIONS }, (_, p) => [`${topic}/${p}`, count / PARTITIONS]));

describe(
  `transactions with confluent-kafka, KafkaJS and franz-go (${TARGET_KIND})`,
  { skip: targetSkip, timeout: 300_000 },
  () => {
    let target: TxnTarget;
    const suffix = Date.now().toString(36);

    before(
      async () => {
        target = await startTxnTarget(PROPERTIES);
      },
      { timeout: 240_000 },
    );
    after(async () => {
      await target?.cleanup();
    });

    const confluentSkip = skipUnless(haveVenvModules("confluent_kafka"), "confluent-kafka in .cache/venv");
    test(
      "confluent-kafka (librdkafka 2.16): send_offsets_to_transaction, commit and abort",
      { skip: confluentSkip, timeout: 90_000 },
      async (t) => {
        const COUNT = 300;
        const input = `txc-rd-in-${suffix}`;
        const output = `txc-rd-out-${suffix}`;
        const r = await runOk(
          VENV_PYTHON,
          [
            join(CLIENTS_DIR, "confluent_txn.py"),
            "copy",
            target.bootstrap,
            input,
            output,
            `txc-rd-${suffix}`,
            `txc-rd-${suffix}`,
            String(COUNT),
            "--timeout",
            "45",
          ],
          { timeoutMs: 85_000 },
        );
        const out = JSON.parse(r.stdout) as {
          committedTxns: number;
          abortedTxns: number;
          errors: string[];
          copied: number;
          duplicates: string[];
          offsets: Record<string, number>;
          readCommitted: { records: [number, string, string][]; complete: boolean };
          readUncommitted: { records: [number, string, string][]; complete: boolean };
        };
        assert.deepEqual(out.errors, [], r.stderr.slice(-3000));
        assert.deepEqual(out.duplicates, []);
        assert.equal(out.copied, COUNT);
        assert.ok(out.abortedTxns >= 1 && out.committedTxns >= 1, JSON.stringify([out.committedTxns, out.abortedTxns]));
        assert.deepEqual(out.offsets, atEnd(input, COUNT), "the group's offsets, committed in the transactions");
        assert.ok(out.readCommitted.complete);
        assert.deepEqual(out.readCommitted.records, expectedCopies(COUNT), "read_committed: every record copied once");
        // read_uncommitted also sees the copies the aborted transactions wrote.
        assert.ok(out.readUncommitted.complete);
        assert.ok(
          out.readUncommitted.records.length > COUNT,
          `read_uncommitted saw ${out.readUncommitted.records.length}`,
        );
        assert.deepEqual(
          [...new Set(out.readUncommitted.records.map((x) => x[2]))].sort(),
          expectedCopies(COUNT).map((x) => x[2]),
        );
        t.diagnostic(`${out.committedTxns} committed, ${out.abortedTxns} aborted transactions`);
      },
    );

    test("KafkaJS: transaction(), send, sendOffsets, commit and abort", { timeout: 90_000 }, async () => {
      const COUNT = 90;
      const CHUNK = 15;
      const input = `txc-js-in-${suffix}`;
      const output = `txc-js-out-${suffix}`;
      const group = `txc-js-${suffix}`;
      const kafka = new Kafka({
        clientId: "txn-clients",
        brokers: [target.bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2000 },
      });
      const admin = kafka.admin();
      const plain = kafka.producer();
      const producer = kafka.producer({
        transactionalId: `txc-js-${suffix}`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await admin.connect();
      try {
        await admin.createTopics({
          topics: [input, output].map((topic) => ({ topic, numPartitions: PARTITIONS })),
          waitForLeaders: true,
        });
        await plain.connect();
        await plain.send({
          topic: input,
          messages: Array.from({ length: COUNT }, (_, i) => ({
            partition: i % PARTITIONS,
            key: `k${i}`,
            value: `v${i}`,
          })),
        });
        await producer.connect();
        /** Offsets of the input partitions once records [0, end) are consumed. */
        const offsetsAfter = (end: number): { partition: number; offset: string }[] =>
          Array.from({ length: PARTITIONS }, (_, p) => ({
            partition: p,
            offset: String(Math.ceil((end - p) / PARTITIONS)),
          }));
        const committedOffsets = async (): Promise<{ partition: number; offset: string }[]> => {
          const [topic] = await admin.fetchOffsets({ groupId: group, topics: [input] });
          return topic!.partitions
            .map((p) => ({ partition: p.partition, offset: p.offset }))
            .sort((a, b) => a.partition - b.partition);
        };
        let aborted = 0;
        for (let start = 0; start < COUNT; start += CHUNK) {
          const chunk = Array.from({ length: CHUNK }, (_, j) => start + j);
          // Every other chunk is first written in a transaction that is aborted, then written again and committed.
          const attempts = (start / CHUNK) % 2 === 1 ? ["abort", "commit"] : ["commit"];
          for (const how of attempts) {
            const txn = await producer.transaction();
            await txn.send({
              topic: output,
              messages: chunk.map((i) => ({ partition: i % PARTITIONS, key: `k${i}`, value: `copy-v${i}` })),
            });
            await txn.sendOffsets({
              consumerGroupId: group,
              topics: [{ topic: input, partitions: offsetsAfter(start + CHUNK) }],
            });
            if (how === "abort") {
              await txn.abort();
              aborted++;
              // Never the aborted transaction's offsets (sampled for a second: the markers are written after
              // EndTxn returns).
              const before = start === 0 ? [] : offsetsAfter(start);
              for (let i = 0; i < 10; i++) {
                const got = (await committedOffsets()).filter((p) => p.offset !== "-1");
                assert.deepEqual(
                  got,
                  before,
                  `the aborted transaction's offsets are not committed (chunk at ${start})`,
                );
                await new Promise((r) => setTimeout(r, 100));
              }
            } else {
              await txn.commit();
              // The offsets become visible once the coordinator has written its markers, just after EndTxn returns.
              const want = offsetsAfter(start + CHUNK);
              const deadline = Date.now() + 10_000;
              let got = await committedOffsets();
              while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < deadline) {
                await new Promise((r) => setTimeout(r, 50));
                got = await committedOffsets();
              }
              assert.deepEqual(got, want, `offsets after the chunk at ${start}`);
            }
          }
        }
        assert.ok(aborted >= 1);

        /** The output as a consumer of that isolation level sees it: [partition, key, value] sorted by value. */
        const readOutput = async (readUncommitted: boolean, expected: number): Promise<[number, string, string][]> => {
          const consumer = kafka.consumer({
            groupId: `txc-js-reader-${readUncommitted ? "u" : "c"}-${suffix}`,
            readUncommitted,
            maxWaitTimeInMs: 100,
          });
          const got: [number, string, string][] = [];
          await consumer.connect();
          try {
            await consumer.subscribe({ topic: output, fromBeginning: true });
            let quietSince = 0;
            await consumer.run({
              eachMessage: async ({ partition, message }) => {
                got.push([partition, message.key!.toString(), message.value!.toString()]);
              },
            });
            const deadline = Date.now() + 30_000;
            while (Date.now() < deadline) {
              if (got.length >= expected) {
                if (quietSince === 0) quietSince = Date.now();
                if (Date.now() - quietSince > 1000) break;
              }
              await new Promise((r) => setTimeout(r, 100));
            }
          } finally {
            await consumer.disconnect();
          }
          return got.sort((a, b) => (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
        };
        assert.deepEqual(await readOutput(false, COUNT), expectedCopies(COUNT), "read_committed: every record once");
        const all = await readOutput(true, COUNT + aborted * CHUNK);
        assert.equal(all.length, COUNT + aborted * CHUNK, "read_uncommitted: the aborted copies too");
      } finally {
        await producer.disconnect();
        await plain.disconnect();
        await admin.disconnect();
      }
    });

    const franzSkip = skipUnless(haveGoBin("franztxn"), "the franz-go transactions client (.cache/go/bin/franztxn)");
    test(
      "franz-go: GroupTransactSession copies exactly once, aborting every third transaction",
      { skip: franzSkip, timeout: 90_000 },
      async (t) => {
        const COUNT = 300;
        const input = `txc-fr-in-${suffix}`;
        const output = `txc-fr-out-${suffix}`;
        const r = await runOk(
          goBin("franztxn"),
          [
            "--brokers",
            target.bootstrap,
            "--input",
            input,
            "--output",
            output,
            "--group",
            `txc-fr-${suffix}`,
            "--txn-id",
            `txc-fr-${suffix}`,
            "--count",
            String(COUNT),
            "--deadline",
            "60s",
          ],
          { timeoutMs: 80_000 },
        );
        const lines = r.stdout
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        const result = lines.find((l) => l.result !== undefined)?.result as
          | {
              committedTxns: number;
              abortedTxns: number;
              copied: number;
              offsets: Record<string, number>;
              output: { partition: number; key: string; value: string }[];
              uncommittedRead: number;
            }
          | undefined;
        assert.ok(result !== undefined, r.stdout.slice(-3000));
        assert.equal(lines.filter((l) => l.produceError !== undefined).length, 0, r.stdout.slice(-3000));
        assert.equal(result.copied, COUNT);
        assert.ok(result.abortedTxns >= 1 && result.committedTxns >= 1);
        assert.deepEqual(result.offsets, atEnd(input, COUNT), "the group's offsets, committed in the transactions");
        assert.deepEqual(
          result.output.map((o) => [o.partition, o.key, o.value]),
          expectedCopies(COUNT),
          "read_committed: every record copied once",
        );
        assert.ok(result.uncommittedRead > COUNT, `read_uncommitted saw ${result.uncommittedRead}`);
        t.diagnostic(`${result.committedTxns} committed, ${result.abortedTxns} aborted transactions`);
      },
    );
  },
);
