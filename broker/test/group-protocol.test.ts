import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ApiKey,
  createConsumerGroupDescribeRequest,
  createConsumerGroupHeartbeatRequest,
  createCreatePartitionsRequest,
  createCreateTopicsRequest,
  createDeleteGroupsRequest,
  createDescribeGroupsRequest,
  createFindCoordinatorRequest,
  createHeartbeatRequest,
  createJoinGroupRequest,
  createLeaveGroupRequest,
  createListGroupsRequest,
  createMetadataRequest,
  createOffsetCommitRequest,
  createOffsetDeleteRequest,
  createOffsetFetchRequest,
  createSyncGroupRequest,
  type ConsumerGroupHeartbeatRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { RawClient } from "./clients/raw-client.js";
import { startBroker, type BrokerProcess } from "./harness.js";

/**
 * The group APIs at the wire, with exact versions: the classic state machine's errors (KIP-394 member
 * ids, generations, fencing of static members, protocol checks), offset commits with bad input, the
 * admin APIs, and the KIP-848 heartbeat's epochs with revocation before reassignment.
 */

const E = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  OFFSET_METADATA_TOO_LARGE: 12,
  COORDINATOR_NOT_AVAILABLE: 15,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
  FENCED_INSTANCE_ID: 82,
  FENCED_MEMBER_EPOCH: 110,
};

let broker: BrokerProcess;
let c: RawClient;
let topicId = "";

before(async () => {
  broker = await startBroker({
    properties: {
      "group.initial.rebalance.delay.ms": 0,
      "group.min.session.timeout.ms": 1000,
      "group.consumer.session.timeout.ms": 2000,
      "offsets.topic.num.partitions": 4,
    },
  });
  c = await RawClient.connect(broker.port);
  const created = await c.request(
    ApiKey.CreateTopics,
    5,
    createCreateTopicsRequest({
      topics: [{ name: "t4", numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    }),
  );
  assert.equal(created.topics[0]!.errorCode, 0);
  const meta = await c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: null }));
  topicId = meta.topics.find((t) => t.name === "t4")!.topicId;
});

after(async () => {
  c?.close();
  await broker?.cleanup();
});

const PROTOCOLS = [{ name: "range", metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 2, 116, 52, 0, 0, 0, 0]) }];

function join(
  version: number,
  groupId: string,
  memberId: string,
  extra: Partial<Parameters<typeof createJoinGroupRequest>[0]> = {},
) {
  return c.request(
    ApiKey.JoinGroup,
    version,
    createJoinGroupRequest({
      groupId,
      memberId,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 5000,
      protocolType: "consumer",
      protocols: PROTOCOLS,
      ...extra,
    }),
  );
}

function commit(groupId: string, generation: number, memberId: string, topic = "t4", metadata = "") {
  return c.request(
    ApiKey.OffsetCommit,
    8,
    createOffsetCommitRequest({
      groupId,
      generationIdOrMemberEpoch: generation,
      memberId,
      topics: [
        {
          name: topic,
          topicId: ZERO_UUID,
          partitions: [
            {
              partitionIndex: 1,
              committedOffset: 42n,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: metadata,
            },
          ],
        },
      ],
    }),
  );
}

test("FindCoordinator: this node for groups and transactions, batched from v4", { timeout: 10_000 }, async () => {
  const v0 = await c.request(ApiKey.FindCoordinator, 0, createFindCoordinatorRequest({ key: "g" }));
  assert.equal(v0.errorCode, E.NONE);
  assert.equal(v0.port, broker.port);
  const txn = await c.request(ApiKey.FindCoordinator, 3, createFindCoordinatorRequest({ key: "tx", keyType: 1 }));
  assert.deepEqual([txn.errorCode, txn.port], [E.NONE, broker.port]);
  const v4 = await c.request(
    ApiKey.FindCoordinator,
    4,
    createFindCoordinatorRequest({ keyType: 0, coordinatorKeys: ["a", "b"] }),
  );
  assert.deepEqual(
    v4.coordinators.map((x) => [x.key, x.errorCode, x.port]),
    [
      ["a", 0, broker.port],
      ["b", 0, broker.port],
    ],
  );
  const meta = await c.request(
    ApiKey.Metadata,
    12,
    createMetadataRequest({ topics: [{ name: "__consumer_offsets", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }] }),
  );
  assert.equal(meta.topics[0]!.isInternal, true);
  assert.equal(meta.topics[0]!.partitions.length, 4);
});

test(
  "classic protocol: member id required, generations, bad commits, leave and delete",
  { timeout: 20_000 },
  async () => {
    const first = await join(4, "cg", "");
    assert.equal(first.errorCode, E.MEMBER_ID_REQUIRED);
    assert.ok(first.memberId.startsWith("raw-test-"));
    const joined = await join(4, "cg", first.memberId);
    assert.equal(joined.errorCode, E.NONE);
    assert.equal(joined.generationId, 1);
    assert.equal(joined.leader, first.memberId);
    assert.equal(joined.protocolName, "range");
    assert.deepEqual(
      joined.members.map((m) => m.memberId),
      [first.memberId],
    );
    const me = first.memberId;

    assert.equal((await join(4, "cg", "", { sessionTimeoutMs: 10 })).errorCode, E.INVALID_SESSION_TIMEOUT);
    assert.equal((await join(4, "cg", me, { protocolType: "connect" })).errorCode, E.INCONSISTENT_GROUP_PROTOCOL);

    const sync = (generationId: number, memberId: string) =>
      c.request(
        ApiKey.SyncGroup,
        3,
        createSyncGroupRequest({
          groupId: "cg",
          generationId,
          memberId,
          assignments: [{ memberId: me, assignment: Buffer.from("mine") }],
        }),
      );
    assert.equal((await sync(1, "stranger")).errorCode, E.UNKNOWN_MEMBER_ID);
    assert.equal((await sync(7, me)).errorCode, E.ILLEGAL_GENERATION);
    const synced = await sync(1, me);
    assert.equal(synced.errorCode, E.NONE);
    assert.equal(synced.assignment.toString(), "mine");

    const hb = (generationId: number, memberId: string) =>
      c
        .request(ApiKey.Heartbeat, 3, createHeartbeatRequest({ groupId: "cg", generationId, memberId }))
        .then((r) => r.errorCode);
    assert.equal(await hb(1, "stranger"), E.UNKNOWN_MEMBER_ID);
    assert.equal(await hb(0, me), E.ILLEGAL_GENERATION);
    assert.equal(await hb(1, me), E.NONE);

    // Bad commits are refused one by one and leave the group as it was.
    assert.equal(
      (await commit("cg", 1, me, "no-such-topic")).topics[0]!.partitions[0]!.errorCode,
      E.UNKNOWN_TOPIC_OR_PARTITION,
    );
    assert.equal((await commit("cg", 0, me)).topics[0]!.partitions[0]!.errorCode, E.ILLEGAL_GENERATION);
    assert.equal((await commit("cg", 1, "never-joined")).topics[0]!.partitions[0]!.errorCode, E.UNKNOWN_MEMBER_ID);
    assert.equal(
      (await commit("cg", -1, "")).topics[0]!.partitions[0]!.errorCode,
      E.UNKNOWN_MEMBER_ID,
      "not a member, group not empty",
    );
    assert.equal(
      (await commit("cg", 1, me, "t4", "x".repeat(5000))).topics[0]!.partitions[0]!.errorCode,
      E.OFFSET_METADATA_TOO_LARGE,
    );
    assert.equal((await commit("cg", 1, me, "t4", "meta")).topics[0]!.partitions[0]!.errorCode, E.NONE);
    assert.equal(await hb(1, me), E.NONE);

    const fetched = await c.request(
      ApiKey.OffsetFetch,
      8,
      createOffsetFetchRequest({
        groups: [
          {
            groupId: "cg",
            memberId: null,
            memberEpoch: -1,
            topics: [{ name: "t4", topicId: ZERO_UUID, partitionIndexes: [0, 1] }],
          },
          { groupId: "nobody", memberId: null, memberEpoch: -1, topics: null },
        ],
      }),
    );
    assert.deepEqual(
      fetched.groups[0]!.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata]),
      [
        [0, -1n, ""],
        [1, 42n, "meta"],
      ],
    );
    assert.deepEqual(fetched.groups[1]!.topics, []);

    const described = await c.request(
      ApiKey.DescribeGroups,
      5,
      createDescribeGroupsRequest({ groups: ["cg", "nobody"] }),
    );
    assert.equal(described.groups[0]!.groupState, "Stable");
    assert.equal(described.groups[0]!.protocolData, "range");
    assert.equal(described.groups[0]!.members[0]!.memberAssignment.toString(), "mine");
    assert.equal(described.groups[1]!.groupState, "Dead");

    const del = async (groupId: string) =>
      (await c.request(ApiKey.DeleteGroups, 2, createDeleteGroupsRequest({ groupsNames: [groupId] }))).results[0]!
        .errorCode;
    assert.equal(await del("cg"), E.NON_EMPTY_GROUP);
    assert.equal(await del("nobody"), E.GROUP_ID_NOT_FOUND);
    const offsetDel = await c.request(
      ApiKey.OffsetDelete,
      0,
      createOffsetDeleteRequest({ groupId: "cg", topics: [{ name: "t4", partitions: [{ partitionIndex: 1 }] }] }),
    );
    assert.equal(offsetDel.errorCode, E.NONE);
    assert.equal(
      offsetDel.topics[0]!.partitions[0]!.errorCode,
      86,
      "GROUP_SUBSCRIBED_TO_TOPIC: the member's subscription names t4",
    );

    const left = await c.request(
      ApiKey.LeaveGroup,
      4,
      createLeaveGroupRequest({
        groupId: "cg",
        members: [
          { memberId: "stranger", groupInstanceId: null, reason: null },
          { memberId: me, groupInstanceId: null, reason: null },
        ],
      }),
    );
    assert.deepEqual(
      left.members.map((m) => m.errorCode),
      [E.UNKNOWN_MEMBER_ID, E.NONE],
    );
    const listed = await c.request(ApiKey.ListGroups, 4, createListGroupsRequest({ statesFilter: ["empty"] }));
    assert.ok(listed.groups.some((g) => g.groupId === "cg" && g.groupState === "Empty"));
    assert.equal(await del("cg"), E.NONE);
    const after = await c.request(ApiKey.OffsetFetch, 7, createOffsetFetchRequest({ groupId: "cg", topics: null }));
    assert.deepEqual(after.topics, []);
  },
);

test("JoinGroup v0 joins at once; a static member rejoining fences its old id", { timeout: 20_000 }, async () => {
  const v0 = await join(0, "old", "");
  assert.equal(v0.errorCode, E.NONE);
  assert.equal(v0.generationId, 1);

  const s1 = await join(5, "static", "", { groupInstanceId: "i1" });
  assert.equal(s1.errorCode, E.NONE, "static members need no second join");
  const sync = await c.request(
    ApiKey.SyncGroup,
    3,
    createSyncGroupRequest({
      groupId: "static",
      generationId: s1.generationId,
      memberId: s1.memberId,
      groupInstanceId: "i1",
      assignments: [{ memberId: s1.memberId, assignment: Buffer.from("a") }],
    }),
  );
  assert.equal(sync.errorCode, E.NONE);
  const s2 = await join(5, "static", "", { groupInstanceId: "i1" });
  assert.equal(s2.errorCode, E.NONE);
  assert.notEqual(s2.memberId, s1.memberId);
  assert.equal(s2.generationId, s1.generationId, "no rebalance for a returning static member");
  const hb = await c.request(
    ApiKey.Heartbeat,
    3,
    createHeartbeatRequest({
      groupId: "static",
      generationId: s1.generationId,
      memberId: s1.memberId,
      groupInstanceId: "i1",
    }),
  );
  assert.equal(hb.errorCode, E.FENCED_INSTANCE_ID);
  const sync2 = await c.request(
    ApiKey.SyncGroup,
    3,
    createSyncGroupRequest({
      groupId: "static",
      generationId: s2.generationId,
      memberId: s2.memberId,
      groupInstanceId: "i1",
      assignments: [],
    }),
  );
  assert.equal(sync2.assignment.toString(), "a", "the assignment carries over");
});

test("a second member makes the first rejoin; the join waits for both", { timeout: 20_000 }, async () => {
  const c2 = await RawClient.connect(broker.port);
  try {
    const a = await join(3, "two", "");
    assert.equal(a.generationId, 1);
    const bJoin = c2.request(
      ApiKey.JoinGroup,
      3,
      createJoinGroupRequest({
        groupId: "two",
        memberId: "",
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 5000,
        protocolType: "consumer",
        protocols: PROTOCOLS,
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
    const hb = await c.request(
      ApiKey.Heartbeat,
      2,
      createHeartbeatRequest({ groupId: "two", generationId: 1, memberId: a.memberId }),
    );
    assert.equal(hb.errorCode, E.REBALANCE_IN_PROGRESS);
    const [a2, b] = await Promise.all([join(3, "two", a.memberId), bJoin]);
    assert.equal(a2.generationId, 2);
    assert.equal(b.generationId, 2);
    assert.equal(a2.members.length + b.members.length, 2, "only the leader gets the member list");
  } finally {
    c2.close();
  }
});

test("KIP-848: epochs, revocation before reassignment, fencing and leaving", { timeout: 20_000 }, async () => {
  const hb = (req: Partial<ConsumerGroupHeartbeatRequest>) =>
    c.request(
      ApiKey.ConsumerGroupHeartbeat,
      0,
      createConsumerGroupHeartbeatRequest({ groupId: "kip848", rebalanceTimeoutMs: 5000, ...req }),
    );
  const owned = (ps: number[]) => [{ topicId, partitions: ps }];
  const parts = (r: { assignment: { topicPartitions: { partitions: number[] }[] } | null }) =>
    r.assignment?.topicPartitions.flatMap((t) => t.partitions).sort() ?? null;

  const a = await hb({ memberId: "", memberEpoch: 0, subscribedTopicNames: ["t4"], topicPartitions: [] });
  assert.equal(a.errorCode, E.NONE);
  assert.equal(a.memberEpoch, 1);
  assert.deepEqual(parts(a), [0, 1, 2, 3]);
  const A = a.memberId!;

  const b = await hb({ memberId: "", memberEpoch: 0, subscribedTopicNames: ["t4"], topicPartitions: [] });
  assert.equal(b.memberEpoch, 2);
  assert.deepEqual(parts(b), [], "partitions still owned by A are not given yet");
  const B = b.memberId!;

  // A must give up two partitions first; its epoch stays until it has.
  const a2 = await hb({ memberId: A, memberEpoch: 1, topicPartitions: owned([0, 1, 2, 3]) });
  assert.equal(a2.memberEpoch, 1);
  assert.equal(parts(a2)!.length, 2);
  const kept = parts(a2)!;
  const a3 = await hb({ memberId: A, memberEpoch: 1, topicPartitions: owned(kept) });
  assert.equal(a3.memberEpoch, 2);
  const b2 = await hb({ memberId: B, memberEpoch: 2, topicPartitions: owned([]) });
  assert.deepEqual([...parts(b2)!, ...kept].sort(), [0, 1, 2, 3]);

  const described = await c.request(
    ApiKey.ConsumerGroupDescribe,
    0,
    createConsumerGroupDescribeRequest({ groupIds: ["kip848"] }),
  );
  assert.equal(described.groups[0]!.groupState, "Stable");
  assert.equal(described.groups[0]!.members.length, 2);

  assert.equal((await hb({ memberId: A, memberEpoch: 9 })).errorCode, E.FENCED_MEMBER_EPOCH);
  assert.equal((await hb({ memberId: "ghost", memberEpoch: 3 })).errorCode, E.UNKNOWN_MEMBER_ID);

  // Commits are checked against the member epoch (OffsetCommit v9).
  const commit9 = (epoch: number) =>
    c.request(
      ApiKey.OffsetCommit,
      9,
      createOffsetCommitRequest({
        groupId: "kip848",
        generationIdOrMemberEpoch: epoch,
        memberId: A,
        topics: [
          {
            name: "t4",
            topicId: ZERO_UUID,
            partitions: [
              {
                partitionIndex: kept[0]!,
                committedOffset: 5n,
                committedLeaderEpoch: -1,
                commitTimestamp: -1n,
                committedMetadata: null,
              },
            ],
          },
        ],
      }),
    );
  assert.equal((await commit9(2)).topics[0]!.partitions[0]!.errorCode, E.NONE);
  assert.equal((await commit9(1)).topics[0]!.partitions[0]!.errorCode, 113, "STALE_MEMBER_EPOCH");

  const leave = await hb({ memberId: A, memberEpoch: -1 });
  assert.equal(leave.memberEpoch, -1);
  const b3 = await hb({ memberId: B, memberEpoch: 2, topicPartitions: owned(parts(b2)!) });
  assert.deepEqual(parts(b3), [0, 1, 2, 3], "B takes over what A left");
  assert.equal(b3.memberEpoch, 3);

  // New partitions of a subscribed topic move the group epoch and are assigned.
  const grown = await c.request(
    ApiKey.CreatePartitions,
    3,
    createCreatePartitionsRequest({
      topics: [{ name: "t4", count: 6, assignments: null }],
      timeoutMs: 5000,
      validateOnly: false,
    }),
  );
  assert.equal(grown.results[0]!.errorCode, 0);
  const b4 = await hb({ memberId: B, memberEpoch: 3, topicPartitions: owned([0, 1, 2, 3]) });
  assert.equal(b4.memberEpoch, 4);
  assert.deepEqual(parts(b4), [0, 1, 2, 3, 4, 5]);
});

test(
  "session timeouts: a silent classic member and a silent KIP-848 member are removed",
  { timeout: 20_000 },
  async () => {
    const classic = await join(3, "quiet", "", { sessionTimeoutMs: 1000 });
    assert.equal(classic.errorCode, E.NONE);
    const m = await c.request(
      ApiKey.ConsumerGroupHeartbeat,
      0,
      createConsumerGroupHeartbeatRequest({
        groupId: "quiet848",
        memberId: "",
        memberEpoch: 0,
        rebalanceTimeoutMs: 5000,
        subscribedTopicNames: ["t4"],
        topicPartitions: [],
      }),
    );
    assert.equal(m.errorCode, E.NONE);
    await new Promise((r) => setTimeout(r, 2600));
    const hb = await c.request(
      ApiKey.Heartbeat,
      3,
      createHeartbeatRequest({ groupId: "quiet", generationId: classic.generationId, memberId: classic.memberId }),
    );
    assert.equal(hb.errorCode, E.UNKNOWN_MEMBER_ID);
    const hb848 = await c.request(
      ApiKey.ConsumerGroupHeartbeat,
      0,
      createConsumerGroupHeartbeatRequest({ groupId: "quiet848", memberId: m.memberId!, memberEpoch: m.memberEpoch }),
    );
    assert.equal(hb848.errorCode, E.UNKNOWN_MEMBER_ID);
    const listed = await c.request(
      ApiKey.ListGroups,
      5,
      createListGroupsRequest({ statesFilter: ["Empty"], typesFilter: ["consumer"] }),
    );
    assert.ok(listed.groups.some((g) => g.groupId === "quiet848" && g.groupType === "consumer"));
    assert.ok(listed.groups.every((g) => g.groupType === "consumer" && g.groupState === "Empty"));
  },
);
