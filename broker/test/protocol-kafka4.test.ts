import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ApiKey,
  buildRecordBatch,
  createApiVersionsRequest,
  createConsumerGroupDescribeRequest,
  createConsumerGroupHeartbeatRequest,
  createCreateTopicsRequest,
  createDescribeGroupsRequest,
  createListConfigResourcesRequest,
  createListOffsetsRequest,
  createMetadataRequest,
  createOffsetCommitRequest,
  createOffsetFetchRequest,
  createProduceRequest,
  createUpdateFeaturesRequest,
  ZERO_UUID,
  type ConsumerGroupHeartbeatRequest,
} from "@tskafka/protocol";
import { RawClient } from "./clients/raw-client.js";
import { startBroker, type BrokerProcess } from "./harness.js";

/**
 * The versions Kafka 4.x added to the APIs we serve, at the wire: topic ids in Produce 13 and
 * OffsetCommit/OffsetFetch 10, KIP-1043's DescribeGroups 6, ApiVersions 5 with features and KIP-1242's
 * checks, UpdateFeatures, ListConfigResources, ListOffsets 11, ConsumerGroupHeartbeat 1 with regular
 * expression subscriptions (KIP-848) and client-chosen member ids (KIP-1082), and KIP-467's rejection
 * of keyless records on a compacted topic.
 */

const E = {
  NONE: 0,
  INVALID_REQUEST: 42,
  GROUP_ID_NOT_FOUND: 69,
  INVALID_RECORD: 87,
  INVALID_UPDATE_VERSION: 95,
  UNKNOWN_TOPIC_ID: 100,
  INVALID_REGULAR_EXPRESSION: 128,
  REBOOTSTRAP_REQUIRED: 129,
};

let broker: BrokerProcess;
let c: RawClient;
const ids = new Map<string, string>();

before(async () => {
  broker = await startBroker({ properties: { "auto.create.topics.enable": false } });
  c = await RawClient.connect(broker.port);
  const topics = [
    { name: "orders-eu", numPartitions: 2, configs: [] },
    { name: "orders-us", numPartitions: 2, configs: [] },
    { name: "payments", numPartitions: 1, configs: [] },
    { name: "compacted", numPartitions: 1, configs: [{ name: "cleanup.policy", value: "compact" }] },
  ].map((t) => ({ ...t, replicationFactor: 1, assignments: [] }));
  const created = await c.request(ApiKey.CreateTopics, 7, createCreateTopicsRequest({ topics, timeoutMs: 5000 }));
  for (const t of created.topics) {
    assert.equal(t.errorCode, E.NONE, t.name);
    ids.set(t.name, t.topicId);
  }
});

after(async () => {
  c?.close();
  await broker?.stop();
  await broker?.cleanup();
});

test("ApiVersions 5: 4.x versions, group.version, transaction.version, share.version and streams.version finalized, and a wrong cluster or node is REBOOTSTRAP_REQUIRED", async () => {
  const res = await c.request(
    ApiKey.ApiVersions,
    5,
    createApiVersionsRequest({ clientSoftwareName: "test", clientSoftwareVersion: "1" }),
  );
  assert.equal(res.errorCode, E.NONE);
  const max = (k: number) => res.apiKeys.find((a) => a.apiKey === k)?.maxVersion;
  assert.deepEqual(
    [
      max(ApiKey.Produce),
      max(ApiKey.Fetch),
      max(ApiKey.ListOffsets),
      max(ApiKey.Metadata),
      max(ApiKey.OffsetCommit),
      max(ApiKey.ApiVersions),
      max(ApiKey.ConsumerGroupHeartbeat),
    ],
    [13, 18, 11, 13, 10, 5, 1],
  );
  assert.deepEqual(
    res.supportedFeatures.map((f) => [f.name, f.minVersion, f.maxVersion]),
    [
      ["group.version", 1, 1],
      ["transaction.version", 0, 2],
      ["share.version", 0, 2],
      ["streams.version", 0, 1],
    ],
  );
  assert.deepEqual(
    res.finalizedFeatures.map((f) => [f.name, f.minVersionLevel, f.maxVersionLevel]),
    [
      ["group.version", 1, 1],
      ["transaction.version", 2, 2],
      ["share.version", 2, 2],
      ["streams.version", 1, 1],
    ],
  );
  const metadata = await c.request(ApiKey.Metadata, 13, createMetadataRequest({ topics: [] }));
  const right = await c.request(
    ApiKey.ApiVersions,
    5,
    createApiVersionsRequest({ clusterId: metadata.clusterId, nodeId: metadata.brokers[0]!.nodeId }),
  );
  assert.equal(right.errorCode, E.NONE);
  const wrongCluster = await c.request(
    ApiKey.ApiVersions,
    5,
    createApiVersionsRequest({ clusterId: "another-cluster", nodeId: metadata.brokers[0]!.nodeId }),
  );
  assert.equal(wrongCluster.errorCode, E.REBOOTSTRAP_REQUIRED);
  const wrongNode = await c.request(
    ApiKey.ApiVersions,
    5,
    createApiVersionsRequest({ clusterId: metadata.clusterId, nodeId: 77 }),
  );
  assert.equal(wrongNode.errorCode, E.REBOOTSTRAP_REQUIRED);
});

test("UpdateFeatures: the finalized level is accepted, anything else is INVALID_UPDATE_VERSION", async () => {
  const update = (feature: string, level: number, upgradeType = 1, version = 1) =>
    c.request(
      ApiKey.UpdateFeatures,
      version,
      createUpdateFeaturesRequest({
        featureUpdates: [{ feature, maxVersionLevel: level, allowDowngrade: false, upgradeType }],
        validateOnly: false,
      }),
    );
  const same = await update("group.version", 1);
  assert.equal(same.errorCode, E.NONE);
  assert.deepEqual(
    same.results.map((r) => [r.feature, r.errorCode]),
    [["group.version", E.NONE]],
  );
  assert.equal(
    (await update("group.version", 0)).errorCode,
    E.INVALID_UPDATE_VERSION,
    "a downgrade needs its upgrade type",
  );
  assert.equal(
    (await update("group.version", 0, 2)).errorCode,
    E.INVALID_UPDATE_VERSION,
    "level 0 is not supported here",
  );
  assert.equal((await update("transaction.version", 2, 1, 2)).errorCode, E.NONE, "the finalized level");
  assert.equal((await update("transaction.version", 3, 1, 2)).errorCode, E.INVALID_UPDATE_VERSION);
  assert.equal((await update("share.version", 1, 2)).errorCode, E.NONE, "share groups may be turned back");
  assert.equal((await update("share.version", 2, 1)).errorCode, E.NONE);
  assert.equal((await update("streams.version", 1, 1, 2)).errorCode, E.NONE, "the finalized level");
  assert.equal((await update("streams.version", 2, 1, 2)).errorCode, E.INVALID_UPDATE_VERSION);
});

test("ListConfigResources: v0 lists client metrics (none), v1 topics and brokers", async () => {
  const v0 = await c.request(ApiKey.ListConfigResources, 0, createListConfigResourcesRequest({}));
  assert.deepEqual(v0.configResources, []);
  const v1 = await c.request(ApiKey.ListConfigResources, 1, createListConfigResourcesRequest({ resourceTypes: [2] }));
  assert.deepEqual(v1.configResources.map((r) => r.resourceName).sort(), [
    "compacted",
    "orders-eu",
    "orders-us",
    "payments",
  ]);
  const all = await c.request(ApiKey.ListConfigResources, 1, createListConfigResourcesRequest({ resourceTypes: [] }));
  assert.deepEqual(
    all.configResources.filter((r) => r.resourceType === 4).map((r) => r.resourceName),
    ["1"],
  );
  const bad = await c.request(ApiKey.ListConfigResources, 1, createListConfigResourcesRequest({ resourceTypes: [99] }));
  assert.equal(bad.errorCode, E.INVALID_REQUEST);
});

test("Produce 13 by topic id; an unknown id is UNKNOWN_TOPIC_ID; Metadata 13 and ListOffsets 11 answer", async () => {
  const produce = (topicId: string) =>
    c.request(
      ApiKey.Produce,
      13,
      createProduceRequest({
        acks: -1,
        timeoutMs: 5000,
        topicData: [
          { name: "", topicId, partitionData: [{ index: 1, records: buildRecordBatch([{ key: "k", value: "v" }]) }] },
        ],
      }),
    );
  const ok = await produce(ids.get("orders-eu")!);
  assert.equal(ok.responses[0]!.topicId, ids.get("orders-eu"));
  assert.deepEqual(
    [ok.responses[0]!.partitionResponses[0]!.errorCode, ok.responses[0]!.partitionResponses[0]!.baseOffset],
    [E.NONE, 0n],
  );
  const unknown = await produce("AAAAAAAAAAAAAAAAAAAAAQ");
  assert.equal(unknown.responses[0]!.partitionResponses[0]!.errorCode, E.UNKNOWN_TOPIC_ID);
  const md = await c.request(
    ApiKey.Metadata,
    13,
    createMetadataRequest({ topics: [{ name: "orders-eu", topicId: ZERO_UUID }] }),
  );
  assert.equal(md.errorCode, E.NONE);
  assert.equal(md.topics[0]!.topicId, ids.get("orders-eu"));
  const offsets = await c.request(
    ApiKey.ListOffsets,
    11,
    createListOffsetsRequest({
      replicaId: -1,
      timeoutMs: 1000,
      topics: [
        {
          name: "orders-eu",
          partitions: [-1n, -6n].map((timestamp) => ({
            partitionIndex: 1,
            timestamp,
            currentLeaderEpoch: -1,
            maxNumOffsets: 1,
          })),
        },
      ],
    }),
  );
  assert.deepEqual(
    offsets.topics[0]!.partitions.map((p) => [p.errorCode, p.offset]),
    [
      [E.NONE, 1n],
      [E.NONE, -1n],
    ],
    "latest is 1; nothing pends upload without tiered storage",
  );
});

test("a compacted topic refuses keyless records with per-record errors (KIP-467)", async () => {
  const produce = (records: { key: string | null; value: string }[]) =>
    c.request(
      ApiKey.Produce,
      11,
      createProduceRequest({
        acks: -1,
        timeoutMs: 5000,
        topicData: [
          { name: "compacted", topicId: ZERO_UUID, partitionData: [{ index: 0, records: buildRecordBatch(records) }] },
        ],
      }),
    );
  const bad = (
    await produce([
      { key: "a", value: "1" },
      { key: null, value: "2" },
      { key: null, value: "3" },
    ])
  ).responses[0]!.partitionResponses[0]!;
  assert.equal(bad.errorCode, E.INVALID_RECORD);
  assert.deepEqual(
    bad.recordErrors.map((e) => e.batchIndex),
    [1, 2],
  );
  assert.match(
    bad.recordErrors[0]!.batchIndexErrorMessage ?? "",
    /Compacted topic cannot accept message without key in topic partition compacted-0/,
  );
  assert.match(bad.errorMessage ?? "", /2 record errors/);
  const good = (await produce([{ key: "a", value: "1" }])).responses[0]!.partitionResponses[0]!;
  assert.deepEqual([good.errorCode, good.baseOffset], [E.NONE, 0n], "the refused batch took no offsets");
});

test("OffsetCommit and OffsetFetch 10 name topics by id; DescribeGroups 6 says GROUP_ID_NOT_FOUND", async () => {
  const eu = ids.get("orders-eu")!;
  const committed = await c.request(
    ApiKey.OffsetCommit,
    10,
    createOffsetCommitRequest({
      groupId: "by-id",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      topics: [
        {
          name: "",
          topicId: eu,
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 7n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: "m",
            },
          ],
        },
        {
          name: "",
          topicId: "AAAAAAAAAAAAAAAAAAAAAQ",
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 1n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: null,
            },
          ],
        },
      ],
    }),
  );
  assert.deepEqual(
    committed.topics.map((t) => [t.topicId, t.partitions[0]!.errorCode]),
    [
      [eu, E.NONE],
      ["AAAAAAAAAAAAAAAAAAAAAQ", E.UNKNOWN_TOPIC_ID],
    ],
  );
  const fetched = await c.request(
    ApiKey.OffsetFetch,
    10,
    createOffsetFetchRequest({
      groups: [
        {
          groupId: "by-id",
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: "", topicId: eu, partitionIndexes: [0, 1] }],
        },
      ],
    }),
  );
  const t = fetched.groups[0]!.topics[0]!;
  assert.equal(t.topicId, eu);
  assert.deepEqual(
    t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata]),
    [
      [0, 7n, "m"],
      [1, -1n, ""],
    ],
  );
  // By name (v9), the same commit is there: offsets are one store whatever names the topic.
  const byName = await c.request(
    ApiKey.OffsetFetch,
    9,
    createOffsetFetchRequest({
      groups: [
        {
          groupId: "by-id",
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: "orders-eu", topicId: ZERO_UUID, partitionIndexes: [0] }],
        },
      ],
    }),
  );
  assert.equal(byName.groups[0]!.topics[0]!.partitions[0]!.committedOffset, 7n);

  const v5 = await c.request(ApiKey.DescribeGroups, 5, createDescribeGroupsRequest({ groups: ["nobody"] }));
  assert.deepEqual([v5.groups[0]!.errorCode, v5.groups[0]!.groupState], [E.NONE, "Dead"]);
  const v6 = await c.request(ApiKey.DescribeGroups, 6, createDescribeGroupsRequest({ groups: ["nobody"] }));
  assert.deepEqual([v6.groups[0]!.errorCode, v6.groups[0]!.groupState], [E.GROUP_ID_NOT_FOUND, "Dead"]);
});

test("ConsumerGroupHeartbeat 1: a regular expression subscription follows the topics that match it", async () => {
  const hb = (r: Partial<ConsumerGroupHeartbeatRequest>) =>
    c.request(
      ApiKey.ConsumerGroupHeartbeat,
      1,
      createConsumerGroupHeartbeatRequest({ groupId: "regex", rebalanceTimeoutMs: 5000, ...r }),
    );
  const owned = (a: Awaited<ReturnType<typeof hb>>) =>
    a.assignment?.topicPartitions.map((t) => ({ topicId: t.topicId, partitions: t.partitions })) ?? [];
  const names = (a: Awaited<ReturnType<typeof hb>>) =>
    (a.assignment?.topicPartitions ?? [])
      .flatMap((t) => t.partitions.map((p) => `${[...ids].find(([, id]) => id === t.topicId)?.[0]}-${p}`))
      .sort();

  assert.equal(
    (await hb({ memberId: "", memberEpoch: 0, subscribedTopicRegex: "orders-.*" })).errorCode,
    E.INVALID_REQUEST,
    "v1 needs a member id",
  );
  const invalid = await hb({ memberId: "m-1", memberEpoch: 0, subscribedTopicRegex: "orders-(?=eu)" });
  assert.equal(invalid.errorCode, E.INVALID_REGULAR_EXPRESSION, "RE2 has no lookahead, and Kafka compiles with RE2/J");

  const joined = await hb({ memberId: "m-1", memberEpoch: 0, subscribedTopicRegex: "orders-.*", topicPartitions: [] });
  assert.equal(joined.errorCode, E.NONE);
  assert.equal(joined.memberId, "m-1");
  assert.deepEqual(
    names(joined),
    ["orders-eu-0", "orders-eu-1", "orders-us-0", "orders-us-1"],
    "a whole-name match: not payments",
  );

  // A new topic that matches moves the group epoch and is assigned on the next heartbeat.
  const created = await c.request(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      topics: [{ name: "orders-asia", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    }),
  );
  ids.set("orders-asia", created.topics[0]!.topicId);
  const grown = await hb({ memberId: "m-1", memberEpoch: joined.memberEpoch, topicPartitions: owned(joined) });
  assert.ok(grown.memberEpoch > joined.memberEpoch);
  assert.deepEqual(names(grown), ["orders-asia-0", "orders-eu-0", "orders-eu-1", "orders-us-0", "orders-us-1"]);

  const described = await c.request(
    ApiKey.ConsumerGroupDescribe,
    1,
    createConsumerGroupDescribeRequest({ groupIds: ["regex"] }),
  );
  const member = described.groups[0]!.members[0]!;
  assert.deepEqual([member.subscribedTopicRegex, member.memberType], ["orders-.*", 1]);

  // Changing the expression changes the assignment: partitions no longer matched are revoked first.
  const narrowed = await hb({
    memberId: "m-1",
    memberEpoch: grown.memberEpoch,
    subscribedTopicRegex: "orders-eu",
    topicPartitions: owned(grown),
  });
  assert.deepEqual(names(narrowed), ["orders-eu-0", "orders-eu-1"]);
  const settled = await hb({ memberId: "m-1", memberEpoch: narrowed.memberEpoch, topicPartitions: owned(narrowed) });
  assert.equal(settled.errorCode, E.NONE);
  assert.ok(settled.memberEpoch > grown.memberEpoch);
});
