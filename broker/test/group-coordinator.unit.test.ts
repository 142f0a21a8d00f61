import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";
import { createConsumerGroupHeartbeatRequest, type ConsumerGroupHeartbeatRequest } from "@tskafka/protocol";
import { buildConfig } from "../src/config.js";
import { ErrorCode } from "../src/errors.js";
import { GroupCoordinator, type CommitRequest, type CoordinatorTopic } from "../src/group/coordinator.js";
import { Logger } from "../src/logger.js";
import { fakeMetadata, fakeWriter } from "./group-fakes.js";

/**
 * The coordinator as the router over its parts, with a fake `__consumer_offsets` and node:test's mocked
 * timers: KIP-848 session timeouts fence members, and what follows for offsets, expiry and deletion.
 */

const T0 = 1_700_000_000_000;
const SESSION_MS = 45_000;

beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: T0 }));
afterEach(() => mock.timers.reset());

function setup() {
  const writer = fakeWriter();
  const topic: CoordinatorTopic = {
    partitions: 1,
    partitionFor: () => 0,
    ensureCreated: () => Promise.resolve(),
    append: (groupId, records) => writer.write(groupId, [...records]),
    appendTxn: (groupId, records) => writer.write(groupId, [...records]),
    appendMarker: () => Promise.resolve(ErrorCode.NONE),
    load: () => Promise.resolve(0),
  };
  const config = buildConfig({
    port: 0,
    file: new Map([
      ["group.consumer.session.timeout.ms", String(SESSION_MS)],
      ["offsets.retention.minutes", "60"],
    ]),
  });
  const metadata = fakeMetadata({ t: 2 });
  const coordinator = new GroupCoordinator({ config, log: new Logger("error"), metadata }, topic);
  return { coordinator, writer, topicId: metadata.topic("t")!.id };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function heartbeat(c: GroupCoordinator, init: Partial<ConsumerGroupHeartbeatRequest>) {
  return c.consumerHeartbeat(createConsumerGroupHeartbeatRequest({ groupId: "g", ...init }), "client", "/127.0.0.1");
}

function join(c: GroupCoordinator) {
  return heartbeat(c, { memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ["t"], topicPartitions: [] });
}

function commitAs(c: GroupCoordinator, memberId: string, epoch: number): Promise<number> {
  const req: CommitRequest = {
    groupId: "g",
    generationIdOrMemberEpoch: epoch,
    memberId,
    groupInstanceId: null,
    retentionTimeMs: -1n,
    apiVersion: 9,
    topics: [
      {
        name: "t",
        partitions: [{ partitionIndex: 0, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: null }],
      },
    ],
  };
  return c.commitOffsets(req).then((r) => r[0]!.partitions[0]!.errorCode);
}

test("a KIP-848 member that stops heartbeating is fenced after the session timeout", async () => {
  const { coordinator, writer, topicId } = setup();
  const joined = join(coordinator);
  assert.equal(joined.errorCode, ErrorCode.NONE);
  assert.equal(joined.memberEpoch, 1);
  assert.deepEqual(joined.assignment?.get(topicId), [0, 1]);
  const memberId = joined.memberId!;
  assert.equal(await commitAs(coordinator, memberId, 1), ErrorCode.NONE);
  assert.equal(await commitAs(coordinator, memberId, 0), ErrorCode.STALE_MEMBER_EPOCH);
  assert.equal(await commitAs(coordinator, memberId, 2), ErrorCode.FENCED_MEMBER_EPOCH);

  mock.timers.tick(SESSION_MS - 1);
  const again = heartbeat(coordinator, { memberId, memberEpoch: 1 });
  assert.equal(again.errorCode, ErrorCode.NONE, "still a member just before the timeout");
  mock.timers.tick(SESSION_MS - 1);
  assert.equal(coordinator.group("g")?.members.size, 1, "the heartbeat restarted the session");
  const before = writer.written.length;
  mock.timers.tick(1);
  const group = coordinator.group("g");
  assert.equal(group?.kind, "consumer");
  assert.equal(group.members.size, 0, "fenced");
  assert.equal(group.state, "Empty");
  assert.equal(group.kind === "consumer" && group.groupEpoch, 2, "the group epoch moved");
  await settle();
  assert.deepEqual(
    writer.written.slice(before).flatMap((w) => w.records.map((r) => [r.type, r.value === null])),
    [
      ["consumer-assignment", true],
      ["consumer-member", true],
      ["consumer-group", false],
    ],
    "the member's tombstones and the new group epoch are written",
  );
  assert.equal(heartbeat(coordinator, { memberId, memberEpoch: 1 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(await commitAs(coordinator, memberId, 1), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(await commitAs(coordinator, "", -1), ErrorCode.NONE, "an empty group takes commits from outside");
  coordinator.stop();
});

test("an empty consumer group and its offsets expire through the coordinator's timer", async () => {
  const { coordinator } = setup();
  coordinator.start();
  const memberId = join(coordinator).memberId!;
  assert.equal(await commitAs(coordinator, memberId, 1), ErrorCode.NONE);
  assert.equal(heartbeat(coordinator, { memberId, memberEpoch: -1 }).errorCode, ErrorCode.NONE, "leaves");
  mock.timers.tick(59 * 60_000);
  await settle();
  assert.deepEqual(
    coordinator.list().map((g) => [g.groupId, g.state]),
    [["g", "Empty"]],
  );
  mock.timers.tick(60_000);
  await settle();
  mock.timers.tick(10 * 60_000);
  await settle();
  assert.deepEqual(coordinator.list(), [], "expired at the first check after 60 minutes");
  const fetched = coordinator.fetchOffsets("g", [{ name: "t", partitionIndexes: [0] }], null);
  assert.equal(fetched.topics[0]!.partitions[0]!.committedOffset, -1n);
  coordinator.stop();
});

test("a group with a member is not deleted; once empty, DeleteGroups writes its tombstones", async () => {
  const { coordinator, writer } = setup();
  const memberId = join(coordinator).memberId!;
  await commitAs(coordinator, memberId, 1);
  assert.equal(await coordinator.deleteGroup("g"), ErrorCode.NON_EMPTY_GROUP);
  mock.timers.tick(SESSION_MS);
  await settle();
  const before = writer.written.length;
  assert.equal(await coordinator.deleteGroup("g"), ErrorCode.NONE);
  assert.deepEqual(
    writer.written.slice(before).flatMap((w) => w.records.map((r) => [r.type, r.value])),
    [
      ["offset", null],
      ["consumer-group", null],
    ],
  );
  assert.equal(coordinator.group("g"), undefined);
  assert.equal(await coordinator.deleteGroup("g"), ErrorCode.GROUP_ID_NOT_FOUND);
  coordinator.stop();
});

test("a first join that fails leaves no group behind; request checks come first", () => {
  const { coordinator } = setup();
  const bad = heartbeat(coordinator, {
    memberEpoch: 0,
    rebalanceTimeoutMs: 30_000,
    subscribedTopicNames: ["t"],
    serverAssignor: "no-such-assignor",
  });
  assert.equal(bad.errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
  assert.equal(coordinator.group("g"), undefined);
  assert.equal(heartbeat(coordinator, { memberEpoch: 0 }).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal(heartbeat(coordinator, { memberId: "x", memberEpoch: 3 }).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
});

test("an empty consumer group is taken over by a classic join, and a classic member is refused by it", async () => {
  const { coordinator, writer } = setup();
  const memberId = join(coordinator).memberId!;
  const classic = {
    memberId: "",
    groupInstanceId: null,
    clientId: "c",
    clientHost: "/127.0.0.1",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: Buffer.alloc(0) }],
    requireKnownMemberId: true,
  };
  const refused = await coordinator.join("g", classic);
  assert.equal(refused.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL, "the consumer group has a member");
  heartbeat(coordinator, { memberId, memberEpoch: -1 });
  await settle();
  const before = writer.written.length;
  const taken = await coordinator.join("g", classic);
  assert.equal(taken.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.equal(coordinator.group("g")?.kind, "classic");
  await settle();
  assert.deepEqual(
    writer.written.slice(before).flatMap((w) => w.records.map((r) => [r.type, r.value])),
    [["consumer-group", null]],
  );
  coordinator.stop();
});
