import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { delimiter, join } from "node:path";
import { after, before, test } from "node:test";
import {
  ApiKey,
  buildRecordBatch,
  createCreateTopicsRequest,
  createInitProducerIdRequest,
  createListOffsetsRequest,
  createListOffsetsRequestListOffsetsPartition,
  createListOffsetsRequestListOffsetsTopic,
  createProduceRequest,
  createWriteTxnMarkersRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { RawClient } from "./clients/raw-client.js";
import { skipUnless } from "./harness.js";
import { haveTarget, startTxnTarget, TARGET_REQUIREMENT, type TxnTarget } from "./clients/txn-target.js";
import { KAFKA44_LIB, KAFKA44_REQUIREMENT, compileJava, haveKafka44, log4j2 } from "./clients/java/kafka44.js";

/**
 * Kafka's `kafka-transactions.sh` (TransactionsCommand of kafka-tools 4.4) against the broker: list (also with
 * --duration-filter and --transactional-id-pattern), describe, describe-producers, find-hanging (by broker and
 * by topic/partition) and abort (by start offset, and by producer id, epoch and coordinator epoch).
 *
 * Partition 0 of the topic gets, in this order:
 * - a committed transaction of three records (`a0..a2`, offsets 0-2, its marker at 3), by the Java producer
 *   `tools-done`;
 * - a hanging transaction at offset 4: a transactional batch the coordinator never heard of, written over the
 *   wire by a producer id of an idempotent producer, with a transactional id the coordinator does not know, on a
 *   broker with `transaction.partition.verification.enable=false` (the broker-side check of KIP-890 part 1 is
 *   what prevents such batches; without it a late write after an abort leaves one behind). Its timestamp is two
 *   hours old, so that find-hanging's default 15-minute threshold finds it;
 * - an open transaction (`b0`, `b1` at 5 and 6) of the Java producer `tools-open`, killed with SIGKILL while it
 *   is open, with a transaction timeout of 10 minutes: the coordinator knows it, so it is not hanging;
 * - a plain record `c0` at 7.
 * The last stable offset stays at 4 until both are aborted with the tool (LSO 5 after the first, then the end),
 * and then a read_committed consumer (Kafka's console consumer) reads `a0..a2` and `c0`. Then an operator's
 * mistakes: an abort with an older epoch (refused), an abort of a producer without an open transaction (its
 * marker is written), find-hanging on a broker without replicas.
 *
 * A second test sends WriteTxnMarkers itself (what `abort` sends, with transaction version 0, and what a
 * cluster's coordinator sends) through the epoch rules of transactions v1 and v2.
 *
 * The tools run one after another in one JVM (ToolBatch.java, fed line by line). TSKAFKA_TXN_TARGET=kafka runs
 * the same against Apache Kafka 4.4.0 (clients/txn-target.ts): that is how the expected outputs were checked.
 */

const skip = skipUnless(haveKafka44(), KAFKA44_REQUIREMENT) ?? skipUnless(haveTarget(), TARGET_REQUIREMENT);

const PROPERTIES = {
  "num.partitions": 2,
  "auto.create.topics.enable": false,
  "offsets.topic.num.partitions": 2,
  "transaction.state.log.num.partitions": 2,
  "transaction.state.log.replication.factor": 1,
  "transaction.state.log.min.isr": 1,
  "transaction.partition.verification.enable": false,
  "transaction.max.timeout.ms": 900_000,
};

const TOPIC = "tools-t";
const DONE_ID = "tools-done";
const OPEN_ID = "tools-open";
const GHOST_ID = "tools-ghost";
const OPEN_TIMEOUT_MS = 600_000;
/** Between the end of tools-done's transaction and the start of tools-open's. */
const GAP_MS = 6000;
const TOOL = "org.apache.kafka.tools.TransactionsCommand";
const CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";

let target: TxnTarget | undefined;
let client: RawClient | undefined;

before(async () => {
  if (skip !== undefined) return;
  target = await startTxnTarget(PROPERTIES);
  client = await RawClient.connect(Number(target.bootstrap.split(":").at(-1)), { requestTimeoutMs: 30_000 });
});

after(async () => {
  client?.close();
  await target?.cleanup();
});

// --- Java: our programs and Kafka's tools, on Kafka 4.4's jars ---

function javaArgs(mainClass: string, args: readonly string[]): string[] {
  const classes = compileJava(["ToolBatch.java", "TxnTools.java"]);
  return [
    "-Xmx256m",
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-Xshare:auto",
    `-Dlog4j2.configurationFile=${log4j2()}`,
    "-cp",
    [classes, join(KAFKA44_LIB, "*")].join(delimiter),
    mainClass,
    ...args,
  ];
}

interface ToolResult {
  command: string;
  code: number;
  stdout: string;
  stderr: string;
}

/** ToolBatch.java fed one command at a time: each answer comes back before the next command is written. */
class ToolSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly lines: string[] = [];
  readonly results: ToolResult[] = [];

  constructor() {
    this.child = spawn("java", javaArgs("ToolBatch", []), { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdin.on("error", () => undefined);
    this.child.stderr.on("data", (d: Buffer) => (this.err += d.toString()));
    this.child.stdout.on("data", (d: Buffer) => {
      this.out += d.toString();
      for (let nl = this.out.indexOf("\n"); nl >= 0; nl = this.out.indexOf("\n")) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        if (!line.startsWith("RESULT ")) continue;
        const w = this.waiting.shift();
        if (w !== undefined) w(line);
        else this.lines.push(line);
      }
    });
  }

  /** Runs one main class with its arguments; its exit code and output. */
  async run(mainClass: string, args: readonly string[], timeoutMs = 60_000): Promise<ToolResult> {
    const command = [mainClass, ...args].join(" ");
    this.child.stdin.write([mainClass, ...args].join("\t") + "\n");
    const line =
      this.lines.shift() ??
      (await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no answer to ${command} in ${timeoutMs} ms\n${this.err}`)),
          timeoutMs,
        );
        this.waiting.push((l) => {
          clearTimeout(timer);
          resolve(l);
        });
      }));
    const [, code, , out, err] = line.split(" ");
    const result = {
      command,
      code: Number(code),
      stdout: Buffer.from(out ?? "", "base64").toString(),
      stderr: Buffer.from(err ?? "", "base64").toString(),
    };
    this.results.push(result);
    return result;
  }

  /** kafka-transactions.sh with these arguments; fails unless it exits 0. */
  async tool(...args: string[]): Promise<ToolResult> {
    const r = await this.run(TOOL, ["--bootstrap-server", target!.bootstrap, ...args]);
    assert.equal(r.code, 0, `${args.join(" ")} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
    return r;
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    const exited = new Promise((r) => this.child.once("close", r));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }

  /** Everything the tools printed, for failure messages. */
  transcript(): string {
    return this.results.map((r) => `$ ${r.command}\n[exit ${r.code}]\n${r.stdout}${r.stderr}`).join("\n");
  }
}

/** The tool's tables: header row and rows, cells trimmed (columns end with a tab). */
function table(stdout: string): { header: string[]; rows: string[][] } {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  const cells = lines.map((l) => {
    const c = l.split("\t").map((cell) => cell.trim());
    if (c.at(-1) === "") c.pop();
    return c;
  });
  return { header: cells[0] ?? [], rows: cells.slice(1) };
}

/** Rows as objects by header name. */
function records(stdout: string): Record<string, string>[] {
  const { header, rows } = table(stdout);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

// --- wire requests ---

async function createTopic(name: string, partitions: number): Promise<void> {
  const res = await client!.request(
    ApiKey.CreateTopics,
    5,
    createCreateTopicsRequest({
      topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
    }),
  );
  assert.equal(res.topics[0]!.errorCode, 0, `create ${name}`);
}

/** ListOffsets latest with read_committed: the last stable offset. */
async function lastStableOffset(partition = 0): Promise<bigint> {
  const res = await client!.request(
    ApiKey.ListOffsets,
    5,
    createListOffsetsRequest({
      replicaId: -1,
      isolationLevel: 1,
      topics: [
        createListOffsetsRequestListOffsetsTopic({
          name: TOPIC,
          partitions: [createListOffsetsRequestListOffsetsPartition({ partitionIndex: partition, timestamp: -1n })],
        }),
      ],
    }),
  );
  const p = res.topics[0]!.partitions[0]!;
  assert.equal(p.errorCode, 0);
  return p.offset;
}

/** A producer id and epoch of an idempotent producer (asked again while Kafka's producer id manager starts). */
async function idempotentProducer(): Promise<{ producerId: bigint; producerEpoch: number }> {
  for (let i = 0; ; i++) {
    const init = await client!.request(
      ApiKey.InitProducerId,
      4,
      createInitProducerIdRequest({ transactionalId: null, transactionTimeoutMs: 60_000 }),
    );
    if (init.errorCode === 0 || i >= 100) {
      assert.equal(init.errorCode, 0, "InitProducerId");
      return init;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One transactional batch of `producer` to partition 0 of `topic`, for a transactional id nobody registered. */
async function produceTransactional(
  topic: string,
  producer: { producerId: bigint; producerEpoch: number },
  baseSequence: number,
  timestamp = Date.now(),
): Promise<{ errorCode: number; baseOffset: bigint }> {
  const records = buildRecordBatch([{ key: "g0", value: "g0" }], {
    producerId: producer.producerId,
    producerEpoch: producer.producerEpoch,
    baseSequence,
    transactional: true,
    timestamp,
  });
  const res = await client!.request(
    ApiKey.Produce,
    9,
    createProduceRequest({
      transactionalId: GHOST_ID,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: topic, topicId: ZERO_UUID, partitionData: [{ index: 0, records }] }],
    }),
  );
  return res.responses[0]!.partitionResponses[0]!;
}

/** The hanging batch: transactional, of an idempotent producer's id, for a transactional id nobody registered. */
async function writeHangingBatch(timestamp: number): Promise<{ producerId: bigint; offset: bigint }> {
  const init = await idempotentProducer();
  const p = await produceTransactional(TOPIC, init, 0, timestamp);
  assert.equal(p.errorCode, 0, `the hanging batch: error ${p.errorCode}`);
  return { producerId: init.producerId, offset: p.baseOffset };
}

// --- the tests ---

test(
  "kafka-transactions.sh: list, describe, describe-producers, find-hanging, abort",
  { skip, timeout: 240_000 },
  async () => {
    await createTopic(TOPIC, 2);
    const bootstrap = target!.bootstrap;

    // The Java producers: tools-done commits, then (when told) tools-open opens a transaction and is killed.
    const producer = spawn(
      "java",
      javaArgs("TxnTools", [bootstrap, TOPIC, DONE_ID, OPEN_ID, String(OPEN_TIMEOUT_MS)]),
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let producerOut = "";
    let producerErr = "";
    producer.stdout.on("data", (d: Buffer) => (producerOut += d.toString()));
    producer.stderr.on("data", (d: Buffer) => (producerErr += d.toString()));
    producer.stdin.on("error", () => undefined);
    const producerExited = new Promise<void>((r) => producer.once("close", () => r()));
    const producerTimer = setTimeout(() => producer.kill("SIGKILL"), 120_000);
    const waitProducer = async (word: string): Promise<void> => {
      const deadline = Date.now() + 90_000;
      while (!producerOut.includes(word)) {
        if (Date.now() > deadline || producer.exitCode !== null)
          assert.fail(`TxnTools did not print ${word}:\n${producerOut}\n${producerErr.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    // The tools' JVM starts meanwhile.
    const tools = new ToolSession();
    try {
      await waitProducer("COMMITTED");
      const committedAt = Date.now();
      // commitTransaction returns before the markers are written (Kafka writes them after answering EndTxn).
      for (let i = 0; (await client!.highWatermark(TOPIC, 0)) < 4n; i++) {
        assert.ok(i < 200, "the commit marker of tools-done was not written in 10 s");
        await new Promise((r) => setTimeout(r, 50));
      }
      const ghostTimestamp = Date.now() - 2 * 3600_000 - 30_000;
      const ghost = await writeHangingBatch(ghostTimestamp);
      assert.equal(ghost.offset, 4n, "after a0..a2 and their commit marker");
      // tools-open starts its transaction GAP_MS after tools-done's ended, for the duration filter below.
      await new Promise((r) => setTimeout(r, Math.max(0, committedAt + GAP_MS - Date.now())));
      const openAskedAt = Date.now();
      producer.stdin.write("open\n");
      await waitProducer("OPEN");
      producer.kill("SIGKILL");
      await producerExited;
      clearTimeout(producerTimer);
      const plain = await client!.produce(TOPIC, 0, [{ key: "c0", value: "c0" }]);
      assert.equal(plain.errorCode, 0);
      assert.equal(plain.baseOffset, 7n);
      assert.equal(await lastStableOffset(), 4n, "the hanging transaction holds the LSO");

      const check = async (): Promise<void> => {
        // list: both ids the coordinator knows, on coordinator 1.
        const listed = records((await tools.tool("list")).stdout);
        assert.deepEqual(listed.map((r) => [r.TransactionalId, r.Coordinator, r.TransactionState]).sort(), [
          [DONE_ID, "1", "CompleteCommit"],
          [OPEN_ID, "1", "Ongoing"],
        ]);
        const openPid = listed.find((r) => r.TransactionalId === OPEN_ID)!.ProducerId!;
        const donePid = listed.find((r) => r.TransactionalId === DONE_ID)!.ProducerId!;
        assert.match(openPid, /^\d+$/);

        // --duration-filter (KIP-994): the transactions that started longer ago than the duration, whatever their
        // state: tools-done's (ended) started at least GAP_MS before tools-open's.
        const all = records((await tools.tool("list", "--duration-filter", "0")).stdout);
        assert.deepEqual(all.map((r) => r.TransactionalId).sort(), [DONE_ID, OPEN_ID]);
        const between = String(Date.now() - openAskedAt + GAP_MS / 2);
        const longer = records((await tools.tool("list", "--duration-filter", between)).stdout);
        assert.deepEqual(
          longer.map((r) => r.TransactionalId),
          [DONE_ID],
        );
        assert.deepEqual(records((await tools.tool("list", "--duration-filter", "3600000")).stdout), []);
        const byPattern = records((await tools.tool("list", "--transactional-id-pattern", "tools-o.*")).stdout);
        assert.deepEqual(
          byPattern.map((r) => r.TransactionalId),
          [OPEN_ID],
        );

        // describe
        const [open] = records((await tools.tool("describe", "--transactional-id", OPEN_ID)).stdout);
        assert.ok(open !== undefined);
        assert.equal(open.CoordinatorId, "1");
        assert.equal(open.ProducerId, openPid);
        assert.equal(open.ProducerEpoch, "0");
        assert.equal(open.TransactionState, "Ongoing");
        assert.equal(open.TransactionTimeoutMs, String(OPEN_TIMEOUT_MS));
        assert.match(open.CurrentTransactionStartTimeMs!, /^\d{13}$/);
        assert.match(open.TransactionDurationMs!, /^\d+$/);
        assert.equal(open.TopicPartitions, `${TOPIC}-0`);
        const [done] = records((await tools.tool("describe", "--transactional-id", DONE_ID)).stdout);
        assert.ok(done !== undefined);
        assert.equal(done.TransactionState, "CompleteCommit");
        assert.equal(done.ProducerId, donePid);
        assert.equal(done.ProducerEpoch, "1");
        assert.equal(done.TransactionTimeoutMs, "60000");
        assert.match(done.CurrentTransactionStartTimeMs!, /^\d{13}$/);
        assert.equal(done.TopicPartitions, "");
        const missing = await tools.run(TOOL, [
          "--bootstrap-server",
          bootstrap,
          "describe",
          "--transactional-id",
          "nope",
        ]);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /Failed to describe transaction state of transactional-id `nope`/);

        // describe-producers
        const producers = records(
          (await tools.tool("describe-producers", "--topic", TOPIC, "--partition", "0")).stdout,
        );
        const byPid = new Map(producers.map((p) => [p.ProducerId!, p]));
        assert.equal(producers.length, 3, JSON.stringify(producers));
        assert.deepEqual(byPid.get(String(ghost.producerId)), {
          ProducerId: String(ghost.producerId),
          ProducerEpoch: "0",
          LatestCoordinatorEpoch: "-1",
          LastSequence: "0",
          LastTimestamp: String(ghostTimestamp),
          CurrentTransactionStartOffset: "4",
        });
        const openProducer = byPid.get(openPid)!;
        assert.equal(openProducer.ProducerEpoch, "0");
        assert.equal(openProducer.LatestCoordinatorEpoch, "-1");
        assert.equal(openProducer.LastSequence, "1");
        assert.equal(openProducer.CurrentTransactionStartOffset, "5");
        const doneProducer = byPid.get(donePid)!;
        // Its commit (transactions v2) bumped the epoch: the marker's epoch is the producer's, sequences start over.
        assert.equal(doneProducer.LastSequence, "-1");
        assert.equal(doneProducer.LatestCoordinatorEpoch, "0");
        assert.equal(doneProducer.CurrentTransactionStartOffset, "None");
        assert.equal(doneProducer.ProducerEpoch, done.ProducerEpoch);

        // find-hanging: only the batch the coordinator does not know; by broker with the default 15 minutes
        // (its timestamp is 2 hours old), by topic and partition with 0 minutes.
        const hangingRow = {
          Topic: TOPIC,
          Partition: "0",
          ProducerId: String(ghost.producerId),
          ProducerEpoch: "0",
          CoordinatorEpoch: "-1",
          StartOffset: "4",
          LastTimestamp: String(ghostTimestamp),
          "Duration(min)": "120",
        };
        assert.deepEqual(records((await tools.tool("find-hanging", "--broker-id", "1")).stdout), [hangingRow]);
        for (const scope of [
          ["--topic", TOPIC],
          ["--topic", TOPIC, "--partition", "0"],
        ]) {
          const found = records((await tools.tool("find-hanging", ...scope, "--max-transaction-timeout", "0")).stdout);
          assert.deepEqual(found, [hangingRow], scope.join(" "));
        }

        // abort: a start offset where no transaction starts is refused by the tool.
        const wrong = await tools.run(TOOL, [
          "--bootstrap-server",
          bootstrap,
          "abort",
          "--topic",
          TOPIC,
          "--partition",
          "0",
          "--start-offset",
          "5000",
        ]);
        assert.equal(wrong.code, 1);
        assert.match(
          wrong.stderr,
          new RegExp(`Could not find any open transactions starting at offset 5000 on partition ${TOPIC}-0`),
        );

        // abort the hanging one by its start offset: the LSO moves to the open transaction's start.
        await tools.tool("abort", "--topic", TOPIC, "--partition", "0", "--start-offset", "4");
        assert.equal(await lastStableOffset(), 5n);
        // abort the killed producer's one by producer id, epoch and coordinator epoch as describe-producers shows them.
        await tools.tool(
          "abort",
          "--topic",
          TOPIC,
          "--partition",
          "0",
          "--producer-id",
          openPid,
          "--producer-epoch",
          openProducer.ProducerEpoch!,
          "--coordinator-epoch",
          openProducer.LatestCoordinatorEpoch!,
        );
        assert.equal(await lastStableOffset(), 10n, "two abort markers after c0: the LSO is the end");

        // A read_committed consumer now passes offset 4: the committed records and c0, no aborted one.
        const consumed = await tools.run(CONSOLE_CONSUMER, [
          "--bootstrap-server",
          bootstrap,
          "--topic",
          TOPIC,
          "--partition",
          "0",
          "--offset",
          "earliest",
          "--isolation-level",
          "read_committed",
          "--max-messages",
          "4",
          "--timeout-ms",
          "20000",
        ]);
        assert.equal(consumed.code, 0, consumed.stderr);
        assert.deepEqual(
          consumed.stdout.split("\n").filter((l) => l !== ""),
          ["a0", "a1", "a2", "c0"],
        );

        // Afterwards: no open transaction in the partition, nothing hanging; the coordinator of tools-open,
        // which the abort did not involve, still has its transaction open.
        const afterOutput = (await tools.tool("describe-producers", "--topic", TOPIC, "--partition", "0")).stdout;
        const after = records(afterOutput);
        assert.deepEqual(
          after.map((p) => [p.ProducerId, p.LatestCoordinatorEpoch, p.CurrentTransactionStartOffset]).sort(),
          [
            [String(ghost.producerId), "0", "None"],
            [openPid, "0", "None"],
            [donePid, doneProducer.LatestCoordinatorEpoch, "None"],
          ].sort(),
        );
        assert.deepEqual(
          records((await tools.tool("find-hanging", "--broker-id", "1", "--max-transaction-timeout", "0")).stdout),
          [],
        );
        const [stillOpen] = records((await tools.tool("describe", "--transactional-id", OPEN_ID)).stdout);
        assert.equal(stillOpen?.TransactionState, "Ongoing");

        // describe-producers asked of broker 1 (not the leader found from Metadata): the same table.
        assert.equal(
          (await tools.tool("describe-producers", "--topic", TOPIC, "--partition", "0", "--broker-id", "1")).stdout,
          afterOutput,
        );
        // Mistakes an operator can make, answered as Kafka answers them: an epoch older than the producer's is
        // refused (INVALID_PRODUCER_EPOCH); an abort of a producer without an open transaction writes its marker;
        // find-hanging on a broker that has no replica finds nothing.
        const abortArgs = [
          "abort",
          "--topic",
          TOPIC,
          "--partition",
          "0",
          "--producer-id",
          donePid,
          "--coordinator-epoch",
          "0",
        ];
        const stale = await tools.run(TOOL, ["--bootstrap-server", bootstrap, ...abortArgs, "--producer-epoch", "0"]);
        assert.equal(stale.code, 1);
        assert.match(
          stale.stderr,
          /^Failed to abort transaction AbortTransactionSpec\(.*\): WriteTxnMarkers request .* failed due an invalid producer epoch\./,
        );
        assert.equal(await client!.highWatermark(TOPIC, 0), 10n);
        await tools.tool(...abortArgs, "--producer-epoch", doneProducer.ProducerEpoch!);
        assert.equal(await client!.highWatermark(TOPIC, 0), 11n);
        assert.deepEqual(records((await tools.tool("find-hanging", "--broker-id", "2")).stdout), []);
      };
      try {
        await check();
      } catch (e) {
        (e as Error).message += `\n--- tool transcript ---\n${tools.transcript()}`;
        throw e;
      }
      if (process.env.TXN_DEBUG !== undefined) console.log(tools.transcript());
    } finally {
      producer.kill("SIGKILL");
      clearTimeout(producerTimer);
      await tools.close();
    }
  },
);

test("WriteTxnMarkers (the abort tool's request): the epoch rules of each transaction version", { skip }, async () => {
  // The abort tool sends markers of the producer's current epoch without a transaction version (v0-1: 0); a
  // cluster's coordinator sends v2 with the transaction's version, and from 2 (KIP-890) the marker's epoch is
  // the bumped one: a partition refuses one that is not newer, unless it repeats the marker of an ended transaction.
  const topic = "tools-markers";
  await createTopic(topic, 1);
  const producer = await idempotentProducer();
  const pid = producer.producerId;
  const marker = async (version: number, transactionVersion: number, epoch: number, coordinatorEpoch: number) => {
    const res = await client!.request(
      ApiKey.WriteTxnMarkers,
      version,
      createWriteTxnMarkersRequest({
        markers: [
          {
            producerId: pid,
            producerEpoch: epoch,
            transactionResult: false,
            coordinatorEpoch,
            transactionVersion,
            topics: [{ name: topic, partitionIndexes: [0] }],
          },
        ],
      }),
    );
    return res.markers[0]!.topics[0]!.partitions[0]!.errorCode;
  };
  const steps: [string, number][] = [];
  steps.push(["open at epoch 0", (await produceTransactional(topic, producer, 0)).errorCode]);
  steps.push(["v2 tv2, epoch 0: not newer", await marker(2, 2, 0, 0)]);
  steps.push(["v2 tv2, epoch 1", await marker(2, 2, 1, 0)]);
  steps.push(["v2 tv2, epoch 1 again: a repeat", await marker(2, 2, 1, 0)]);
  steps.push(["v2 tv0, epoch 0: older", await marker(2, 0, 0, 0)]);
  steps.push(["v2 tv0, epoch 1, coordinator epoch 5", await marker(2, 0, 1, 5)]);
  steps.push(["v2 tv0, epoch 1, coordinator epoch 3: fenced", await marker(2, 0, 1, 3)]);
  steps.push([
    "open at epoch 1",
    (await produceTransactional(topic, { producerId: pid, producerEpoch: 1 }, 0)).errorCode,
  ]);
  steps.push(["v2 tv2, epoch 1 while open: not newer", await marker(2, 2, 1, 5)]);
  steps.push(["v1, epoch 1 while open", await marker(1, 0, 1, 5)]);
  steps.push(["v1, epoch 1 again, none open", await marker(1, 0, 1, 5)]);
  steps.push(["v2 tv2, epoch 2", await marker(2, 2, 2, 5)]);
  const INVALID_PRODUCER_EPOCH = 47;
  const TRANSACTION_COORDINATOR_FENCED = 52;
  assert.deepEqual(steps, [
    ["open at epoch 0", 0],
    ["v2 tv2, epoch 0: not newer", INVALID_PRODUCER_EPOCH],
    ["v2 tv2, epoch 1", 0],
    ["v2 tv2, epoch 1 again: a repeat", 0],
    ["v2 tv0, epoch 0: older", INVALID_PRODUCER_EPOCH],
    ["v2 tv0, epoch 1, coordinator epoch 5", 0],
    ["v2 tv0, epoch 1, coordinator epoch 3: fenced", TRANSACTION_COORDINATOR_FENCED],
    ["open at epoch 1", 0],
    ["v2 tv2, epoch 1 while open: not newer", INVALID_PRODUCER_EPOCH],
    ["v1, epoch 1 while open", 0],
    ["v1, epoch 1 again, none open", 0],
    ["v2 tv2, epoch 2", 0],
  ]);
  // Written: the batch at epoch 0, three markers (the refused ones not), the batch at epoch 1, three markers.
  assert.equal(await client!.highWatermark(topic, 0), 8n);
});
