import assert from "node:assert/strict";
import { test } from "node:test";
import { createStreamsGroupHeartbeatRequest, type StreamsGroupHeartbeatRequest } from "@tskafka/protocol";
import { ErrorCode } from "../src/errors.js";
import { decodeStreamsRecord, type StreamsRecord } from "../src/streams/records.js";
import { StreamsGroup, type StreamsGroupHost, type StreamsSettings } from "../src/streams/streams-group.js";
import { eachTask, type TaskMap } from "../src/streams/tasks.js";

/**
 * A streams group's state machine alone (no broker): epochs, revocation before assignment, tasks held
 * in another process or (standbys) in the same one, the initial rebalance delay and the assignment
 * interval, a shutdown request, and the records it writes.
 */

function host(settings: Partial<StreamsSettings> = {}) {
  const written: StreamsRecord[] = [];
  const topics: Record<string, number> = { in: 4, "app-rep": 4, "app-log": 4 };
  const h: StreamsGroupHost = {
    settings: () => ({
      sessionTimeoutMs: 60_000,
      heartbeatIntervalMs: 5000,
      numStandbys: 0,
      initialRebalanceDelayMs: 0,
      assignmentIntervalMs: 0,
      maxSize: 100,
      ...settings,
    }),
    partitionsOf: (n) => topics[n],
    topicNames: () => Object.keys(topics),
    persist: (_g, records) => {
      written.push(...records);
      return Promise.resolve(ErrorCode.NONE);
    },
    log: () => undefined,
  };
  return { h, written, topics };
}

const topology = {
  epoch: 1,
  subtopologies: [
    {
      subtopologyId: "0",
      sourceTopics: ["in"],
      sourceTopicRegex: [],
      stateChangelogTopics: [],
      repartitionSinkTopics: ["app-rep"],
      repartitionSourceTopics: [],
      copartitionGroups: [],
    },
    {
      subtopologyId: "1",
      sourceTopics: [],
      sourceTopicRegex: [],
      stateChangelogTopics: [{ name: "app-log", partitions: 0, replicationFactor: 1, topicConfigs: [] }],
      repartitionSinkTopics: [],
      repartitionSourceTopics: [{ name: "app-rep", partitions: 0, replicationFactor: 1, topicConfigs: [] }],
      copartitionGroups: [],
    },
  ],
};

const list = (m: TaskMap | undefined) => (m === undefined ? [] : [...eachTask(m)].map(([s, p]) => `${s}_${p}`));
const wire = (tasks: string[]) => {
  const by = new Map<string, number[]>();
  for (const t of tasks) {
    const [s, p] = t.split("_") as [string, string];
    by.set(s, [...(by.get(s) ?? []), Number(p)]);
  }
  return [...by].map(([subtopologyId, partitions]) => ({ subtopologyId, partitions }));
};

function hb(g: StreamsGroup, r: Partial<StreamsGroupHeartbeatRequest>) {
  const join = r.memberEpoch === undefined || r.memberEpoch === 0;
  const req = createStreamsGroupHeartbeatRequest({
    groupId: g.groupId,
    memberEpoch: 0,
    ...(join
      ? { rebalanceTimeoutMs: 30_000, topology, activeTasks: [], standbyTasks: [], warmupTasks: [], processId: "p" }
      : {}),
    ...r,
  });
  return g.heartbeat(req, "client", "/127.0.0.1");
}

test("two members in two processes: revoke first, then assign; epochs move as the members reconcile", () => {
  const { h } = host();
  const g = new StreamsGroup("app", h);
  const a = hb(g, { memberId: "a", processId: "pa" });
  assert.equal(a.errorCode, ErrorCode.NONE);
  assert.equal(list(a.tasks?.active).length, 8);
  const epoch = a.memberEpoch;
  const b = hb(g, { memberId: "b", processId: "pb" });
  assert.deepEqual(list(b.tasks?.active), [], "b waits for a to let go");
  assert.equal(g.state, "Reconciling");
  const a2 = hb(g, { memberId: "a", memberEpoch: epoch });
  const kept = list(a2.tasks?.active);
  assert.equal(kept.length, 4);
  assert.equal(a2.memberEpoch, epoch, "a stays at its epoch while it revokes");
  // Still owning the revoked tasks: nothing changes.
  const a3 = hb(g, {
    memberId: "a",
    memberEpoch: epoch,
    activeTasks: wire(list(a.tasks!.active)),
    standbyTasks: [],
    warmupTasks: [],
  });
  assert.equal(a3.memberEpoch, epoch);
  const a4 = hb(g, { memberId: "a", memberEpoch: epoch, activeTasks: wire(kept), standbyTasks: [], warmupTasks: [] });
  assert.ok(a4.memberEpoch > epoch);
  const b2 = hb(g, { memberId: "b", memberEpoch: b.memberEpoch });
  assert.equal(b2.memberEpoch, a4.memberEpoch);
  assert.deepEqual([...kept, ...list(b2.tasks?.active)].sort(), list(a.tasks!.active));
  assert.equal(g.state, "Stable");
  // A stale epoch is fenced, an older one with a subset of its tasks is taken (a lost answer).
  assert.equal(hb(g, { memberId: "b", memberEpoch: b2.memberEpoch + 5 }).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  const again = hb(g, {
    memberId: "a",
    memberEpoch: epoch,
    activeTasks: wire(kept),
    standbyTasks: [],
    warmupTasks: [],
  });
  assert.deepEqual([again.errorCode, again.memberEpoch], [ErrorCode.NONE, a4.memberEpoch]);
});

test("threads of one process: an active task moves at once; a standby waits until its process no longer runs it", () => {
  const { h } = host({ numStandbys: 1 });
  const g = new StreamsGroup("app", h);
  const a = hb(g, { memberId: "a", processId: "p1" });
  assert.equal(list(a.tasks?.active).length, 8);
  // A second thread of the same process: it gets its active tasks before a revokes them (same state directory).
  const a2 = hb(g, { memberId: "a2", processId: "p1" });
  assert.equal(list(a2.tasks?.active).length, 4);
  // Another process gets standbys of subtopology 1 (the stateful one) only for tasks no thread of its own runs.
  const b = hb(g, { memberId: "b", processId: "p2" });
  assert.deepEqual(list(b.tasks?.active), []);
  for (const m of [g.members.get("a")!, g.members.get("a2")!])
    assert.ok(list(m.assigned.standby).every((t) => !list(m.assigned.active).includes(t)));
});

test("the initial rebalance delay and the assignment interval hold assignments back (ASSIGNMENT_DELAYED)", async () => {
  const { h } = host({ initialRebalanceDelayMs: 150, assignmentIntervalMs: 150 });
  const g = new StreamsGroup("app", h);
  const a = hb(g, { memberId: "a" });
  assert.deepEqual(
    a.status.map((s) => [s.statusCode, s.statusDetail]),
    [[5, "Assignment delayed due to the configured initial rebalance delay."]],
  );
  assert.deepEqual(list(a.tasks?.active), []);
  await new Promise((r) => setTimeout(r, 200));
  const a2 = hb(g, { memberId: "a", memberEpoch: a.memberEpoch });
  assert.equal(list(a2.tasks?.active).length, 8);
  hb(g, { memberId: "b", processId: "pb" });
  const a3 = hb(g, { memberId: "a", memberEpoch: a2.memberEpoch });
  assert.deepEqual(
    a3.status.map((s) => s.statusDetail),
    ["Assignment delayed due to the configured assignment interval."],
  );
  await new Promise((r) => setTimeout(r, 200));
  const a4 = hb(g, { memberId: "a", memberEpoch: a3.memberEpoch });
  assert.deepEqual(a4.status, []);
  assert.equal(list(a4.tasks?.active).length, 4, "revoking half");
  g.shutdown(false);
});

test("a shutdown request reaches every member until the group is empty; the records say what happened", () => {
  const { h, written } = host();
  const g = new StreamsGroup("app", h);
  const a = hb(g, { memberId: "a" });
  const b = hb(g, { memberId: "b", processId: "pb" });
  hb(g, { memberId: "a", memberEpoch: a.memberEpoch, shutdownApplication: true });
  const seen = hb(g, { memberId: "b", memberEpoch: b.memberEpoch });
  assert.deepEqual(
    seen.status.filter((s) => s.statusCode === 4).map((s) => s.statusDetail),
    ["Streams group member a encountered a fatal error and requested a shutdown for the entire application."],
  );
  hb(g, { memberId: "a", memberEpoch: -1 });
  hb(g, { memberId: "b", memberEpoch: -1 });
  assert.equal(g.state, "Empty");
  assert.equal(g.shutdownRequestedBy, undefined);
  const types = written.map((r) => decodeStreamsRecord(r.key, r.value)!.type);
  for (const t of [
    "streams-topology",
    "streams-group",
    "streams-member",
    "streams-target-metadata",
    "streams-target-member",
    "streams-current-member",
  ])
    assert.ok(types.includes(t as (typeof types)[number]), t);
  g.shutdown(true);
});
