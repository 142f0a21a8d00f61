import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  ApiKey,
  createApiVersionsRequest,
  createConsumerGroupHeartbeatRequest,
  createCreateTopicsRequest,
  createDeleteGroupsRequest,
  createDescribeGroupsRequest,
  createFindCoordinatorRequest,
  createIncrementalAlterConfigsRequest,
  createListGroupsRequest,
  createMetadataRequest,
  createOffsetCommitRequest,
  createStreamsGroupDescribeRequest,
  createStreamsGroupHeartbeatRequest,
  type StreamsGroupHeartbeatRequest,
  type StreamsGroupHeartbeatRequestTopology,
  type StreamsGroupHeartbeatResponse,
} from "@tskafka/protocol";
import { RawClient } from "./clients/raw-client.js";
import { TARGET_KIND, TARGET_REQUIREMENT, haveTarget, startTxnTarget, type TxnTarget } from "./clients/txn-target.js";
import { skipUnless } from "./harness.js";

/**
 * Streams groups at the wire (KIP-1071), what Kafka Streams does not show: StreamsGroupHeartbeat's checks,
 * the topology's status as topics go missing, are created or are partitioned wrongly (MISSING_SOURCE_TOPICS,
 * MISSING_INTERNAL_TOPICS with the internal topics then created, sized from their sources,
 * INCORRECTLY_PARTITIONED_TOPICS), revocation before assignment between two members of two processes,
 * standby tasks by the group config streams.num.standby.replicas (and its bound), member epochs in
 * OffsetCommit, the group's type in ListGroups, DescribeGroups and ConsumerGroupHeartbeat,
 * StreamsGroupDescribe, leaving and DeleteGroups, a member across a broker restart, a shutdown request,
 * a static member replaced by a successor with its instance id.
 * TSKAFKA_TXN_TARGET=kafka runs it against Apache Kafka 4.4.0, where the expectations come from.
 */

const E = {
  NONE: 0,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_REQUEST: 42,
  INVALID_CONFIG: 40,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  STALE_MEMBER_EPOCH: 113,
  STREAMS_INVALID_TOPOLOGY: 130,
};
const Status = { MISSING_SOURCE_TOPICS: 1, INCORRECTLY_PARTITIONED_TOPICS: 2, MISSING_INTERNAL_TOPICS: 3 };
/** COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR: Kafka's offsets topic is still loading. */
const COORDINATOR_NOT_READY = new Set([14, 15, 16]);
const GROUP_RESOURCE = 32;

let target: TxnTarget;
let c: RawClient;
const suffix = Date.now().toString(36);
const source = `ss-src-${suffix}`;
const other = `ss-other-${suffix}`;
const group = `ssg-${suffix}`;
const repartition = `${group}-rep-repartition`;
const changelog = `${group}-store-changelog`;

const skip = skipUnless(haveTarget(), TARGET_REQUIREMENT);

before(async () => {
  if (!haveTarget()) return;
  target = await startTxnTarget({
    "offsets.topic.num.partitions": 1,
    "group.streams.initial.rebalance.delay.ms": 0,
  });
  c = await RawClient.connect(Number(target.bootstrap.split(":")[1]));
});

after(async () => {
  c?.close();
  await target?.cleanup();
});

async function createTopic(name: string, partitions: number): Promise<void> {
  const created = await c.request(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
    }),
  );
  assert.equal(created.topics[0]!.errorCode, E.NONE);
}

async function partitionsOf(name: string): Promise<number | undefined> {
  const m = await c.request(
    ApiKey.Metadata,
    12,
    createMetadataRequest({ topics: [{ name, topicId: "AAAAAAAAAAAAAAAAAAAAAA" }], allowAutoTopicCreation: false }),
  );
  const t = m.topics[0]!;
  return t.errorCode === E.NONE ? t.partitions.length : undefined;
}

/** source -> (subtopology 0) -> repartition -> (subtopology 1, a store with a changelog). */
function topology(sourceTopic = source): StreamsGroupHeartbeatRequestTopology {
  return {
    epoch: 0,
    subtopologies: [
      {
        subtopologyId: "0",
        sourceTopics: [sourceTopic],
        sourceTopicRegex: [],
        stateChangelogTopics: [],
        repartitionSinkTopics: [repartition],
        repartitionSourceTopics: [],
        copartitionGroups: [],
      },
      {
        subtopologyId: "1",
        sourceTopics: [],
        sourceTopicRegex: [],
        stateChangelogTopics: [{ name: changelog, partitions: 0, replicationFactor: 1, topicConfigs: [] }],
        repartitionSinkTopics: [],
        repartitionSourceTopics: [{ name: repartition, partitions: 0, replicationFactor: 1, topicConfigs: [] }],
        copartitionGroups: [],
      },
    ],
  };
}

async function heartbeat(
  r: Partial<StreamsGroupHeartbeatRequest>,
  groupId = group,
): Promise<StreamsGroupHeartbeatResponse> {
  const req = createStreamsGroupHeartbeatRequest({ groupId, memberEpoch: 0, ...r });
  let res = await c.request(ApiKey.StreamsGroupHeartbeat, 1, req);
  for (let i = 0; i < 50 && COORDINATOR_NOT_READY.has(res.errorCode); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    res = await c.request(ApiKey.StreamsGroupHeartbeat, 1, req);
  }
  return res;
}

const join = (memberId: string, processId: string, extra: Partial<StreamsGroupHeartbeatRequest> = {}) =>
  heartbeat({
    memberId,
    memberEpoch: 0,
    processId,
    rebalanceTimeoutMs: 30_000,
    topology: topology(),
    activeTasks: [],
    standbyTasks: [],
    warmupTasks: [],
    ...extra,
  });

const tasks = (list: { subtopologyId: string; partitions: number[] }[] | null) =>
  list === null ? null : list.flatMap((t) => t.partitions.map((p) => `${t.subtopologyId}_${p}`)).sort();

const owned = (list: string[]) => {
  const by = new Map<string, number[]>();
  for (const t of list) {
    const [s, p] = t.split("_") as [string, string];
    by.set(s, [...(by.get(s) ?? []), Number(p)]);
  }
  return [...by].map(([subtopologyId, partitions]) => ({ subtopologyId, partitions }));
};

/** The statuses but ASSIGNMENT_DELAYED (5), which comes and goes with Kafka's assignment interval. */
const statusCodes = (r: StreamsGroupHeartbeatResponse) =>
  (r.status ?? []).map((s) => s.statusCode).filter((code) => code !== 5);

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

test(`streams groups at the wire (${TARGET_KIND})`, { skip, timeout: 90_000 }, async () => {
  // Both APIs in versions 0-1, and streams.version finalized at 1.
  const versions = await c.request(
    ApiKey.ApiVersions,
    4,
    createApiVersionsRequest({ clientSoftwareName: "t", clientSoftwareVersion: "1" }),
  );
  for (const key of [ApiKey.StreamsGroupHeartbeat, ApiKey.StreamsGroupDescribe]) {
    const v = versions.apiKeys.find((k) => k.apiKey === key);
    assert.deepEqual([v?.minVersion, v?.maxVersion], [0, 1], `API ${key}`);
  }
  const streamsVersion = versions.finalizedFeatures.find((f) => f.name === "streams.version");
  assert.equal(streamsVersion?.maxVersionLevel, 1);

  await findCoordinator();

  // The request's checks.
  const noMember = await heartbeat({ memberId: "", topology: topology(), rebalanceTimeoutMs: 1000, processId: "p" });
  assert.deepEqual([noMember.errorCode, noMember.errorMessage], [E.INVALID_REQUEST, "MemberId can't be empty."]);
  const noTasks = await heartbeat({ memberId: "m0", rebalanceTimeoutMs: 1000, processId: "p", topology: topology() });
  assert.deepEqual(
    [noTasks.errorCode, noTasks.errorMessage],
    [E.INVALID_REQUEST, "ActiveTasks must be empty when (re-)joining."],
    "a join says it owns no task (null is not empty)",
  );
  const noTimeout = await heartbeat({ memberId: "m0", topology: topology(), processId: "p" });
  assert.deepEqual(
    [noTimeout.errorCode, noTimeout.errorMessage],
    [E.INVALID_REQUEST, "RebalanceTimeoutMs must be provided in first request."],
  );
  const unknown = await heartbeat({ memberId: "m0", memberEpoch: 3 });
  assert.deepEqual(
    [unknown.errorCode, unknown.errorMessage],
    [E.GROUP_ID_NOT_FOUND, `Streams group ${group} not found.`],
  );
  const badChangelog = topology();
  badChangelog.subtopologies[1]!.stateChangelogTopics[0]!.partitions = 3;
  const invalid = await join("m0", "p0", { topology: badChangelog });
  assert.deepEqual(
    [invalid.errorCode, invalid.errorMessage],
    [
      E.STREAMS_INVALID_TOPOLOGY,
      `Changelog topic ${changelog} must have an undefined partition count, but it is set to 3.`,
    ],
  );

  // The source topic is missing: the member joins, with no tasks, and the status says why.
  const first = await join("m1", "p1");
  assert.equal(first.errorCode, E.NONE, String(first.errorMessage));
  assert.ok(first.memberEpoch >= 1);
  assert.deepEqual(statusCodes(first), [Status.MISSING_SOURCE_TOPICS]);
  assert.equal(
    first.status!.find((s) => s.statusCode === Status.MISSING_SOURCE_TOPICS)!.statusDetail,
    `Source topics ${source} are missing.`,
  );
  assert.deepEqual(tasks(first.activeTasks), []);

  // Once it exists, the internal topics are missing: they are created, sized from the source (3).
  await createTopic(source, 3);
  let r = await heartbeat({ memberId: "m1", memberEpoch: first.memberEpoch });
  for (let i = 0; i < 50 && statusCodes(r).includes(Status.MISSING_SOURCE_TOPICS); i++) {
    await new Promise((res) => setTimeout(res, 200));
    r = await heartbeat({ memberId: "m1", memberEpoch: r.memberEpoch });
  }
  assert.equal(r.errorCode, E.NONE, String(r.errorMessage));
  assert.deepEqual(statusCodes(r), [Status.MISSING_INTERNAL_TOPICS]);
  // (Kafka lists them in no fixed order.)
  const internalDetail = r.status!.find((s) => s.statusCode === Status.MISSING_INTERNAL_TOPICS)!.statusDetail;
  const prefix = "Internal topics are missing: ";
  assert.ok(internalDetail.startsWith(prefix), internalDetail);
  assert.deepEqual(internalDetail.slice(prefix.length).split(", ").sort(), [changelog, repartition].sort());
  let epoch = r.memberEpoch;
  let active: string[] = [];
  for (let i = 0; i < 50 && active.length === 0; i++) {
    await new Promise((res) => setTimeout(res, 200));
    r = await heartbeat({ memberId: "m1", memberEpoch: epoch });
    assert.equal(r.errorCode, E.NONE, String(r.errorMessage));
    epoch = r.memberEpoch;
    active = tasks(r.activeTasks) ?? active;
  }
  assert.deepEqual(active, ["0_0", "0_1", "0_2", "1_0", "1_1", "1_2"]);
  assert.deepEqual(statusCodes(r), []);
  assert.equal(await partitionsOf(repartition), 3);
  assert.equal(await partitionsOf(changelog), 3);

  // A second member in another process: m1 must give up tasks first; m2 gets them once they are released.
  const second = await join("m2", "p2");
  assert.equal(second.errorCode, E.NONE, String(second.errorMessage));
  assert.deepEqual(tasks(second.activeTasks), [], "nothing before m1 revokes");
  // (Kafka 4.4 computes a new assignment at most every group.streams.assignment.interval.ms: ASSIGNMENT_DELAYED meanwhile.)
  let kept: string[] = active;
  for (let i = 0; i < 50 && kept.length === active.length; i++) {
    if (i > 0) await new Promise((res) => setTimeout(res, 200));
    r = await heartbeat({ memberId: "m1", memberEpoch: epoch });
    kept = tasks(r.activeTasks) ?? kept;
  }
  assert.equal(kept.length, 3, JSON.stringify(r.activeTasks));
  assert.ok(
    kept.every((t) => active.includes(t)),
    "m1 keeps tasks it had",
  );
  assert.equal(r.memberEpoch, epoch, "the epoch stays until the revocation is done");
  let m2 = await heartbeat({ memberId: "m2", memberEpoch: second.memberEpoch });
  assert.deepEqual(tasks(m2.activeTasks) ?? [], [], "m1 still owns them");
  r = await heartbeat({
    memberId: "m1",
    memberEpoch: epoch,
    activeTasks: owned(kept),
    standbyTasks: [],
    warmupTasks: [],
  });
  assert.ok(r.memberEpoch > epoch, "revoked: m1 moves to the new epoch");
  epoch = r.memberEpoch;
  m2 = await heartbeat({ memberId: "m2", memberEpoch: m2.memberEpoch });
  const given = tasks(m2.activeTasks)!;
  assert.deepEqual([...kept, ...given].sort(), active);
  const m2Epoch = m2.memberEpoch;
  assert.equal(m2Epoch, epoch);

  // OffsetCommit v9 carries the member epoch. An older epoch than the member's (Kafka 4.4) is accepted for the
  // partitions of tasks the member had at that epoch already, refused (STALE_MEMBER_EPOCH) for the others.
  const topicOf = (task: string) => (task.startsWith("0_") ? source : repartition);
  const commit = (memberId: string, generationIdOrMemberEpoch: number, task: string) =>
    c.request(
      ApiKey.OffsetCommit,
      9,
      createOffsetCommitRequest({
        groupId: group,
        memberId,
        generationIdOrMemberEpoch,
        topics: [
          {
            name: topicOf(task),
            topicId: "AAAAAAAAAAAAAAAAAAAAAA",
            partitions: [
              {
                partitionIndex: Number(task.split("_")[1]),
                committedOffset: 0n,
                committedLeaderEpoch: -1,
                commitTimestamp: -1n,
                committedMetadata: null,
              },
            ],
          },
        ],
      }),
    );
  const commitError = async (memberId: string, memberEpoch: number, task: string) =>
    (await commit(memberId, memberEpoch, task)).topics[0]!.partitions[0]!.errorCode;
  assert.equal(await commitError("m1", epoch, kept[0]!), E.NONE);
  assert.equal(await commitError("m1", epoch - 1, kept[0]!), E.NONE, "a task m1 had before");
  assert.equal(await commitError("m1", epoch - 1, given[0]!), E.STALE_MEMBER_EPOCH, "a task m1 gave up");
  assert.equal(await commitError("m2", epoch - 1, given[0]!), E.STALE_MEMBER_EPOCH, "m2 got it at the new epoch");
  assert.equal(await commitError("m2", epoch + 1, given[0]!), E.STALE_MEMBER_EPOCH, "a newer epoch too");
  assert.equal(await commitError("nobody", epoch, kept[0]!), E.UNKNOWN_MEMBER_ID);

  // The group's type, everywhere.
  const listed = await c.request(
    ApiKey.ListGroups,
    5,
    createListGroupsRequest({ statesFilter: [], typesFilter: ["streams"] }),
  );
  assert.deepEqual(
    listed.groups.filter((g) => g.groupId === group).map((g) => [g.groupType, g.protocolType]),
    [["streams", "streams"]],
  );
  const classic = await c.request(ApiKey.DescribeGroups, 6, createDescribeGroupsRequest({ groups: [group] }));
  assert.deepEqual(
    [classic.groups[0]!.errorCode, classic.groups[0]!.errorMessage],
    [E.GROUP_ID_NOT_FOUND, `Group ${group} is not a classic group.`],
  );
  const consumer = await c.request(
    ApiKey.ConsumerGroupHeartbeat,
    1,
    createConsumerGroupHeartbeatRequest({
      groupId: group,
      memberId: "c1",
      memberEpoch: 0,
      rebalanceTimeoutMs: 1000,
      subscribedTopicNames: [source],
      topicPartitions: [],
    }),
  );
  assert.deepEqual(
    [consumer.errorCode, consumer.errorMessage],
    [E.GROUP_ID_NOT_FOUND, `Group ${group} is not a consumer group.`],
  );

  // StreamsGroupDescribe: the members with their tasks, the topology with the internal topics' sizes.
  const described = (
    await c.request(ApiKey.StreamsGroupDescribe, 1, createStreamsGroupDescribeRequest({ groupIds: [group] }))
  ).groups[0]!;
  assert.equal(described.errorCode, E.NONE);
  assert.equal(described.groupState, "Stable");
  assert.deepEqual(described.members.map((m) => [m.memberId, m.processId, tasks(m.assignment.activeTasks)]).sort(), [
    ["m1", "p1", kept],
    ["m2", "p2", given],
  ]);
  const sub1 = described.topology!.subtopologies!.find((s) => s.subtopologyId === "1")!;
  assert.deepEqual(
    [
      sub1.repartitionSourceTopics[0]!.name,
      sub1.repartitionSourceTopics[0]!.partitions,
      sub1.stateChangelogTopics[0]!.partitions,
    ],
    [repartition, 3, 3],
  );
  const missing = (
    await c.request(ApiKey.StreamsGroupDescribe, 1, createStreamsGroupDescribeRequest({ groupIds: [`${group}-none`] }))
  ).groups[0]!;
  assert.equal(missing.errorCode, E.GROUP_ID_NOT_FOUND);

  // One standby per stateful task (group config), on the other process; more than the broker's maximum (2) is refused.
  const setConfig = (name: string, value: string) =>
    c.request(
      ApiKey.IncrementalAlterConfigs,
      1,
      createIncrementalAlterConfigsRequest({
        resources: [
          {
            resourceType: GROUP_RESOURCE,
            resourceName: group,
            configs: [{ name, configOperation: 0, value }],
          },
        ],
      }),
    );
  const tooMany = (await setConfig("streams.num.standby.replicas", "3")).responses[0]!;
  const tooShort = (await setConfig("streams.session.timeout.ms", "1000")).responses[0]!;
  assert.deepEqual(
    [tooMany.errorCode, tooMany.errorMessage],
    [E.INVALID_CONFIG, "streams.num.standby.replicas must be less than or equal to 2"],
  );
  assert.deepEqual(
    [tooShort.errorCode, tooShort.errorMessage],
    [E.INVALID_CONFIG, "streams.session.timeout.ms must be in the range 45000 to 60000 inclusive."],
    "outside group.streams.min/max.session.timeout.ms",
  );
  assert.equal((await setConfig("streams.num.standby.replicas", "1")).responses[0]!.errorCode, E.NONE);
  let standbys: string[] = [];
  let m2Standbys: string[] = [];
  for (let i = 0; i < 50 && (standbys.length === 0 || m2Standbys.length === 0); i++) {
    await new Promise((res) => setTimeout(res, 200));
    r = await heartbeat({ memberId: "m1", memberEpoch: epoch });
    epoch = r.memberEpoch;
    standbys = tasks(r.standbyTasks) ?? standbys;
    m2 = await heartbeat({ memberId: "m2", memberEpoch: m2.memberEpoch });
    m2Standbys = tasks(m2.standbyTasks) ?? m2Standbys;
  }
  // Standbys only for subtopology 1 (it has the store), each on the process without the active task.
  assert.deepEqual(
    standbys,
    given.filter((t) => t.startsWith("1_")),
  );
  assert.deepEqual(
    m2Standbys,
    kept.filter((t) => t.startsWith("1_")),
  );

  // Copartitioned sources with different partition counts.
  await createTopic(other, 2);
  const copartitioned: StreamsGroupHeartbeatRequestTopology = {
    epoch: 0,
    subtopologies: [
      {
        subtopologyId: "0",
        sourceTopics: [source, other],
        sourceTopicRegex: [],
        stateChangelogTopics: [],
        repartitionSinkTopics: [],
        repartitionSourceTopics: [],
        copartitionGroups: [{ sourceTopics: [0, 1], sourceTopicRegex: [], repartitionSourceTopics: [] }],
      },
    ],
  };
  let copartGroup = await heartbeat(
    {
      memberId: "x1",
      memberEpoch: 0,
      processId: "px",
      rebalanceTimeoutMs: 30_000,
      topology: copartitioned,
      activeTasks: [],
      standbyTasks: [],
      warmupTasks: [],
    },
    `${group}-copart`,
  );
  assert.equal(copartGroup.errorCode, E.NONE, String(copartGroup.errorMessage));
  // (Kafka's coordinator sees a new topic a moment after CreateTopics answers.)
  for (let i = 0; i < 50 && statusCodes(copartGroup).includes(Status.MISSING_SOURCE_TOPICS); i++) {
    await new Promise((res) => setTimeout(res, 200));
    copartGroup = await heartbeat({ memberId: "x1", memberEpoch: copartGroup.memberEpoch }, `${group}-copart`);
  }
  assert.deepEqual(statusCodes(copartGroup), [Status.INCORRECTLY_PARTITIONED_TOPICS]);
  assert.equal(
    copartGroup.status!.find((x) => x.statusCode === Status.INCORRECTLY_PARTITIONED_TOPICS)!.statusDetail,
    `Following topics do not have the same number of partitions: [{${other}=2, ${source}=3}]`,
  );
  assert.deepEqual(tasks(copartGroup.activeTasks) ?? [], []);

  // Leaving: a group with members is not deleted; then it is.
  const leave = await heartbeat({ memberId: "x1", memberEpoch: -1 }, `${group}-copart`);
  assert.deepEqual([leave.errorCode, leave.memberEpoch], [E.NONE, -1]);
  const notEmpty = await c.request(ApiKey.DeleteGroups, 2, createDeleteGroupsRequest({ groupsNames: [group] }));
  assert.equal(notEmpty.results[0]!.errorCode, E.NON_EMPTY_GROUP);
  for (const m of ["m1", "m2"]) assert.equal((await heartbeat({ memberId: m, memberEpoch: -1 })).errorCode, E.NONE);
  const deleted = await c.request(
    ApiKey.DeleteGroups,
    2,
    createDeleteGroupsRequest({ groupsNames: [group, `${group}-copart`] }),
  );
  assert.deepEqual(
    deleted.results.map((x) => x.errorCode),
    [E.NONE, E.NONE],
  );
  const gone = await heartbeat({ memberId: "m1", memberEpoch: epoch });
  assert.equal(gone.errorCode, E.GROUP_ID_NOT_FOUND);
});

test(
  `a streams group's members and tasks survive a broker restart (${TARGET_KIND})`,
  { skip, timeout: 120_000 },
  async () => {
    const restartGroup = `${group}-restart`;
    await findCoordinator();
    const joined = await heartbeat(
      {
        memberId: "r1",
        memberEpoch: 0,
        processId: "pr",
        rebalanceTimeoutMs: 30_000,
        topology: topology(),
        activeTasks: [],
        standbyTasks: [],
        warmupTasks: [],
      },
      restartGroup,
    );
    assert.equal(joined.errorCode, E.NONE, String(joined.errorMessage));
    let r = joined;
    let active: string[] = tasks(joined.activeTasks) ?? [];
    for (let i = 0; i < 50 && active.length < 6; i++) {
      await new Promise((res) => setTimeout(res, 200));
      r = await heartbeat({ memberId: "r1", memberEpoch: r.memberEpoch }, restartGroup);
      active = tasks(r.activeTasks) ?? active;
    }
    assert.equal(active.length, 6);
    const epoch = r.memberEpoch;
    c.close();
    await target.kill9();
    await target.restart();
    c = await RawClient.connect(Number(target.bootstrap.split(":")[1]));
    const back = await heartbeat(
      { memberId: "r1", memberEpoch: epoch, activeTasks: owned(active), standbyTasks: [], warmupTasks: [] },
      restartGroup,
    );
    assert.deepEqual([back.errorCode, back.memberEpoch], [E.NONE, epoch], String(back.errorMessage));
    const described = (
      await c.request(ApiKey.StreamsGroupDescribe, 1, createStreamsGroupDescribeRequest({ groupIds: [restartGroup] }))
    ).groups[0]!;
    assert.deepEqual(
      described.members.map((m) => [m.memberId, m.memberEpoch, tasks(m.assignment.activeTasks)]),
      [["r1", epoch, active]],
    );
    assert.equal(described.topology?.epoch, 0);

    // A member asks for the application to shut down: every member is told so in its status.
    const shutdown = await heartbeat({ memberId: "r1", memberEpoch: epoch, shutdownApplication: true }, restartGroup);
    assert.equal(shutdown.errorCode, E.NONE);
    assert.deepEqual(
      shutdown.status?.filter((s) => s.statusCode === 4).map((s) => s.statusDetail),
      ["Streams group member r1 encountered a fatal error and requested a shutdown for the entire application."],
    );
    assert.equal((await heartbeat({ memberId: "r1", memberEpoch: -1 }, restartGroup)).errorCode, E.NONE);
  },
);

test(
  `a static member leaves for a while and its successor takes its tasks (${TARGET_KIND})`,
  { skip, timeout: 60_000 },
  async () => {
    const staticGroup = `${group}-static`;
    await findCoordinator();
    const joinAs = (memberId: string) =>
      heartbeat(
        {
          memberId,
          memberEpoch: 0,
          instanceId: "instance-1",
          processId: "ps",
          rebalanceTimeoutMs: 30_000,
          topology: topology(),
          activeTasks: [],
          standbyTasks: [],
          warmupTasks: [],
        },
        staticGroup,
      );
    const first = await joinAs("s1");
    assert.equal(first.errorCode, E.NONE, String(first.errorMessage));
    let r = first;
    let active = tasks(first.activeTasks) ?? [];
    for (let i = 0; i < 50 && active.length < 6; i++) {
      await new Promise((res) => setTimeout(res, 200));
      r = await heartbeat({ memberId: "s1", memberEpoch: r.memberEpoch }, staticGroup);
      active = tasks(r.activeTasks) ?? active;
    }
    assert.equal(active.length, 6);
    // The instance id is taken while its member is there.
    const taken = await joinAs("s9");
    assert.deepEqual(
      [taken.errorCode, taken.errorMessage],
      [
        E.UNRELEASED_INSTANCE_ID,
        "Static member s9 with instance id instance-1 cannot join the group because the instance id is owned by s1 member.",
      ],
    );
    // Leaving for a while (-2), then a new member with the instance id: it takes the epoch and the tasks, no rebalance.
    const left = await heartbeat({ memberId: "s1", memberEpoch: -2, instanceId: "instance-1" }, staticGroup);
    assert.deepEqual([left.errorCode, left.memberEpoch], [E.NONE, -2]);
    const next = await joinAs("s2");
    assert.deepEqual([next.errorCode, next.memberEpoch, tasks(next.activeTasks)], [E.NONE, r.memberEpoch, active]);
    const described = (
      await c.request(ApiKey.StreamsGroupDescribe, 1, createStreamsGroupDescribeRequest({ groupIds: [staticGroup] }))
    ).groups[0]!;
    assert.deepEqual(
      described.members.map((m) => [m.memberId, m.instanceId, m.memberEpoch]),
      [["s2", "instance-1", r.memberEpoch]],
    );
    assert.equal(described.groupEpoch, r.memberEpoch, "no rebalance");
    assert.equal((await heartbeat({ memberId: "s2", memberEpoch: -1 }, staticGroup)).errorCode, E.NONE);
  },
);
