import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";
import { ErrorCode } from "../src/errors.js";
import { OffsetStore, type CommitRequest, type OffsetGroup } from "../src/group/offset-store.js";
import { FakeClassicGroup, fakeMetadata, fakeWriter } from "./group-fakes.js";

/** OffsetCommit, OffsetFetch and OffsetDelete semantics of the offset store, with fake groups and writer. */

const NOW = 1_700_000_000_000;

beforeEach(() => mock.timers.enable({ apis: ["Date"], now: NOW }));
afterEach(() => mock.timers.reset());

function setup(maxMetadata = 10) {
  const groups = new Map<string, OffsetGroup>();
  const writer = fakeWriter();
  const store = new OffsetStore({
    config: { props: { "offset.metadata.max.bytes": maxMetadata } },
    metadata: fakeMetadata({ t: 2, u: 1 }),
    group: (id) => groups.get(id),
    createSimpleGroup: (id) => void groups.set(id, new FakeClassicGroup(id)),
    write: writer.write,
  });
  return { groups, writer, store };
}

function commit(
  groupId: string,
  offsets: [topic: string, partition: number, offset: bigint, metadata?: string][],
  member: Partial<CommitRequest> = {},
): CommitRequest {
  const topics = new Map<string, CommitRequest["topics"][number]>();
  for (const [name, partitionIndex, committedOffset, committedMetadata] of offsets) {
    if (!topics.has(name)) topics.set(name, { name, partitions: [] });
    topics.get(name)!.partitions.push({
      partitionIndex,
      committedOffset,
      committedLeaderEpoch: 3,
      committedMetadata: committedMetadata ?? null,
    });
  }
  return {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    retentionTimeMs: -1n,
    apiVersion: 8,
    topics: [...topics.values()],
    ...member,
  };
}

const codes = (r: { partitions: { errorCode: number }[] }[]) => r.flatMap((t) => t.partitions.map((p) => p.errorCode));

test("a commit from outside group management makes a simple group; fetch gives the offsets back", async () => {
  const { groups, writer, store } = setup();
  const r = await store.commit(
    commit("simple", [
      ["t", 0, 5n, "m"],
      ["t", 1, 6n],
      ["u", 0, 7n],
    ]),
  );
  assert.deepEqual(codes(r), [0, 0, 0]);
  assert.equal(groups.get("simple")?.kind, "classic", "the simple group exists");
  assert.equal(writer.written.length, 1, "one write for the whole commit");
  const [first] = writer.written[0]!.records;
  assert.equal(first?.type, "offset");
  if (first?.type === "offset") {
    assert.deepEqual([first.group, first.topic, first.partition], ["simple", "t", 0]);
    assert.equal(first.value?.offset, 5n);
    assert.equal(first.value?.commitTimestamp, BigInt(NOW));
    assert.equal(first.value?.expireTimestamp, -1n);
  }
  const one = store.fetch("simple", [{ name: "t", partitionIndexes: [0, 1] }], null);
  assert.deepEqual(one, {
    errorCode: 0,
    topics: [
      {
        name: "t",
        partitions: [
          { partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: 3, metadata: "m", errorCode: 0 },
          { partitionIndex: 1, committedOffset: 6n, committedLeaderEpoch: 3, metadata: "", errorCode: 0 },
        ],
      },
    ],
  });
  const all = store.fetch("simple", null, null);
  assert.deepEqual(
    all.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)]),
    [
      ["t", [5n, 6n]],
      ["u", [7n]],
    ],
  );
  assert.equal(store.committed("simple")?.get("t")?.get(0)?.commitTimestamp, NOW);
});

test("an offset never committed is fetched as -1; an unknown group has no offsets", () => {
  const { store } = setup();
  const r = store.fetch("nobody", [{ name: "t", partitionIndexes: [1] }], null);
  assert.deepEqual(r.topics[0]!.partitions[0], {
    partitionIndex: 1,
    committedOffset: -1n,
    committedLeaderEpoch: -1,
    metadata: "",
    errorCode: 0,
  });
  assert.deepEqual(store.fetch("nobody", null, null), { errorCode: 0, topics: [] });
});

test("per partition: unknown topic or partition, metadata too large; the rest is committed", async () => {
  const { writer, store } = setup(4);
  const r = await store.commit(
    commit("g", [
      ["t", 0, 1n, "four"],
      ["t", 2, 1n],
      ["nope", 0, 1n],
      ["u", 0, 1n, "fives"],
    ]),
  );
  assert.deepEqual(codes(r), [
    ErrorCode.NONE,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ErrorCode.OFFSET_METADATA_TOO_LARGE,
  ]);
  assert.equal(writer.written[0]!.records.length, 1);
  assert.equal(store.committed("g")?.size, 1);
});

test("a commit with an explicit retention carries its expiry time", async () => {
  const { writer, store } = setup();
  await store.commit(commit("g", [["t", 0, 1n]], { retentionTimeMs: 60_000n, apiVersion: 2 }));
  assert.equal(store.committed("g")?.get("t")?.get(0)?.expireTimestamp, NOW + 60_000);
  const [rec] = writer.written[0]!.records;
  assert.ok(rec?.type === "offset" && rec.value?.expireTimestamp === BigInt(NOW + 60_000));
});

test("a failed write fails every partition of the commit and changes nothing", async () => {
  const { writer, store } = setup();
  writer.errorCode = ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
  const r = await store.commit(
    commit("g", [
      ["t", 0, 1n],
      ["t", 1, 2n],
    ]),
  );
  assert.deepEqual(codes(r), [ErrorCode.INVALID_COMMIT_OFFSET_SIZE, ErrorCode.INVALID_COMMIT_OFFSET_SIZE]);
  assert.equal(store.committed("g"), undefined);
});

test("a generation to a group that does not exist: ILLEGAL_GENERATION, GROUP_ID_NOT_FOUND from v9", async () => {
  const { groups, writer, store } = setup();
  const v8 = await store.commit(commit("g", [["t", 0, 1n]], { generationIdOrMemberEpoch: 1, memberId: "m" }));
  const v9 = await store.commit(commit("g", [["t", 0, 1n]], { generationIdOrMemberEpoch: 1, apiVersion: 9 }));
  assert.deepEqual([...codes(v8), ...codes(v9)], [ErrorCode.ILLEGAL_GENERATION, ErrorCode.GROUP_ID_NOT_FOUND]);
  assert.equal(groups.size, 0);
  assert.equal(writer.written.length, 0);
});

test("an empty group id is INVALID_GROUP_ID from v1", async () => {
  const { store } = setup();
  assert.deepEqual(codes(await store.commit(commit("", [["t", 0, 1n]], { apiVersion: 1 }))), [
    ErrorCode.INVALID_GROUP_ID,
  ]);
});

test("classic groups: member, generation and state checks, and a valid commit touches the member", async () => {
  const { groups, store } = setup();
  const g = new FakeClassicGroup("g");
  g.state = "Stable";
  g.generationId = 4;
  g.members.set("m1", "static-1");
  groups.set("g", g);
  const attempt = async (member: Partial<CommitRequest>) =>
    codes(await store.commit(commit("g", [["t", 0, 9n]], member)))[0];
  assert.equal(await attempt({ generationIdOrMemberEpoch: 4, memberId: "m1" }), ErrorCode.NONE);
  assert.deepEqual(g.touched, ["m1"]);
  assert.equal(await attempt({ generationIdOrMemberEpoch: 3, memberId: "m1" }), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(await attempt({ generationIdOrMemberEpoch: 4, memberId: "m2" }), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(
    await attempt({ generationIdOrMemberEpoch: 4, memberId: "m2", groupInstanceId: "static-1" }),
    ErrorCode.FENCED_INSTANCE_ID,
  );
  assert.equal(await attempt({}), ErrorCode.UNKNOWN_MEMBER_ID, "no member and no generation, but members");
  g.state = "CompletingRebalance";
  assert.equal(await attempt({ generationIdOrMemberEpoch: 4, memberId: "m1" }), ErrorCode.REBALANCE_IN_PROGRESS);
  g.state = "PreparingRebalance";
  assert.equal(await attempt({ generationIdOrMemberEpoch: 4, memberId: "m1" }), ErrorCode.NONE);
  g.state = "Dead";
  assert.equal(await attempt({ generationIdOrMemberEpoch: 4, memberId: "m1" }), ErrorCode.COORDINATOR_NOT_AVAILABLE);
  g.state = "Empty";
  g.members.clear();
  assert.equal(await attempt({}), ErrorCode.NONE, "an empty group takes commits from outside");
  assert.deepEqual(g.touched, ["m1", "m1"], "only valid members are touched");
});

test("consumer groups: the member epoch is checked on commit and on fetch", async () => {
  const { groups, store } = setup();
  const epochs = new Map([["m1", 5]]);
  let state: "Stable" | "Empty" | "Dead" = "Stable";
  groups.set("c", {
    kind: "consumer",
    get state() {
      return state;
    },
    members: epochs,
    validateMemberEpoch: (memberId, epoch) => {
      const current = epochs.get(memberId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (epoch > current) return ErrorCode.FENCED_MEMBER_EPOCH;
      return epoch < current ? ErrorCode.STALE_MEMBER_EPOCH : ErrorCode.NONE;
    },
    subscribedTopics: () => new Set(["t"]),
  });
  const attempt = async (memberId: string, epoch: number) =>
    codes(await store.commit(commit("c", [["t", 0, 1n]], { memberId, generationIdOrMemberEpoch: epoch })))[0];
  assert.equal(await attempt("m1", 5), ErrorCode.NONE);
  assert.equal(await attempt("m1", 4), ErrorCode.STALE_MEMBER_EPOCH);
  assert.equal(await attempt("m1", 6), ErrorCode.FENCED_MEMBER_EPOCH);
  assert.equal(await attempt("m9", 5), ErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(await attempt("", -1), ErrorCode.UNKNOWN_MEMBER_ID, "commits from outside only when empty");
  const fetchAs = (memberId: string, memberEpoch: number) =>
    store.fetch("c", [{ name: "t", partitionIndexes: [0] }], { memberId, memberEpoch }).errorCode;
  assert.equal(fetchAs("m1", 5), ErrorCode.NONE);
  assert.equal(fetchAs("m1", 4), ErrorCode.STALE_MEMBER_EPOCH);
  assert.equal(fetchAs("m1", -1), ErrorCode.NONE, "no epoch: an admin fetch");
  epochs.clear();
  state = "Empty";
  assert.equal(await attempt("", -1), ErrorCode.NONE);
  state = "Dead";
  assert.equal(await attempt("", -1), ErrorCode.COORDINATOR_NOT_AVAILABLE);
});

test("OffsetDelete: unknown group, subscribed topics, non-empty classic groups; deletions are written", async () => {
  const { groups, writer, store } = setup();
  assert.equal((await store.deleteOffsets("g", [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  await store.commit(
    commit("g", [
      ["t", 0, 1n],
      ["t", 1, 2n],
      ["u", 0, 3n],
    ]),
  );
  const g = groups.get("g") as FakeClassicGroup;
  g.state = "Stable";
  g.members.set("m1", null);
  assert.equal((await store.deleteOffsets("g", [])).errorCode, ErrorCode.NON_EMPTY_GROUP, "subscription unknown");
  g.subscription = new Set(["u"]);
  const written = writer.written.length;
  const r = await store.deleteOffsets("g", [
    { name: "t", partitions: [{ partitionIndex: 0 }, { partitionIndex: 1 }] },
    { name: "u", partitions: [{ partitionIndex: 0 }] },
    { name: "nope", partitions: [{ partitionIndex: 0 }] },
  ]);
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.deepEqual(codes(r.topics), [0, 0, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  assert.deepEqual(
    writer.written.slice(written).flatMap((w) => w.records.map((rec) => rec.type === "offset" && rec.value)),
    [null, null],
    "two tombstones",
  );
  assert.deepEqual([...(store.committed("g")?.keys() ?? [])], ["u"]);
  g.state = "Dead";
  assert.equal((await store.deleteOffsets("g", [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
});

test("replayed records set and delete offsets; tombstones and drop remove a whole group", () => {
  const { store } = setup();
  const value = {
    offset: 8n,
    leaderEpoch: 1,
    metadata: "",
    commitTimestamp: 5n,
    expireTimestamp: -1n,
    topicId: "AAAAAAAAAAAAAAAAAAAAAA",
  };
  store.replay("g", "t", 0, value);
  store.replay("g", "t", 1, value);
  store.replay("g", "t", 1, null);
  assert.deepEqual([...store.groupIds()], ["g"]);
  assert.equal(store.committed("g")?.get("t")?.size, 1);
  assert.equal(store.tombstones("g").length, 1);
  store.delete("g", "t", 0);
  assert.equal(store.has("g"), false, "empty maps go with the last offset");
  store.replay("g", "t", 0, value);
  store.drop("g");
  assert.equal(store.has("g"), false);
});
