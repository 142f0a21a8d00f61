// Runs the control plane's checks against Apache Kafka 4.4 (three KRaft nodes, broker+controller each) or
// against tskafka (etcd and three brokers, scripts/cluster/cluster.ts), and prints what each answered:
// replica placement, CreateTopics with a factor above the brokers, Metadata v0/v12 and
// DescribeTopicPartitions after a broker is killed, ElectLeaders, DescribeCluster. For comparing the two by eye.
// `--only follower-fetch,delete-records,fenced` runs other checks instead. fenced: DescribeCluster v2
// with and without IncludeFencedBrokers around a kill -9. delete-records: DeleteRecords at a follower, at
// the leader, and with a follower paused. follower-fetch (KIP-392; racks rack-1..3 and
// replica.selector.class=RackAwareReplicaSelector on both): a consumer's Fetch at the leader from a
// follower's rack, from its own and from none; at a follower (v12, v10, past its log); ListOffsets and
// OffsetForLeaderEpoch at a follower.
// The default run also does AlterPartitionReassignments and ListPartitionReassignments (a move from {1,2}
// to {2,3}, errors).
//   npx tsx scripts/cluster/compare-kafka.ts --target kafka|tskafka [--only follower-fetch,delete-records,fenced]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiKey,
  createAlterPartitionReassignmentsRequest,
  createCreateTopicsRequest,
  createDeleteRecordsRequest,
  createDescribeClusterRequest,
  createDescribeTopicPartitionsRequest,
  createElectLeadersRequest,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createListOffsetsRequest,
  createListPartitionReassignmentsRequest,
  createMetadataRequest,
  createOffsetForLeaderEpochRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { RawClient } from "../../broker/test/clients/raw-client.ts";
import { freeLoopbackPort } from "../kafka/apache-kafka.ts";
import { startApacheKafkaCluster } from "../kafka/apache-kafka-cluster.ts";
import { runCluster } from "./cluster.ts";

const target = process.argv[process.argv.indexOf("--target") + 1] ?? "kafka";
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
const SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector";
const SESSION_MS = 3000;

interface Node {
  readonly id: number;
  readonly port: number;
  kill(): void;
  /** SIGSTOP, or SIGCONT when `paused` is false. */
  pause(paused: boolean): void;
}

async function kafkaCluster(dir: string): Promise<{ nodes: Node[]; stop(): Promise<void> }> {
  const cluster = await startApacheKafkaCluster({
    nodes: 3,
    dataDir: dir,
    version: "4.4.0",
    heap: "400m",
    racks: true,
    startTimeoutMs: 300_000,
    properties: {
      "offsets.topic.replication.factor": "3",
      "broker.session.timeout.ms": String(SESSION_MS),
      "broker.heartbeat.interval.ms": "500",
      "replica.selector.class": SELECTOR,
      // On a loaded machine the quorum forms late.
      "initial.broker.registration.timeout.ms": "300000",
    },
  });
  return {
    nodes: cluster.nodes.map((k) => ({
      id: k.nodeId,
      port: k.port,
      kill: () => process.kill(k.pid, "SIGKILL"),
      pause: (paused: boolean) => process.kill(k.pid, paused ? "SIGSTOP" : "SIGCONT"),
    })),
    stop: () => cluster.stop(),
  };
}

async function tskafkaCluster(dir: string): Promise<{ nodes: Node[]; stop(): Promise<void> }> {
  const cluster = await runCluster({
    brokers: 3,
    basePort: await freeLoopbackPort(),
    dataDir: dir,
    racks: 3,
    properties: {
      "broker.session.timeout.ms": String(SESSION_MS),
      "offsets.topic.replication.factor": "3",
      "replica.selector.class": SELECTOR,
    },
  });
  const nodes = cluster.brokers.map((b) => ({
    id: b.nodeId,
    port: b.port,
    kill: () => process.kill(b.pid, "SIGKILL"),
    pause: (paused: boolean) => process.kill(b.pid, paused ? "SIGSTOP" : "SIGCONT"),
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

/** KIP-392: a topic of one partition on brokers 1 (leader), 2 and 3, ten records, then consumers' requests. */
async function followerFetch(nodes: readonly Node[]): Promise<void> {
  const [n1, n2] = nodes as [Node, Node];
  const createNear = () =>
    call(n1.port, (c) =>
      c.request(
        ApiKey.CreateTopics,
        7,
        createCreateTopicsRequest({
          topics: [
            {
              name: "near",
              numPartitions: -1,
              replicationFactor: -1,
              assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }],
              configs: [],
            },
          ],
          timeoutMs: 10_000,
        }),
      ),
    );
  // Until every broker registered (a manual assignment names live brokers only).
  let created = await createNear();
  for (let i = 0; i < 30 && created.topics[0]!.errorCode !== 0; i++) {
    await new Promise((r) => setTimeout(r, 500));
    created = await createNear();
  }
  show(
    "CreateTopics near",
    created.topics.map((t) => [t.errorCode, t.errorMessage]),
  );
  await new Promise((r) => setTimeout(r, 1500));
  const produced = await call(n1.port, (c) =>
    c.produce(
      "near",
      0,
      Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })),
      -1,
    ),
  );
  show("Produce acks=all", [produced.errorCode, produced.baseOffset]);
  // The followers learn the high watermark from their next fetch.
  await new Promise((r) => setTimeout(r, 1500));
  const fetchAt = (port: number, offset: bigint, rack: string, version = 12) =>
    call(port, async (c) => {
      const res = await c.request(
        ApiKey.Fetch,
        version,
        createFetchRequest({
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          rackId: rack,
          topics: [
            createFetchRequestFetchTopic({
              topic: "near",
              partitions: [
                createFetchRequestFetchPartition({ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }),
              ],
            }),
          ],
        }),
      );
      const p = res.responses[0]!.partitions[0]!;
      return [p.errorCode, p.preferredReadReplica, p.records?.length ?? 0, p.highWatermark, p.logStartOffset];
    });
  const label = "(error, preferred read replica, record bytes, high watermark, log start)";
  show(`leader, consumer in rack-2 ${label}`, await fetchAt(n1.port, 0n, "rack-2"));
  show("leader, consumer in rack-1", await fetchAt(n1.port, 0n, "rack-1"));
  show("leader, consumer without a rack", await fetchAt(n1.port, 0n, ""));
  show("leader, consumer in rack-2 at the log end", await fetchAt(n1.port, 10n, "rack-2"));
  show("follower 2, v12", await fetchAt(n2.port, 0n, ""));
  show("follower 2, v12 at the high watermark", await fetchAt(n2.port, 10n, "rack-2"));
  show("follower 2, v10", await fetchAt(n2.port, 0n, "", 10));
  show("follower 2, v12 past its log", await fetchAt(n2.port, 1_000_000n, "rack-2"));
  const listed = await call(n2.port, (c) =>
    c.request(
      ApiKey.ListOffsets,
      7,
      createListOffsetsRequest({
        replicaId: -1,
        topics: [
          {
            name: "near",
            partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }],
          },
        ],
      }),
    ),
  );
  show("follower 2, ListOffsets", listed.topics[0]!.partitions[0]!.errorCode);
  const ends = await call(n2.port, (c) =>
    c.request(
      ApiKey.OffsetForLeaderEpoch,
      4,
      createOffsetForLeaderEpochRequest({
        replicaId: -1,
        topics: [{ topic: "near", partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
      }),
    ),
  );
  show("follower 2, OffsetForLeaderEpoch", ends.topics[0]!.partitions[0]!.errorCode);
}

/**
 * DeleteRecords on a topic of one partition on brokers 1 (leader), 2, 3: at a follower; at the leader;
 * then with node 3 paused (SIGSTOP, shorter than its session) and a timeout of 1 s.
 */
async function deleteRecords(nodes: readonly Node[]): Promise<void> {
  const [n1, n2, n3] = nodes as [Node, Node, Node];
  const create = () =>
    call(n1.port, (c) =>
      c.request(
        ApiKey.CreateTopics,
        7,
        createCreateTopicsRequest({
          topics: [
            {
              name: "trimmed",
              numPartitions: -1,
              replicationFactor: -1,
              assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }],
              configs: [],
            },
          ],
          timeoutMs: 10_000,
        }),
      ),
    );
  let created = await create();
  for (let i = 0; i < 30 && created.topics[0]!.errorCode !== 0; i++) {
    await new Promise((r) => setTimeout(r, 500));
    created = await create();
  }
  await new Promise((r) => setTimeout(r, 1500));
  const produced = await call(n1.port, (c) =>
    c.produce(
      "trimmed",
      0,
      Array.from({ length: 20 }, (_, i) => ({ value: `t${i}` })),
      -1,
    ),
  );
  show("trimmed: CreateTopics, Produce", [created.topics[0]!.errorCode, produced.errorCode]);
  const del = (port: number, offset: bigint, timeoutMs: number) =>
    call(port, async (c) => {
      const started = Date.now();
      const r = await c.request(
        ApiKey.DeleteRecords,
        2,
        createDeleteRecordsRequest({
          timeoutMs,
          topics: [{ name: "trimmed", partitions: [{ partitionIndex: 0, offset }] }],
        }),
      );
      const p = r.topics[0]!.partitions[0]!;
      return [p.errorCode, p.lowWatermark, Date.now() - started >= timeoutMs ? "waited the timeout" : "at once"];
    });
  show("DeleteRecords 10 at follower 2 (error, low watermark)", await del(n2.port, 10n, 5000));
  show("DeleteRecords 10 at the leader", await del(n1.port, 10n, 15_000));
  n3.pause(true);
  try {
    show("DeleteRecords 15 at the leader, node 3 paused, timeout 1 s", await del(n1.port, 15n, 1000));
  } finally {
    n3.pause(false);
  }
  await new Promise((r) => setTimeout(r, 2000));
  show("DeleteRecords 15 at the leader again", await del(n1.port, 15n, 5000));
}

/** DescribeCluster v2 with and without IncludeFencedBrokers, before and after kill -9 of node 3. */
async function fenced(nodes: readonly Node[]): Promise<void> {
  const [n1, , n3] = nodes as [Node, Node, Node];
  const describe = async (includeFencedBrokers: boolean) =>
    (
      await call(n1.port, (c) =>
        c.request(ApiKey.DescribeCluster, 2, createDescribeClusterRequest({ endpointType: 1, includeFencedBrokers })),
      )
    ).brokers.map((b) => [b.brokerId, b.rack, b.isFenced]);
  show("DescribeCluster v2 with fenced (id, rack, fenced)", await describe(true));
  n3.kill();
  await new Promise((r) => setTimeout(r, SESSION_MS + 4000));
  show("after kill -9 of node 3, DescribeCluster v2 with fenced", await describe(true));
  show("after kill -9 of node 3, DescribeCluster v2 without", await describe(false));
}

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
  const checks = only?.split(",") ?? [];
  if (checks.includes("follower-fetch")) await followerFetch(cluster.nodes);
  if (checks.includes("delete-records")) await deleteRecords(cluster.nodes);
  if (checks.includes("fenced")) await fenced(cluster.nodes);
  if (only === undefined) await controlPlane(cluster.nodes);
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function controlPlane(nodes: readonly Node[]): Promise<void> {
  const [n1, n2, n3] = nodes as [Node, Node, Node];
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
}
