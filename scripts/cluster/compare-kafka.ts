// Runs the control plane's checks against Apache Kafka 4.4 (three KRaft nodes, broker+controller each) or
// against tskafka (etcd and three brokers, scripts/cluster/cluster.ts), and prints what each answered:
// replica placement, CreateTopics with a factor above the brokers, Metadata v0/v12 and
// DescribeTopicPartitions after a broker is killed, ElectLeaders, DescribeCluster, AlterPartitionReassignments
// and ListPartitionReassignments (a move from {1,2} to {2,3}, errors). For comparing the two by eye.
//   npx tsx scripts/cluster/compare-kafka.ts --target kafka|tskafka
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import {
  ApiKey,
  createAlterPartitionReassignmentsRequest,
  createCreateTopicsRequest,
  createDescribeClusterRequest,
  createDescribeTopicPartitionsRequest,
  createElectLeadersRequest,
  createListPartitionReassignmentsRequest,
  createMetadataRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { RawClient } from "../../broker/test/clients/raw-client.ts";
import { freeLoopbackPort, startApacheKafka } from "../kafka/apache-kafka.ts";
import { runCluster } from "./cluster.ts";

const target = process.argv[process.argv.indexOf("--target") + 1] ?? "kafka";
const SESSION_MS = 3000;

interface Node {
  readonly id: number;
  readonly port: number;
  kill(): void;
}

async function kafkaCluster(dir: string): Promise<{ nodes: Node[]; stop(): Promise<void> }> {
  const ports = await Promise.all([1, 2, 3].map(() => freeLoopbackPort()));
  const controllers = await Promise.all([1, 2, 3].map(() => freeLoopbackPort()));
  const voters = controllers.map((p, i) => `${i + 1}@127.0.0.1:${p}`).join(",");
  let clusterId = randomBytes(16).toString("base64url");
  while (clusterId.startsWith("-")) clusterId = randomBytes(16).toString("base64url");
  const started = await Promise.all(
    [1, 2, 3].map((id) =>
      startApacheKafka({
        port: ports[id - 1]!,
        controllerPort: controllers[id - 1]!,
        dataDir: join(dir, `kafka-${id}`),
        version: "4.4.0",
        heap: "400m",
        clusterId,
        properties: {
          "node.id": String(id),
          "controller.quorum.voters": voters,
          "broker.rack": `rack-${id}`,
          "offsets.topic.replication.factor": "3",
          "broker.session.timeout.ms": String(SESSION_MS),
          "broker.heartbeat.interval.ms": "500",
        },
        startTimeoutMs: 120_000,
      }),
    ),
  );
  return {
    nodes: started.map((k, i) => ({ id: i + 1, port: k.port, kill: () => process.kill(k.pid, "SIGKILL") })),
    stop: async () => void (await Promise.all(started.map((k) => k.stop()))),
  };
}

async function tskafkaCluster(dir: string): Promise<{ nodes: Node[]; stop(): Promise<void> }> {
  const base = await freeLoopbackPort();
  const stop = await runCluster({
    brokers: 3,
    basePort: base,
    dataDir: dir,
    racks: 3,
    properties: { "broker.session.timeout.ms": String(SESSION_MS), "offsets.topic.replication.factor": "3" },
  });
  const { readFileSync } = await import("node:fs");
  const nodes = [1, 2, 3].map((id) => ({
    id,
    port: base + id - 1,
    kill: () => process.kill(Number(readFileSync(join(dir, `broker-${id}`, "pid"), "utf8")), "SIGKILL"),
  }));
  return { nodes, stop };
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

/** A partition moved from {1,2} to {2,3}, and the reassignments Kafka's controller refuses. */
async function reassignments(n1: Node, n2: Node): Promise<void> {
  await call(n1.port, (c) =>
    c.request(
      ApiKey.CreateTopics,
      7,
      createCreateTopicsRequest({
        topics: [
          {
            name: "moved",
            numPartitions: -1,
            replicationFactor: -1,
            assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
            configs: [],
          },
        ],
        timeoutMs: 10_000,
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, 1500));
  const state = async (label: string) => {
    const m = await call(n2.port, (c) =>
      c.request(
        ApiKey.Metadata,
        12,
        createMetadataRequest({ topics: [{ name: "moved", topicId: ZERO_UUID }], allowAutoTopicCreation: false }),
      ),
    );
    const p = m.topics[0]!.partitions[0]!;
    show(`${label} (leader, epoch, replicas, isr)`, [p.leaderId, p.leaderEpoch, p.replicaNodes, p.isrNodes]);
  };
  const alter = (label: string, replicas: (number[] | null)[], version = 0, allowRf = true, topic = "moved") =>
    call(n2.port, (c) =>
      c.request(
        ApiKey.AlterPartitionReassignments,
        version,
        createAlterPartitionReassignmentsRequest({
          allowReplicationFactorChange: allowRf,
          topics: [{ name: topic, partitions: replicas.map((r, partitionIndex) => ({ partitionIndex, replicas: r })) }],
        }),
      ),
    ).then((r) =>
      show(`AlterPartitionReassignments ${label}`, [
        r.errorCode,
        r.responses.map((t) => t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.errorMessage])),
      ]),
    );
  const list = (label: string) =>
    call(n1.port, (c) =>
      c.request(ApiKey.ListPartitionReassignments, 0, createListPartitionReassignmentsRequest({ topics: null })),
    ).then((r) =>
      show(`ListPartitionReassignments ${label}`, [
        r.errorCode,
        r.topics.map((t) =>
          t.partitions.map((p) => [t.name, p.partitionIndex, p.replicas, p.addingReplicas, p.removingReplicas]),
        ),
      ]),
    );
  await state("moved before");
  await alter("[2,3]", [[2, 3]]);
  await list("right after");
  await new Promise((r) => setTimeout(r, 3000));
  await list("3 s later");
  await state("moved after");
  await alter("cancel with none in progress", [null]);
  await alter("unknown broker, repeat, empty, unknown partition", [[2, 9], [3, 3], [], [1]]);
  await alter("unknown topic", [[1]], 0, true, "nowhere");
  await alter("v1 replication factor change refused", [[1, 2, 3]], 1, false);
  await alter("v1 reorder", [[3, 2]], 1, false);
  await alter("shrink to [3]", [[3]]);
  await new Promise((r) => setTimeout(r, 1500));
  await state("moved shrunk");
}

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
  await reassignments(n1, n2);

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
