import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect, type Socket } from "node:net";
import { Etcd3 } from "etcd3";
import kafkajs from "kafkajs";
import { EtcdClusterMetadata, EtcdWriteTimeout } from "../src/cluster/etcd-metadata.js";
import { FileClusterMetadata } from "../src/cluster/file-metadata.js";
import {
  NO_LEADER,
  ABSENT,
  isStale,
  type BrokerRegistration,
  type ClusterMetadata,
  type MetadataEvent,
  type ProducerIdBlock,
  type Stale,
  type TopicInfo,
} from "../src/cluster/metadata.js";
import { ErrorCode } from "../src/errors.js";
import { haveCommand, skipUnless, startBroker, waitFor } from "./harness.js";
import { tempDir, type TempDir } from "./temp.js";
import { startTestEtcd, type EtcdHandle } from "./etcd-fixture.js";

const { Kafka, logLevel } = kafkajs;

/**
 * The metadata seam over etcd (cluster/etcd-metadata.ts) against a real etcd on loopback
 * (scripts/etcd/etcd.ts): the contract both implementations keep (one table of cases run against the
 * file implementation and etcd), then what only several brokers show: writes seen through watches,
 * producer id blocks that never overlap, a lease that expires, a controller election that moves, an etcd
 * restart under an open watch, and the broker process serving KafkaJS with its metadata in etcd.
 */

const HAVE_ETCD = haveCommand("etcd");
let etcd: EtcdHandle;
let prefixes = 0;
const closers: (() => Promise<void>)[] = [];

/** An etcd metadata instance of its own cluster (a fresh prefix), or of `prefix`'s. */
async function openEtcd(
  nodeId = 1,
  prefix = `/test-${process.pid}-${++prefixes}/`,
  writeTimeoutMs?: number,
): Promise<EtcdClusterMetadata> {
  const m = await EtcdClusterMetadata.open({
    endpoints: [etcd.endpoint],
    nodeId,
    prefix,
    sessionTtlSeconds: 2,
    ...(writeTimeoutMs !== undefined ? { writeTimeoutMs } : {}),
  });
  closers.push(() => m.close());
  return m;
}

async function openFile(): Promise<FileClusterMetadata> {
  const dir: TempDir = await tempDir("tskafka-meta-");
  const m = await FileClusterMetadata.open(dir.dir, 1);
  closers.push(async () => {
    await m.close();
    await dir.cleanup();
  });
  return m;
}

function record<K extends MetadataEvent["kind"]>(m: ClusterMetadata, kind: K): Extract<MetadataEvent, { kind: K }>[] {
  const seen: Extract<MetadataEvent, { kind: K }>[] = [];
  m.watch(kind, (e) => seen.push(e));
  return seen;
}

function created(t: TopicInfo | Stale): TopicInfo {
  if (isStale(t)) assert.fail(`expected a topic, got Stale at version ${t.version}`);
  return t;
}

/** A loopback TCP proxy to etcd that can cut its connections and refuse new ones for a while. */
async function cuttableProxy(target: URL): Promise<{ endpoint: string; cut(): void; restore(): void; close(): void }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore: () => void (open = true),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** The contract: each case runs against both implementations. */
const CONTRACT: Record<string, (m: ClusterMetadata) => Promise<void>> = {
  "topics: create, update and delete with compare-and-swap, events in order": async (m) => {
    const events = record(m, "topic");
    const t = created(await m.createTopic("orders", 3, { "cleanup.policy": "compact" }));
    assert.deepEqual([t.name, t.partitions, t.configs], ["orders", 3, { "cleanup.policy": "compact" }]);
    assert.equal(m.topic("orders"), t);
    assert.equal(m.topicById(t.id), t);
    assert.equal(m.clusterId.length, 22);
    const again = await m.createTopic("orders", 1, {});
    assert.ok(isStale(again) && again.version === t.version);
    const grown = created(await m.updateTopic("orders", { partitions: 5 }, t.version));
    assert.ok(grown.version > t.version);
    assert.equal(m.partitionStates("orders")?.length, 5);
    const lost = await m.updateTopic("orders", { configs: {} }, t.version);
    assert.ok(isStale(lost) && lost.version === grown.version);
    assert.ok(isStale(await m.deleteTopic("orders", t.version)));
    assert.ok(isStale(await m.updateTopic("missing", { partitions: 2 })));
    assert.equal(created(await m.deleteTopic("orders", grown.version)).id, t.id);
    assert.equal(m.topic("orders"), undefined);
    assert.equal(m.partitionStates("orders"), undefined);
    assert.deepEqual(
      events.map((e) => [e.before?.partitions, e.after?.partitions]),
      [
        [undefined, 3],
        [3, 5],
        [5, undefined],
      ],
    );
  },
  "dynamic broker configs: versions and compare-and-swap": async (m) => {
    const events = record(m, "brokerConfigs");
    assert.deepEqual(m.brokerConfigs({ kind: "default" }), { configs: {}, version: 0 });
    const v1 = await m.setBrokerConfigs({ kind: "default" }, { "log.retention.ms": "1000" }, 0);
    assert.ok(!isStale(v1));
    assert.deepEqual(m.brokerConfigs({ kind: "default" }), { configs: { "log.retention.ms": "1000" }, version: v1 });
    assert.ok(isStale(await m.setBrokerConfigs({ kind: "default" }, {}, 0)));
    const v2 = await m.setBrokerConfigs({ kind: "broker", nodeId: 1 }, { "log.flush.interval.ms": "5" });
    assert.ok(!isStale(v2) && v2 > v1);
    assert.deepEqual(m.brokerConfigs({ kind: "default" }).version, v1);
    assert.deepEqual(
      events.map((e) => [e.scope.kind, e.version]),
      [
        ["default", v1],
        ["broker", v2],
      ],
    );
  },
  "finalized features: levels and epoch": async (m) => {
    const events = record(m, "features");
    const before = m.finalizedFeatures();
    assert.deepEqual(
      before.levels.map((l) => l.name),
      ["group.version", "transaction.version", "share.version", "streams.version"],
    );
    const after = await m.updateFinalizedFeatures([{ name: "transaction.version", level: 0 }]);
    assert.equal(after.epoch, before.epoch + 1n);
    assert.deepEqual(m.finalizedFeatures().levels, [
      { name: "group.version", level: 1 },
      { name: "share.version", level: 2 },
      { name: "streams.version", level: 1 },
    ]);
    assert.deepEqual(
      events.map((e) => e.features),
      [after],
    );
  },
  "producer id blocks: consecutive, a clean release gives the rest back": async (m) => {
    const a = await m.reserveProducerIds(1000n);
    const b = await m.reserveProducerIds(1000n);
    assert.equal(b.firstId, a.firstId + 1000n);
    await m.releaseProducerIds(a, a.firstId + 5n); // not the last block: nothing given back
    await m.releaseProducerIds(b, b.firstId + 7n);
    assert.equal((await m.reserveProducerIds(10n)).firstId, b.firstId + 7n);
  },
  "SCRAM credentials: upserts, deletions, the users touched": async (m) => {
    const events = record(m, "scramCredentials");
    const cred = (mechanism: "SCRAM-SHA-256" | "SCRAM-SHA-512", n: number) => ({
      mechanism,
      salt: Buffer.from(`salt${n}`),
      storedKey: Buffer.from(`stored${n}`),
      serverKey: Buffer.from(`server${n}`),
      iterations: 4096 + n,
    });
    await m.alterScramCredentials(
      [
        { user: "alice", credential: cred("SCRAM-SHA-256", 1) },
        { user: "alice", credential: cred("SCRAM-SHA-512", 2) },
        { user: "bob/1", credential: cred("SCRAM-SHA-256", 3) },
      ],
      [],
    );
    assert.equal(m.scramCredentials().length, 3);
    await m.alterScramCredentials([], [{ user: "alice", mechanism: "SCRAM-SHA-256" }]);
    const alice = m.scramCredentials("alice");
    assert.deepEqual(
      alice.map((c) => [c.credential.mechanism, c.credential.iterations, c.credential.salt.toString()]),
      [["SCRAM-SHA-512", 4098, "salt2"]],
    );
    await m.alterScramCredentials([], [{ user: "bob/1", mechanism: "SCRAM-SHA-256" }]);
    assert.deepEqual(m.scramCredentials("bob/1"), []);
    assert.deepEqual(
      events.map((e) => [...e.users].sort()),
      [["alice", "bob/1"], ["alice"], ["bob/1"]],
    );
  },
  "client quotas: set, change and remove per entity, one event per write": async (m) => {
    const events = record(m, "clientQuotas");
    const alice = { user: "alice", "client-id": null };
    await m.alterClientQuotas([
      { entity: alice, set: { producer_byte_rate: 1048576, consumer_byte_rate: 2048 }, remove: [] },
      { entity: { ip: "10.0.0.1" }, set: { connection_creation_rate: 5 }, remove: [] },
    ]);
    await m.alterClientQuotas([{ entity: alice, set: { consumer_byte_rate: 4096 }, remove: ["producer_byte_rate"] }]);
    const byEntity = (): unknown =>
      Object.fromEntries(m.clientQuotas().map((q) => [JSON.stringify(q.entity), q.values]));
    assert.deepEqual(byEntity(), {
      [JSON.stringify(alice)]: { consumer_byte_rate: 4096 },
      [JSON.stringify({ ip: "10.0.0.1" })]: { connection_creation_rate: 5 },
    });
    await m.alterClientQuotas([{ entity: { ip: "10.0.0.1" }, set: {}, remove: ["connection_creation_rate"] }]);
    assert.deepEqual(byEntity(), { [JSON.stringify(alice)]: { consumer_byte_rate: 4096 } });
    assert.equal(events.length, 3);
  },
  "ACLs: created once, listed in creation order, deleted per filter, events with what changed": async (m) => {
    const events = record(m, "acls");
    const acl = (resourceName: string, principal: string, operation: 3 | 4, patternType: 3 | 4 = 3) =>
      ({ resourceType: 2, resourceName, patternType, principal, host: "*", operation, permission: 3 }) as const;
    const read = acl("orders", "User:alice", 3);
    const write = acl("orders", "User:bob", 4);
    const prefixed = acl("pay-", "User:alice", 3, 4);
    await m.createAcls([read, write, prefixed]);
    await m.createAcls([read]);
    assert.deepEqual(m.acls(), [read, write, prefixed]);
    const anyTopic = { resourceType: 2, resourceName: null, patternType: 1, host: null, permission: 1 } as const;
    const gone = await m.deleteAcls([
      { ...anyTopic, principal: "User:alice", operation: 1 },
      { ...anyTopic, principal: null, operation: 3 },
    ]);
    assert.deepEqual(gone, [
      [read, prefixed],
      [read, prefixed],
    ]);
    assert.deepEqual(m.acls(), [write]);
    assert.deepEqual(await m.deleteAcls([{ ...anyTopic, principal: "User:nobody", operation: 1 }]), [[]]);
    assert.deepEqual(
      events.map((e) => [e.added.length, e.removed.length]),
      [
        [3, 0],
        [0, 2],
      ],
    );
  },
  "group configs: set, replaced with compare-and-swap, removed": async (m) => {
    assert.deepEqual(m.groupConfigs("workers"), { configs: {}, version: ABSENT });
    const v1 = await m.setGroupConfigs("workers", { "share.auto.offset.reset": "earliest" }, ABSENT);
    assert.ok(typeof v1 === "number" && v1 > ABSENT);
    assert.deepEqual(m.groupConfigs("workers"), { configs: { "share.auto.offset.reset": "earliest" }, version: v1 });
    assert.ok(isStale(await m.setGroupConfigs("workers", {}, ABSENT)));
    await m.setGroupConfigs("workers", {}, v1);
    assert.deepEqual(m.groupConfigs("workers").configs, {});
  },
  "registration and controller: one broker per node id, elected, gone (fenced) when unregistered": async (m) => {
    const brokers = record(m, "broker");
    const reg = await m.registerBroker(
      1,
      [{ name: "PLAINTEXT", host: "127.0.0.1", port: 9092, securityProtocol: "PLAINTEXT" }],
      null,
    );
    assert.ok(!isStale(reg));
    assert.ok(isStale(await m.registerBroker(1, [], null)));
    assert.deepEqual(
      m.brokers().map((b) => [b.nodeId, b.listeners[0]?.port, b.epoch]),
      [[1, 9092, reg.epoch]],
    );
    reg.campaign();
    await waitFor("controller elected", () => m.controller()?.nodeId === 1, 5000);
    assert.deepEqual(m.fencedBrokers(), []);
    await reg.unregister();
    assert.deepEqual(m.brokers(), []);
    // Its registration is kept: a fenced broker, as Kafka's DescribeCluster v2 lists it.
    assert.deepEqual(
      m.fencedBrokers().map((b) => [b.nodeId, b.listeners[0]?.port]),
      [[1, 9092]],
    );
    await waitFor("controller gone", () => m.controller() === undefined, 5000);
    assert.deepEqual(
      brokers.map((e) => [e.nodeId, e.before !== undefined, e.after !== undefined]),
      [
        [1, false, true],
        [1, true, false],
      ],
    );
  },
  "partition states: Kafka's AlterPartition rules, compare-and-swap on the partition epoch": async (m) => {
    const reg = await m.registerBroker(1, [], null);
    assert.ok(!isStale(reg));
    created(await m.createTopic("p", 2, {}, [[1], [1]]));
    assert.deepEqual(m.partitionStates("p")?.[0], {
      replicas: [1],
      isr: [1],
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
    });
    const events = record(m, "partitions");
    const isr = { kind: "isr", brokerId: 1, isr: [1] } as const;
    const [results] = await m.alterPartitions([
      {
        topic: "p",
        changes: [
          { ...isr, partition: 0, leaderEpoch: 0, partitionEpoch: 0 },
          { ...isr, partition: 1, leaderEpoch: 0, partitionEpoch: 0 },
          { ...isr, partition: 1, leaderEpoch: 0, partitionEpoch: 0 }, // now stale
          { ...isr, partition: 1, leaderEpoch: 0, partitionEpoch: 1, isr: [1, 2] }, // 2 is no replica
          { ...isr, partition: 1, brokerId: 2, leaderEpoch: 0, partitionEpoch: 1 }, // not the leader
          { ...isr, partition: 1, leaderEpoch: 3, partitionEpoch: 1 }, // ahead of the controller
          { kind: "leader", partition: 1, partitionEpoch: 1, leader: NO_LEADER, isr: [1] },
          { ...isr, partition: 1, leaderEpoch: 0, partitionEpoch: 2 }, // fenced by the new epoch
          { ...isr, partition: 7, leaderEpoch: 0, partitionEpoch: 0 },
        ],
      },
    ]);
    assert.deepEqual(
      results!.map((r) => r.errorCode),
      [
        ErrorCode.NONE,
        ErrorCode.NONE,
        ErrorCode.INVALID_UPDATE_VERSION,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.NOT_CONTROLLER,
        ErrorCode.NONE,
        ErrorCode.FENCED_LEADER_EPOCH,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ],
    );
    assert.deepEqual(m.partitionStates("p")?.[1], {
      replicas: [1],
      isr: [1],
      leader: NO_LEADER,
      leaderEpoch: 1,
      partitionEpoch: 2,
    });
    assert.deepEqual(
      events.map((e) => e.states?.map((s) => s.partitionEpoch)),
      [[1, 2]],
    );
    const [missing] = await m.alterPartitions([
      { topic: "nope", changes: [{ ...isr, partition: 0, leaderEpoch: 0, partitionEpoch: 0 }] },
    ]);
    assert.equal(missing![0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await reg.unregister();
  },
};

describe("cluster metadata: file and etcd", { skip: skipUnless(HAVE_ETCD, "etcd"), timeout: 90_000 }, () => {
  before(async () => {
    etcd = await startTestEtcd();
  });
  after(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    await etcd?.close();
  });

  for (const [name, body] of Object.entries(CONTRACT)) {
    test(`file: ${name}`, async () => body(await openFile()));
    test(`etcd: ${name}`, async () => body(await openEtcd()));
  }

  test("etcd: two brokers see each other's writes through their watches", async () => {
    const a = await openEtcd(1);
    const b = await openEtcd(2, a.prefix);
    assert.equal(b.clusterId, a.clusterId);
    const seen = record(b, "topic");
    const t = created(await a.createTopic("shared", 2, {}));
    await waitFor("b sees the topic", () => b.topic("shared")?.version === t.version, 5000);
    const u = created(await b.updateTopic("shared", { configs: { "retention.ms": "5" } }, t.version));
    await waitFor("a sees the update", () => a.topic("shared")?.version === u.version, 5000);
    assert.deepEqual(a.topic("shared")?.configs, { "retention.ms": "5" });
    assert.ok(isStale(await a.updateTopic("shared", { partitions: 4 }, t.version)));
    assert.deepEqual(
      seen.map((e) => e.after?.version),
      [t.version, u.version],
    );
  });

  test("etcd: producer id blocks reserved at once by two brokers never overlap", async () => {
    const a = await openEtcd(1);
    const b = await openEtcd(2, a.prefix);
    const blocks: ProducerIdBlock[] = (
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).reserveProducerIds(BigInt(10 + i))))
    ).sort((x, y) => (x.firstId < y.firstId ? -1 : 1));
    for (let i = 1; i < blocks.length; i++)
      assert.equal(blocks[i]!.firstId, blocks[i - 1]!.firstId + blocks[i - 1]!.size, "blocks are contiguous, disjoint");
  });

  test("etcd: a broker whose lease expires leaves, and the controller role moves", async () => {
    const a = await openEtcd(1);
    const b = await openEtcd(2, a.prefix);
    const ra = (await a.registerBroker(1, [], null)) as BrokerRegistration;
    ra.campaign();
    await waitFor("a is the controller", () => b.controller()?.nodeId === 1, 5000);
    const first = b.controller()!;
    const rb = (await b.registerBroker(2, [], "rack-b")) as BrokerRegistration;
    rb.campaign();
    await waitFor("a sees b", () => a.brokers().length === 2, 5000);
    assert.equal(a.brokers()[1]?.rack, "rack-b");
    const started = Date.now();
    ra.abandon(); // a hangs: its lease (2 s) is no longer renewed
    await waitFor("b elected when a's lease ends", () => b.controller()?.nodeId === 2, 10_000);
    assert.ok(Date.now() - started >= 1000, "not before the lease expired");
    assert.ok(b.controller()!.epoch > first.epoch);
    assert.deepEqual(
      b.brokers().map((x) => x.nodeId),
      [2],
    );
    await rb.unregister();
  });

  test("etcd: a registration whose lease is revoked elsewhere is lost, and its broker leaves", async () => {
    const a = await openEtcd(1);
    const raw = new Etcd3({ hosts: etcd.endpoint });
    try {
      const reg = (await a.registerBroker(1, [], null)) as BrokerRegistration & { leaseId: string };
      let lost = false;
      void reg.lost.then(() => (lost = true));
      await raw.leaseClient.leaseRevoke({ ID: reg.leaseId });
      await waitFor("the registration lost", () => lost, 5000);
      await waitFor("the broker gone", () => a.brokers().length === 0, 5000);
    } finally {
      raw.close();
    }
  });

  test("etcd: killed and restarted under an open watch, no event lost or seen twice", async () => {
    const a = await openEtcd(1);
    const b = await openEtcd(2, a.prefix);
    const seen = record(b, "topic");
    for (let i = 0; i < 5; i++) created(await a.createTopic(`r${i}`, 1, {}));
    await waitFor("b has the first five", () => seen.length === 5, 5000);
    await etcd.kill();
    await etcd.start();
    // Written as soon as etcd is back: b's watch, still reconnecting, must replay them.
    for (let i = 5; i < 10; i++) {
      for (let tries = 0; ; tries++) {
        try {
          created(await a.createTopic(`r${i}`, 1, {}));
          break;
        } catch (e) {
          if (tries > 50) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
    await waitFor("b has all ten", () => seen.length >= 10, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      seen.map((e) => e.name),
      Array.from({ length: 10 }, (_, i) => `r${i}`),
    );
    assert.equal(b.topics().length, 10);
  });

  test("etcd: a watch cut off while another broker writes replays exactly what it missed", async () => {
    const a = await openEtcd(1);
    const proxy = await cuttableProxy(new URL(etcd.endpoint));
    const b = await EtcdClusterMetadata.open({ endpoints: [proxy.endpoint], nodeId: 2, prefix: a.prefix });
    try {
      const seen = record(b, "topic");
      created(await a.createTopic("c0", 1, {}));
      await waitFor("b sees c0", () => seen.length === 1, 5000);
      proxy.cut();
      for (let i = 1; i <= 5; i++) created(await a.createTopic(`c${i}`, 1, {}));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(seen.length, 1, "nothing reaches b while it is cut off");
      proxy.restore();
      await waitFor("b caught up", () => seen.length >= 6, 20_000);
      created(await a.createTopic("c6", 1, {}));
      await waitFor("b sees c6", () => seen.length >= 7, 5000);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(
        seen.map((e) => e.name),
        ["c0", "c1", "c2", "c3", "c4", "c5", "c6"],
      );
    } finally {
      await b.close();
      proxy.close();
    }
  });

  test("etcd: a watch left behind etcd's compaction reads the view again and announces the difference", async () => {
    const a = await openEtcd(1);
    const proxy = await cuttableProxy(new URL(etcd.endpoint));
    const b = await EtcdClusterMetadata.open({ endpoints: [proxy.endpoint], nodeId: 2, prefix: a.prefix });
    const raw = new Etcd3({ hosts: etcd.endpoint });
    try {
      created(await a.createTopic("gone", 1, {}));
      await waitFor("b sees it", () => b.topic("gone") !== undefined, 5000);
      const seen = record(b, "topic");
      proxy.cut();
      await a.deleteTopic("gone");
      created(await a.createTopic("new", 2, {}));
      await raw.kv.compact({ revision: a.revision, physical: true });
      proxy.restore();
      await waitFor("b read it again", () => b.topic("new") !== undefined && b.topic("gone") === undefined, 20_000);
      assert.deepEqual(seen.map((e) => [e.name, e.before !== undefined, e.after !== undefined]).sort(), [
        ["gone", true, false],
        ["new", false, true],
      ]);
      created(await a.createTopic("after", 1, {}));
      await waitFor("b watches again", () => b.topic("after") !== undefined, 5000);
    } finally {
      raw.close();
      await b.close();
      proxy.close();
    }
  });

  test("etcd: a write etcd does not answer (paused) fails after the write timeout, naming its keys", async () => {
    const m = await openEtcd(1, undefined, 1000);
    created(await m.createTopic("before-pause", 1, {}));
    const pid = etcd.pid();
    process.kill(pid, "SIGSTOP");
    const started = Date.now();
    try {
      await assert.rejects(
        m.createTopic("paused", 1, {}),
        (e) =>
          e instanceof EtcdWriteTimeout &&
          e.message.includes("topics/paused, partitions/paused") &&
          e.message.includes("within 1000 ms"),
      );
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 5000, `failed after ${took} ms`);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    // etcd back: the instance writes again once etcd3's circuit breaker (open 5 s after three failed
    // calls) lets it; the timed-out write may or may not have been made.
    for (let tries = 0; ; tries++) {
      try {
        created(await m.createTopic("after-pause", 1, {}));
        break;
      } catch (e) {
        if (tries > 40) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.ok(m.topic("after-pause") !== undefined);
  });

  test("the broker with etcd.endpoints serves KafkaJS and registers in etcd", { timeout: 40_000 }, async () => {
    const observer = await openEtcd(9, "/tskafka/");
    const broker = await startBroker({ properties: { "etcd.endpoints": etcd.endpoint } });
    try {
      const kafka = new Kafka({ clientId: "etcd-test", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "in-etcd", numPartitions: 2 }] });
      await admin.disconnect();
      await waitFor("the topic in etcd", () => observer.topic("in-etcd")?.partitions === 2, 5000);
      assert.deepEqual(
        observer.brokers().map((b) => [b.nodeId, b.listeners[0]?.port]),
        [[1, broker.port]],
      );
      assert.equal(observer.controller()?.nodeId, 1);
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: "in-etcd",
        messages: [
          { key: "k", value: "v1" },
          { key: "k", value: "v2" },
        ],
      });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: "etcd-group" });
      await consumer.connect();
      await consumer.subscribe({ topic: "in-etcd", fromBeginning: true });
      const values: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
      await waitFor("both records consumed", () => values.length === 2, 20_000);
      await consumer.disconnect();
      assert.deepEqual(values, ["v1", "v2"]);
    } finally {
      assert.equal(await broker.stop(), 0);
      await broker.cleanup();
    }
    await waitFor("the broker unregistered", () => observer.brokers().length === 0, 5000);
  });
});
