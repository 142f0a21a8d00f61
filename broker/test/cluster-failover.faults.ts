import { after, before, describe, test } from "node:test";
import { FaultCluster, PARTITIONS } from "./cluster-fixture.js";
import { haveVenvModules } from "./clients/venv.js";
import { haveCommand, skipUnless, waitFor } from "./harness.js";

// Not in `npm test` yet (`npm run test:cluster-faults` runs it): in one run of seven under CI load the
// producer died on a fatal OUT_OF_ORDER_SEQUENCE_NUMBER right after a leader change (fixed since: the old
// leader acknowledged what a follower joining the ISR lacked, leader-partition.test.ts), and a broker whose
// etcd lease lapsed stays fenced until restarted (open in issue 16); back into CI once both are fixed.
/**
 * Leader loss (issue 16's proof): etcd and three brokers, a topic of PARTITIONS partitions on all three
 * (min.insync.replicas=2). An idempotent acks=all producer (confluent-kafka) and a consumer reading from the
 * beginning run throughout while, ROUNDS times, the broker leading most of the topic's partitions is killed
 * with -9; the test waits for new leaders (its etcd lease ends after broker.session.timeout.ms), restarts it
 * on its data and waits until it caught up and is back in every ISR. Then: every acknowledged record is in
 * the log exactly once, at the offset it was acknowledged with, in acknowledgement order per partition;
 * nothing is there twice; and every record the consumer saw is still there at the same offset (it never read
 * a record that was later lost); and the three replicas of each partition end the same, byte for byte.
 * ROUNDS is 20, the issue's count (TSKAFKA_FAILOVER_ROUNDS to change it): about 3 s a round here, 75 s in all.
 */

const HAVE_ETCD = haveCommand("etcd");
const HAVE_CONFLUENT = haveVenvModules("confluent_kafka");
const TOPIC = "failover";
const ROUNDS = Number(process.env.TSKAFKA_FAILOVER_ROUNDS ?? 20);

let cluster: FaultCluster;

describe(
  "leader loss: kill -9 of the leader under an idempotent acks=all producer",
  {
    skip: skipUnless(HAVE_ETCD, "etcd") ?? skipUnless(HAVE_CONFLUENT, "confluent-kafka in .cache/venv"),
    // A loaded machine (CI, a soak) takes up to half a minute a round.
    timeout: 900_000,
  },
  () => {
    before(async () => {
      cluster = await FaultCluster.open(TOPIC);
    });

    after(async () => {
      await cluster?.close();
    });

    test(`${ROUNDS} rounds: every acknowledged record stays, once and in order; the consumer saw nothing later lost`, async () => {
      // Kept unless the checks pass: a failure, a time-out (no catch runs then) and an error alike.
      cluster.failed = true;
      const producer = cluster.client("produce");
      const consumer = cluster.client("consume");
      const timings: number[] = [];
      try {
        await waitFor("the first acknowledgements", () => producer.records().length >= 100, 30_000);
        for (let round = 1; round <= ROUNDS; round++) {
          const t0 = Date.now();
          const acked = producer.records().length;
          await cluster.killLeaderAndRestart(`round ${round}`);
          await waitFor(
            `round ${round}: acknowledgements go on`,
            () => producer.noFatal() && producer.records().length > acked + 3 * PARTITIONS,
            20_000,
          );
          timings.push(Date.now() - t0);
        }
        await producer.stop().finally(() => consumer.stop().catch(() => consumer.kill()));
        console.log(`seconds per round: ${timings.map((t) => (t / 1000).toFixed(1)).join(" ")} s`);
        console.log(await cluster.checkLog(producer, "", consumer));
        cluster.failed = false;
      } catch (e) {
        producer.kill();
        consumer.kill();
        throw e;
      }
    });
  },
);
