import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";
import { OffsetExpiry, type ExpiryGroup } from "../src/group/expiry.js";
import { OffsetStore } from "../src/group/offset-store.js";
import { FakeClassicGroup, fakeMetadata, fakeWriter } from "./group-fakes.js";

/** Expiry after offsets.retention.minutes, driven by node:test's mocked clock and interval. */

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const RETENTION_MINUTES = 60;
const CHECK_MS = 10 * MINUTE;

beforeEach(() => mock.timers.enable({ apis: ["setInterval", "Date"], now: T0 }));
afterEach(() => mock.timers.reset());

/** Lets a pass started by the interval run to its end (the fake writer answers at once). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup() {
  const groups = new Map<string, ExpiryGroup>();
  const writer = fakeWriter();
  const offsets = new OffsetStore({
    config: { props: { "offset.metadata.max.bytes": 4096 } },
    metadata: fakeMetadata({ t: 1 }),
    group: () => undefined,
    createSimpleGroup: () => undefined,
    write: writer.write,
  });
  const removed: string[] = [];
  const logged: string[] = [];
  const expiry = new OffsetExpiry<ExpiryGroup>({
    config: {
      props: { "offsets.retention.minutes": RETENTION_MINUTES, "offsets.retention.check.interval.ms": CHECK_MS },
    },
    log: { info: (m) => logged.push(m) },
    offsets,
    groups: () => [...groups.values()],
    removeGroup: (g) => {
      removed.push(g.groupId);
      groups.delete(g.groupId);
    },
    write: writer.write,
  });
  const commit = (groupId: string, topic: string, expireTimestamp = -1) =>
    offsets.set(groupId, topic, 0, {
      offset: 1n,
      leaderEpoch: -1,
      metadata: "",
      commitTimestamp: Date.now(),
      expireTimestamp,
    });
  return { groups, writer, offsets, expiry, removed, logged, commit };
}

test("an empty group's offsets expire after offsets.retention.minutes, then the group goes", async () => {
  const { groups, writer, offsets, expiry, removed, logged, commit } = setup();
  groups.set("simple", new FakeClassicGroup("simple"));
  commit("simple", "t");
  expiry.start();
  expiry.start(); // a second start does not add a second timer
  mock.timers.tick(RETENTION_MINUTES * MINUTE - CHECK_MS);
  await settle();
  assert.ok(offsets.has("simple"), "not yet, after 50 minutes");
  mock.timers.tick(CHECK_MS);
  await settle();
  assert.equal(offsets.has("simple"), false, "gone at 60 minutes");
  assert.deepEqual(removed, ["simple"]);
  assert.deepEqual(logged, ["expired 1 committed offsets"]);
  assert.equal(writer.written.length, 1, "one write: the offset's tombstone, then the group's");
  assert.deepEqual(
    writer.written[0]!.records.map((r) => [r.type, r.value]),
    [
      ["offset", null],
      ["group", null],
    ],
  );
  expiry.stop();
  mock.timers.tick(10 * CHECK_MS);
  await settle();
  assert.equal(writer.written.length, 1, "stopped: no more passes");
});

test("a group with members keeps the offsets of the topics it subscribes to, for ever", async () => {
  const { groups, offsets, expiry, removed, commit } = setup();
  const g = new FakeClassicGroup("busy");
  g.state = "Stable";
  g.protocolType = "consumer";
  g.members.set("m1", null);
  g.subscription = new Set(["t"]);
  groups.set("busy", g);
  commit("busy", "t");
  commit("busy", "gone");
  expiry.start();
  mock.timers.tick(100 * RETENTION_MINUTES * MINUTE);
  await settle();
  assert.deepEqual([...(offsets.committed("busy")?.keys() ?? [])], ["t"], "the unsubscribed topic's offset went");
  assert.deepEqual(removed, []);
  expiry.stop();
});

test("a group with members whose subscription is not known is left alone", async () => {
  const { groups, offsets, expiry, commit } = setup();
  const g = new FakeClassicGroup("opaque");
  g.state = "Stable";
  g.members.set("m1", null);
  groups.set("opaque", g);
  commit("opaque", "t");
  assert.equal(await expiry.expire(T0 + 100 * RETENTION_MINUTES * MINUTE), 0);
  assert.ok(offsets.has("opaque"));
});

test("a member id still to come back (KIP-394) keeps the group from being empty", async () => {
  const { groups, offsets, expiry, commit } = setup();
  const g = new FakeClassicGroup("pending");
  g.pendingMembers.add("m1");
  groups.set("pending", g);
  commit("pending", "t");
  assert.equal(await expiry.expire(T0 + 2 * RETENTION_MINUTES * MINUTE), 0);
  assert.ok(offsets.has("pending"));
});

test("a classic group's retention counts from when it became empty, if later than the commit", async () => {
  const { groups, offsets, expiry, commit } = setup();
  const g = new FakeClassicGroup("was-busy");
  g.protocolType = "consumer";
  groups.set("was-busy", g);
  commit("was-busy", "t");
  g.stateTimestamp = T0 + 30 * MINUTE;
  assert.equal(await expiry.expire(T0 + RETENTION_MINUTES * MINUTE), 0, "emptied 30 minutes after the commit");
  assert.equal(await expiry.expire(T0 + (RETENTION_MINUTES + 30) * MINUTE), 1);
  assert.equal(offsets.has("was-busy"), false);
});

test("an offset with its own expiry time expires then, even in a group with members", async () => {
  const { groups, offsets, expiry, commit } = setup();
  const g = new FakeClassicGroup("own");
  g.state = "Stable";
  g.members.set("m1", null);
  g.subscription = new Set();
  groups.set("own", g);
  commit("own", "t", T0 + MINUTE);
  assert.equal(await expiry.expire(T0 + MINUTE - 1), 0);
  assert.equal(await expiry.expire(T0 + MINUTE), 1);
  assert.equal(offsets.has("own"), false);
  assert.ok(groups.has("own"), "a group with members stays");
});

test("an empty consumer-protocol group goes with its offsets; its tombstone is a consumer group's", async () => {
  const { groups, writer, expiry, removed, commit } = setup();
  groups.set("c", { kind: "consumer", groupId: "c", members: new Map(), subscribedTopics: () => new Set() });
  commit("c", "t");
  assert.equal(await expiry.expire(T0 + RETENTION_MINUTES * MINUTE), 1);
  assert.deepEqual(removed, ["c"]);
  assert.deepEqual(
    writer.written[0]!.records.map((r) => [r.type, r.value]),
    [
      ["offset", null],
      ["consumer-group", null],
    ],
  );
});
