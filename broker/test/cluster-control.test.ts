import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiKey,
  createCreateTopicsRequest,
  createDescribeClusterRequest,
  createElectLeadersRequest,
  createFindCoordinatorRequest,
  createInitProducerIdRequest,
  createMetadataRequest,
  createOffsetCommitRequest,
  createOffsetFetchRequest,
  type MetadataResponse,
  ZERO_UUID,
} from "@tskafka/protocol";
import kafkajs from "kafkajs";
import { EtcdClusterMetadata } from "../src/cluster/etcd-metadata.js";
import { Controller } from "../src/cluster/controller.js";
import { isStale, type MetadataEvent } from "../src/cluster/metadata.js";
import type { BrokerConfig } from "../src/config.js";
import { Logger } from "../src/logger.js";
import { offsetsPartitionFor } from "../src/group/java-hash.js";
import { ErrorCode } from "../src/errors.js";
import { KAFKA44_REQUIREMENT, haveKafka44, tool44 } from "./clients/java/kafka44.js";
import { RawClient } from "./clients/raw-client.js";
import { REPO_ROOT, freePort, haveCommand, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { startTestEtcd, type EtcdHandle } from "./etcd-fixture.js";
import { ok, rows } from "./cli-run.js";

const { Kafka, logLevel } = kafkajs;

/**
 * The control plane of a cluster (issue 16): etcd and three brokers as processes on loopback, each on its
 * own rack. Metadata and DescribeCluster from any broker show the same cluster (DescribeCluster v2 also the
 * fenced brokers, when asked: registered once, not live now); an RF=3 topic is placed on
 * every rack; a factor above the live brokers is INVALID_REPLICATION_FACTOR; a broker killed with -9 loses
 * its leaderships when its session (etcd lease) ends, to ISR members at a higher leader epoch, and the
 * groups it coordinated move with their `__consumer_offsets` partition; a broker stopped cleanly hands its
 * leaderships over before it leaves; ElectLeaders answers as Kafka's controller; `npm run cluster` starts
 * and stops a cluster.
 */

const HAVE_ETCD = haveCommand("etcd");
const SESSION_MS = 3000;
const OFFSETS_PARTITIONS = 6;
let etcd: EtcdHandle;
let observer: EtcdClusterMetadata;
const brokers = new Map<number, BrokerProcess>();
const dataDirs: string[] = [];
/** Every change the observer saw, in order. */
const events: MetadataEvent[] = [];

async function start(nodeId: number, dataDir?: string): Promise<BrokerProcess> {
  const b = await startBroker({
    ...(dataDir !== undefined ? { dataDir } : {}),
    properties: {
      "node.id": nodeId,
      "etcd.endpoints": etcd.endpoint,
      "broker.rack": `rack-${nodeId}`,
      "broker.session.timeout.ms": SESSION_MS,
      "offsets.topic.num.partitions": OFFSETS_PARTITIONS,
      "transaction.state.log.num.partitions": OFFSETS_PARTITIONS,
    },
  });
  brokers.set(nodeId, b);
  if (dataDir === undefined) dataDirs.push(b.dataDir);
  return b;
}

async function withClient<T>(b: BrokerProcess, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(b.port);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

function metadata(b: BrokerProcess, topics: string[] | null): Promise<MetadataResponse> {
  const asked = topics?.map((name) => ({ name, topicId: ZERO_UUID })) ?? null;
  return withClient(b, (c) =>
    c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: asked, allowAutoTopicCreation: false })),
  );
}

/** Each partition of `topic` as [leader, leaderEpoch, replicas, isr, offline], by partition. */
async function partitions(b: BrokerProcess, topic: string) {
  const res = await metadata(b, [topic]);
  const t = res.topics.find((x) => x.name === topic);
  assert.ok(t !== undefined && t.errorCode === 0, `${topic}: ${t?.errorCode}`);
  return [...t.partitions]
    .sort((x, y) => x.partitionIndex - y.partitionIndex)
    .map((p) => ({
      leader: p.leaderId,
      epoch: p.leaderEpoch,
      replicas: p.replicaNodes,
      isr: p.isrNodes,
      offline: p.offlineReplicas,
    }));
}

async function findCoordinator(b: BrokerProcess, group: string) {
  const res = await withClient(b, (c) =>
    c.request(ApiKey.FindCoordinator, 4, createFindCoordinatorRequest({ keyType: 0, coordinatorKeys: [group] })),
  );
  return res.coordinators[0]!;
}

async function commit(b: BrokerProcess, group: string, topic: string, offset: bigint): Promise<number> {
  const res = await withClient(b, (c) =>
    c.request(
      ApiKey.OffsetCommit,
      8,
      createOffsetCommitRequest({
        groupId: group,
        generationIdOrMemberEpoch: -1,
        memberId: "",
        topics: [
          {
            name: topic,
            topicId: ZERO_UUID,
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: offset,
                committedLeaderEpoch: -1,
                committedMetadata: "",
                commitTimestamp: -1n,
              },
            ],
          },
        ],
      }),
    ),
  );
  return res.topics[0]!.partitions[0]!.errorCode;
}

async function fetchOffset(b: BrokerProcess, group: string, topic: string): Promise<{ error: number; offset: bigint }> {
  const res = await withClient(b, (c) =>
    c.request(
      ApiKey.OffsetFetch,
      7,
      createOffsetFetchRequest({ groupId: group, topics: [{ name: topic, partitionIndexes: [0] }] }),
    ),
  );
  return { error: res.errorCode, offset: res.topics[0]?.partitions[0]?.committedOffset ?? -2n };
}

/**
 * Puts `broker` back in the ISR of the partitions, as their leader's AlterPartition does when a follower
 * caught up: the data plane does it by itself when it runs; done here when it has not yet.
 */
async function rejoinIsr(topic: string, partitions: readonly number[], broker: number): Promise<void> {
  for (let tries = 0; ; tries++) {
    const states = observer.partitionStates(topic)!;
    const missing = partitions.filter((p) => !states[p]!.isr.includes(broker));
    if (missing.length === 0) return;
    assert.ok(tries < 50, `${topic} ${missing.join(",")}: ${broker} back in the ISR`);
    await observer.alterPartitions([
      {
        topic,
        changes: missing.map((partition) => {
          const s = states[partition]!;
          return {
            kind: "isr" as const,
            partition,
            brokerId: s.leader,
            leaderEpoch: s.leaderEpoch,
            partitionEpoch: s.partitionEpoch,
            isr: [...s.isr, broker],
          };
        }),
      },
    ]);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** OffsetFetch, again while the coordinator is still loading the group's partition. */
async function fetchWhenLoaded(b: BrokerProcess, group: string, topic: string) {
  let fetched = await fetchOffset(b, group, topic);
  for (let i = 0; fetched.error === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    fetched = await fetchOffset(b, group, topic);
  }
  return fetched;
}

/** The first of `n` consecutive loopback ports that are free now (each bound once to check). */
async function freeConsecutivePorts(n: number): Promise<number> {
  const bindable = (port: number): Promise<boolean> =>
    new Promise((done) => {
      const s = createServer();
      s.once("error", () => done(false));
      s.listen(port, "127.0.0.1", () => s.close(() => done(true)));
    });
  for (let tries = 0; tries < 50; tries++) {
    // Below the ephemeral range, where outgoing connections do not take ports.
    const base = 20_000 + Math.floor(Math.random() * 10_000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await bindable(base + i);
    if (ok) return base;
  }
  return freePort();
}

function live(): BrokerProcess[] {
  return [...brokers.values()].filter((b) => b.process.exitCode === null && b.process.signalCode === null);
}

describe(
  "cluster control plane: etcd and three brokers",
  { skip: skipUnless(HAVE_ETCD, "etcd"), timeout: 90_000 },
  () => {
    before(async () => {
      etcd = await startTestEtcd();
      observer = await EtcdClusterMetadata.open({ endpoints: [etcd.endpoint], nodeId: 99, prefix: "/tskafka/" });
      for (const kind of ["partitions", "broker"] as const) observer.watch(kind, (e) => void events.push(e));
      await Promise.all([1, 2, 3].map((id) => start(id)));
      await waitFor("three brokers registered", () => observer.brokers().length === 3, 15_000);
    });

    after(async () => {
      for (const b of brokers.values()) await b.cleanup();
      for (const d of dataDirs) await rm(d, { recursive: true, force: true });
      await observer?.close();
      await etcd?.close();
    });

    test("Metadata and DescribeCluster from any broker: the same three brokers, racks and controller", async () => {
      const describe = () =>
        Promise.all(
          live().map((b) =>
            withClient(b, (c) =>
              c.request(ApiKey.DescribeCluster, 1, createDescribeClusterRequest({ endpointType: 1 })),
            ),
          ),
        );
      // Each broker learns the others from etcd on its own: the set-up waited for the observer's view only.
      let answers = await describe();
      for (let i = 0; i < 100 && answers.some((a) => a.brokers.length < 3); i++) {
        await new Promise((r) => setTimeout(r, 100));
        answers = await describe();
      }
      const controller = observer.controller()?.nodeId;
      for (const a of answers) {
        assert.equal(a.errorCode, 0);
        assert.equal(a.controllerId, controller);
        assert.deepEqual(
          a.brokers.map((b) => [b.brokerId, b.port, b.rack]).sort(),
          [1, 2, 3].map((id) => [id, brokers.get(id)!.port, `rack-${id}`]),
        );
      }
      const md = await metadata(brokers.get(2)!, null);
      assert.equal(md.controllerId, controller);
      assert.deepEqual(md.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
    });

    test("a transactional id's coordinator leads its __transaction_state partition; the others answer NOT_COORDINATOR", async () => {
      const id = "txn-a";
      const res = await withClient(brokers.get(1)!, (c) =>
        c.request(ApiKey.FindCoordinator, 4, createFindCoordinatorRequest({ keyType: 1, coordinatorKeys: [id] })),
      );
      const found = res.coordinators[0]!;
      assert.equal(found.errorCode, 0);
      await waitFor("__transaction_state everywhere", () => observer.topic("__transaction_state") !== undefined, 5000);
      const state = observer.partitionStates("__transaction_state")![offsetsPartitionFor(id, OFFSETS_PARTITIONS)]!;
      assert.equal(found.nodeId, state.leader);
      assert.deepEqual([...state.replicas].sort(), [1, 2, 3]);
      const init = (b: BrokerProcess) =>
        withClient(b, (c) =>
          c.request(
            ApiKey.InitProducerId,
            4,
            createInitProducerIdRequest({
              transactionalId: id,
              transactionTimeoutMs: 60_000,
              producerId: -1n,
              producerEpoch: -1,
            }),
          ),
        );
      for (const b of live()) {
        const r = await init(b);
        if (b === brokers.get(found.nodeId)) assert.deepEqual([r.errorCode, r.producerEpoch], [0, 0]);
        else assert.equal(r.errorCode, ErrorCode.NOT_COORDINATOR);
      }
    });

    test("an RF=3 topic is placed on every broker and rack with leaders spread; RF 4 is INVALID_REPLICATION_FACTOR", async () => {
      const create = (name: string, rf: number) =>
        withClient(brokers.get(3)!, (c) =>
          c.request(
            ApiKey.CreateTopics,
            7,
            createCreateTopicsRequest({
              topics: [{ name, numPartitions: 6, replicationFactor: rf, assignments: [], configs: [] }],
              timeoutMs: 10_000,
            }),
          ),
        );
      const ok = await create("spread", 3);
      assert.equal(ok.topics[0]!.errorCode, 0);
      assert.equal(ok.topics[0]!.replicationFactor, 3);
      const refused = await create("too-wide", 4);
      assert.equal(refused.topics[0]!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
      assert.equal(
        refused.topics[0]!.errorMessage,
        "Unable to replicate the partition 4 time(s): The target replication factor of 4 cannot be reached because only 3 broker(s) are registered or some brokers have all their log directories cordoned.",
      );
      await waitFor("every broker knows the topic", () => observer.topic("spread") !== undefined, 5000);
      const views = await Promise.all(live().map((b) => partitions(b, "spread")));
      for (const v of views) assert.deepEqual(v, views[0], "the same leaders from every broker");
      const leaders = new Map<number, number>();
      for (const p of views[0]!) {
        assert.deepEqual([...p.replicas].sort(), [1, 2, 3]);
        assert.equal(p.leader, p.replicas[0], "the preferred replica leads");
        assert.deepEqual(p.offline, []);
        leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
      }
      assert.deepEqual([...leaders.values()], [2, 2, 2]);
    });

    test("a transaction over partitions led by three brokers: its markers reach every leader", async () => {
      const kafka = new Kafka({ clientId: "txn", brokers: live().map((b) => b.bootstrap), logLevel: logLevel.NOTHING });
      const leaders = new Set((observer.partitionStates("spread") ?? []).map((s) => s.leader));
      assert.equal(leaders.size, 3);
      const producer = kafka.producer({ transactionalId: "spread-writer", idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const send = async (values: string[], commit: boolean) => {
        const txn = await producer.transaction();
        await txn.send({ topic: "spread", messages: values.map((value, partition) => ({ value, partition })) });
        await (commit ? txn.commit() : txn.abort());
      };
      await send(["a0", "a1", "a2", "a3", "a4", "a5"], false);
      await send(["c0", "c1", "c2", "c3", "c4", "c5"], true);
      await producer.disconnect();
      // read_committed (KafkaJS' default): the committed records only, and only once every leader has its
      // markers (an open transaction holds its partitions' last stable offset back).
      const consumer = kafka.consumer({ groupId: "txn-reader" });
      const values: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: "spread", fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
      try {
        await waitFor("the committed records", () => values.length >= 6, 20_000);
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual([...values].sort(), ["c0", "c1", "c2", "c3", "c4", "c5"]);
      } finally {
        await consumer.disconnect();
      }
    });

    test("kill -9 of the controller: a new one gives its leaderships to ISR members at a higher epoch, its groups move", async () => {
      const first = await findCoordinator(brokers.get(1)!, "any-group");
      assert.equal(first.errorCode, 0);
      await waitFor("__consumer_offsets everywhere", () => observer.topic("__consumer_offsets") !== undefined, 5000);
      // A group coordinated by the controller: its death moves the controller role too.
      const controller = observer.controller()!.nodeId;
      const leaderOf = (g: string) =>
        observer.partitionStates("__consumer_offsets")![offsetsPartitionFor(g, OFFSETS_PARTITIONS)]!.leader;
      const group = Array.from({ length: 100 }, (_, i) => `moving-group-${i}`).find((g) => leaderOf(g) === controller)!;
      const found = await findCoordinator(brokers.get(1)!, group);
      assert.equal(found.errorCode, 0);
      const p = offsetsPartitionFor(group, OFFSETS_PARTITIONS);
      const state = observer.partitionStates("__consumer_offsets")![p]!;
      assert.equal(found.nodeId, state.leader, "the coordinator leads the group's partition");
      assert.equal(state.replicas.length, 3, "offsets.topic.replication.factor 3 on three brokers");
      const victim = brokers.get(found.nodeId)!;
      assert.equal(await commit(victim, group, "spread", 42n), 0);
      const other = live().find((b) => b !== victim)!;
      assert.equal(await commit(other, group, "spread", 43n), ErrorCode.NOT_COORDINATOR);
      assert.deepEqual(await fetchOffset(victim, group, "spread"), { error: 0, offset: 42n });

      const before = await partitions(other, "spread");
      await victim.kill9();
      const dead = found.nodeId;
      await waitFor("the victim's session ended", () => !observer.brokers().some((b) => b.nodeId === dead), 15_000);
      await waitFor("another controller", () => (observer.controller()?.nodeId ?? dead) !== dead, 10_000);
      await waitFor(
        "new leaders for the victim's partitions",
        () => (observer.partitionStates("spread") ?? []).every((s) => s.leader !== dead && s.leader >= 0),
        10_000,
      );
      // Kafka 4.4 keeps a dead broker's registration, fenced: DescribeCluster v2 lists it when asked.
      const described = async (includeFencedBrokers: boolean) =>
        (
          await withClient(other, (c) =>
            c.request(
              ApiKey.DescribeCluster,
              2,
              createDescribeClusterRequest({ endpointType: 1, includeFencedBrokers }),
            ),
          )
        ).brokers.map((b) => [b.brokerId, b.port, b.rack, b.isFenced]);
      const all = [1, 2, 3].map((id) => [id, brokers.get(id)!.port, `rack-${id}`, id === dead]);
      assert.deepEqual(await described(true), all);
      assert.deepEqual(
        await described(false),
        all.filter((b) => b[0] !== dead),
      );
      if (haveKafka44()) {
        // Kafka 4.4's kafka-cluster.sh list-endpoints --include-fenced-brokers: a STATE column.
        const r = await tool44(
          "org.apache.kafka.tools.ClusterTool",
          ["list-endpoints", "--bootstrap-server", other.bootstrap, "--include-fenced-brokers"],
          { timeoutMs: 60_000 },
        );
        const row = (id: number) => r.stdout.split("\n").find((l) => l.trim().startsWith(`${id} `)) ?? "";
        for (const id of [1, 2, 3]) assert.match(row(id), id === dead ? /\bfenced\b/ : /\bunfenced\b/, r.stdout);
      }
      const after = await partitions(other, "spread");
      after.forEach((now, i) => {
        const was = before[i]!;
        assert.ok(
          was.isr.includes(now.leader),
          `partition ${i}: leader ${now.leader} from the ISR ${was.isr.join(",")}`,
        );
        assert.ok(!now.isr.includes(dead), `partition ${i}: the dead broker left the ISR`);
        assert.deepEqual(now.offline, [dead]);
        assert.equal(now.epoch, was.leader === dead ? was.epoch + 1 : was.epoch, `partition ${i}: leader epoch`);
      });

      // The group moved with its partition; its new coordinator loaded what its own replica of the
      // partition holds: the commit when replication copied it there (the data plane), nothing otherwise.
      const moved = await findCoordinator(other, group);
      assert.equal(moved.errorCode, 0);
      assert.notEqual(moved.nodeId, dead);
      assert.equal(moved.nodeId, observer.partitionStates("__consumer_offsets")![p]!.leader);
      const coordinator = brokers.get(moved.nodeId)!;
      const segment = join(coordinator.dataDir, `__consumer_offsets-${p}`, "00000000000000000000.log");
      const replicated = existsSync(segment) && statSync(segment).size > 0;
      assert.deepEqual(await fetchWhenLoaded(coordinator, group, "spread"), {
        error: 0,
        offset: replicated ? 42n : -1n,
      });
      assert.equal(await commit(coordinator, group, "spread", 44n), 0);
      assert.deepEqual(await fetchOffset(coordinator, group, "spread"), { error: 0, offset: 44n });
    });

    test("a clean stop hands the broker's leaderships over before it leaves (controlled shutdown)", async () => {
      const [stay, leave] = live();
      const leaving = [1, 2, 3].find((id) => brokers.get(id) === leave)!;
      const led = (observer.partitionStates("spread") ?? []).filter((s) => s.leader === leaving).length;
      assert.ok(led > 0, "the broker to stop leads partitions");
      const from = events.length;
      assert.equal(await leave!.stop(), 0);
      assert.match(leave!.output(), /controlled shutdown: leaderships moved/);
      await waitFor("its registration gone", () => !observer.brokers().some((b) => b.nodeId === leaving), 10_000);
      const seen = events.slice(from);
      const gone = seen.findIndex((e) => e.kind === "broker" && e.nodeId === leaving && e.after === undefined);
      const moved = seen.findIndex(
        (e) => e.kind === "partitions" && e.topic === "spread" && e.states!.every((s) => s.leader !== leaving),
      );
      assert.ok(
        moved >= 0 && moved < gone,
        `leaderships moved (event ${moved}) before the broker left (event ${gone})`,
      );
      const now = await partitions(stay!, "spread");
      assert.ok(now.every((p) => p.leader === [1, 2, 3].find((id) => brokers.get(id) === stay)));
    });

    test("a broker back in the ISR leads again after kafka-leader-election.sh; ElectLeaders' errors", async (t) => {
      const back = [1, 2, 3].find((id) => !live().includes(brokers.get(id)!))!;
      await start(back, brokers.get(back)!.dataDir);
      await waitFor("it is registered again", () => observer.brokers().some((b) => b.nodeId === back), 15_000);
      // Rejoining the ISR is the data plane's (a follower caught up, its leader's AlterPartition): done
      // here as the leader would, for the partitions it prefers.
      const states = observer.partitionStates("spread")!;
      const preferred = states.flatMap((s, partition) => (s.replicas[0] === back ? [partition] : []));
      assert.ok(preferred.length > 0);
      await rejoinIsr("spread", preferred, back);
      const res = await withClient(brokers.get(back)!, (c) =>
        c.request(
          ApiKey.ElectLeaders,
          2,
          createElectLeadersRequest({
            electionType: 0,
            topicPartitions: [
              { topic: "spread", partitions: [99] },
              { topic: "nowhere", partitions: [0] },
            ],
          }),
        ),
      );
      assert.deepEqual(
        res.replicaElectionResults.map((r) => [r.topic, r.partitionResult.map((p) => [p.errorCode, p.errorMessage])]),
        [
          ["spread", [[ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "No such partition as spread-99"]]],
          ["nowhere", [[ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "No such topic as nowhere"]]],
        ],
      );
      if (!haveKafka44()) return void t.skip(skipUnless(false, KAFKA44_REQUIREMENT));
      const bootstrap = live()
        .map((b) => b.bootstrap)
        .join(",");
      // The partitions whose preferred replica is back in the ISR (the others' is still away: the tool
      // would report them as not elected, PREFERRED_LEADER_NOT_AVAILABLE, and exit 1).
      const file = join(brokers.get(back)!.dataDir, "election.json");
      const named = preferred.map((partition) => ({ topic: "spread", partition }));
      await writeFile(file, JSON.stringify({ partitions: named }));
      const tool = await tool44(
        "org.apache.kafka.tools.LeaderElectionCommand",
        ["--bootstrap-server", bootstrap, "--election-type", "preferred", "--path-to-json-file", file],
        { timeoutMs: 30_000 },
      );
      const moved = preferred.map((p) => `spread-${p}`);
      for (const tp of moved) assert.match(tool.stdout, new RegExp(`\\b${tp}\\b`), tool.stdout);
      assert.match(tool.stdout, /Successfully completed leader election \(PREFERRED\)/);
      const now = await partitions(brokers.get(back)!, "spread");
      for (const p of preferred) {
        assert.equal(now[p]!.leader, back, `spread-${p} led by its preferred replica`);
        assert.equal(now[p]!.epoch, states[p]!.leaderEpoch + 1);
      }
    });

    test("a live broker that stops leading a __consumer_offsets partition stops coordinating its groups", async () => {
      const [a, b] = live();
      const ids = [1, 2, 3].filter((id) => brokers.get(id) === a || brokers.get(id) === b);
      const states = observer.partitionStates("__consumer_offsets")!;
      // A partition led by one live broker and preferring the other, and a group it owns.
      const p = states.findIndex(
        (s) => ids.includes(s.replicas[0]!) && ids.includes(s.leader) && s.leader !== s.replicas[0],
      );
      assert.ok(p >= 0, "a partition to move");
      const group = Array.from({ length: 500 }, (_, i) => `follow-${i}`).find(
        (g) => offsetsPartitionFor(g, OFFSETS_PARTITIONS) === p,
      )!;
      const from = brokers.get(states[p]!.leader)!;
      const to = brokers.get(states[p]!.replicas[0]!)!;
      assert.equal((await findCoordinator(to, group)).nodeId, states[p]!.leader);
      const segment = join(to.dataDir, `__consumer_offsets-${p}`, "00000000000000000000.log");
      const size = (): number => (existsSync(segment) ? statSync(segment).size : 0);
      const sizeBefore = size();
      assert.equal(await commit(from, group, "spread", 7n), 0);
      const s = states[p]!;
      await rejoinIsr("__consumer_offsets", [p], s.replicas[0]!);
      const res = await withClient(from, (c) =>
        c.request(
          ApiKey.ElectLeaders,
          2,
          createElectLeadersRequest({
            electionType: 0,
            topicPartitions: [{ topic: "__consumer_offsets", partitions: [p] }],
          }),
        ),
      );
      assert.equal(res.replicaElectionResults[0]!.partitionResult[0]!.errorCode, 0);
      for (let i = 0; (await findCoordinator(from, group)).nodeId !== s.replicas[0]; i++) {
        assert.ok(i < 50, "the old leader sees the move");
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await commit(from, group, "spread", 8n), ErrorCode.NOT_COORDINATOR);
      assert.equal((await fetchOffset(from, group, "spread")).error, ErrorCode.NOT_COORDINATOR);
      // The new coordinator has what its own replica holds: the commit once replication copied it there
      // (its replica grew since; it led the partition before, so it is not empty either way).
      const replicated = size() > sizeBefore;
      assert.deepEqual(await fetchWhenLoaded(to, group, "spread"), { error: 0, offset: replicated ? 7n : -1n });
    });

    test("KafkaJS: the coordinator of a consuming group is killed; the group moves and its member rejoins", async () => {
      const [a, b] = live();
      const idOf = (x: BrokerProcess) => [1, 2, 3].find((id) => brokers.get(id) === x)!;
      const states = observer.partitionStates("__consumer_offsets")!;
      // A partition led by one live broker with the other in its ISR: it can move when its leader dies.
      const p = states.findIndex(
        (s) => [idOf(a!), idOf(b!)].every((id) => s.isr.includes(id)) && [idOf(a!), idOf(b!)].includes(s.leader),
      );
      assert.ok(p >= 0);
      const group = Array.from({ length: 500 }, (_, i) => `consuming-${i}`).find(
        (g) => offsetsPartitionFor(g, OFFSETS_PARTITIONS) === p,
      )!;
      const victim = brokers.get(states[p]!.leader)!;
      const survivor = victim === a ? b! : a!;
      const kafka = new Kafka({
        clientId: "failover",
        brokers: [a!.bootstrap, b!.bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "after", numPartitions: 2, replicationFactor: 2 }] });
      await admin.disconnect();
      const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 300 });
      let joins = 0;
      consumer.on(consumer.events.GROUP_JOIN, () => void joins++);
      const values: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: "after", fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
      try {
        await waitFor("the member joined", () => joins === 1, 20_000);
        await victim.kill9();
        await waitFor(
          "a new coordinator",
          () => observer.partitionStates("__consumer_offsets")![p]!.leader === idOf(survivor),
          15_000,
        );
        await waitFor("the member joined again", () => joins >= 2, 30_000);
        assert.equal((await findCoordinator(survivor, group)).nodeId, idOf(survivor));
        const producer = kafka.producer();
        await producer.connect();
        await producer.send({
          topic: "after",
          messages: ["x", "y", "z"].map((value, i) => ({ value, partition: i % 2 })),
        });
        await producer.disconnect();
        await waitFor("the records consumed", () => values.length >= 3, 20_000);
        assert.deepEqual([...values].sort(), ["x", "y", "z"]);
      } finally {
        await consumer.disconnect();
      }
    });
  },
);

describe("the controller's imbalance check", { skip: skipUnless(HAVE_ETCD, "etcd"), timeout: 30_000 }, () => {
  test("auto.leader.rebalance.enable moves leaderships back to preferred replicas in the ISR", async () => {
    const own = await startTestEtcd();
    const m = await EtcdClusterMetadata.open({ endpoints: [own.endpoint], nodeId: 1, prefix: "/rebalance/" });
    const props = { "auto.leader.rebalance.enable": true, "leader.imbalance.check.interval.seconds": 1 };
    const controller = new Controller(m, {
      config: { nodeId: 1, props } as unknown as BrokerConfig,
      log: new Logger("error"),
    });
    try {
      const registrations = [];
      for (const id of [1, 2, 3]) {
        const r = await m.registerBroker(id, [], null);
        assert.ok(!isStale(r));
        registrations.push(r);
      }
      controller.start();
      registrations[0]!.campaign();
      await waitFor("node 1 controls", () => controller.isActive(), 5000);
      const created = await m.createTopic("t", 3, {}, [
        [1, 2, 3],
        [2, 3, 1],
        [3, 1, 2],
      ]);
      assert.ok(!isStale(created));
      // Partitions 0 and 1 led by their second replica, all replicas in sync: imbalanced.
      const s = m.partitionStates("t")!;
      await m.alterPartitions([
        {
          topic: "t",
          changes: [0, 1].map((p) => ({
            kind: "leader" as const,
            partition: p,
            partitionEpoch: s[p]!.partitionEpoch,
            leader: s[p]!.replicas[1]!,
            isr: s[p]!.isr,
          })),
        },
      ]);
      assert.deepEqual(
        m.partitionStates("t")!.map((x) => x.leader),
        [2, 3, 3],
      );
      await waitFor(
        "preferred leaders again",
        () => m.partitionStates("t")!.every((x) => x.leader === x.replicas[0]),
        5000,
      );
      assert.deepEqual(
        m.partitionStates("t")!.map((x) => x.leaderEpoch),
        [2, 2, 0],
      );
      for (const r of registrations) await r.unregister();
    } finally {
      await controller.stop();
      await m.close();
      await own.close();
    }
  });
});

/**
 * The `tskafka` CLI against any broker of a cluster: offsets, sizes and records come from each
 * partition's leader, which is seldom the broker it was pointed at.
 */
async function cliAcrossBrokers(bootstraps: readonly string[]): Promise<void> {
  const [a, b, c] = bootstraps as [string, string, string];
  await ok(a, ["topics", "create", "spread", "-p", "3", "-r", "1"]);
  // Round robin without a key: two records in each partition.
  const lines = Array.from({ length: 6 }, (_, i) => `record-${i}`);
  await ok(b, ["produce", "spread"], lines.join("\n") + "\n");
  for (const bootstrap of bootstraps) {
    const parts = rows((await ok(bootstrap, ["topics", "describe", "spread"])).split("\n\n")[1]!).slice(1);
    assert.equal(new Set(parts.map((r) => r[1])).size, 3, `leaders spread over the brokers: ${JSON.stringify(parts)}`);
    for (const r of parts) {
      assert.deepEqual([r[4], r[5]], ["0", "2"], `offsets of partition ${r[0]} via ${bootstrap}`);
      assert.notEqual(r[6], "0 B", `size of partition ${r[0]} via ${bootstrap}`);
    }
    const listed = rows(await ok(bootstrap, ["topics", "list"])).find((r) => r[0] === "spread");
    assert.ok(listed !== undefined && listed[3] !== "0 B", `topics list via ${bootstrap}: ${JSON.stringify(listed)}`);
  }
  const consumed = (await ok(c, ["consume", "spread", "--from-beginning", "-n", "6"])).trim().split("\n");
  assert.deepEqual(consumed.sort(), lines);
}

describe("npm run cluster", { skip: skipUnless(HAVE_ETCD, "etcd"), timeout: 60_000 }, () => {
  test("starts etcd and three brokers, which form one cluster, and stops them all on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tskafka-cluster-"));
    const base = await freeConsecutivePorts(3);
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
        join(REPO_ROOT, "scripts", "cluster", "cluster.ts"),
        "--brokers",
        "3",
        "--base-port",
        String(base),
        "--data",
        dir,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    try {
      await waitFor("the cluster is up", () => out.includes("bootstrap servers:") || child.exitCode !== null, 45_000);
      assert.match(out, new RegExp(`bootstrap servers: 127.0.0.1:${base},127.0.0.1:${base + 1},127.0.0.1:${base + 2}`));
      const kafka = new Kafka({ clientId: "smoke", brokers: [`127.0.0.1:${base + 1}`], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      let cluster = await admin.describeCluster();
      for (let i = 0; cluster.brokers.length < 3 && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        cluster = await admin.describeCluster();
      }
      await admin.disconnect();
      assert.deepEqual(cluster.brokers.map((b) => b.port).sort(), [base, base + 1, base + 2]);
      await cliAcrossBrokers([base, base + 1, base + 2].map((p) => `127.0.0.1:${p}`));
      child.kill("SIGTERM");
      assert.equal(await exited, 0, out);
      assert.match(out, /stopped/);
    } finally {
      if (child.exitCode === null) {
        // The script could not stop them: its brokers (own process groups) are killed here.
        child.kill("SIGKILL");
        await exited;
        for (let id = 1; id <= 3; id++) {
          const pidFile = join(dir, `broker-${id}`, "pid");
          if (existsSync(pidFile)) {
            try {
              process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
            } catch {
              // gone already
            }
          }
        }
      }
      await rm(dir, { recursive: true, force: true });
    }
  });
});
