// acks=all against acks=1 on three tskafka brokers with their metadata in one etcd: a topic of one
// partition on brokers 1, 2, 3 (min.insync.replicas=2), created through the metadata seam; sequential
// produces of one small batch give the latency, a window of produces in flight the throughput. Loopback,
// bounded; stops what it starts.   npx tsx scripts/bench/replication-latency.ts
import { ApiKey, buildRecordBatch, createProduceRequest, ZERO_UUID } from "@tskafka/protocol";
import { EtcdClusterMetadata } from "../../broker/src/cluster/etcd-metadata.js";
import { RawClient } from "../../broker/test/clients/raw-client.js";
import { startBroker, type BrokerProcess } from "../../broker/test/harness.js";
import { startEtcd } from "../etcd/etcd.js";

const TOPIC = "latency";
const value = "x".repeat(100);

function produceRequest(acks: number, records: number) {
  return createProduceRequest({
    acks,
    timeoutMs: 10_000,
    topicData: [
      {
        name: TOPIC,
        topicId: ZERO_UUID,
        partitionData: [{ index: 0, records: buildRecordBatch(Array.from({ length: records }, () => ({ value }))) }],
      },
    ],
  });
}

async function sequential(client: RawClient, acks: number, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = process.hrtime.bigint();
    const r = await client.request(ApiKey.Produce, 9, produceRequest(acks, 1));
    if (r.responses[0]!.partitionResponses[0]!.errorCode !== 0) throw new Error("produce refused");
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

async function windowed(client: RawClient, acks: number, batches: number, inFlight: number): Promise<number> {
  const started = Date.now();
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < batches) {
      sent++;
      const r = await client.request(ApiKey.Produce, 9, produceRequest(acks, 100));
      if (r.responses[0]!.partitionResponses[0]!.errorCode !== 0) throw new Error("produce refused");
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (batches * 100) / ((Date.now() - started) / 1000);
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!.toFixed(2);

const etcd = await startEtcd();
const brokers: BrokerProcess[] = [];
const observer = await EtcdClusterMetadata.open({ endpoints: [etcd.endpoint], nodeId: 100 });
try {
  for (const id of [1, 2, 3])
    brokers.push(await startBroker({ properties: { "etcd.endpoints": etcd.endpoint, "node.id": id } }));
  while (observer.brokers().length < 3) await new Promise((r) => setTimeout(r, 50));
  await observer.createTopic(TOPIC, 1, { "min.insync.replicas": "2" }, [[1, 2, 3]]);
  const client = await RawClient.connect(brokers[0]!.port, { requestTimeoutMs: 20_000 });
  for (;;) {
    const r = await client.request(ApiKey.Produce, 9, produceRequest(-1, 1));
    if (r.responses[0]!.partitionResponses[0]!.errorCode === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const acks of [1, -1]) {
    await sequential(client, acks, 50); // warm-up
    const t = await sequential(client, acks, 500);
    const rate = await windowed(client, acks, 2000, 8);
    console.log(
      `acks=${acks}: 1-record produce p50 ${pct(t, 0.5)} ms, p99 ${pct(t, 0.99)} ms; 8 in flight x 100 records of 100 B: ${Math.round(rate)} records/s`,
    );
  }
  client.close();
} finally {
  for (const b of brokers) await b.stop();
  for (const b of brokers) await b.cleanup();
  await observer.close();
  await etcd.close();
}
