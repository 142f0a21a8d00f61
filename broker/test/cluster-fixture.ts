import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiKey, createCreateTopicsRequest } from "@tskafka/protocol";
import { EtcdClusterMetadata } from "../src/cluster/etcd-metadata.js";
import { RawClient } from "./clients/raw-client.js";
import { CLIENTS_DIR, VENV_PYTHON } from "./clients/venv.js";
import { startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { startTestEtcd, type EtcdHandle } from "./etcd-fixture.js";
export type { EtcdHandle } from "./etcd-fixture.js";

/**
 * The cluster of the fault tests (cluster-failover, cluster-faults): etcd and three brokers with short
 * sessions, one topic on all three (min.insync.replicas=2), the confluent-kafka clients of
 * confluent_failover.py, and the checks that every acknowledged record is kept once and replicas agree.
 */

export const PARTITIONS = 3;
export const SESSION_MS = 2000;
const LAG_MS = 1500;
const SCRIPT = join(CLIENTS_DIR, "confluent_failover.py");

export interface Rec {
  readonly p: number;
  readonly o: number;
  readonly v: string;
}

/** A client of confluent_failover.py: its JSON lines as they come; `stop()` closes its stdin and waits. */
export class PyClient {
  readonly docs: Record<string, unknown>[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  stderr = "";

  constructor(
    readonly mode: string,
    bootstrap: string,
    topic: string,
    readonly tag = "",
  ) {
    this.child = spawn(VENV_PYTHON, [SCRIPT, mode, bootstrap, topic, String(PARTITIONS), ...(tag ? [tag] : [])]);
    let rest = "";
    this.child.stdout.on("data", (d: Buffer) => {
      const lines = (rest + d.toString()).split("\n");
      rest = lines.pop()!;
      for (const l of lines) if (l !== "") this.docs.push(JSON.parse(l) as Record<string, unknown>);
    });
    this.child.stderr.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => this.child.once("exit", (code) => r(code)));
  }

  /** True while the client reported no fatal error; throws naming it once it did (nothing to wait for then). */
  noFatal(): boolean {
    const fatal = this.docs.find((d) => d.fatal !== undefined);
    if (fatal !== undefined) throw new Error(`fatal ${this.mode} error: ${String(fatal.fatal)}`);
    return true;
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

/** Records by partition, in the order given. */
function byPartition(records: readonly Rec[]): Rec[][] {
  const out: Rec[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const r of records) out[r.p]!.push(r);
  return out;
}

export class FaultCluster {
  readonly brokers = new Map<number, BrokerProcess>();
  private readonly dataDirs = new Map<number, string>();
  private readonly started: { nodeId: number; broker: BrokerProcess }[] = [];
  private readonly clients: PyClient[] = [];
  /** Set by a test that failed: close() keeps the brokers' data and output for the post-mortem. */
  failed = false;

  private constructor(
    readonly etcd: EtcdHandle,
    readonly observer: EtcdClusterMetadata,
    readonly topic: string,
  ) {}

  /** etcd, brokers 1-3 and `topic` with every replica in sync. */
  static async open(topic: string): Promise<FaultCluster> {
    const etcd = await startTestEtcd();
    const observer = await EtcdClusterMetadata.open({ endpoints: [etcd.endpoint], nodeId: 99, prefix: "/tskafka/" });
    const cluster = new FaultCluster(etcd, observer, topic);
    try {
      await Promise.all([1, 2, 3].map((id) => cluster.start(id)));
      await waitFor("three brokers registered", () => observer.brokers().length === 3, 15_000);
      await cluster.createTopic();
      await waitFor(
        "every replica in sync",
        () => observer.topic(topic) !== undefined && [1, 2, 3].every((id) => cluster.inAllIsrs(id)),
        15_000,
      );
    } catch (e) {
      // Nothing is left running (etcd would keep the test process alive), and what happened is kept.
      cluster.failed = true;
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  private async createTopic(): Promise<void> {
    const c = await RawClient.connect(this.brokers.get(1)!.port);
    try {
      const res = await c.request(
        ApiKey.CreateTopics,
        7,
        createCreateTopicsRequest({
          topics: [
            {
              name: this.topic,
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
  }

  /** Starts broker `nodeId`, again on its port and data when it ran before. */
  async start(nodeId: number): Promise<BrokerProcess> {
    const dataDir = this.dataDirs.get(nodeId);
    const port = this.brokers.get(nodeId)?.port;
    const b = await startBroker({
      ...(dataDir !== undefined ? { dataDir } : {}),
      ...(port !== undefined ? { port } : {}),
      // Info: leadership, ISR and truncation lines, for the post-mortem of a failed run.
      logLevel: "info",
      // A loaded machine (CI, the soak) can take long to load the broker's modules.
      timeoutMs: 60_000,
      properties: {
        "node.id": nodeId,
        "etcd.endpoints": this.etcd.endpoint,
        "broker.session.timeout.ms": SESSION_MS,
        "replica.lag.time.max.ms": LAG_MS,
        "replica.fetch.wait.max.ms": 200,
        "replica.fetch.backoff.ms": 100,
        "replica.high.watermark.checkpoint.interval.ms": 500,
        "offsets.topic.num.partitions": 3,
        "transaction.state.log.num.partitions": 3,
      },
    });
    this.dataDirs.set(nodeId, b.dataDir);
    this.brokers.set(nodeId, b);
    this.started.push({ nodeId, broker: b });
    return b;
  }

  async close(): Promise<void> {
    // Every process first: a restarted broker shares its data directory with the one killed before it.
    for (const { broker } of this.started) await broker.kill9();
    if (this.failed || process.env.TSKAFKA_KEEP_FAULTS === "1") await this.keep();
    for (const { broker } of this.started) await broker.cleanup();
    for (const d of this.dataDirs.values()) await rm(d, { recursive: true, force: true });
    await this.observer.close();
    await this.etcd.close();
  }

  /**
   * Moves each broker's data directory into a new directory under the temp dir, with the output of every
   * broker process (in start order) and the clients' stderr and JSON lines (what was acknowledged, at which
   * offsets), and prints where: a failure can be explained (scripts/cluster/dump-partition.ts reads the data).
   */
  private async keep(): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "tskafka-faults-"));
    for (const [nodeId, data] of this.dataDirs) await rename(data, join(dir, `data-${nodeId}`));
    for (const [i, { nodeId, broker }] of this.started.entries())
      await writeFile(join(dir, `broker-${nodeId}.${i}.log`), broker.output());
    for (const [i, c] of this.clients.entries()) {
      await writeFile(join(dir, `${c.mode}${c.tag}.${i}.stderr`), c.stderr);
      await writeFile(join(dir, `${c.mode}${c.tag}.${i}.jsonl`), c.docs.map((d) => `${JSON.stringify(d)}\n`).join(""));
    }
    const states = JSON.stringify(this.observer.partitionStates(this.topic) ?? null, null, 1);
    await writeFile(join(dir, "partition-states.json"), states);
    console.log(`fault cluster kept in ${dir}`);
  }

  bootstrap(): string {
    return [...this.brokers.values()].map((b) => b.bootstrap).join(",");
  }

  client(mode: string, tag = ""): PyClient {
    const c = new PyClient(mode, this.bootstrap(), this.topic, tag);
    this.clients.push(c);
    return c;
  }

  /** The broker leading most of the topic's partitions (the lowest id of a tie). */
  busiestLeader(): number {
    const counts = new Map<number, number>();
    for (const s of this.observer.partitionStates(this.topic)!) counts.set(s.leader, (counts.get(s.leader) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
  }

  inAllIsrs(id: number): boolean {
    return this.observer.partitionStates(this.topic)!.every((s) => s.isr.includes(id) && s.leader >= 0);
  }

  /** Waits until no partition is led by `id` (and every one has a leader). */
  async leadersWithout(id: number, what: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `${what}: new leaders without broker ${id}`,
      () => this.observer.partitionStates(this.topic)!.every((s) => s.leader >= 0 && s.leader !== id),
      timeoutMs,
    );
  }

  /** Kill -9 of the busiest leader, new leaders, restart on its data, back in every ISR. */
  async killLeaderAndRestart(what: string): Promise<number> {
    const victim = this.busiestLeader();
    await this.brokers.get(victim)!.kill9();
    await this.leadersWithout(victim, what);
    await this.start(victim);
    await waitFor(`${what}: broker ${victim} back in every ISR`, () => this.inAllIsrs(victim), 30_000);
    return victim;
  }

  /** The bytes of a partition's log on one broker, its segments in order. */
  private async logBytes(nodeId: number, partition: number): Promise<Buffer> {
    const dir = join(this.dataDirs.get(nodeId)!, `${this.topic}-${partition}`);
    const segments = (await readdir(dir)).filter((f) => f.endsWith(".log")).sort();
    return Buffer.concat(await Promise.all(segments.map((f) => readFile(join(dir, f)))));
  }

  /** Waits (bounded) until the three replicas of each partition hold the same bytes; fails naming the sizes. */
  async replicasAgree(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const sizes: number[][] = [];
      let same = true;
      for (let p = 0; p < PARTITIONS; p++) {
        const logs = await Promise.all([1, 2, 3].map((id) => this.logBytes(id, p)));
        sizes.push(logs.map((l) => l.length));
        same &&= logs.every((l) => l.equals(logs[0]!));
      }
      if (same) return;
      assert.ok(Date.now() < deadline, `replicas differ (bytes per partition and broker): ${JSON.stringify(sizes)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * After `producer` stopped (its records tagged `tag`): no fatal error and nothing failed; every
   * acknowledged record is in the log once, at the offset acknowledged, in order; the records the consumer
   * saw are still there; the replicas agree byte for byte. Returns a one-line summary.
   */
  async checkLog(producer: PyClient, tag: string, consumer?: PyClient): Promise<string> {
    const fatal = producer.docs.filter((d) => d.fatal !== undefined);
    assert.deepEqual(fatal, [], "no fatal producer error");
    const failed = producer.docs.filter((d) => d.err !== undefined);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} records not acknowledged`);
    const last = producer.docs.at(-1)!;
    assert.equal(last.unflushed, 0);
    const sent = last.sent as number[];

    const dump = this.client("dump");
    await dump.stop();
    const end = dump.docs.at(-1)!;
    assert.deepEqual(end.position, end.end, "read to the high watermark");
    const all = dump.records();
    const logAt = byPartition(all).map((records) => new Map(records.map((r) => [r.o, r.v])));
    const log = byPartition(all.filter((r) => r.v.startsWith(tag)));
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
    await this.replicasAgree();
    let summary = `acknowledged ${producer.records().length}, in the log ${log.flat().length}`;
    if (consumer !== undefined) {
      const seen = consumer.records().filter((r) => r.v.startsWith(tag));
      const lost = seen.filter((r) => logAt[r.p]!.get(r.o) !== r.v);
      assert.deepEqual(lost.slice(0, 5), [], `${lost.length} records the consumer saw are not in the log`);
      assert.ok(seen.length > 0);
      summary += `, consumer saw ${seen.length}`;
    }
    return summary;
  }
}
