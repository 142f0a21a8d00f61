import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ApiKey,
  createDeleteRecordsRequest,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createListOffsetsRequest,
  createOffsetForLeaderEpochRequest,
} from "@tskafka/protocol";
import { EtcdClusterMetadata } from "../src/cluster/etcd-metadata.js";
import { isStale } from "../src/cluster/metadata.js";
import { ErrorCode } from "../src/errors.js";
import { RACK_AWARE_SELECTOR } from "../src/replication/replica-selector.js";
import { KAFKA44_REQUIREMENT, haveKafka44, tool44 } from "./clients/java/kafka44.js";
import { RawClient } from "./clients/raw-client.js";
import { run } from "./clients/run.js";
import { CLIENTS_DIR, VENV_PYTHON, haveVenvModules } from "./clients/venv.js";
import { haveCommand, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { startTestEtcd, type EtcdHandle } from "./etcd-fixture.js";

/**
 * Fetching from the closest replica (KIP-392) in a cluster: etcd and three brokers on racks rack-1..3 with
 * replica.selector.class=RackAwareReplicaSelector, a topic of three partitions on all three (each broker
 * leads one). The leader answers a consumer in a follower's rack with that follower as
 * preferred_read_replica and no records; a follower serves Fetch v11+ up to the high watermark it learned
 * (v10 and older, ListOffsets and OffsetForLeaderEpoch stay NOT_LEADER_OR_FOLLOWER there), and answers an
 * offset past its log OFFSET_OUT_OF_RANGE (scripts/cluster/compare-kafka.ts --only follower-fetch sends the
 * same requests to Kafka 4.4); a follower out of the ISR is not named. Kafka 4.4's Java consumer and
 * librdkafka with client.rack read everything, and only the broker of their rack sends them records (the
 * brokers' tskafka_topic_bytes_out_total, which leaves replication out as Kafka's BytesOutPerSec does).
 * DeleteRecords is answered by the leader once every live follower moved its log start too (the low
 * watermark), REQUEST_TIMED_OUT when one does not fetch (paused) within the request's timeout.
 */

const HAVE_ETCD = haveCommand("etcd");
const TOPIC = "near";
const PER_PARTITION = 100;
const TOTAL = 3 * PER_PARTITION;
/** A topic of one partition on brokers 1 (leader), 2 and 3, for DeleteRecords. */
const TRIMMED = "trimmed";
/** Partition p is led by broker p + 1 (the first replica), followed by the other two. */
const ASSIGNMENT = [
  [1, 2, 3],
  [2, 3, 1],
  [3, 1, 2],
];

let etcd: EtcdHandle;
let observer: EtcdClusterMetadata;
const brokers = new Map<number, BrokerProcess>();
const metricsUrls = new Map<number, string>();

function broker(nodeId: number): BrokerProcess {
  return brokers.get(nodeId)!;
}

async function call<T>(nodeId: number, fn: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(broker(nodeId).port, { requestTimeoutMs: 20_000 });
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** A consumer's Fetch of one partition of TOPIC (v12 unless told) from `offset`, in `rack`. */
async function fetch(nodeId: number, partition: number, offset: bigint, rack = "", version = 12, topic = TOPIC) {
  const res = await call(nodeId, (c) =>
    c.request(
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
            topic,
            partitions: [
              createFetchRequestFetchPartition({ partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }),
            ],
          }),
        ],
      }),
    ),
  );
  return res.responses[0]!.partitions[0]!;
}

/** DeleteRecords of partition 0 of TRIMMED at broker `nodeId`: the partition's answer. */
async function deleteRecords(nodeId: number, offset: bigint, timeoutMs: number) {
  const res = await call(nodeId, (c) =>
    c.request(
      ApiKey.DeleteRecords,
      2,
      createDeleteRecordsRequest({
        timeoutMs,
        topics: [{ name: TRIMMED, partitions: [{ partitionIndex: 0, offset }] }],
      }),
    ),
  );
  return res.topics[0]!.partitions[0]!;
}

/** A replica's own log start of partition 0 of TRIMMED, as a consumer's Fetch v12 there tells it. */
async function logStart(nodeId: number): Promise<bigint> {
  // At the log end (20): nothing to read, the offsets answered.
  return (await fetch(nodeId, 0, 20n, "", 12, TRIMMED)).logStartOffset;
}

/** The topic's record bytes each broker sent to consumers so far (its Prometheus counter). */
async function bytesOut(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const [id, url] of metricsUrls) {
    const text = await (await fetch_(`${url}/metrics`)).text();
    const line = new RegExp(`^tskafka_topic_bytes_out_total\\{topic="${TOPIC}"\\} (\\d+)$`, "m").exec(text);
    out.set(id, line === null ? 0 : Number(line[1]));
  }
  return out;
}
const fetch_ = globalThis.fetch;

/** What each broker sent to consumers between two readings. */
function delta(before: Map<number, number>, after: Map<number, number>): number[] {
  return [1, 2, 3].map((id) => after.get(id)! - before.get(id)!);
}

/** waitFor, for a condition that asks a broker. */
async function until(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function inIsr(topic: string, ids: readonly number[]): boolean {
  const isr = observer.partitionStates(topic)?.[0]?.isr ?? [];
  return ids.every((id) => isr.includes(id));
}

function inAllIsrs(id: number): boolean {
  return observer.partitionStates(TOPIC)!.every((s) => s.isr.includes(id));
}

describe(
  "fetch from the closest replica (KIP-392), DeleteRecords on every replica",
  { skip: skipUnless(HAVE_ETCD, "etcd"), timeout: 180_000 },
  () => {
    /** The bytes of the topic's records, as one consumer reading everything once receives them. */
    let logBytes = 0;

    before(async () => {
      etcd = await startTestEtcd();
      observer = await EtcdClusterMetadata.open({ endpoints: [etcd.endpoint], nodeId: 100 });
      for (const id of [1, 2, 3]) {
        const b = await startBroker({
          args: ["--http-port", "0"],
          timeoutMs: 60_000,
          properties: {
            "node.id": id,
            "etcd.endpoints": etcd.endpoint,
            "broker.rack": `rack-${id}`,
            "replica.selector.class": RACK_AWARE_SELECTOR,
            // Long enough that a broker paused below keeps its registration; the ISR moves much sooner.
            "broker.session.timeout.ms": 30_000,
            "replica.lag.time.max.ms": 1500,
            "replica.fetch.wait.max.ms": 200,
            "replica.fetch.backoff.ms": 100,
            "offsets.topic.num.partitions": 3,
            "offsets.topic.replication.factor": 3,
          },
        });
        brokers.set(id, b);
        await waitFor(
          `broker ${id}'s HTTP listener`,
          () => /HTTP listener on (http:\/\/\S+):/.test(b.output()),
          10_000,
        );
        metricsUrls.set(id, /HTTP listener on (http:\/\/\S+):/.exec(b.output())![1]!);
      }
      await waitFor("three brokers registered", () => observer.brokers().length === 3, 15_000);
      const created = await observer.createTopic(TOPIC, 3, { "min.insync.replicas": "2" }, ASSIGNMENT);
      assert.ok(!isStale(created));
      assert.ok(!isStale(await observer.createTopic(TRIMMED, 1, {}, [[1, 2, 3]])));
      await waitFor("every replica in sync", () => [1, 2, 3].every(inAllIsrs) && inIsr(TRIMMED, [1, 2, 3]), 15_000);
      for (let p = 0; p < 3; p++) {
        const records = Array.from({ length: PER_PARTITION }, (_, i) => ({ value: `p${p}-${i}-${"x".repeat(40)}` }));
        const answer = await call(p + 1, async (c) => {
          for (;;) {
            const a = await c.produce(TOPIC, p, records, -1);
            // The broker may not have taken the new partition up yet.
            if (
              a.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER &&
              a.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            )
              return a;
            await new Promise((r) => setTimeout(r, 100));
          }
        });
        assert.equal(answer.errorCode, ErrorCode.NONE, `produce to partition ${p}`);
      }
      // Each follower learns the high watermark from its next fetch.
      for (let p = 0; p < 3; p++)
        for (const id of ASSIGNMENT[p]!)
          await until(
            `broker ${id} knows partition ${p}'s high watermark`,
            async () => (await fetch(id, p, 0n, "", 12)).highWatermark === BigInt(PER_PARTITION),
            10_000,
          );
      logBytes = (await Promise.all([0, 1, 2].map(async (p) => (await fetch(p + 1, p, 0n, `rack-${p + 1}`)).records)))
        .map((r) => r?.length ?? 0)
        .reduce((a, b) => a + b, 0);
    });

    after(async () => {
      for (const b of brokers.values()) {
        b.process.kill("SIGCONT");
        await b.stop();
      }
      for (const b of brokers.values()) await b.cleanup();
      await observer?.close();
      await etcd?.close();
    });

    test("the leader names the in-sync replica of the consumer's rack; followers serve v11+ up to their high watermark", async () => {
      // Partition 0 is led by broker 1 (rack-1) and followed by 2 and 3.
      const sent = await fetch(1, 0, 0n, "rack-2");
      assert.equal(sent.errorCode, ErrorCode.NONE);
      assert.equal(sent.preferredReadReplica, 2);
      assert.equal(sent.records?.length ?? 0, 0, "a consumer sent elsewhere gets no records");
      assert.equal(sent.highWatermark, BigInt(PER_PARTITION));
      assert.equal(sent.logStartOffset, 0n);
      for (const rack of ["rack-1", "", "rack-9"]) {
        const here = await fetch(1, 0, 0n, rack);
        assert.equal(here.preferredReadReplica, -1, `rack "${rack}": the leader itself`);
        assert.ok((here.records?.length ?? 0) > 0, `rack "${rack}": records from the leader`);
      }
      // A follower: Fetch v11+ is served up to its high watermark; older versions are not.
      const fromFollower = await fetch(2, 0, 0n);
      assert.equal(fromFollower.errorCode, ErrorCode.NONE);
      assert.equal(fromFollower.highWatermark, BigInt(PER_PARTITION));
      assert.ok((fromFollower.records?.length ?? 0) > 0);
      assert.equal((await fetch(2, 0, BigInt(PER_PARTITION))).records?.length ?? 0, 0, "nothing past it");
      assert.equal((await fetch(2, 0, 0n, "", 10)).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const beyond = await fetch(2, 0, 1_000_000n, "rack-2");
      assert.equal(beyond.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      assert.equal(beyond.highWatermark, -1n);
      // ListOffsets and OffsetForLeaderEpoch stay with the leader.
      const listed = await call(2, (c) =>
        c.request(
          ApiKey.ListOffsets,
          7,
          createListOffsetsRequest({
            replicaId: -1,
            topics: [
              {
                name: TOPIC,
                partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }],
              },
            ],
          }),
        ),
      );
      assert.equal(listed.topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const ends = await call(2, (c) =>
        c.request(
          ApiKey.OffsetForLeaderEpoch,
          4,
          createOffsetForLeaderEpochRequest({
            replicaId: -1,
            topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
          }),
        ),
      );
      assert.equal(ends.topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    });

    test(
      "Kafka 4.4's Java consumer with client.rack reads everything from the broker of its rack",
      { skip: skipUnless(haveKafka44(), KAFKA44_REQUIREMENT), timeout: 90_000 },
      async () => {
        const before = await bytesOut();
        const r = await tool44(
          "org.apache.kafka.tools.consumer.ConsoleConsumer",
          [
            "--bootstrap-server",
            broker(1).bootstrap,
            "--topic",
            TOPIC,
            "--group",
            "java-in-rack-2",
            "--from-beginning",
            "--max-messages",
            String(TOTAL),
            "--timeout-ms",
            "30000",
            "--consumer-property",
            "client.rack=rack-2",
            "--consumer-property",
            "fetch.max.wait.ms=100",
          ],
          { timeoutMs: 75_000 },
        );
        const values = r.stdout.split("\n").filter((l) => /^p\d-\d+-/.test(l));
        assert.equal(values.length, TOTAL, r.stderr.slice(-2000));
        assert.equal(new Set(values).size, TOTAL);
        const sent = delta(before, await bytesOut());
        // Broker 2 led one partition and followed the others: it sent everything, brokers 1 and 3 nothing.
        assert.deepEqual([sent[0], sent[2]], [0, 0], `bytes sent by brokers 1-3: ${sent.join(", ")}`);
        assert.ok(sent[1]! >= logBytes, `broker 2 sent ${sent[1]} of ${logBytes} bytes`);
      },
    );

    test(
      "librdkafka (confluent-kafka) with client.rack reads everything from the broker of its rack",
      { skip: skipUnless(haveVenvModules("confluent_kafka"), "confluent-kafka in .cache/venv"), timeout: 90_000 },
      async () => {
        const before = await bytesOut();
        const r = await run(
          VENV_PYTHON,
          [
            join(CLIENTS_DIR, "confluent_rack_consumer.py"),
            broker(1).bootstrap,
            TOPIC,
            "librdkafka-in-rack-3",
            "rack-3",
            String(TOTAL),
          ],
          { timeoutMs: 75_000 },
        );
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr.slice(-2000)}`);
        assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").pop()!), { count: TOTAL });
        const sent = delta(before, await bytesOut());
        assert.deepEqual([sent[0], sent[1]], [0, 0], `bytes sent by brokers 1-3: ${sent.join(", ")}`);
        assert.ok(sent[2]! >= logBytes, `broker 3 sent ${sent[2]} of ${logBytes} bytes`);
      },
    );

    test("a follower out of the ISR is not named; back in sync, it is again", async () => {
      const b3 = broker(3);
      b3.process.kill("SIGSTOP");
      try {
        await waitFor(
          "broker 3 out of partition 0's ISR",
          () => !observer.partitionStates(TOPIC)![0]!.isr.includes(3),
          15_000,
        );
        const answer = await fetch(1, 0, 0n, "rack-3");
        assert.equal(answer.preferredReadReplica, -1);
        assert.ok((answer.records?.length ?? 0) > 0, "read from the leader");
      } finally {
        b3.process.kill("SIGCONT");
      }
      await waitFor("broker 3 back in every ISR", () => inAllIsrs(3), 20_000);
      await until(
        "broker 3 named again",
        async () => (await fetch(1, 0, 0n, "rack-3")).preferredReadReplica === 3,
        10_000,
      );
    });

    test("DeleteRecords answers once every live follower deleted too; a paused one makes it time out", async () => {
      const produced = await call(1, (c) =>
        c.produce(
          TRIMMED,
          0,
          Array.from({ length: 20 }, (_, i) => ({ value: `t${i}` })),
          -1,
        ),
      );
      assert.equal(produced.errorCode, ErrorCode.NONE);
      assert.equal((await deleteRecords(2, 10n, 5000)).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const deleted = await deleteRecords(1, 10n, 15_000);
      assert.deepEqual([deleted.errorCode, deleted.lowWatermark], [ErrorCode.NONE, 10n]);
      // Answered only once the followers moved their own log start (they learn it from their fetches).
      assert.deepEqual(await Promise.all([1, 2, 3].map(logStart)), [10n, 10n, 10n]);
      assert.equal((await fetch(2, 0, 5n, "", 12, TRIMMED)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);

      // A live follower that does not fetch holds the answer back until the request's timeout, as Kafka's.
      const b3 = broker(3);
      b3.process.kill("SIGSTOP");
      let timedOut;
      try {
        timedOut = await deleteRecords(1, 15n, 1000);
      } finally {
        b3.process.kill("SIGCONT");
      }
      assert.deepEqual([timedOut.errorCode, timedOut.lowWatermark], [ErrorCode.REQUEST_TIMED_OUT, 10n]);
      await until("broker 3 deleted up to 15 too", async () => (await logStart(3)) === 15n, 15_000);
      const again = await deleteRecords(1, 15n, 5000);
      assert.deepEqual([again.errorCode, again.lowWatermark], [ErrorCode.NONE, 15n]);
    });
  },
);
