// Sends the share coordinator's inter-broker APIs (InitializeShareGroupState, ReadShareGroupState,
// WriteShareGroupState, DeleteShareGroupState, ReadShareGroupStateSummary, FindCoordinator key type 2) the
// steps of broker/test/share-cluster.test.ts's wire test, to one node of Apache Kafka 4.4 or of tskafka,
// and prints the answers as one JSON line, to compare (where that test's expectations come from).
//   npx tsx scripts/kafka/share-coordinator-probe.ts kafka|tskafka
import {
  ApiKey,
  createCreateTopicsRequest,
  createDeleteShareGroupStateRequest,
  createFindCoordinatorRequest,
  createInitializeShareGroupStateRequest,
  createMetadataRequest,
  createReadShareGroupStateRequest,
  createReadShareGroupStateSummaryRequest,
  createWriteShareGroupStateRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { RawClient } from "../../broker/test/clients/raw-client.ts";
import { startTxnTarget, type TargetKind } from "../../broker/test/clients/txn-target.ts";

const kind = process.argv[2] as TargetKind;
if (kind !== "kafka" && kind !== "tskafka") {
  console.error("usage: share-coordinator-probe.ts kafka|tskafka");
  process.exit(2);
}
const GROUP = "g";
const target = await startTxnTarget(
  {
    "share.coordinator.state.topic.num.partitions": 1,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    "offsets.topic.num.partitions": 1,
  },
  kind,
);
const out: Record<string, unknown> = {};
const c = await RawClient.connect(Number(target.bootstrap.split(":")[1]));
try {
  await c.request(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      topics: [{ name: "p", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
    }),
  );
  const md = await c.request(
    ApiKey.Metadata,
    12,
    createMetadataRequest({ topics: [{ name: "p", topicId: ZERO_UUID }] }),
  );
  const topicId = md.topics[0]!.topicId;
  const found = await c.request(
    ApiKey.FindCoordinator,
    6,
    createFindCoordinatorRequest({ keyType: 2, coordinatorKeys: [`${GROUP}:${topicId}:0`, "bad", `${GROUP}:x:y`] }),
  );
  out.find = found.coordinators.map((x) => [x.errorCode, x.nodeId >= 0]);
  const topics = <T>(partition: T) => [{ topicId, partitions: [partition] }];
  const read = (leaderEpoch: number) =>
    c
      .request(
        ApiKey.ReadShareGroupState,
        0,
        createReadShareGroupStateRequest({ groupId: GROUP, topics: topics({ partition: 0, leaderEpoch }) }),
      )
      .then((r) => r.results[0]!.partitions[0]!);
  const write = (leaderEpoch: number, stateEpoch: number) =>
    c
      .request(
        ApiKey.WriteShareGroupState,
        1,
        createWriteShareGroupStateRequest({
          groupId: GROUP,
          topics: topics({
            partition: 0,
            stateEpoch,
            leaderEpoch,
            startOffset: 12n,
            deliveryCompleteCount: -1,
            stateBatches: [{ firstOffset: 12n, lastOffset: 14n, deliveryState: 2, deliveryCount: 1 }],
          }),
        }),
      )
      .then((r) => r.results[0]!.partitions[0]!.errorCode);
  const initialize = (stateEpoch: number, startOffset: bigint) =>
    c
      .request(
        ApiKey.InitializeShareGroupState,
        0,
        createInitializeShareGroupStateRequest({
          groupId: GROUP,
          topics: topics({ partition: 0, stateEpoch, startOffset }),
        }),
      )
      .then((r) => r.results[0]!.partitions[0]!.errorCode);
  const summary = (partition = 0) =>
    c
      .request(
        ApiKey.ReadShareGroupStateSummary,
        1,
        createReadShareGroupStateSummaryRequest({ groupId: GROUP, topics: topics({ partition, leaderEpoch: 0 }) }),
      )
      .then((r) => r.results[0]!.partitions[0]!);
  // The coordinator loads (or is created) first: asked again while it answers that.
  let first = await summary();
  for (let i = 0; [14, 15, 16].includes(first.errorCode) && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 200));
    first = await summary();
  }
  const sum = (s: typeof first) => [
    s.errorCode,
    String(s.startOffset),
    s.stateEpoch,
    s.leaderEpoch,
    s.deliveryCompleteCount,
  ];
  out.summaryWithoutState = sum(first);
  out.readWithoutState = (await read(0)).errorCode;
  out.readNegativeLeaderEpoch = (await read(-1)).errorCode;
  out.writeWithoutState = await write(0, 0);
  out.initialize = await initialize(0, 10n);
  const r = await read(3);
  out.read = [r.errorCode, String(r.startOffset), r.stateEpoch, r.stateBatches.length];
  out.writeOlderLeader = await write(2, 0);
  out.readOlderLeader = (await read(2)).errorCode;
  out.write = await write(3, 0);
  out.summary = sum(await summary());
  out.readAfterWrite = (await read(3)).stateBatches.map((b) => [
    String(b.firstOffset),
    String(b.lastOffset),
    b.deliveryState,
    b.deliveryCount,
  ]);
  out.initializeNextStateEpoch = await initialize(1, 20n);
  out.initializeOlderStateEpoch = await initialize(0, 20n);
  out.writeOlderStateEpoch = await write(3, 0);
  out.startOffsetAfterReset = String((await summary()).startOffset);
  out.summaryUnknownPartition = (await summary(7)).errorCode;
  const deleted = await c.request(
    ApiKey.DeleteShareGroupState,
    0,
    createDeleteShareGroupStateRequest({ groupId: GROUP, topics: topics({ partition: 0 }) }),
  );
  out.delete = deleted.results[0]!.partitions[0]!.errorCode;
  out.startOffsetAfterDelete = String((await summary()).startOffset);
  const empty = await c.request(
    ApiKey.DeleteShareGroupState,
    0,
    createDeleteShareGroupStateRequest({ groupId: "", topics: [] }),
  );
  out.emptyGroupIdResults = empty.results.length;
} finally {
  c.close();
  await target.cleanup();
}
console.log(JSON.stringify(out));
