import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  ApiKey,
  buildRecordBatch,
  createConsumerGroupHeartbeatRequest,
  createCreateTopicsRequest,
  createDeleteGroupsRequest,
  createDescribeConfigsRequest,
  createDescribeGroupsRequest,
  createFindCoordinatorRequest,
  createIncrementalAlterConfigsRequest,
  createListGroupsRequest,
  createProduceRequest,
  createShareAcknowledgeRequest,
  createShareFetchRequest,
  createShareGroupDescribeRequest,
  createShareGroupHeartbeatRequest,
  type ShareFetchRequestFetchTopic,
  type ShareFetchResponse,
  type ShareGroupHeartbeatRequest,
} from "@tskafka/protocol";
import { RawClient } from "./clients/raw-client.js";
import { TARGET_KIND, TARGET_REQUIREMENT, haveTarget, startTxnTarget, type TxnTarget } from "./clients/txn-target.js";
import { skipUnless } from "./harness.js";

/**
 * Share groups at the wire (KIP-932), the errors the Java client does not show: ShareGroupHeartbeat's
 * checks and fencing, share session epochs of ShareFetch and ShareAcknowledge, acknowledging records not
 * acquired, a release making records available with the next delivery count, the GROUP config
 * share.auto.offset.reset, ListGroups' "share" type and ShareGroupDescribe.
 * TSKAFKA_TXN_TARGET=kafka runs it against Apache Kafka 4.4.0, where the expectations come from.
 */

const E = {
  NONE: 0,
  INVALID_REQUEST: 42,
  UNKNOWN_MEMBER_ID: 25,
  FENCED_MEMBER_EPOCH: 110,
  INVALID_CONFIG: 40,
  INVALID_RECORD_STATE: 121,
  SHARE_SESSION_NOT_FOUND: 122,
  INVALID_SHARE_SESSION_EPOCH: 123,
};
/** COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR: Kafka's offsets topic is still loading. */
const COORDINATOR_NOT_READY = new Set([14, 15, 16]);
const GROUP_RESOURCE = 32;
const ACCEPT = 1;
const RELEASE = 2;

let target: TxnTarget;
let c: RawClient;
const suffix = Date.now().toString(36);
const topic = `sp-${suffix}`;
const group = `spg-${suffix}`;
let topicId = "";

before(async () => {
  if (!haveTarget()) return;
  target = await startTxnTarget({
    "offsets.topic.num.partitions": 1,
    "share.coordinator.state.topic.num.partitions": 1,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
  });
  c = await RawClient.connect(Number(target.bootstrap.split(":")[1]));
  const created = await c.request(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      topics: [{ name: topic, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
    }),
  );
  assert.equal(created.topics[0]!.errorCode, E.NONE);
  topicId = created.topics[0]!.topicId;
  const records = buildRecordBatch(Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
  // Kafka takes a moment to lead a new topic's partitions (NOT_LEADER_OR_FOLLOWER until then).
  let error = -1;
  for (let i = 0; i < 50 && error !== E.NONE; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 200));
    const produced = await c.request(
      ApiKey.Produce,
      13,
      createProduceRequest({
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: "", topicId, partitionData: [{ index: 0, records }] }],
      }),
    );
    error = produced.responses[0]!.partitionResponses[0]!.errorCode;
  }
  assert.equal(error, E.NONE);
});

after(async () => {
  c?.close();
  await target?.cleanup();
});

const skip = skipUnless(haveTarget(), TARGET_REQUIREMENT);

/** Waits for the group's coordinator (Kafka creates __consumer_offsets on the first lookup and loads it). */
async function findCoordinator(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const found = await c.request(
      ApiKey.FindCoordinator,
      6,
      createFindCoordinatorRequest({ keyType: 0, coordinatorKeys: [group] }),
    );
    if (found.coordinators[0]!.errorCode === E.NONE) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const heartbeat = (r: Partial<ShareGroupHeartbeatRequest>) =>
  c.request(
    ApiKey.ShareGroupHeartbeat,
    1,
    createShareGroupHeartbeatRequest({ groupId: group, rackId: null, subscribedTopicNames: null, ...r }),
  );

const fetch = (memberId: string, epoch: number, topics: ShareFetchRequestFetchTopic[]): Promise<ShareFetchResponse> =>
  c.request(
    ApiKey.ShareFetch,
    1,
    createShareFetchRequest({
      groupId: group,
      memberId,
      shareSessionEpoch: epoch,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: 100,
      batchSize: 100,
      topics,
    }),
  );

const part0 = (acks: { firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: number[] }[] = []) => [
  { topicId, partitions: [{ partitionIndex: 0, partitionMaxBytes: 0, acknowledgementBatches: acks }] },
];

test(`share groups at the wire (${TARGET_KIND})`, { skip }, async () => {
  // The group config first, as tools set it before consumers join.
  const bad = await c.request(
    ApiKey.IncrementalAlterConfigs,
    1,
    createIncrementalAlterConfigsRequest({
      resources: [
        {
          resourceType: GROUP_RESOURCE,
          resourceName: group,
          configs: [{ name: "share.auto.offset.reset", configOperation: 0, value: "sometimes" }],
        },
      ],
    }),
  );
  assert.equal(bad.responses[0]!.errorCode, E.INVALID_CONFIG);
  const set = await c.request(
    ApiKey.IncrementalAlterConfigs,
    1,
    createIncrementalAlterConfigsRequest({
      resources: [
        {
          resourceType: GROUP_RESOURCE,
          resourceName: group,
          configs: [{ name: "share.auto.offset.reset", configOperation: 0, value: "earliest" }],
        },
      ],
    }),
  );
  assert.equal(set.responses[0]!.errorCode, E.NONE);
  // Kafka applies group configs through its metadata log: the value shows up shortly after.
  let reset: string | null | undefined;
  for (let i = 0; i < 50 && reset !== "earliest"; i++) {
    const described = await c.request(
      ApiKey.DescribeConfigs,
      4,
      createDescribeConfigsRequest({
        resources: [
          { resourceType: GROUP_RESOURCE, resourceName: group, configurationKeys: ["share.auto.offset.reset"] },
        ],
      }),
    );
    reset = described.results[0]!.configs[0]?.value;
    if (reset !== "earliest") await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(reset, "earliest");

  await findCoordinator();

  // ShareGroupHeartbeat's checks.
  assert.equal(
    (await heartbeat({ memberId: "", memberEpoch: 0, subscribedTopicNames: [topic] })).errorCode,
    E.INVALID_REQUEST,
  );
  assert.equal((await heartbeat({ memberId: "m1", memberEpoch: 0 })).errorCode, E.INVALID_REQUEST);
  let joined = await heartbeat({ memberId: "m1", memberEpoch: 0, subscribedTopicNames: [topic] });
  for (let i = 0; i < 50 && COORDINATOR_NOT_READY.has(joined.errorCode); i++) {
    await new Promise((r) => setTimeout(r, 200));
    joined = await heartbeat({ memberId: "m1", memberEpoch: 0, subscribedTopicNames: [topic] });
  }
  assert.equal(joined.errorCode, E.NONE);
  assert.equal(joined.memberId, "m1");
  // Kafka may assign a moment later: heartbeat until the assignment is there.
  for (let i = 0; i < 40 && (joined.assignment?.topicPartitions.length ?? 0) === 0; i++) {
    await new Promise((r) => setTimeout(r, 250));
    joined = await heartbeat({ memberId: "m1", memberEpoch: joined.memberEpoch });
    assert.equal(joined.errorCode, E.NONE);
  }
  assert.deepEqual(
    joined.assignment?.topicPartitions.map((t) => [t.topicId, [...t.partitions].sort()]),
    [[topicId, [0, 1]]],
  );
  const epoch = joined.memberEpoch;
  assert.ok(epoch >= 1);
  assert.equal((await heartbeat({ memberId: "m1", memberEpoch: epoch + 5 })).errorCode, E.FENCED_MEMBER_EPOCH);
  assert.equal((await heartbeat({ memberId: "m2", memberEpoch: 1 })).errorCode, E.UNKNOWN_MEMBER_ID);

  // Share sessions: none yet; epoch 0 opens one and acquires records.
  assert.equal((await fetch("m1", 1, part0())).errorCode, E.SHARE_SESSION_NOT_FOUND);
  let first = await fetch("m1", 0, part0());
  let sessionEpoch = 1;
  for (let i = 0; i < 20 && (first.responses[0]?.partitions[0]?.acquiredRecords.length ?? 0) === 0; i++)
    first = await fetch("m1", sessionEpoch++, part0());
  assert.equal(first.errorCode, E.NONE);
  assert.ok(first.acquisitionLockTimeoutMs > 0);
  assert.deepEqual(
    first.responses[0]!.partitions[0]!.acquiredRecords.map((a) => [a.firstOffset, a.lastOffset, a.deliveryCount]),
    [[0n, 9n, 1]],
  );
  assert.equal((await fetch("m1", sessionEpoch + 3, part0())).errorCode, E.INVALID_SHARE_SESSION_EPOCH);

  // An acknowledgement of records never delivered fails; a release makes records available, delivered again.
  const notAcquired = await fetch(
    "m1",
    sessionEpoch++,
    part0([{ firstOffset: 50n, lastOffset: 50n, acknowledgeTypes: [ACCEPT] }]),
  );
  assert.equal(notAcquired.responses[0]!.partitions[0]!.acknowledgeErrorCode, E.INVALID_REQUEST, "not in flight");
  const released = await fetch(
    "m1",
    sessionEpoch++,
    part0([{ firstOffset: 0n, lastOffset: 4n, acknowledgeTypes: [RELEASE] }]),
  );
  const p = released.responses[0]!.partitions.find((x) => x.partitionIndex === 0)!;
  assert.equal(p.acknowledgeErrorCode, E.NONE);
  assert.deepEqual(
    p.acquiredRecords.map((a) => [a.firstOffset, a.lastOffset, a.deliveryCount]),
    [[0n, 4n, 2]],
  );

  // ShareAcknowledge: epoch 0 opens nothing; the right epoch accepts; -1 closes the session.
  const ack = (e: number, first: bigint, last: bigint) =>
    c.request(
      ApiKey.ShareAcknowledge,
      1,
      createShareAcknowledgeRequest({
        groupId: group,
        memberId: "m1",
        shareSessionEpoch: e,
        topics: [
          {
            topicId,
            partitions: [
              {
                partitionIndex: 0,
                acknowledgementBatches: [{ firstOffset: first, lastOffset: last, acknowledgeTypes: [ACCEPT] }],
              },
            ],
          },
        ],
      }),
    );
  assert.equal((await ack(0, 0n, 9n)).errorCode, E.INVALID_SHARE_SESSION_EPOCH);
  const accepted = await ack(sessionEpoch++, 0n, 9n);
  assert.equal(accepted.errorCode, E.NONE);
  assert.equal(accepted.responses[0]!.partitions[0]!.errorCode, E.NONE);
  // Below the share-partition start offset: done already, nothing to do.
  assert.equal((await ack(-1, 0n, 0n)).responses[0]!.partitions[0]!.errorCode, E.NONE);
  assert.equal((await fetch("m1", sessionEpoch, part0())).errorCode, E.SHARE_SESSION_NOT_FOUND, "closed by epoch -1");

  // The group as ListGroups and ShareGroupDescribe show it.
  const listed = await c.request(ApiKey.ListGroups, 5, createListGroupsRequest({ typesFilter: ["share"] }));
  const mine = listed.groups.find((g) => g.groupId === group);
  assert.deepEqual([mine?.groupType, mine?.protocolType, mine?.groupState], ["share", "share", "Stable"]);
  const described = await c.request(
    ApiKey.ShareGroupDescribe,
    1,
    createShareGroupDescribeRequest({ groupIds: [group, `none-${suffix}`] }),
  );
  const [g, none] = described.groups;
  assert.deepEqual(
    [g!.errorCode, g!.groupState, g!.assignorName, g!.members.map((m) => m.memberId)],
    [E.NONE, "Stable", "simple", ["m1"]],
  );
  assert.equal(g!.members[0]!.assignment.topicPartitions[0]!.topicName, topic);
  assert.equal(none!.errorCode, 69);
  const classic = await c.request(ApiKey.DescribeGroups, 6, createDescribeGroupsRequest({ groups: [group] }));
  const d = classic.groups[0]!;
  assert.deepEqual(
    [d.errorCode, d.errorMessage, d.groupState, d.protocolType],
    [69, `Group ${group} is not a classic group.`, "Dead", ""],
    "DescribeGroups describes classic and consumer groups only",
  );

  // After a crash and restart the member is still one, at its epoch (its session starts again).
  c.close();
  await target.kill9();
  await target.restart();
  c = await RawClient.connect(Number(target.bootstrap.split(":")[1]));
  await findCoordinator();
  let again = await heartbeat({ memberId: "m1", memberEpoch: epoch });
  for (let i = 0; i < 100 && COORDINATOR_NOT_READY.has(again.errorCode); i++) {
    await new Promise((r) => setTimeout(r, 200));
    again = await heartbeat({ memberId: "m1", memberEpoch: epoch });
  }
  assert.equal(again.errorCode, E.NONE, "the member survives a restart");
  assert.ok(again.memberEpoch >= epoch);

  const left = await heartbeat({ memberId: "m1", memberEpoch: again.memberEpoch });
  assert.equal(left.errorCode, E.NONE);
  const gone = await heartbeat({ memberId: "m1", memberEpoch: -1 });
  assert.deepEqual([gone.errorCode, gone.memberEpoch], [E.NONE, -1]);
});

test(`one namespace for groups, and share fetches from non-members (${TARGET_KIND})`, { skip }, async () => {
  const consumerGroup = `cg-${suffix}`;
  const shareGroup = `sg2-${suffix}`;
  const cg = (groupId: string) =>
    c.request(
      ApiKey.ConsumerGroupHeartbeat,
      1,
      createConsumerGroupHeartbeatRequest({
        groupId,
        memberId: "c1",
        memberEpoch: 0,
        rebalanceTimeoutMs: 5000,
        subscribedTopicNames: [topic],
        topicPartitions: [],
      }),
    );
  const joinedConsumer = await cg(consumerGroup);
  assert.equal(joinedConsumer.errorCode, E.NONE);
  const onConsumer = await c.request(
    ApiKey.ShareGroupHeartbeat,
    1,
    createShareGroupHeartbeatRequest({
      groupId: consumerGroup,
      memberId: "s1",
      memberEpoch: 0,
      subscribedTopicNames: [topic],
    }),
  );
  assert.deepEqual(
    [onConsumer.errorCode, onConsumer.errorMessage],
    [69, `Group ${consumerGroup} is not a share group.`],
  );

  const joinedShare = await c.request(
    ApiKey.ShareGroupHeartbeat,
    1,
    createShareGroupHeartbeatRequest({
      groupId: shareGroup,
      memberId: "s1",
      memberEpoch: 0,
      subscribedTopicNames: [topic],
    }),
  );
  assert.equal(joinedShare.errorCode, E.NONE);
  const onShare = await cg(shareGroup);
  assert.deepEqual([onShare.errorCode, onShare.errorMessage], [69, `Group ${shareGroup} is not a consumer group.`]);

  // A share session for a member id the group does not know.
  const stranger = await c.request(
    ApiKey.ShareFetch,
    1,
    createShareFetchRequest({
      groupId: shareGroup,
      memberId: "nobody",
      shareSessionEpoch: 0,
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: 10,
      batchSize: 10,
      topics: part0(),
    }),
  );
  assert.deepEqual([stranger.errorCode, stranger.errorMessage], [E.NONE, null]);
  // The final epoch with partitions to fetch.
  const finalFetch = await c.request(
    ApiKey.ShareFetch,
    1,
    createShareFetchRequest({
      groupId: shareGroup,
      memberId: "nobody",
      shareSessionEpoch: -1,
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: 10,
      batchSize: 10,
      topics: part0(),
    }),
  );
  assert.deepEqual([finalFetch.errorCode, finalFetch.errorMessage], [E.NONE, null]);

  // DeleteGroups: a share group with members is not deleted; once empty it goes.
  const del = () => c.request(ApiKey.DeleteGroups, 2, createDeleteGroupsRequest({ groupsNames: [shareGroup] }));
  assert.equal((await del()).results[0]!.errorCode, 68, "NON_EMPTY_GROUP");
  const left = await c.request(
    ApiKey.ShareGroupHeartbeat,
    1,
    createShareGroupHeartbeatRequest({ groupId: shareGroup, memberId: "s1", memberEpoch: -1 }),
  );
  assert.equal(left.errorCode, E.NONE);
  assert.equal((await del()).results[0]!.errorCode, E.NONE);
  const described = await c.request(
    ApiKey.ShareGroupDescribe,
    1,
    createShareGroupDescribeRequest({ groupIds: [shareGroup] }),
  );
  assert.equal(described.groups[0]!.errorCode, 69);
});

test(
  `share.auto.offset.reset=by_duration starts at the first record no older than the duration (${TARGET_KIND})`,
  { skip },
  async () => {
    const byDuration = `sg3-${suffix}`;
    const set = await c.request(
      ApiKey.IncrementalAlterConfigs,
      1,
      createIncrementalAlterConfigsRequest({
        resources: [
          {
            resourceType: GROUP_RESOURCE,
            resourceName: byDuration,
            configs: [{ name: "share.auto.offset.reset", configOperation: 0, value: "by_duration:PT1H" }],
          },
        ],
      }),
    );
    assert.equal(set.responses[0]!.errorCode, E.NONE);
    await new Promise((r) => setTimeout(r, 500)); // Kafka applies group configs through its metadata log
    let joined = await c.request(
      ApiKey.ShareGroupHeartbeat,
      1,
      createShareGroupHeartbeatRequest({
        groupId: byDuration,
        memberId: "d1",
        memberEpoch: 0,
        subscribedTopicNames: [topic],
      }),
    );
    for (let i = 0; i < 40 && (joined.assignment?.topicPartitions.length ?? 0) === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      joined = await c.request(
        ApiKey.ShareGroupHeartbeat,
        1,
        createShareGroupHeartbeatRequest({ groupId: byDuration, memberId: "d1", memberEpoch: joined.memberEpoch }),
      );
    }
    const fetchAt = (epoch: number) =>
      c.request(
        ApiKey.ShareFetch,
        1,
        createShareFetchRequest({
          groupId: byDuration,
          memberId: "d1",
          shareSessionEpoch: epoch,
          maxWaitMs: 500,
          minBytes: 1,
          maxBytes: 1 << 20,
          maxRecords: 100,
          batchSize: 100,
          topics: part0(),
        }),
      );
    let got = await fetchAt(0);
    for (let e = 1; e < 20 && (got.responses[0]?.partitions[0]?.acquiredRecords.length ?? 0) === 0; e++)
      got = await fetchAt(e);
    assert.deepEqual(
      got.responses[0]!.partitions[0]!.acquiredRecords.map((a) => [a.firstOffset, a.lastOffset]),
      [[0n, 9n]],
    );
  },
);
