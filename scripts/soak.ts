/**
 * `npm run soak -- [--seconds 90] [--seed N]`: a bounded soak of the broker as a process.
 *
 * Starts the built broker (`broker/dist/src/main.js`) on loopback with small segments and a flush after
 * every message (so acknowledged = on disk), then for `--seconds` runs:
 * - two idempotent KafkaJS producers (acks=-1) writing numbered records to `soak-idem`,
 * - a transactional KafkaJS producer that commits or aborts (at random) batches to `soak-txn`,
 * - a read_committed consumer group on `soak-txn`,
 * - keyed records on a compacted topic and on a topic kept small by retention.bytes (scripts/soak/numbered.ts),
 * - topics created, written and deleted (scripts/soak/topic-churn.ts),
 * - a consumer group on `soak-idem` whose members join and leave, its committed offsets sampled
 *   (scripts/soak/group-churn.ts),
 * while every few seconds the broker is killed with SIGKILL and restarted, stopped with SIGTERM and
 * restarted, or left alone (chosen by the seeded random generator).
 * At the end it checks, after one more clean restart:
 * - every acknowledged record of the idempotent producers is in its partition exactly once, each producer's
 *   acknowledged records in the order they were acknowledged, and no record appears twice or from nowhere
 *   (a plain read_uncommitted read from offset 0);
 * - under read_committed, every committed transaction is there whole and exactly once, no aborted record is
 *   visible (nor was seen by the consumer group during the run), and a transaction whose outcome the client
 *   never learnt is there whole or not at all;
 * - the compacted topic kept the newest acknowledged record of every key, the retained one a whole suffix
 *   of what was acknowledged; acknowledged topic creations and deletions held; committed offsets never went
 *   back; the broker's resident memory stayed under MAX_RSS_MIB;
 * - the broker never exited unless told to, every SIGTERM ended with exit code 0, and its log has no ERROR
 *   line other than the expected ones listed in EXPECTED_ERRORS.
 * Prints a one-line summary; exits 1 on a violation (keeping the data directory and the broker's log for a
 * look, and printing where), 2 on the hard timeout or a setup failure.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import type { Consumer, Producer } from "kafkajs";
import { freePort, startBroker, type BrokerProcess } from "../broker/test/harness.ts";
import {
  between,
  kafka,
  random,
  readAll,
  run,
  say,
  seedRandom,
  sleep,
  violation,
  violations,
  type Read,
} from "./soak/common.ts";
import { groupChurn, groupSummary } from "./soak/group-churn.ts";
import { NumberedTopic } from "./soak/numbered.ts";
import { checkTopics, topicChurn } from "./soak/topic-churn.ts";

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: "90" },
    seed: { type: "string" },
  },
});
const SECONDS = Number(flags.seconds);
if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new Error(`--seconds must be a positive number`);
const SEED = flags.seed !== undefined ? Number(flags.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
/** The whole run, setup and final checks included, ends by this deadline whatever happens. */
const HARD_TIMEOUT_MS = (SECONDS + 240) * 1000;

const PROPERTIES = {
  "internal.log.segment.bytes": 16 * 1024,
  "log.index.interval.bytes": 512,
  "log.flush.interval.messages": 1,
  "offsets.topic.num.partitions": 4,
  "transaction.state.log.num.partitions": 4,
  "log.cleaner.backoff.ms": 1000,
  "log.retention.check.interval.ms": 1000,
};
/** A SIGTERM stop must end within this. */
const STOP_TIMEOUT_MS = 10_000;
const IDEM_TOPIC = "soak-idem";
const IDEM_PARTITIONS = 3;
const IDEM_PRODUCERS = 2;
const TXN_TOPIC = "soak-txn";
const TXN_PARTITIONS = 2;
const compacted = new NumberedTopic("soak-compact", 40, 100);
const retained = new NumberedTopic("soak-retain", 5, 300);
/** The broker's resident memory must stay under this (VmRSS, sampled every second). */
const MAX_RSS_MIB = 600;

/**
 * ERROR lines of the broker that are expected in this soak, each with the reason. Empty so far: a SIGKILL
 * restart logs recovery at INFO/WARN level, and clients that lose their connection are not errors.
 */
const EXPECTED_ERRORS: { pattern: RegExp; reason: string }[] = [];

seedRandom(SEED);

// ---------------------------------------------------------------------------------------------------------
// The broker process: restarts on the same port and data directory; every exit not asked for is a violation.

let root = "";
let broker: BrokerProcess | undefined;
/** Set while we stop or kill the broker on purpose. */
let expectingExit = false;
/** Output of the broker runs that ended, then of the current one. */
const pastOutput: string[] = [];
let restarts = 0;
let kills = 0;
let cleanStops = 0;

async function startTheBroker(): Promise<void> {
  const b = await startBroker({
    dataDir: join(root, "data"),
    port: run.port,
    properties: PROPERTIES,
    timeoutMs: 60_000,
  });
  b.process.once("exit", (code, signal) => {
    if (!expectingExit) violation(`the broker exited by itself (code ${code}, signal ${signal})`);
  });
  broker = b;
}

async function stopTheBroker(how: "kill" | "term"): Promise<void> {
  const b = broker!;
  expectingExit = true;
  if (how === "kill") {
    await b.kill9();
    kills++;
  } else {
    const began = Date.now();
    const code = await Promise.race([b.stop(), sleep(STOP_TIMEOUT_MS).then(() => "timeout" as const)]);
    cleanStops++;
    if (code === "timeout") {
      violation(`SIGTERM: the broker did not exit within ${STOP_TIMEOUT_MS / 1000} s (killed)`);
      await b.kill9();
    } else if (code !== 0) violation(`SIGTERM stop ended with exit code ${code}`);
    else say(`  SIGTERM: exited 0 in ${Date.now() - began} ms`);
  }
  pastOutput.push(b.output());
  broker = undefined;
  expectingExit = false;
}

async function restartTheBroker(how: "kill" | "term"): Promise<void> {
  await stopTheBroker(how);
  await startTheBroker();
  restarts++;
}

// ---------------------------------------------------------------------------------------------------------
// Clients.

/** What one idempotent producer sent: sequence number -> partition, for acknowledged and uncertain sends. */
interface IdemLog {
  acked: Map<number, number>;
  uncertain: Map<number, number>;
  ackOrder: number[];
}
const idemLogs: IdemLog[] = [];
let recordsAcked = 0;

async function idempotentProducer(n: number): Promise<void> {
  const log: IdemLog = { acked: new Map(), uncertain: new Map(), ackOrder: [] };
  idemLogs[n] = log;
  let seq = 0;
  let producer: Producer | undefined;
  while (!run.stopping) {
    try {
      if (producer === undefined) {
        producer = kafka(`soak-idem-${n}`).producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
      }
      const partition = between(0, IDEM_PARTITIONS - 1);
      const count = between(1, 20);
      const seqs = Array.from({ length: count }, () => seq++);
      for (const s of seqs) log.uncertain.set(s, partition);
      await producer.send({
        topic: IDEM_TOPIC,
        acks: -1,
        messages: seqs.map((s) => ({ partition, key: `i${n}`, value: `i${n}-${s}-${"x".repeat(s % 200)}` })),
      });
      for (const s of seqs) {
        log.uncertain.delete(s);
        log.acked.set(s, partition);
        log.ackOrder.push(s);
      }
      recordsAcked += count;
    } catch {
      // The send's records stay uncertain (never resent: new records get new numbers); a fresh producer
      // (new producer id) after a failure, so no client state is carried over a broker it lost.
      await producer?.disconnect().catch(() => {});
      producer = undefined;
      await sleep(500);
    }
    await sleep(between(10, 60));
  }
  await producer?.disconnect().catch(() => {});
}

/** Transactions: number -> partitions' record count, by what the client learnt of their outcome. */
const txnCommitted = new Map<number, number>();
const txnAborted = new Map<number, number>();
const txnUncertain = new Map<number, number>();
const txnValue = (t: number, i: number): string => `t${t}-${i}`;

async function transactionalProducer(): Promise<void> {
  let t = 0;
  let producer: Producer | undefined;
  while (!run.stopping) {
    const txnNo = t++;
    const count = between(1, 10);
    const abort = random() < 0.35;
    try {
      if (producer === undefined) {
        producer = kafka("soak-txn").producer({
          transactionalId: "soak-txn-1",
          idempotent: true,
          maxInFlightRequests: 1,
          transactionTimeout: 30000,
        });
        await producer.connect();
      }
      txnUncertain.set(txnNo, count);
      const txn = await producer.transaction();
      try {
        await txn.send({
          topic: TXN_TOPIC,
          acks: -1,
          messages: Array.from({ length: count }, (_, i) => ({
            partition: i % TXN_PARTITIONS,
            key: `t${txnNo}`,
            value: txnValue(txnNo, i),
          })),
        });
      } catch (e) {
        await txn.abort().catch(() => {});
        throw e;
      }
      if (abort) {
        await txn.abort();
        txnAborted.set(txnNo, count);
      } else {
        await txn.commit();
        txnCommitted.set(txnNo, count);
      }
      txnUncertain.delete(txnNo);
    } catch {
      // Outcome unknown: the next producer's InitProducerId completes or aborts it, whole.
      await producer?.disconnect().catch(() => {});
      producer = undefined;
      await sleep(500);
    }
    await sleep(between(20, 120));
  }
  await producer?.disconnect().catch(() => {});
}

/** Values the read_committed group saw during the run. */
const groupSaw = new Set<string>();
let groupConsumer: Consumer | undefined;

async function startGroupConsumer(): Promise<void> {
  const consumer = kafka("soak-rc").consumer({
    groupId: "soak-rc",
    readUncommitted: false,
    maxWaitTimeInMs: 500,
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
    retry: { retries: 1000, initialRetryTime: 300, maxRetryTime: 2000 },
  });
  await consumer.connect();
  await consumer.subscribe({ topic: TXN_TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      groupSaw.add(message.value?.toString() ?? "");
    },
  });
  groupConsumer = consumer;
}

// ---------------------------------------------------------------------------------------------------------
// Checks.

function checkIdempotent(parts: Read[][]): void {
  const seen = new Map<string, { partition: number; offset: number }>();
  for (let p = 0; p < parts.length; p++) {
    let prev = -1;
    for (const r of parts[p]!) {
      if (r.offset <= prev) violation(`${IDEM_TOPIC}-${p}: offset ${r.offset} after ${prev}`);
      prev = r.offset;
      const m = /^i(\d+)-(\d+)-x*$/.exec(r.value);
      if (m === null) {
        violation(`${IDEM_TOPIC}-${p}@${r.offset}: a record nobody sent: ${JSON.stringify(r.value.slice(0, 40))}`);
        continue;
      }
      const id = `i${m[1]}-${m[2]}`;
      const before = seen.get(id);
      if (before !== undefined)
        violation(
          `${IDEM_TOPIC}: ${id} twice (${IDEM_TOPIC}-${before.partition}@${before.offset} and -${p}@${r.offset})`,
        );
      else seen.set(id, { partition: p, offset: r.offset });
    }
  }
  for (let n = 0; n < idemLogs.length; n++) {
    const log = idemLogs[n]!;
    let prevOffset = new Map<number, number>();
    let lost = 0;
    for (const s of log.ackOrder) {
      const want = log.acked.get(s)!;
      const at = seen.get(`i${n}-${s}`);
      if (at === undefined) {
        if (lost++ < 10) violation(`acknowledged record i${n}-${s} (partition ${want}) is lost`);
        continue;
      }
      if (at.partition !== want) violation(`i${n}-${s} in partition ${at.partition}, sent to ${want}`);
      const prev = prevOffset.get(at.partition) ?? -1;
      if (at.offset <= prev)
        violation(`i${n}-${s} at offset ${at.offset}, before an earlier acknowledged record (${prev})`);
      prevOffset.set(at.partition, at.offset);
    }
    if (lost > 10) violation(`... ${lost} acknowledged records of producer i${n} lost in all`);
    for (const id of seen.keys()) {
      const m = /^i(\d+)-(\d+)$/.exec(id)!;
      if (Number(m[1]) !== n) continue;
      const s = Number(m[2]);
      if (!log.acked.has(s) && !log.uncertain.has(s)) violation(`${id} is stored but was never sent`);
    }
  }
}

function checkTransactions(parts: Read[][]): void {
  const count = new Map<number, number>();
  const values = new Set<string>();
  for (let p = 0; p < parts.length; p++) {
    for (const r of parts[p]!) {
      if (values.has(r.value)) violation(`${TXN_TOPIC}: ${r.value} twice under read_committed`);
      values.add(r.value);
      const m = /^t(\d+)-(\d+)$/.exec(r.value);
      if (m === null) {
        violation(`${TXN_TOPIC}-${p}@${r.offset}: a record nobody sent`);
        continue;
      }
      const t = Number(m[1]);
      count.set(t, (count.get(t) ?? 0) + 1);
    }
  }
  for (const [t, n] of txnCommitted) {
    if ((count.get(t) ?? 0) !== n)
      violation(`committed transaction t${t}: ${count.get(t) ?? 0} of ${n} records visible`);
  }
  for (const [t] of txnAborted) {
    if ((count.get(t) ?? 0) !== 0)
      violation(`aborted transaction t${t}: ${count.get(t)} records visible under read_committed`);
  }
  for (const [t, n] of txnUncertain) {
    const c = count.get(t) ?? 0;
    if (c !== 0 && c !== n)
      violation(`transaction t${t} (outcome unknown to the client): ${c} of ${n} records, not atomic`);
  }
  for (const [t] of count) {
    if (!txnCommitted.has(t) && !txnAborted.has(t) && !txnUncertain.has(t)) violation(`t${t} visible, never sent`);
  }
  for (const v of groupSaw) {
    const m = /^t(\d+)-\d+$/.exec(v);
    if (m === null) violation(`the read_committed group saw a record nobody sent: ${JSON.stringify(v.slice(0, 40))}`);
    else if (txnAborted.has(Number(m[1]))) violation(`the read_committed group saw ${v} of an aborted transaction`);
  }
}

function checkLog(): { errors: number; warnings: number } {
  const lines = pastOutput.join("\n").split("\n");
  let errors = 0;
  let warnings = 0;
  for (const line of lines) {
    if (/ WARN /.test(line)) warnings++;
    if (!/ ERROR /.test(line)) continue;
    errors++;
    if (!EXPECTED_ERRORS.some((e) => e.pattern.test(line))) violation(`broker log: ${line.slice(0, 300)}`);
  }
  return { errors, warnings };
}

// ---------------------------------------------------------------------------------------------------------

let peakRssMib = 0;

/** Samples the broker's VmRSS every second (Linux); a sample over MAX_RSS_MIB is a violation. */
async function sampleMemory(): Promise<void> {
  let reported = false;
  while (!run.stopping) {
    await sleep(1000);
    const pid = broker?.process.pid;
    if (pid === undefined) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, "utf8");
    } catch {
      continue; // not Linux, or the process is being restarted
    }
    const mib = Math.round(Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024);
    peakRssMib = Math.max(peakRssMib, mib);
    if (mib > MAX_RSS_MIB && !reported) {
      violation(`broker RSS ${mib} MiB, over ${MAX_RSS_MIB} MiB`);
      reported = true;
    }
  }
}

/** Stops the broker; the data directory is removed, or kept with the broker's log beside it after a violation. */
async function cleanup(): Promise<void> {
  if (broker !== undefined) {
    expectingExit = true;
    await broker.kill9().catch(() => {});
    pastOutput.push(broker.output());
    broker = undefined;
  }
  if (root === "") return;
  if (violations.length === 0) {
    await rm(root, { recursive: true, force: true }).catch(() => {});
    return;
  }
  await writeFile(join(root, "broker.log"), pastOutput.join("\n")).catch(() => {});
  console.error(`soak: data directory and broker log kept in ${root}`);
}

async function main(): Promise<number> {
  const began = Date.now();
  say(`seed ${SEED}, ${SECONDS} s (replay with --seed ${SEED} --seconds ${SECONDS})`);
  root = await mkdtemp(join(tmpdir(), "tskafka-soak-"));
  run.port = await freePort();
  await startTheBroker();
  const admin = kafka("soak-admin").admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: IDEM_TOPIC, numPartitions: IDEM_PARTITIONS },
      { topic: TXN_TOPIC, numPartitions: TXN_PARTITIONS },
      {
        topic: compacted.topic,
        numPartitions: 1,
        configEntries: [
          { name: "cleanup.policy", value: "compact" },
          { name: "min.cleanable.dirty.ratio", value: "0.01" },
        ],
      },
      { topic: retained.topic, numPartitions: 1, configEntries: [{ name: "retention.bytes", value: "65536" }] },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();

  const workers = [
    ...Array.from({ length: IDEM_PRODUCERS }, (_, n) => idempotentProducer(n)),
    transactionalProducer(),
    compacted.produce(),
    retained.produce(),
    topicChurn(),
    groupChurn(IDEM_TOPIC),
    sampleMemory(),
  ];
  await startGroupConsumer();

  // The faults: every 3 to 8 s, a SIGKILL restart, a SIGTERM restart, or nothing.
  const end = began + SECONDS * 1000;
  while (Date.now() < end) {
    await sleep(Math.min(between(3000, 8000), Math.max(0, end - Date.now())));
    if (Date.now() >= end) break;
    const r = random();
    if (r < 0.45) {
      say(`${Math.round((Date.now() - began) / 1000)} s: kill -9 and restart (${recordsAcked} acknowledged so far)`);
      await restartTheBroker("kill");
    } else if (r < 0.75) {
      say(`${Math.round((Date.now() - began) / 1000)} s: SIGTERM and restart`);
      await restartTheBroker("term");
    }
  }
  const runRestarts = restarts;
  const runKills = kills;
  run.stopping = true;
  say(`stopping the clients`);
  await Promise.all(workers);
  await groupConsumer?.disconnect().catch(() => {});

  // A last clean restart, then read everything back.
  await restartTheBroker("term");
  say(
    `reading back (${recordsAcked} acknowledged records, ${txnCommitted.size} committed and ${txnAborted.size} aborted transactions, ${txnUncertain.size} of unknown outcome)`,
  );
  checkIdempotent(await readAll(IDEM_TOPIC, IDEM_PARTITIONS, false));
  checkTransactions(await readAll(TXN_TOPIC, TXN_PARTITIONS, true));
  const details = [
    compacted.checkCompacted((await readAll(compacted.topic, 1, false))[0]!),
    retained.checkSuffix((await readAll(retained.topic, 1, false))[0]!),
    await checkTopics(),
    groupSummary(),
    `peak broker RSS ${peakRssMib} MiB`,
  ];
  await stopTheBroker("term");
  const log = checkLog();

  const duration = Math.round((Date.now() - began) / 1000);
  const summary =
    `soak: ${violations.length === 0 ? "OK" : "FAILED"}: ${recordsAcked} records acknowledged, ` +
    `${txnCommitted.size} transactions committed, ${txnAborted.size} aborted, ${txnUncertain.size} unknown; ` +
    `${runRestarts} restarts during the run (${runKills} kill -9, ${runRestarts - runKills} SIGTERM), ` +
    `then a clean restart and stop; ` +
    details.join("; ") +
    "; " +
    `broker log ${log.errors} ERROR / ${log.warnings} WARN lines; ${duration} s; seed ${SEED}`;
  for (const v of violations) console.error(`soak: VIOLATION: ${v}`);
  console.log(summary);
  return violations.length === 0 ? 0 : 1;
}

const hardTimeout = setTimeout(() => {
  console.error(`soak: hard timeout (${HARD_TIMEOUT_MS / 1000} s) reached; seed ${SEED}`);
  void cleanup().finally(() => process.exit(2));
}, HARD_TIMEOUT_MS);
hardTimeout.unref();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (e: unknown) => {
    console.error(`soak: failed to run (seed ${SEED}): ${e instanceof Error ? e.stack : String(e)}`);
    for (const v of violations) console.error(`soak: VIOLATION: ${v}`);
    const tail = [...pastOutput, broker?.output() ?? ""].join("\n").split("\n").slice(-30).join("\n");
    console.error(`soak: broker log, last 30 lines:\n${tail}`);
    await cleanup();
    process.exit(2);
  });
