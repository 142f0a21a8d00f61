// Runs Apache Kafka as a 3-node KRaft cluster on loopback (three combined broker+controller JVMs, one
// cluster id) and sends it the raw requests whose answers tskafka's replication must match: produce and
// fetch at a follower, ListOffsets and OffsetForLeaderEpoch at leader and follower, leader epochs newer
// and older than the leader's, acks=all below min.insync.replicas and while the followers stand still.
// Prints one line per probe (what was asked, the answer) and stops everything it started.
//   npx tsx scripts/kafka/replication-probe.ts [version]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, openSync, closeSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiKey,
  buildRecordBatch,
  createCreateTopicsRequest,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createListOffsetsRequest,
  createMetadataRequest,
  createOffsetForLeaderEpochRequest,
  createProduceRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { RawClient } from "../../broker/test/clients/raw-client.js";
import { freeLoopbackPort, kafkaClasspath, loggingOption } from "./apache-kafka.js";

const version = process.argv[2] ?? "4.4.0";
const TOPIC = "probe";
const SMALL = "probe-rf1";

interface Node {
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dir: string;
  child?: ChildProcess;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function startCluster(root: string): Promise<Node[]> {
  const nodes: Node[] = [];
  for (const id of [1, 2, 3]) {
    nodes.push({
      id,
      port: await freeLoopbackPort(),
      controllerPort: await freeLoopbackPort(),
      dir: join(root, `n${id}`),
    });
  }
  const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(",");
  let clusterId = randomBytes(16).toString("base64url");
  while (clusterId.startsWith("-")) clusterId = randomBytes(16).toString("base64url");
  const classpath = kafkaClasspath(version);
  for (const n of nodes) {
    mkdirSync(n.dir, { recursive: true });
    const props = {
      "process.roles": "broker,controller",
      "node.id": String(n.id),
      "controller.quorum.voters": voters,
      listeners: `PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
      "advertised.listeners": `PLAINTEXT://127.0.0.1:${n.port}`,
      "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      "controller.listener.names": "CONTROLLER",
      "inter.broker.listener.name": "PLAINTEXT",
      "log.dirs": join(n.dir, "logs"),
      "offsets.topic.num.partitions": "1",
      "transaction.state.log.num.partitions": "1",
      "replica.lag.time.max.ms": "3000",
      "broker.session.timeout.ms": "3000",
      "broker.heartbeat.interval.ms": "500",
      "num.network.threads": "2",
      "num.io.threads": "2",
    };
    const file = join(n.dir, "server.properties");
    writeFileSync(
      file,
      Object.entries(props)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
    );
    const logging = loggingOption(version, n.dir, "WARN", "stdout");
    const format = spawnSync(
      "java",
      ["-cp", classpath, logging, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", file],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    if (format.status !== 0) throw new Error(`format of node ${n.id} failed: ${format.stdout}${format.stderr}`);
    const out = openSync(join(n.dir, "kafka.log"), "a");
    n.child = spawn("java", ["-Xmx512m", "-XX:+UseG1GC", logging, "-cp", classpath, "kafka.Kafka", file], {
      stdio: ["ignore", out, out],
    });
    closeSync(out);
  }
  return nodes;
}

async function connect(port: number): Promise<RawClient> {
  return RawClient.connect(port, { connectTimeoutMs: 5_000, requestTimeoutMs: 30_000, clientId: "probe" });
}

async function waitForBrokers(port: number, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      const c = await connect(port);
      try {
        const m = await c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: [] }));
        if (m.brokers.length >= count) return;
      } finally {
        c.close();
      }
    } catch {
      // not up yet
    }
    await delay(500);
  }
  throw new Error(`${count} brokers not registered within 120 s`);
}

async function partitionState(c: RawClient, topic: string) {
  const m = await c.request(
    ApiKey.Metadata,
    12,
    createMetadataRequest({ topics: [{ topicId: ZERO_UUID, name: topic }] }),
  );
  const p = m.topics[0]!.partitions[0]!;
  return { leader: p.leaderId, epoch: p.leaderEpoch, isr: p.isrNodes };
}

async function produce(c: RawClient, topic: string, acks: number, timeoutMs = 5000, v = 11) {
  const r = await c.request(
    ApiKey.Produce,
    v,
    createProduceRequest({
      acks,
      timeoutMs,
      topicData: [
        { name: topic, topicId: ZERO_UUID, partitionData: [{ index: 0, records: buildRecordBatch([{ value: "x" }]) }] },
      ],
    }),
  );
  const p = r.responses[0]!.partitionResponses[0]!;
  return {
    error: p.errorCode,
    baseOffset: p.baseOffset,
    currentLeader: p.currentLeader,
    endpoints: r.nodeEndpoints.map((e) => e.nodeId),
  };
}

async function fetch(c: RawClient, v: number, epoch: number, offset = 0n) {
  const r = await c.request(
    ApiKey.Fetch,
    v,
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
              currentLeaderEpoch: epoch,
              fetchOffset: offset,
              partitionMaxBytes: 1 << 20,
            }),
          ],
        }),
      ],
    }),
  );
  const p = r.responses[0]!.partitions[0]!;
  return {
    error: p.errorCode,
    hw: p.highWatermark,
    bytes: p.records?.length ?? 0,
    currentLeader: v >= 12 ? p.currentLeader : undefined,
    endpoints: r.nodeEndpoints.map((e) => e.nodeId),
  };
}

async function latest(c: RawClient, epoch: number) {
  const r = await c.request(
    ApiKey.ListOffsets,
    7,
    createListOffsetsRequest({
      replicaId: -1,
      topics: [
        {
          name: TOPIC,
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: epoch, timestamp: -1n, maxNumOffsets: 1 }],
        },
      ],
    }),
  );
  const p = r.topics[0]!.partitions[0]!;
  return { error: p.errorCode, offset: p.offset, leaderEpoch: p.leaderEpoch };
}

async function epochEnd(c: RawClient, current: number, asked: number) {
  const r = await c.request(
    ApiKey.OffsetForLeaderEpoch,
    4,
    createOffsetForLeaderEpochRequest({
      replicaId: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: current, leaderEpoch: asked }] }],
    }),
  );
  const p = r.topics[0]!.partitions[0]!;
  return { error: p.errorCode, leaderEpoch: p.leaderEpoch, endOffset: p.endOffset };
}

function show(what: string, answer: unknown): void {
  console.log(`${what}: ${JSON.stringify(answer, (_k, v) => (typeof v === "bigint" ? Number(v) : v))}`);
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "kafka-repl-probe-"));
  const nodes = await startCluster(root);
  const port = (id: number) => nodes.find((n) => n.id === id)!.port;
  try {
    await waitForBrokers(port(1), 3);
    const admin = await connect(port(1));
    const created = await admin.request(
      ApiKey.CreateTopics,
      7,
      createCreateTopicsRequest({
        timeoutMs: 30_000,
        topics: [
          {
            name: TOPIC,
            numPartitions: -1,
            replicationFactor: -1,
            assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }],
            configs: [{ name: "min.insync.replicas", value: "2" }],
          },
          {
            name: SMALL,
            numPartitions: -1,
            replicationFactor: -1,
            assignments: [{ partitionIndex: 0, brokerIds: [1] }],
            configs: [{ name: "min.insync.replicas", value: "2" }],
          },
        ],
      }),
    );
    show(
      "create topics",
      created.topics.map((t) => [t.name, t.errorCode]),
    );
    await delay(2000);
    let s = await partitionState(admin, TOPIC);
    show("partition state", s);
    const leader = await connect(port(s.leader));
    const followerId = s.isr.find((r) => r !== s.leader)!;
    const follower = await connect(port(followerId));
    show("produce acks=-1 to leader", await produce(leader, TOPIC, -1));
    show("produce acks=-1 v11 to follower", await produce(follower, TOPIC, -1));
    show("produce acks=-1 v9 to follower", await produce(follower, TOPIC, -1, 5000, 9));
    show("produce acks=-1 RF1 min.insync=2", await produce(admin, SMALL, -1));
    show("produce acks=1 RF1 min.insync=2", await produce(admin, SMALL, 1));
    await delay(500);
    show("fetch v10 at follower", await fetch(follower, 10, -1));
    show("fetch v11 at follower", await fetch(follower, 11, -1));
    show("fetch v16 at follower", await fetch(follower, 16, s.epoch));
    show("fetch v12 at leader, epoch+1", await fetch(leader, 12, s.epoch + 1));
    show("fetch v12 at follower, epoch+1", await fetch(follower, 12, s.epoch + 1));
    show("list offsets latest at leader", await latest(leader, s.epoch));
    show("list offsets latest at follower", await latest(follower, s.epoch));
    show("list offsets latest at leader, epoch+1", await latest(leader, s.epoch + 1));
    show("offset for leader epoch at leader (epoch)", await epochEnd(leader, s.epoch, s.epoch));
    show("offset for leader epoch at leader (epoch+5)", await epochEnd(leader, s.epoch, s.epoch + 5));
    show("offset for leader epoch at follower", await epochEnd(follower, s.epoch, s.epoch));
    show("offset for leader epoch at leader, current epoch+1", await epochEnd(leader, s.epoch + 1, s.epoch));
    // The followers stand still: acks=all waits and times out; a consumer does not see the record.
    const others = nodes.filter((n) => n.id !== s.leader);
    for (const n of others) n.child!.kill("SIGSTOP");
    const hwBefore = await latest(leader, s.epoch);
    show("produce acks=-1 timeout 1000 with followers stopped", await produce(leader, TOPIC, -1, 1000));
    show("list offsets latest with followers stopped (before, after)", [
      hwBefore.offset,
      (await latest(leader, s.epoch)).offset,
    ]);
    for (const n of others) n.child!.kill("SIGCONT");
    await delay(2000);
    // The leader dies: a new one is elected at a newer epoch; the old epoch is fenced there.
    const oldLeader = nodes.find((n) => n.id === s.leader)!;
    const before = s;
    leader.close();
    oldLeader.child!.kill("SIGKILL");
    const deadline = Date.now() + 30_000;
    const survivor = await connect(port(followerId));
    while (Date.now() < deadline) {
      s = await partitionState(survivor, TOPIC);
      if (s.leader !== before.leader && s.leader >= 0) break;
      await delay(300);
    }
    show("after the leader died", s);
    const fresh = await connect(port(s.leader));
    show("fetch v12 at new leader, old epoch", await fetch(fresh, 12, before.epoch));
    show("list offsets at new leader, old epoch", await latest(fresh, before.epoch));
    show("offset for leader epoch at new leader (old epoch)", await epochEnd(fresh, s.epoch, before.epoch));
    show("produce acks=-1 at new leader (ISR of two)", await produce(fresh, TOPIC, -1));
    fresh.close();
    survivor.close();
    follower.close();
    admin.close();
  } finally {
    for (const n of nodes) {
      n.child?.kill("SIGCONT");
      n.child?.kill("SIGKILL");
    }
    await delay(500);
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
