// The metadata layer of a cluster at scale, against one real etcd (scripts/etcd/etcd.ts): 50 simulated
// brokers (each a registration with its own lease), topics of 100 partitions with 3 replicas, 1k/10k/100k
// partitions. Simulated brokers are killed (their leases revoked); a controller (the broker's own logic,
// broker/src/cluster/leader-election.ts: new leaders from the ISR, the dead broker out of every ISR) reacts
// to the watch and writes the changes batched per topic; an observer with its own view measures the time until every
// partition has a live leader. Prints a table of the times and the etcd operations they took.
//   npm run sim:metadata [-- --sizes 1000,10000,100000 --brokers 50]
import { performance } from "node:perf_hooks";
import { EtcdClusterMetadata } from "../../broker/src/cluster/etcd-metadata.ts";
import { fencingChanges } from "../../broker/src/cluster/leader-election.ts";
import { NO_LEADER, isStale, type BrokerRegistration } from "../../broker/src/cluster/metadata.ts";
import { startEtcd } from "../etcd/etcd.ts";

const PARTITIONS_PER_TOPIC = 100;
const REPLICATION = 3;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

const sizes = arg("sizes", "1000,10000,100000").split(",").map(Number);
const brokerCount = Number(arg("brokers", "50"));

/** Whether `m`'s view shows a live leader for every partition. */
function allLed(m: EtcdClusterMetadata, dead: ReadonlySet<number>): boolean {
  for (const t of m.topics()) {
    for (const s of m.partitionStates(t.name) ?? []) if (s.leader === NO_LEADER || dead.has(s.leader)) return false;
  }
  return true;
}

interface Row {
  partitions: number;
  topics: number;
  killed: number;
  moved: number;
  ms: number;
  txns: number;
  puts: number;
}

async function simulate(endpoint: string, partitions: number): Promise<Row[]> {
  const prefix = `/sim-${partitions}-${Date.now()}/`;
  const controller = await EtcdClusterMetadata.open({
    endpoints: [endpoint],
    nodeId: 0,
    prefix,
    sessionTtlSeconds: 10,
  });
  const observer = await EtcdClusterMetadata.open({ endpoints: [endpoint], nodeId: 0, prefix });
  const registrations: BrokerRegistration[] = [];
  try {
    for (let b = 0; b < brokerCount; b++) {
      const r = await controller.registerBroker(b, [], `rack-${b % 3}`);
      if (isStale(r)) throw new Error(`broker ${b} already registered`);
      registrations.push(r);
    }
    const topics = Math.ceil(partitions / PARTITIONS_PER_TOPIC);
    console.error(`${partitions}: ${brokerCount} brokers registered; creating ${topics} topics`);
    for (let t = 0; t < topics; t++) {
      const replicas = Array.from({ length: PARTITIONS_PER_TOPIC }, (_, p) =>
        Array.from({ length: REPLICATION }, (_, r) => (t * 7 + p + r) % brokerCount),
      );
      const created = await controller.createTopic(`topic-${t}`, PARTITIONS_PER_TOPIC, {}, replicas);
      if (isStale(created)) throw new Error(`topic-${t} exists`);
    }
    while (observer.topics().length < topics) await new Promise((r) => setTimeout(r, 20));
    console.error(`${partitions}: topics created`);

    // The controller reacts to brokers leaving, as they are seen through its watch.
    const dead = new Set<number>();
    let moved = 0;
    let running: Promise<void> = Promise.resolve();
    const unwatch = controller.watch("broker", (e) => {
      if (e.after !== undefined) return;
      dead.add(e.nodeId);
      running = running.then(async () => {
        const batch = fencingChanges(controller, (b) => !dead.has(b));
        const results = await controller.alterPartitions(batch);
        moved += results.flat().filter((r) => r.state !== undefined).length;
      });
    });

    const rows: Row[] = [];
    // Replicas are on consecutive brokers: victims far apart leave every partition a live replica.
    const spread = (n: number, offset: number): number[] =>
      Array.from({ length: n }, (_, i) => (offset + Math.floor((i * brokerCount) / n)) % brokerCount);
    for (const victims of [spread(1, brokerCount >> 1), spread(5, 3)]) {
      const kill = victims.length;
      const before = { ...controller.ops };
      moved = 0;
      const started = performance.now();
      await Promise.all(victims.map((b) => registrations[b]!.unregister()));
      const deadline = Date.now() + 120_000;
      while (!allLed(observer, dead)) {
        if (Date.now() > deadline) throw new Error(`${partitions} partitions: no new leaders after 120 s`);
        await new Promise((r) => setImmediate(r));
      }
      const ms = performance.now() - started;
      await running;
      rows.push({
        partitions,
        topics,
        killed: kill,
        moved,
        ms,
        txns: controller.ops.txns - before.txns,
        puts: controller.ops.puts - before.puts,
      });
    }
    unwatch();
    await running;
    return rows;
  } finally {
    await observer.close();
    await controller.close();
  }
}

const etcd = await startEtcd();
try {
  const rows: Row[] = [];
  for (const size of sizes) {
    const r = await simulate(etcd.endpoint, size);
    rows.push(...r);
    for (const x of r) console.error(`${x.partitions} partitions, ${x.killed} killed: ${x.ms.toFixed(0)} ms`);
  }
  console.log(
    `| partitions | topics | brokers killed (of ${brokerCount}) | partition states changed | time to all new leaders | etcd transactions | etcd puts |`,
  );
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(
      `| ${r.partitions.toLocaleString("en")} | ${r.topics} | ${r.killed} | ${r.moved.toLocaleString("en")} | ${r.ms.toFixed(0)} ms | ${r.txns} | ${r.puts} |`,
    );
  }
} finally {
  await etcd.close();
}
