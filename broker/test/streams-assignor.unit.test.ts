import assert from "node:assert/strict";
import { test } from "node:test";
import { assignTasks, type AssignorMember } from "../src/streams/assignor.js";
import { eachTask, noTasks, taskMapOf, type Tasks } from "../src/streams/tasks.js";
import { configureTopology, type Topology } from "../src/streams/topology.js";

/**
 * The streams task assignor (sticky semantics) and the topology configuration alone: balance,
 * stickiness, standbys on other processes, and the partition counts and statuses of a topology.
 */

const list = (t: Tasks["active"]) => [...eachTask(t)].map(([s, p]) => `${s}_${p}`);
const member = (memberId: string, processId: string, active: string[] = [], standby: string[] = []): AssignorMember => {
  const pairs = (l: string[]) => l.map((t) => t.split("_")).map(([s, p]) => [s!, Number(p)] as [string, number]);
  return {
    memberId,
    processId,
    previous: { ...noTasks(), active: taskMapOf(pairs(active)), standby: taskMapOf(pairs(standby)) },
  };
};
const tasks8 = new Map([
  ["0", 4],
  ["1", 4],
]);

test("active tasks: every task once, balanced, sticky to their previous owner", () => {
  const first = assignTasks({
    members: [member("a", "p1"), member("b", "p2")],
    tasks: tasks8,
    stateful: new Set(),
    numStandbys: 0,
  });
  const a = list(first.get("a")!.active);
  const b = list(first.get("b")!.active);
  assert.equal(a.length, 4);
  assert.equal(b.length, 4);
  assert.deepEqual([...a, ...b].sort(), ["0_0", "0_1", "0_2", "0_3", "1_0", "1_1", "1_2", "1_3"]);

  // A third member: each keeps what fits in ceil(8/3) = 3, the newcomer gets the rest.
  const second = assignTasks({
    members: [member("a", "p1", a), member("b", "p2", b), member("c", "p3")],
    tasks: tasks8,
    stateful: new Set(),
    numStandbys: 0,
  });
  const a2 = list(second.get("a")!.active);
  const b2 = list(second.get("b")!.active);
  const c2 = list(second.get("c")!.active);
  assert.deepEqual([a2.length, b2.length, c2.length].sort(), [2, 3, 3]);
  assert.ok(a2.every((t) => a.includes(t)) && b2.every((t) => b.includes(t)), "nothing moves between a and b");
  assert.deepEqual([...a2, ...b2, ...c2].sort(), ["0_0", "0_1", "0_2", "0_3", "1_0", "1_1", "1_2", "1_3"]);

  // The same inputs give the same answer.
  const again = assignTasks({
    members: [member("c", "p3"), member("b", "p2", b), member("a", "p1", a)],
    tasks: tasks8,
    stateful: new Set(),
    numStandbys: 0,
  });
  assert.deepEqual(list(again.get("c")!.active), c2);
});

test("a moved task prefers the member that had it as standby", () => {
  const r = assignTasks({
    members: [member("a", "p1", ["0_0", "0_1"]), member("b", "p2", [], ["0_1"]), member("c", "p3")],
    tasks: new Map([["0", 3]]),
    stateful: new Set(["0"]),
    numStandbys: 0,
  });
  assert.deepEqual(list(r.get("a")!.active), ["0_0"]);
  assert.deepEqual(list(r.get("b")!.active), ["0_1"]);
  assert.deepEqual(list(r.get("c")!.active), ["0_2"]);
});

test("standby tasks: only for stateful subtopologies, never in the active task's process, as many as there are processes for", () => {
  const r = assignTasks({
    members: [member("a1", "p1"), member("a2", "p1"), member("b", "p2")],
    tasks: tasks8,
    stateful: new Set(["1"]),
    numStandbys: 2,
  });
  const processOf = (m: string) => (m === "b" ? "p2" : "p1");
  for (const p of [0, 1, 2, 3]) {
    const activeOn = [...r].filter(([, t]) => list(t.active).includes(`1_${p}`)).map(([m]) => processOf(m));
    const standbyOn = [...r].filter(([, t]) => list(t.standby).includes(`1_${p}`)).map(([m]) => processOf(m));
    assert.equal(activeOn.length, 1);
    // Two processes: one standby each task (the second replica has no process left).
    assert.equal(standbyOn.length, 1, `1_${p}`);
    assert.notEqual(standbyOn[0], activeOn[0]);
  }
  for (const t of r.values()) assert.ok(list(t.standby).every((x) => x.startsWith("1_")));
});

const wordCount = (group: string, source: string): Topology => ({
  epoch: 0,
  subtopologies: [
    {
      subtopologyId: "0",
      sourceTopics: [source],
      sourceTopicRegex: [],
      stateChangelogTopics: [],
      repartitionSinkTopics: [`${group}-rep`],
      repartitionSourceTopics: [],
      copartitionGroups: [],
    },
    {
      subtopologyId: "1",
      sourceTopics: [],
      sourceTopicRegex: [],
      stateChangelogTopics: [{ name: `${group}-log`, partitions: 0, replicationFactor: 1, topicConfigs: [] }],
      repartitionSinkTopics: [],
      repartitionSourceTopics: [{ name: `${group}-rep`, partitions: 0, replicationFactor: 1, topicConfigs: [] }],
      copartitionGroups: [],
    },
  ],
});

test("topology: missing sources, internal topics sized from their sources, wrongly partitioned ones", () => {
  const t = wordCount("g", "in");
  const none = configureTopology(t, () => undefined, []);
  assert.deepEqual(
    none.status.map((s) => s.statusCode),
    [1],
  );
  const topics: Record<string, number> = { in: 5 };
  const missing = configureTopology(t, (n) => topics[n], Object.keys(topics));
  assert.deepEqual(
    missing.status.map((s) => s.statusCode),
    [3],
  );
  assert.deepEqual(missing.toCreate.map((i) => [i.name, i.partitions, i.configs["cleanup.policy"]]).sort(), [
    ["g-log", 5, "compact"],
    ["g-rep", 5, "delete"],
  ]);
  topics["g-rep"] = 5;
  topics["g-log"] = 5;
  const ready = configureTopology(t, (n) => topics[n], Object.keys(topics));
  assert.deepEqual(ready.status, []);
  assert.deepEqual(
    [...ready.tasks!],
    [
      ["0", 5],
      ["1", 5],
    ],
  );
  assert.deepEqual([...ready.stateful], ["1"]);
  topics["g-log"] = 2;
  const wrong = configureTopology(t, (n) => topics[n], Object.keys(topics));
  assert.deepEqual(
    wrong.status.map((s) => s.statusCode),
    [2],
  );
  assert.equal(wrong.tasks, undefined);
});
