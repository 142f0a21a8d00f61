import assert from "node:assert/strict";
import { test } from "node:test";
import { rangeAssignor, uniformAssignor, type Assignment } from "../src/group/assignors.js";
import { javaStringHashCode, offsetsPartitionFor } from "../src/group/java-hash.js";

/** The KIP-848 server assignors and the group -> `__consumer_offsets` partition mapping. */

const topics = new Map([
  ["a", { id: "A", partitions: 6 }],
  ["b", { id: "B", partitions: 3 }],
]);
const none: Assignment = new Map();
const total = (r: Map<string, Assignment>) =>
  [...r.values()].reduce((n, a) => n + [...a.values()].reduce((k, l) => k + l.length, 0), 0);

test("uniform: balanced over homogeneous members, every partition once, sticky on change", () => {
  const members = ["m1", "m2", "m3"].map((memberId) => ({ memberId, subscribedTopicNames: ["a", "b"], current: none }));
  const r = uniformAssignor(members, topics);
  assert.equal(total(r), 9);
  for (const a of r.values())
    assert.equal(
      [...a.values()].reduce((n, l) => n + l.length, 0),
      3,
    );
  // m3 leaves: m1 and m2 keep everything they had.
  const next = uniformAssignor(
    ["m1", "m2"].map((memberId) => ({ memberId, subscribedTopicNames: ["a", "b"], current: r.get(memberId)! })),
    topics,
  );
  assert.equal(total(next), 9);
  for (const id of ["m1", "m2"]) {
    for (const [t, ps] of r.get(id)!)
      for (const p of ps) assert.ok(next.get(id)!.get(t)!.includes(p), `${id} keeps ${t}-${p}`);
  }
});

test("uniform: members get only topics they subscribe to", () => {
  const r = uniformAssignor(
    [
      { memberId: "x", subscribedTopicNames: ["a"], current: none },
      { memberId: "y", subscribedTopicNames: ["b"], current: none },
    ],
    topics,
  );
  assert.deepEqual([...r.get("x")!], [["A", [0, 1, 2, 3, 4, 5]]]);
  assert.deepEqual([...r.get("y")!], [["B", [0, 1, 2]]]);
});

test("range: contiguous ranges per topic in member order", () => {
  const r = rangeAssignor(
    ["m2", "m1"].map((memberId) => ({ memberId, subscribedTopicNames: ["a", "b"], current: none })),
    topics,
  );
  assert.deepEqual(r.get("m1")!.get("A"), [0, 1, 2]);
  assert.deepEqual(r.get("m2")!.get("A"), [3, 4, 5]);
  assert.deepEqual(r.get("m1")!.get("B"), [0, 1]);
  assert.deepEqual(r.get("m2")!.get("B"), [2]);
});

test("group partition: Java's String.hashCode, abs, modulo", () => {
  assert.equal(javaStringHashCode("hello"), 99162322);
  assert.equal(javaStringHashCode("polygenelubricants"), -2147483648);
  assert.equal(offsetsPartitionFor("polygenelubricants", 50), 0, "Utils.abs(Integer.MIN_VALUE) is 0");
  assert.equal(offsetsPartitionFor("hello", 50), 99162322 % 50);
  assert.equal(offsetsPartitionFor("console-consumer-1", 50), Math.abs(javaStringHashCode("console-consumer-1")) % 50);
});
