import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ApiKey, createCreateTopicsRequest } from "@tskafka/protocol";
import { tsImport } from "tsx/esm/api";
import { EtcdClusterMetadata } from "../src/cluster/etcd-metadata.js";
import { RawClient } from "./clients/raw-client.js";
import { CLIENTS_DIR, VENV_PYTHON, haveVenvModules } from "./clients/venv.js";
import { REPO_ROOT, haveCommand, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";

/**
 * Leader loss (issue 16's proof): etcd and three brokers, a topic of PARTITIONS partitions on all three
 * (min.insync.replicas=2). An idempotent acks=all producer (confluent-kafka) and a consumer reading from the
 * beginning run throughout while, ROUNDS times, the broker leading most of the topic's partitions is killed
 * with -9; the test waits for new leaders (its etcd lease ends after broker.session.timeout.ms), restarts it
 * on its data and waits until it caught up and is back in every ISR. Then: every acknowledged record is in
 * the log exactly once, at the offset it was acknowledged with, in acknowledgement order per partition;
 * nothing is there twice; and every record the consumer saw is still there at the same offset (it never read
 * a record that was later lost); and the three replicas of each partition end the same, byte for byte.
 * ROUNDS is 20, the issue's count (TSKAFKA_FAILOVER_ROUNDS to change it): about 3 s a round here, 75 s in all.
 */

interface EtcdHandle {
  readonly endpoint: string;
  close(): Promise<void>;
}

const HAVE_ETCD = haveCommand("etcd");
const HAVE_CONFLUENT = haveVenvModules("confluent_kafka");
const TOPIC = "failover";
const PARTITIONS = 3;
const ROUNDS = Number(process.env.TSKAFKA_FAILOVER_ROUNDS ?? 20);
const SESSION_MS = 2000;
const LAG_MS = 1500;
const SCRIPT = join(CLIENTS_DIR, "confluent_failover.py");

interface Rec {
  readonly p: number;
  readonly o: number;
  readonly v: string;
}

let etcd: EtcdHandle;
let observer: EtcdClusterMetadata;
const brokers = new Map<number, BrokerProcess>();
const dataDirs = new Map<number, string>();
const started: BrokerProcess[] = [];

async function start(nodeId: number): Promise<BrokerProcess> {
  const dataDir = dataDirs.get(nodeId);
  const port = brokers.get(nodeId)?.port;
  const b = await startBroker({
    ...(dataDir !== undefined ? { dataDir } : {}),
    ...(port !== undefined ? { port } : {}),
    logLevel: "warn",
    properties: {
      "node.id": nodeId,
      "etcd.endpoints": etcd.endpoint,
      "broker.session.timeout.ms": SESSION_MS,
      "replica.lag.time.max.ms": LAG_MS,
      "replica.fetch.wait.max.ms": 200,
      "replica.fetch.backoff.ms": 100,
      "replica.high.watermark.checkpoint.interval.ms": 500,
      "offsets.topic.num.partitions": 3,
      "transaction.state.log.num.partitions": 3,
    },
  });
  dataDirs.set(nodeId, b.dataDir);
  brokers.set(nodeId, b);
  started.push(b);
  return b;
}

/** A client of confluent_failover.py: its JSON lines as they come; `stop()` closes its stdin and waits. */
class PyClient {
  readonly docs: Record<string, unknown>[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  private stderr = "";

  constructor(mode: string, bootstrap: string) {
    this.child = spawn(VENV_PYTHON, [SCRIPT, mode, bootstrap, TOPIC, String(PARTITIONS)]);
    let rest = "";
    this.child.stdout.on("data", (d: Buffer) => {
      const lines = (rest + d.toString()).split("\n");
      rest = lines.pop()!;
      for (const l of lines) if (l !== "") this.docs.push(JSON.parse(l) as Record<string, unknown>);
    });
    this.child.stderr.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => this.child.once("exit", (code) => r(code)));
  }

  records(): Rec[] {
    return this.docs.filter((d) => typeof d.o === "number") as unknown as Rec[];
  }

  async stop(timeoutMs = 90_000): Promise<void> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    assert.equal(code, 0, `confluent_failover.py exited ${code}:\n${this.stderr.slice(-3000)}`);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

function bootstrap(): string {
  return [...brokers.values()].map((b) => b.bootstrap).join(",");
}

/** The broker leading most of the topic's partitions (the lowest id of a tie). */
function busiestLeader(): number {
  const counts = new Map<number, number>();
  for (const s of observer.partitionStates(TOPIC)!) counts.set(s.leader, (counts.get(s.leader) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
}

const inAllIsrs = (id: number): boolean =>
  observer.partitionStates(TOPIC)!.every((s) => s.isr.includes(id) && s.leader >= 0);

/** The bytes of a partition's log on one broker, its segments in order. */
async function logBytes(nodeId: number, partition: number): Promise<Buffer> {
  const dir = join(dataDirs.get(nodeId)!, `${TOPIC}-${partition}`);
  const segments = (await readdir(dir)).filter((f) => f.endsWith(".log")).sort();
  return Buffer.concat(await Promise.all(segments.map((f) => readFile(join(dir, f)))));
}

/** Waits (bounded) until the three replicas of each partition hold the same bytes; fails naming the sizes. */
async function replicasAgree(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const sizes: number[][] = [];
    let same = true;
    for (let p = 0; p < PARTITIONS; p++) {
      const logs = await Promise.all([1, 2, 3].map((id) => logBytes(id, p)));
      sizes.push(logs.map((l) => l.length));
      same &&= logs.every((l) => l.equals(logs[0]!));
    }
    if (same) return;
    assert.ok(Date.now() < deadline, `replicas differ (bytes per partition and broker): ${JSON.stringify(sizes)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Records by partition, in the order given. */
function byPartition(records: readonly Rec[]): Rec[][] {
  const out: Rec[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const r of records) out[r.p]!.push(r);
  return out;
}

describe(
  "leader loss: kill -9 of the leader under an idempotent acks=all producer",
  {
    skip: skipUnless(HAVE_ETCD, "etcd") ?? skipUnless(HAVE_CONFLUENT, "confluent-kafka in .cache/venv"),
    timeout: 300_000,
  },
  () => {
    before(async () => {
      const runner = (await tsImport(
        pathToFileURL(join(REPO_ROOT, "scripts", "etcd", "etcd.ts")).href,
        import.meta.url,
      )) as { startEtcd(): Promise<EtcdHandle> };
      etcd = await runner.startEtcd();
      observer = await EtcdClusterMetadata.open({ endpoints: [etcd.endpoint], nodeId: 99, prefix: "/tskafka/" });
      await Promise.all([1, 2, 3].map((id) => start(id)));
      await waitFor("three brokers registered", () => observer.brokers().length === 3, 15_000);
      const c = await RawClient.connect(brokers.get(1)!.port);
      try {
        const res = await c.request(
          ApiKey.CreateTopics,
          7,
          createCreateTopicsRequest({
            topics: [
              {
                name: TOPIC,
                numPartitions: PARTITIONS,
                replicationFactor: 3,
                assignments: [],
                configs: [{ name: "min.insync.replicas", value: "2" }],
              },
            ],
            timeoutMs: 10_000,
          }),
        );
        assert.equal(res.topics[0]!.errorCode, 0);
      } finally {
        c.close();
      }
      await waitFor(
        "every replica in sync",
        () => observer.topic(TOPIC) !== undefined && [1, 2, 3].every(inAllIsrs),
        15_000,
      );
    });

    after(async () => {
      // Every process first: a restarted broker shares its data directory with the one killed before it.
      for (const b of started) await b.kill9();
      for (const b of started) await b.cleanup();
      for (const d of dataDirs.values()) await rm(d, { recursive: true, force: true });
      await observer?.close();
      await etcd?.close();
    });

    test(`${ROUNDS} rounds: every acknowledged record stays, once and in order; the consumer saw nothing later lost`, async () => {
      const producer = new PyClient("produce", bootstrap());
      const consumer = new PyClient("consume", bootstrap());
      const timings: number[] = [];
      try {
        await waitFor("the first acknowledgements", () => producer.records().length >= 100, 30_000);
        for (let round = 1; round <= ROUNDS; round++) {
          const t0 = Date.now();
          const victim = busiestLeader();
          const acked = producer.records().length;
          await brokers.get(victim)!.kill9();
          await waitFor(
            `round ${round}: new leaders without broker ${victim}`,
            () => observer.partitionStates(TOPIC)!.every((s) => s.leader >= 0 && s.leader !== victim),
            20_000,
          );
          await start(victim);
          await waitFor(`round ${round}: broker ${victim} back in every ISR`, () => inAllIsrs(victim), 30_000);
          await waitFor(
            `round ${round}: acknowledgements go on`,
            () => producer.records().length > acked + 3 * PARTITIONS,
            20_000,
          );
          timings.push(Date.now() - t0);
        }
      } finally {
        await producer.stop().finally(() => consumer.stop().catch(() => consumer.kill()));
      }
      console.log(`seconds per round: ${timings.map((t) => (t / 1000).toFixed(1)).join(" ")} s`);

      const fatal = producer.docs.filter((d) => d.fatal !== undefined);
      assert.deepEqual(fatal, [], "no fatal producer error");
      const failed = producer.docs.filter((d) => d.err !== undefined);
      assert.deepEqual(failed.slice(0, 5), [], `${failed.length} records not acknowledged`);
      const last = producer.docs.at(-1)!;
      assert.equal(last.unflushed, 0);
      const sent = last.sent as number[];

      const dump = new PyClient("dump", bootstrap());
      await dump.stop();
      const end = dump.docs.at(-1)!;
      assert.deepEqual(end.position, end.end, "read to the high watermark");
      const log = byPartition(dump.records());
      const logAt = log.map((records) => new Map(records.map((r) => [r.o, r.v])));
      const acked = byPartition(producer.records());
      for (let p = 0; p < PARTITIONS; p++) {
        const values = log[p]!.map((r) => r.v);
        // Nothing twice, nothing out of order: the producer's records of a partition, each once, in sequence.
        assert.equal(new Set(values).size, values.length, `partition ${p}: a record is in the log twice`);
        const seqs = values.map((v) => Number(v.split("-")[1]));
        assert.ok(
          seqs.every((s, i) => i === 0 || s > seqs[i - 1]!),
          `partition ${p}: records out of order`,
        );
        // Acknowledged: there, at the offset acknowledged, acknowledgements in offset order.
        const missing = acked[p]!.filter((r) => logAt[p]!.get(r.o) !== r.v);
        assert.deepEqual(missing.slice(0, 5), [], `partition ${p}: ${missing.length} acknowledged records lost`);
        assert.ok(
          acked[p]!.every((r, i) => i === 0 || r.o > acked[p]![i - 1]!.o),
          `partition ${p}: acknowledged out of order`,
        );
        assert.equal(acked[p]!.length, sent[p], `partition ${p}: every record sent was acknowledged`);
      }
      // The restarted followers caught up: every replica is the leader's log, byte for byte.
      await replicasAgree();
      const seen = consumer.records();
      const lost = seen.filter((r) => logAt[r.p]!.get(r.o) !== r.v);
      assert.deepEqual(lost.slice(0, 5), [], `${lost.length} records the consumer saw are not in the log`);
      assert.ok(seen.length > 0);
      console.log(
        `acknowledged ${producer.records().length}, in the log ${dump.records().length}, consumer saw ${seen.length}`,
      );
    });
  },
);
