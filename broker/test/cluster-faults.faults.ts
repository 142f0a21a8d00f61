import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FaultCluster, PARTITIONS, SESSION_MS, type PyClient } from "./cluster-fixture.js";
import { haveVenvModules } from "./clients/venv.js";
import { haveCommand, skipUnless, waitFor } from "./harness.js";

// Not in `npm test` yet (`npm run test:cluster-faults` runs it): in one run of seven under CI load the
// producer died on a fatal OUT_OF_ORDER_SEQUENCE_NUMBER right after a leader change (open in issue 16).
/**
 * The other faults of issue 16, in one cluster (etcd and three brokers, cluster-fixture.ts), each under its
 * own idempotent acks=all producer (confluent-kafka, records tagged per case) and a consumer, each ending with
 * the fixture's check: nothing failed or fatal, every acknowledged record in the log once at its offset,
 * nothing the consumer saw later lost, the three replicas byte-identical.
 * - etcd restarted while producing: killed for a moment, then for longer than the brokers' session (every
 *   lease lapses: each broker fences itself and registers again with a new broker epoch), and started on the
 *   same data and port each time; no broker exits, every broker is back in every ISR, acknowledgements go on
 *   afterwards, and a leadership change (kill -9 of a leader) still works.
 * - rolling restart: each broker in turn stopped with SIGTERM (controlled shutdown, exit 0) and restarted,
 *   back in every ISR before the next.
 * - a paused leader: SIGSTOP past its session so the others take over, then SIGCONT; it must not have
 *   acknowledged what the new leaders lack, and without a restart it registers again (a new broker epoch)
 *   and rejoins every ISR as a follower with the same log as the others.
 */

const HAVE_ETCD = haveCommand("etcd");
const HAVE_CONFLUENT = haveVenvModules("confluent_kafka");
/** An etcd restart the leases outlive, and one they do not (etcd3 gives a lease up after twice its TTL). */
const ETCD_BLIP_MS = 500;
const ETCD_DOWN_MS = 3 * SESSION_MS;

let cluster: FaultCluster;

/** Runs `fault` under a fresh producer and consumer tagged `tag`, then stops them and checks the log. */
async function underLoad(tag: string, fault: (producer: PyClient) => Promise<void>): Promise<void> {
  const producer = cluster.client("produce", tag);
  const consumer = cluster.client("consume");
  try {
    await waitFor(`${tag} first acknowledgements`, () => producer.records().length >= 100, 30_000);
    await fault(producer);
  } catch (e) {
    // What the brokers said and where leadership stands; the clients go without a flush to wait for.
    for (const [id, b] of cluster.brokers) console.log(`broker ${id}:\n${b.output().slice(-1500)}`);
    console.log(JSON.stringify(cluster.observer.partitionStates(cluster.topic)));
    producer.kill();
    consumer.kill();
    throw e;
  }
  await producer.stop().finally(() => consumer.stop().catch(() => consumer.kill()));
  console.log(`${tag} ${await cluster.checkLog(producer, tag, consumer)}`);
}

/** Waits until `producer` got a few more acknowledgements for every partition. */
async function acksGoOn(producer: PyClient, what: string): Promise<void> {
  const acked = producer.records().length;
  await waitFor(`${what}: acknowledgements go on`, () => producer.records().length > acked + 3 * PARTITIONS, 20_000);
}

/** Each broker's epoch (its registration's), as etcd has it now. */
function epochs(): Map<number, number> {
  return new Map(cluster.observer.brokers().map((b) => [b.nodeId, b.epoch]));
}

/** Waits until broker `id` is registered with an epoch other than `before` and back in every ISR. */
async function registeredAgain(id: number, before: number | undefined, what: string): Promise<void> {
  const epoch = (): number | undefined => epochs().get(id);
  await waitFor(`${what}: broker ${id} registered again`, () => (epoch() ?? before) !== before, 30_000);
  await waitFor(`${what}: broker ${id} back in every ISR`, () => cluster.inAllIsrs(id), 30_000);
}

function brokersRunning(): void {
  for (const [id, b] of cluster.brokers)
    assert.equal(b.process.exitCode, null, `broker ${id} exited:\n${b.output().slice(-2000)}`);
}

describe(
  "cluster faults: etcd restart, rolling restart, paused leader under an idempotent acks=all producer",
  {
    skip: skipUnless(HAVE_ETCD, "etcd") ?? skipUnless(HAVE_CONFLUENT, "confluent-kafka in .cache/venv"),
    timeout: 180_000,
  },
  () => {
    before(async () => {
      cluster = await FaultCluster.open("faults");
    });

    after(async () => {
      await cluster?.close();
    });

    test("rolling restart with controlled shutdown: only retriable errors, every acknowledged record once", async () => {
      await underLoad("roll:", async (producer) => {
        for (const id of [1, 2, 3]) {
          const code = await cluster.brokers.get(id)!.stop();
          assert.equal(code, 0, `broker ${id} left with ${code}`);
          await cluster.start(id);
          await waitFor(`broker ${id} back in every ISR`, () => cluster.inAllIsrs(id), 30_000);
          await acksGoOn(producer, `after broker ${id}`);
        }
      });
    });

    test("a leader paused past its session: acknowledges nothing the new leader lacks, rejoins as follower", async () => {
      await underLoad("pause:", async (producer) => {
        const victim = cluster.busiestLeader();
        const before = epochs().get(victim);
        const pid = cluster.brokers.get(victim)!.process.pid!;
        process.kill(pid, "SIGSTOP");
        try {
          await cluster.leadersWithout(victim, "paused leader", SESSION_MS + 20_000);
          await acksGoOn(producer, "new leaders");
        } finally {
          process.kill(pid, "SIGCONT");
        }
        // Woken, it finds its lease lost: fenced, it registers again and follows the new leaders (truncating
        // what it wrote as leader that they lack), without a restart.
        await registeredAgain(victim, before, "pause");
        await acksGoOn(producer, "after the pause");
        brokersRunning();
      });
    });

    test("etcd killed and restarted on its data: no broker exits, every one registers again, writes go on, leadership still moves", async () => {
      await underLoad("etcd:", async (producer) => {
        await cluster.etcd.kill();
        await new Promise((r) => setTimeout(r, ETCD_BLIP_MS));
        await cluster.etcd.start();
        await acksGoOn(producer, "etcd back");
        brokersRunning();
        // Longer than the session: every lease lapses, so every broker is fenced until it registers again.
        const before = epochs();
        await cluster.etcd.kill();
        await new Promise((r) => setTimeout(r, ETCD_DOWN_MS));
        brokersRunning();
        await cluster.etcd.start();
        for (const id of [1, 2, 3]) await registeredAgain(id, before.get(id), "etcd back after the session");
        await acksGoOn(producer, "etcd back after the session");
        brokersRunning();
        await cluster.killLeaderAndRestart("after etcd restart");
        await acksGoOn(producer, "after the leader change");
      });
    });
  },
);
