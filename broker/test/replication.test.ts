import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { connect as connectTcp, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import {
  ApiKey,
  buildRecordBatch,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createDeleteRecordsRequest,
  createOffsetForLeaderEpochRequest,
  createProduceRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { EtcdClusterMetadata } from "../src/cluster/etcd-metadata.js";
import { isStale, type PartitionState } from "../src/cluster/metadata.js";
import { ErrorCode } from "../src/errors.js";
import { KAFKA44_REQUIREMENT, haveKafka44, tool44 } from "./clients/java/kafka44.js";
import { RawClient } from "./clients/raw-client.js";
import { freePort, haveCommand, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { startTestEtcd, type EtcdHandle } from "./etcd-fixture.js";

/**
 * Kafka's replication between three broker processes whose metadata is in one etcd (scripts/etcd/etcd.ts),
 * over raw requests to the broker meant: a topic of one partition on brokers 1, 2, 3 (min.insync.replicas=2)
 * created through the metadata seam with that assignment, as the controller would. acks=all is answered
 * only once the followers have the records, and the three logs are the same bytes; consumers never see
 * past the high watermark; killed followers leave the ISR after replica.lag.time.max.ms, acks=all then
 * answers NOT_ENOUGH_REPLICAS(_AFTER_APPEND); restarted, they catch up and rejoin; leadership moved with
 * alterPartitions (as the controller moves it) fences the old leader, and the old leader's records that
 * the new one never had are cut from its log (the diverging epoch of Fetch v12+).
 */

const HAVE_ETCD = haveCommand("etcd");
const TOPIC = "replicated";
const LAG_MS = 1500;
/** A topic of one replica with min.insync.replicas=2. */
const SINGLE = "single";

let etcd: EtcdHandle;
let observer: EtcdClusterMetadata;
const brokers = new Map<number, BrokerProcess>();
const dataDirs = new Map<number, string>();

/**
 * A loopback TCP proxy that can cut its connections and refuse new ones: broker 1 advertises it, so the
 * followers fetch through it (a network partition between the leader and its followers), while the test's
 * clients talk to the broker's own port.
 */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private open = true;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<CuttableProxy> {
    let proxy!: CuttableProxy;
    const server = createServer((client) => {
      if (!proxy.open) return void client.destroy();
      const upstream = connectTcp(targetPort, "127.0.0.1");
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on("close", () => proxy.sockets.delete(s));
        s.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const address = server.address();
    proxy = new CuttableProxy(server, typeof address === "object" && address !== null ? address.port : 0);
    return proxy;
  }

  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.open = true;
  }

  close(): void {
    this.cut();
    this.server.close();
  }
}

let leaderProxy: CuttableProxy | undefined;

function properties(nodeId: number): Record<string, string | number> {
  return {
    "etcd.endpoints": etcd.endpoint,
    "node.id": nodeId,
    "replica.lag.time.max.ms": LAG_MS,
    "replica.fetch.wait.max.ms": 200,
    "replica.fetch.backoff.ms": 100,
    "replica.high.watermark.checkpoint.interval.ms": 500,
  };
}

async function start(nodeId: number): Promise<BrokerProcess> {
  const dataDir = dataDirs.get(nodeId);
  const props = properties(nodeId);
  let port: number | undefined;
  if (nodeId === 1) {
    port = await freePort();
    leaderProxy = await CuttableProxy.start(port);
    props["advertised.listeners"] = `PLAINTEXT://127.0.0.1:${leaderProxy.port}`;
  }
  const b = await startBroker({
    properties: props,
    ...(dataDir !== undefined ? { dataDir } : {}),
    ...(port !== undefined ? { port } : {}),
  });
  dataDirs.set(nodeId, b.dataDir);
  brokers.set(nodeId, b);
  return b;
}

function broker(nodeId: number): BrokerProcess {
  const b = brokers.get(nodeId);
  assert.ok(b !== undefined, `broker ${nodeId} is not running`);
  return b;
}

async function connect(nodeId: number): Promise<RawClient> {
  return RawClient.connect(broker(nodeId).port, { requestTimeoutMs: 20_000 });
}

function state(): PartitionState {
  const s = observer.partitionStates(TOPIC)?.[0];
  assert.ok(s !== undefined, "no partition state");
  return s;
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

/** Produce v11 (names, current leader on NOT_LEADER_OR_FOLLOWER) of one batch to partition 0. */
async function produce(client: RawClient, values: readonly string[], acks: number, timeoutMs = 10_000, topic = TOPIC) {
  const res = await client.request(
    ApiKey.Produce,
    11,
    createProduceRequest({
      acks,
      timeoutMs,
      topicData: [
        {
          name: topic,
          topicId: ZERO_UUID,
          partitionData: [{ index: 0, records: buildRecordBatch(values.map((value) => ({ value }))) }],
        },
      ],
    }),
  );
  return { partition: res.responses[0]!.partitionResponses[0]!, nodeEndpoints: res.nodeEndpoints };
}

/** Produces until the answer is `expected` (a broker learns of partition changes through its watch), for 10 s. */
async function produceUntil(
  client: RawClient,
  values: readonly string[],
  acks: number,
  expected: number,
  topic = TOPIC,
) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await produce(client, values, acks, 10_000, topic);
    if (answer.partition.errorCode === expected || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A consumer's Fetch (v12 unless told) of partition 0 from `offset`, naming `currentLeaderEpoch`. */
async function fetch(client: RawClient, offset: bigint, currentLeaderEpoch = -1, version = 12) {
  const res = await client.request(
    ApiKey.Fetch,
    version,
    createFetchRequest({
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      topics: [
        createFetchRequestFetchTopic({
          topic: TOPIC,
          partitions: [
            createFetchRequestFetchPartition({
              partition: 0,
              currentLeaderEpoch,
              fetchOffset: offset,
              partitionMaxBytes: 1 << 20,
            }),
          ],
        }),
      ],
    }),
  );
  return res.responses[0]!.partitions[0]!;
}

/** The last lines the brokers logged, but connections: what a failed assertion shows. */
function brokerLogs(...nodeIds: number[]): string {
  return nodeIds
    .map((n) => {
      const lines = brokers.get(n)?.output().split("\n") ?? [];
      return `broker ${n}:\n${lines
        .filter((l) => !l.includes(" connection "))
        .slice(-20)
        .join("\n")}`;
    })
    .join("\n");
}

/** The partition's one segment file on broker `nodeId`'s disk. */
function segment(nodeId: number): Promise<Buffer> {
  return readFile(join(dataDirs.get(nodeId)!, `${TOPIC}-0`, "00000000000000000000.log"));
}

/** Waits until the three replicas' logs are the same bytes, and answers them. */
async function sameLogs(nodeIds: readonly number[] = [1, 2, 3]): Promise<Buffer> {
  let logs: Buffer[] = [];
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    logs = await Promise.all(nodeIds.map(segment));
    if (logs.every((l) => l.length > 0 && l.equals(logs[0]!))) return logs[0]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`logs differ: sizes ${logs.map((l) => l.length).join(", ")}`);
}

async function waitForIsr(isr: readonly number[], timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  await waitFor(`ISR [${isr.join(",")}]`, () => sameMembers(state().isr, isr), timeoutMs);
  return Date.now() - started;
}

describe("replication between three brokers", { skip: skipUnless(HAVE_ETCD, "etcd"), timeout: 90_000 }, () => {
  before(async () => {
    etcd = await startTestEtcd();
    observer = await EtcdClusterMetadata.open({ endpoints: [etcd.endpoint], nodeId: 100 });
    await Promise.all([1, 2, 3].map(start));
    await waitFor("three brokers registered", () => observer.brokers().length === 3, 15_000);
    const created = await observer.createTopic(TOPIC, 1, { "min.insync.replicas": "2" }, [[1, 2, 3]]);
    assert.ok(!isStale(created));
    const single = await observer.createTopic(SINGLE, 1, { "min.insync.replicas": "2" }, [[1]]);
    assert.ok(!isStale(single));
  });
  after(async () => {
    for (const b of brokers.values()) {
      b.process.kill("SIGCONT");
      await b.stop();
    }
    for (const b of brokers.values()) await b.cleanup();
    leaderProxy?.close();
    await observer?.close();
    await etcd?.close();
  });

  test("acks=all is answered once the followers have the records; the three logs are the same bytes", async () => {
    const leader = await connect(1);
    try {
      for (let i = 0; i < 5; i++) {
        const value = `all-${i}`;
        // The leader may not have taken the new partition up yet when the first produce comes.
        const { partition } = await produceUntil(leader, [value], -1, ErrorCode.NONE);
        assert.equal(
          partition.errorCode,
          ErrorCode.NONE,
          `produce ${value}: ${JSON.stringify(state())}\n${brokerLogs(2, 3)}`,
        );
        assert.equal(partition.baseOffset, BigInt(i));
        // Acknowledged: both followers wrote it already.
        for (const f of [2, 3]) assert.ok((await segment(f)).includes(value), `follower ${f} has ${value}`);
      }
      const log = await sameLogs();
      assert.ok(log.includes("all-4"));
      assert.equal(await leader.highWatermark(TOPIC, 0), 5n);
      assert.deepEqual(state().isr, [1, 2, 3]);
      // Every replica keeps the high watermark in Kafka's replication-offset-checkpoint (every 500 ms here).
      for (const n of [1, 2, 3]) {
        const file = join(dataDirs.get(n)!, "replication-offset-checkpoint");
        const want = `0\n1\n${TOPIC} 0 5\n`;
        await waitFor(`broker ${n}'s checkpoint`, () => existsSync(file) && readFileSync(file, "utf8") === want, 5000);
      }
      // Kafka 4's effective minimum: never more in sync than the partition has replicas.
      const one = await produceUntil(leader, ["one replica"], -1, ErrorCode.NONE, SINGLE);
      assert.equal(one.partition.errorCode, ErrorCode.NONE);
    } finally {
      leader.close();
    }
  });

  test(
    "Kafka 4.4's VerifiableProducer (acks=all, bootstrapped at a follower) finds the leader; every replica has its records",
    { skip: skipUnless(haveKafka44(), KAFKA44_REQUIREMENT), timeout: 60_000 },
    async () => {
      const leader = await connect(1);
      try {
        const before = await leader.highWatermark(TOPIC, 0);
        const r = await tool44(
          "org.apache.kafka.tools.VerifiableProducer",
          ["--bootstrap-server", broker(2).bootstrap, "--topic", TOPIC, "--max-messages", "300", "--acks", "-1"],
          { timeoutMs: 45_000 },
        );
        const events = r.stdout
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.equal(events.find((e) => e.name === "tool_data")?.acked, 300, r.stdout.slice(-1000));
        assert.equal(events.filter((e) => e.name === "producer_send_error").length, 0);
        assert.equal(await leader.highWatermark(TOPIC, 0), before + 300n);
        await sameLogs();
      } finally {
        leader.close();
      }
    },
  );

  test("a consumer never reads past the high watermark; acks=all times out while the followers stand still", async () => {
    const leader = await connect(1);
    const stopped = [2, 3].map((n) => broker(n).process);
    const hw = await leader.highWatermark(TOPIC, 0);
    try {
      for (const p of stopped) p.kill("SIGSTOP");
      const started = Date.now();
      const { partition } = await produce(leader, ["unreplicated"], -1, 400);
      assert.equal(partition.errorCode, ErrorCode.REQUEST_TIMED_OUT);
      assert.ok(Date.now() - started >= 350, "answered at the produce timeout");
      // In the leader's log, not committed: latest and a consumer's fetch stop at the high watermark.
      assert.equal(await leader.highWatermark(TOPIC, 0), hw);
      const read = await fetch(leader, hw);
      assert.equal(read.errorCode, ErrorCode.NONE);
      assert.equal(read.highWatermark, hw);
      assert.equal(read.records?.length ?? 0, 0);
    } finally {
      for (const p of stopped) p.kill("SIGCONT");
    }
    try {
      const deadline = Date.now() + 10_000;
      while ((await leader.highWatermark(TOPIC, 0)) <= hw && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(await leader.highWatermark(TOPIC, 0), hw + 1n);
      const read = await fetch(leader, hw);
      assert.ok(read.records !== null && read.records.includes("unreplicated"));
      assert.deepEqual(state().isr, [1, 2, 3]);
    } finally {
      leader.close();
    }
  });

  test("killed followers leave the ISR after replica.lag.time.max.ms; acks=all then answers NOT_ENOUGH_REPLICAS", async (t) => {
    const leader = await connect(1);
    try {
      await broker(3).kill9();
      brokers.delete(3);
      const shrunk = await waitForIsr([1, 2]);
      t.diagnostic(`broker 3 left the ISR ${shrunk} ms after kill -9 (replica.lag.time.max.ms=${LAG_MS})`);
      assert.ok(shrunk >= LAG_MS - 200, `left the ISR after ${shrunk} ms`);
      // Two in sync of min.insync.replicas=2: acks=all still taken.
      assert.equal((await produce(leader, ["two-in-sync"], -1)).partition.errorCode, ErrorCode.NONE);
      await broker(2).kill9();
      brokers.delete(2);
      // Appended, then the ISR shrinks under it: Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND.
      const inFlight = await produce(leader, ["after-append"], -1);
      assert.equal(inFlight.partition.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
      assert.deepEqual(state().isr, [1]);
      const refused = await produce(leader, ["refused"], -1);
      assert.equal(refused.partition.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
      assert.equal((await produce(leader, ["acks-1"], 1)).partition.errorCode, ErrorCode.NONE);
      assert.ok(!(await segment(1)).includes("refused"), "a refused produce is not appended");
    } finally {
      leader.close();
    }
  });

  test("restarted followers catch up and rejoin the ISR", async (t) => {
    // The killed brokers' registrations last until their leases expire.
    await waitFor("the killed brokers' leases expired", () => observer.brokers().length === 1, 20_000);
    const started = Date.now();
    await Promise.all([2, 3].map(start));
    const rejoined = await waitForIsr([1, 2, 3]);
    t.diagnostic(`restarted in ${Date.now() - started - rejoined} ms, back in the ISR ${rejoined} ms later`);
    const log = await sameLogs();
    assert.ok(log.includes("acks-1") && log.includes("after-append"));
  });

  test("a leader change through alterPartitions: the old leader is fenced, the new one serves, divergent records are cut", async () => {
    const old = await connect(1);
    let before: PartitionState;
    try {
      assert.equal((await produce(old, ["committed"], -1)).partition.errorCode, ErrorCode.NONE);
      await sameLogs();
      // Records only the old leader gets: its followers cannot reach it.
      leaderProxy!.cut();
      assert.equal((await produce(old, ["divergent"], 1)).partition.errorCode, ErrorCode.NONE);
      before = state();
      const [results] = await observer.alterPartitions([
        {
          topic: TOPIC,
          changes: [{ kind: "leader", partition: 0, partitionEpoch: before.partitionEpoch, leader: 2, isr: [2, 3] }],
        },
      ]);
      assert.equal(results![0]!.errorCode, ErrorCode.NONE);
    } finally {
      leaderProxy!.restore();
    }
    const epoch = state().leaderEpoch;
    assert.equal(epoch, before.leaderEpoch + 1);
    const fresh = await connect(2);
    try {
      // The old leader learns of the change through its etcd watch.
      const refused = await produceUntil(old, ["to-old"], 1, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.equal(refused.partition.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual(
        {
          leaderId: refused.partition.currentLeader.leaderId,
          leaderEpoch: refused.partition.currentLeader.leaderEpoch,
        },
        { leaderId: 2, leaderEpoch: epoch },
      );
      assert.deepEqual(
        refused.nodeEndpoints.map((e) => [e.nodeId, e.port]),
        [[2, broker(2).port]],
      );
      // A consumer reads from the leader before Fetch v11, from any replica after (KIP-392), as Kafka 4.4.
      assert.equal((await fetch(old, 0n, -1, 10)).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.equal((await fetch(old, 0n, epoch - 1)).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
      // The new leader serves, and fences clients of the old epoch (KIP-320).
      const taken = await produceUntil(fresh, ["new-leader"], -1, ErrorCode.NONE);
      assert.equal(taken.partition.errorCode, ErrorCode.NONE);
      assert.equal((await fetch(fresh, 0n, epoch - 1)).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
      assert.equal((await fetch(fresh, 0n, epoch + 1)).errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
      assert.equal((await fetch(fresh, 0n, epoch)).errorCode, ErrorCode.NONE);
      // OffsetForLeaderEpoch: the old epoch ends where the new leader's log ended when it took over.
      const ends = await fresh.request(
        ApiKey.OffsetForLeaderEpoch,
        4,
        createOffsetForLeaderEpochRequest({
          replicaId: -1,
          topics: [
            {
              topic: TOPIC,
              partitions: [{ partition: 0, currentLeaderEpoch: epoch, leaderEpoch: before.leaderEpoch }],
            },
          ],
        }),
      );
      const end = ends.topics[0]!.partitions[0]!;
      assert.equal(end.errorCode, ErrorCode.NONE);
      assert.equal(end.leaderEpoch, before.leaderEpoch);
      assert.equal(end.endOffset, taken.partition.baseOffset);
      // The old leader follows, cuts the record only it had, and rejoins the ISR.
      await waitForIsr([1, 2, 3]);
      const log = await sameLogs();
      assert.ok(log.includes("new-leader") && log.includes("committed"));
      assert.ok(!log.includes("divergent"), `the divergent record is gone from every log\n${brokerLogs(1, 2)}`);
      // The old leader, a follower now, serves consumers from v11, up to the high watermark it was told.
      const fromFollower = await fetch(old, 0n, epoch);
      assert.equal(fromFollower.errorCode, ErrorCode.NONE);
      assert.ok(fromFollower.highWatermark <= (await fresh.highWatermark(TOPIC, 0)));
      assert.ok(fromFollower.records !== null && fromFollower.records.includes("committed"));
    } finally {
      old.close();
      fresh.close();
    }
  });
  test("a follower that ends before its leader's log start starts again there", async () => {
    const leaderId = state().leader;
    const client = await connect(leaderId);
    try {
      await broker(3).kill9();
      brokers.delete(3);
      assert.equal((await produce(client, ["while-3-is-down"], 1)).partition.errorCode, ErrorCode.NONE);
      const end = await client.highWatermark(TOPIC, 0);
      // Gone from the cluster first: DeleteRecords waits for every live replica's log start (as Kafka's).
      await waitFor("broker 3's lease expired", () => !observer.brokers().some((b) => b.nodeId === 3), 20_000);
      const deleted = await client.request(
        ApiKey.DeleteRecords,
        2,
        createDeleteRecordsRequest({
          timeoutMs: 5000,
          topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset: end }] }],
        }),
      );
      assert.equal(deleted.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
      assert.equal((await produce(client, ["after-delete"], 1)).partition.errorCode, ErrorCode.NONE);
      await start(3);
      await waitForIsr([1, 2, 3]);
      // Broker 3 serves consumers (Fetch v11+) from the leader's log start on, and nothing before it.
      const follower = await connect(3);
      try {
        assert.equal((await fetch(follower, 0n)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
        const read = await fetch(follower, end);
        assert.equal(read.errorCode, ErrorCode.NONE);
        assert.ok(read.records !== null && read.records.includes("after-delete"));
      } finally {
        follower.close();
      }
    } finally {
      client.close();
    }
  });

  test("a leader whose registration is lost (paused past its lease) takes no more writes, then registers again and rejoins the ISR", async () => {
    const leaderId = state().leader;
    const client = await connect(leaderId);
    const paused = broker(leaderId);
    const epochOf = (): number | undefined => observer.brokers().find((b) => b.nodeId === leaderId)?.epoch;
    const epoch = epochOf();
    try {
      assert.equal((await produce(client, ["before-pause"], -1)).partition.errorCode, ErrorCode.NONE);
      paused.process.kill("SIGSTOP");
      try {
        await waitFor("its lease expired", () => !observer.brokers().some((b) => b.nodeId === leaderId), 20_000);
        // Leadership moved while it slept: woken, it may not know yet, and its fence refuses the write.
        await waitFor("a new leader", () => state().leader !== leaderId && state().leader >= 0, 20_000);
      } finally {
        paused.process.kill("SIGCONT");
      }
      await waitFor("the broker noticed", () => paused.output().includes("registration is lost"), 10_000);
      const refused = await produce(client, ["after-pause"], 1);
      assert.equal(refused.partition.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.ok(!(await segment(leaderId)).includes("after-pause"), "a fenced leader appends nothing");
      // As Kafka's fenced broker, it comes back by itself: a new broker epoch, in the ISR again.
      await waitFor("registered again", () => (epochOf() ?? epoch) !== epoch, 20_000);
      await waitForIsr([1, 2, 3]);
    } finally {
      client.close();
    }
  });
});
