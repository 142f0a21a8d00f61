import assert from "node:assert/strict";
import { test } from "node:test";
import { assignShare } from "../src/share/assignor.js";
import { AckType, RecordState, SharePartition } from "../src/share/share-partition.js";

/** A share-partition's in-flight records (share-partition.ts) and the simple assignor (assignor.ts), alone. */

const LIMITS = { endOfLog: 100, logStart: 0, maxRecords: 10, maxInFlight: 2000, lockMs: 1000, now: 0 };
const LIMIT = 3;

const ranges = (r: { first: number; last: number; deliveryCount: number }[]) =>
  r.map((x) => [x.first, x.last, x.deliveryCount]);

test("acquisition: new records up to MaxRecords, the high watermark and the in-flight limit", () => {
  const sp = new SharePartition(0);
  assert.deepEqual(ranges(sp.acquire("a", LIMITS)), [[0, 9, 1]]);
  assert.deepEqual(ranges(sp.acquire("b", { ...LIMITS, endOfLog: 15 })), [[10, 14, 1]]);
  assert.deepEqual(sp.acquire("b", { ...LIMITS, endOfLog: 15 }), [], "nothing more below the high watermark");
  assert.deepEqual(ranges(sp.acquire("b", { ...LIMITS, maxInFlight: 20 })), [[15, 19, 1]]);
  assert.equal(sp.inFlight, 20);
});

test("acknowledgements: ACCEPT and REJECT finish records, the start offset moves past what is done", () => {
  const sp = new SharePartition(0);
  sp.acquire("a", LIMITS);
  assert.equal(sp.acknowledge("a", [{ first: 0, last: 2, types: [AckType.ACCEPT] }], LIMIT, 1000, 0), undefined);
  assert.equal(sp.startOffset, 3);
  assert.equal(
    sp.acknowledge("a", [{ first: 4, last: 5, types: [AckType.REJECT, AckType.ACCEPT] }], LIMIT, 1000, 0),
    undefined,
  );
  assert.equal(sp.startOffset, 3, "offset 3 is still acquired");
  assert.equal(sp.deliveryComplete, 2);
  assert.equal(
    sp.acknowledge("b", [{ first: 3, last: 3, types: [AckType.ACCEPT] }], LIMIT, 1000, 0),
    "INVALID_RECORD_STATE",
    "another member's record",
  );
  assert.equal(
    sp.acknowledge("a", [{ first: 9, last: 10, types: [AckType.ACCEPT] }], LIMIT, 1000, 0),
    "INVALID_REQUEST",
    "past what was delivered",
  );
  assert.equal(
    sp.acknowledge("a", [{ first: 3, last: 4, types: [1, 1, 1] }], LIMIT, 1000, 0),
    "INVALID_REQUEST",
    "types do not match the range",
  );
  assert.equal(
    sp.acknowledge("a", [{ first: 0, last: 3, types: [AckType.ACCEPT] }], LIMIT, 1000, 0),
    undefined,
    "below the start offset: skipped",
  );
  assert.equal(sp.startOffset, 6);
});

test("release and lock expiry make records available again, archived at the delivery count limit", () => {
  const sp = new SharePartition(0);
  sp.acquire("a", { ...LIMITS, maxRecords: 2 });
  sp.acknowledge("a", [{ first: 0, last: 0, types: [AckType.RELEASE] }], LIMIT, 1000, 0);
  assert.ok(sp.hasAvailable);
  assert.deepEqual(ranges(sp.acquire("b", { ...LIMITS, maxRecords: 1, now: 500 })), [[0, 0, 2]], "released first");
  assert.equal(sp.expireLocks(999, LIMIT), false);
  assert.equal(sp.expireLocks(1000, LIMIT), true, "offset 1's lock expired");
  assert.deepEqual(ranges(sp.acquire("c", { ...LIMITS, maxRecords: 1, now: 1000 })), [[1, 1, 2]]);
  // Offset 0's third delivery, released, reaches the limit: archived.
  assert.equal(sp.expireLocks(1500, LIMIT), true, "offset 0's lock expired");
  assert.deepEqual(ranges(sp.acquire("c", { ...LIMITS, maxRecords: 1, now: 1500 })), [[0, 0, 3]]);
  sp.acknowledge("c", [{ first: 0, last: 0, types: [AckType.RELEASE] }], LIMIT, 1000, 1500);
  assert.equal(sp.startOffset, 1, "archived");
  // A member's session ends: what it holds is available at once.
  assert.equal(sp.releaseMember("c", LIMIT), true);
  assert.deepEqual(ranges(sp.acquire("d", { ...LIMITS, maxRecords: 1, now: 1000 })), [[1, 1, 3]]);
});

test("RENEW extends a lock; persisted state rebuilds what was in flight as available", () => {
  const sp = new SharePartition(5);
  sp.acquire("a", { ...LIMITS, maxRecords: 4 });
  sp.acknowledge("a", [{ first: 5, last: 5, types: [AckType.RENEW] }], LIMIT, 1000, 900);
  sp.expireLocks(1000, LIMIT);
  sp.acknowledge("a", [{ first: 5, last: 5, types: [AckType.ACCEPT] }], LIMIT, 1000, 1000);
  // Offset 5 was renewed and accepted; 6-8 expired back to available with delivery count 1.
  const changes = sp.takeChanges();
  assert.deepEqual(changes, [{ first: 6, last: 8, state: RecordState.AVAILABLE, deliveryCount: 1 }]);
  const rebuilt = SharePartition.fromState(6, [
    { first: 6, last: 6, state: RecordState.ACKNOWLEDGED, deliveryCount: 1 },
    { first: 7, last: 8, state: RecordState.AVAILABLE, deliveryCount: 1 },
  ]);
  assert.equal(rebuilt.startOffset, 7);
  assert.deepEqual(ranges(rebuilt.acquire("b", LIMITS)), [
    [7, 8, 2],
    [9, 16, 1],
  ]);
});

test("the simple assignor: every subscriber gets partitions, partitions are shared when members outnumber them", () => {
  const topics = new Map([
    ["t", { id: "T", partitions: 4 }],
    ["u", { id: "U", partitions: 1 }],
  ]);
  const two = assignShare(
    [
      { memberId: "b", subscribedTopics: ["t"] },
      { memberId: "a", subscribedTopics: ["t", "u"] },
    ],
    (n) => topics.get(n),
  );
  assert.deepEqual(
    [...two.get("a")!],
    [
      ["T", [0, 2]],
      ["U", [0]],
    ],
  );
  assert.deepEqual([...two.get("b")!], [["T", [1, 3]]]);
  const six = assignShare(
    ["m1", "m2", "m3", "m4", "m5", "m6"].map((memberId) => ({ memberId, subscribedTopics: ["t"] })),
    (n) => topics.get(n),
  );
  assert.deepEqual(
    [...six.values()].map((a) => a.get("T")),
    [[0], [1], [2], [3], [0], [1]],
  );
});
