// Runs the control plane's checks against Apache Kafka 4.4 (three KRaft nodes, broker+controller each) or
// against tskafka (etcd and three brokers, scripts/cluster/cluster.ts), and prints what each answered:
// replica placement, CreateTopics with a factor above the brokers, Metadata v0/v12 and
// DescribeTopicPartitions after a broker is killed, ElectLeaders, DescribeCluster. For comparing the two by eye.
//   npx tsx scripts/cluster/compare-kafka.ts --target kafka|tskafka
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiKey,
  createCreateTopicsRequest,
  createDescribeClusterRequest,
  createDescribeTopicPartitionsRequest,
  createElectLeadersRequest,
  createMetadataRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { RawClient } from "../../broker/test/clients/raw-client.ts";
import { freeLoopbackPort } from "../kafka/apache-kafka.ts";
import { startApacheKafkaCluster } from "../kafka/apache-kafka-cluster.ts";
import { runCluster } from "./cluster.ts";

const target = process.argv[process.argv.indexOf("--target") + 1] ?? "kafka";
const SESSION_MS = 3000;

interface Node {
  readonly id: number;
  readonly port: number;
  kill(): void;
}

async function kafkaCluster(dir: string): Promise<{ nodes: Node[]; stop(): Promise<void> }> {
  const cluster = await startApacheKafkaCluster({
    nodes: 3,
    dataDir: dir,
    version: "4.4.0",
    heap: "400m",
    racks: true,
    properties: {
      "offsets.topic.replication.factor": "3",
      "broker.session.timeout.ms": String(SESSION_MS),
      "broker.heartbeat.interval.ms": "500",
    },
  });
  return {
    nodes: cluster.nodes.map((k) => ({ id: k.nodeId, port: k.port, kill: () => process.kill(k.pid, "SIGKILL") })),
    stop: () => cluster.stop(),
  };
}

async function tskafkaCluster(dir: string): Promise<{ nodes: Node[]; stop(): Promise<void> }> {
  const cluster = await runCluster({
    brokers: 3,
    basePort: await freeLoopbackPort(),
    dataDir: dir,
    racks: 3,
    properties: { "broker.session.timeout.ms": String(SESSION_MS), "offsets.topic.replication.factor": "3" },
  });
  const nodes = cluster.brokers.map((b) => ({
    id: b.nodeId,
    port: b.port,
    kill: () => process.kill(b.pid, "SIGKILL"),
  }));
  return { nodes, stop: () => cluster.stop() };
}

async function call<T>(port: number, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(port);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

const show = (label: string, v: unknown): void =>
  console.log(`${label}: ${JSON.stringify(v, (_, x) => (typeof x === "bigint" ? String(x) : x))}`);

const dir = mkdtempSync(join(tmpdir(), `tskafka-compare-${target}-`));
const cluster = target === "kafka" ? await kafkaCluster(dir) : await tskafkaCluster(dir);
try {
  const [n1, n2, n3] = cluster.nodes as [Node, Node, Node];
  const create = (name: string, rf: number, partitions = 6) =>
    call(n2.port, (c) =>
      c.request(
        ApiKey.CreateTopics,
        7,
        createCreateTopicsRequest({
          topics: [{ name, numPartitions: partitions, replicationFactor: rf, assignments: [], configs: [] }],
          timeoutMs: 10_000,
        }),
      ),
    );
  const rf4 = await create("too-wide", 4);
  show(
    "CreateTopics rf=4",
    rf4.topics.map((t) => [t.errorCode, t.errorMessage]),
  );
  const rf0 = await create("zero", 0);
  show(
    "CreateTopics rf=0",
    rf0.topics.map((t) => [t.errorCode, t.errorMessage]),
  );
  const ok = await create("spread", 3, 12);
  show(
    "CreateTopics rf=3",
    ok.topics.map((t) => [t.errorCode, t.numPartitions, t.replicationFactor]),
  );
  await new Promise((r) => setTimeout(r, 1500));
  const md = (port: number, version: number) =>
    call(port, (c) =>
      c.request(
        ApiKey.Metadata,
        version,
        createMetadataRequest({
          topics: [{ name: "spread", topicId: ZERO_UUID }],
          allowAutoTopicCreation: version < 4,
        }),
      ),
    );
  const placement = await md(n1.port, 12);
  show(
    "placement (replicas by partition)",
    placement.topics[0]!.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => p.replicaNodes),
  );
  show(
    "brokers",
    placement.brokers.map((b) => [b.nodeId, b.rack]),
  );
  const cluster1 = await call(n1.port, (c) => c.request(ApiKey.DescribeCluster, 1, createDescribeClusterRequest({})));
  show("DescribeCluster", [cluster1.errorCode, cluster1.brokers.map((b) => [b.brokerId, b.rack, b.isFenced])]);

  n3.kill();
  await new Promise((r) => setTimeout(r, SESSION_MS + 4000));
  for (const v of [0, 1, 5, 12]) {
    const m = await md(n1.port, v);
    show(`Metadata v${v} after kill -9 of node 3 (brokers; partitions: error, leader, epoch, replicas, isr, offline)`, [
      m.brokers.map((b) => b.nodeId),
      m.topics[0]!.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex)
        .slice(0, 4)
        .map((p) => [p.errorCode, p.leaderId, p.leaderEpoch, p.replicaNodes, p.isrNodes, p.offlineReplicas]),
    ]);
  }
  const dtp = await call(n2.port, (c) =>
    c.request(
      ApiKey.DescribeTopicPartitions,
      0,
      createDescribeTopicPartitionsRequest({ topics: [{ name: "spread" }], responsePartitionLimit: 4 }),
    ),
  );
  show(
    "DescribeTopicPartitions after kill",
    dtp.topics[0]!.partitions.map((p) => [p.errorCode, p.leaderId, p.leaderEpoch, p.isrNodes, p.offlineReplicas]),
  );
  const dc = await call(n1.port, (c) => c.request(ApiKey.DescribeCluster, 1, createDescribeClusterRequest({})));
  show(
    "DescribeCluster after kill",
    dc.brokers.map((b) => [b.brokerId, b.isFenced]),
  );
  const el = await call(n1.port, (c) =>
    c.request(
      ApiKey.ElectLeaders,
      2,
      createElectLeadersRequest({
        electionType: 0,
        topicPartitions: [
          { topic: "spread", partitions: [0, 1, 2, 3, 4, 5, 99] },
          { topic: "nowhere", partitions: [0] },
        ],
        timeoutMs: 10_000,
      }),
    ),
  );
  show("ElectLeaders preferred", [
    el.errorCode,
    el.replicaElectionResults.map((r) => [
      r.topic,
      r.partitionResult.map((p) => [p.partitionId, p.errorCode, p.errorMessage]),
    ]),
  ]);
  const elAll = await call(n1.port, (c) =>
    c.request(
      ApiKey.ElectLeaders,
      2,
      createElectLeadersRequest({ electionType: 0, topicPartitions: null, timeoutMs: 10_000 }),
    ),
  );
  show("ElectLeaders preferred, all", [
    elAll.errorCode,
    elAll.replicaElectionResults.map((r) => [
      r.topic,
      r.partitionResult.map((p) => [p.partitionId, p.errorCode, p.errorMessage]),
    ]),
  ]);
  const unclean = await call(n1.port, (c) =>
    c.request(
      ApiKey.ElectLeaders,
      2,
      createElectLeadersRequest({
        electionType: 1,
        topicPartitions: [{ topic: "spread", partitions: [0] }],
        timeoutMs: 10_000,
      }),
    ),
  );
  show(
    "ElectLeaders unclean",
    unclean.replicaElectionResults.map((r) => r.partitionResult.map((p) => [p.errorCode, p.errorMessage])),
  );
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
