import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { invalidReplicationFactor, placeReplicas } from "../src/cluster/replica-placement.js";
import { election, ElectionType, fencingChange, fencingChanges } from "../src/cluster/leader-election.js";
import { NO_LEADER, type PartitionState, type TopicInfo } from "../src/cluster/metadata.js";
import { ErrorCode } from "../src/errors.js";

/**
 * The controller's pure parts: replica placement (Kafka's StripedReplicaPlacer) and leader elections
 * (fencing a broker, preferred and unclean elections), on made-up brokers and partition states.
 */

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const state = (replicas: number[], isr: number[], leader: number, epoch = 3): PartitionState => ({
  replicas,
  isr,
  leader,
  leaderEpoch: epoch,
  partitionEpoch: epoch + 10,
});

describe("replica placement", () => {
  test("replicas are distinct, on as many racks as possible, leaders spread evenly", () => {
    const brokers = [1, 2, 3, 4, 5, 6].map((nodeId) => ({ nodeId, rack: `r${nodeId % 3}` }));
    for (let seed = 1; seed < 30; seed++) {
      const placed = placeReplicas(brokers, 60, 3, seeded(seed));
      assert.equal(placed.length, 60);
      const leaders = new Map<number, number>();
      for (const replicas of placed) {
        assert.equal(new Set(replicas).size, 3);
        assert.equal(new Set(replicas.map((r) => r % 3)).size, 3, `racks of ${replicas.join(",")}`);
        leaders.set(replicas[0]!, (leaders.get(replicas[0]!) ?? 0) + 1);
      }
      assert.deepEqual([...leaders.values()], [10, 10, 10, 10, 10, 10]);
    }
  });

  test("without racks every broker leads as often; a factor of all brokers puts each partition everywhere", () => {
    const brokers = [1, 2, 3].map((nodeId) => ({ nodeId, rack: null }));
    const placed = placeReplicas(brokers, 9, 3, seeded(7));
    for (const r of placed) assert.deepEqual([...r].sort(), [1, 2, 3]);
    const leaders = placed.map((r) => r[0]!).sort();
    assert.deepEqual(leaders, [1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  test("a factor the live brokers cannot hold is refused with Kafka's message", () => {
    assert.equal(
      invalidReplicationFactor(4, 3),
      "The target replication factor of 4 cannot be reached because only 3 broker(s) are registered or some brokers have all their log directories cordoned.",
    );
    assert.equal(invalidReplicationFactor(3, 3), undefined);
    assert.throws(() => placeReplicas([{ nodeId: 1, rack: null }], 1, 2));
  });
});

describe("leader elections", () => {
  const live = (ids: number[]) => (id: number) => ids.includes(id);

  test("a gone leader is replaced by the first ISR member in replica order, and leaves the ISR", () => {
    const c = fencingChange(state([1, 2, 3], [3, 2, 1], 1), 0, live([2, 3]));
    assert.deepEqual(c, { kind: "leader", partition: 0, partitionEpoch: 13, leader: 2, isr: [3, 2] });
  });

  test("a gone follower only leaves the ISR; nothing changes when all are there", () => {
    assert.deepEqual(fencingChange(state([1, 2, 3], [1, 2, 3], 1), 4, live([1, 3]))?.isr, [1, 3]);
    assert.equal(fencingChange(state([1, 2, 3], [1, 2, 3], 1), 0, live([1, 2, 3])), undefined);
  });

  test("no unclean election: the last ISR member stays, leaderless, and leads again when back", () => {
    const gone = fencingChange(state([1, 2], [1], 1), 0, live([2]));
    assert.deepEqual([gone?.leader, gone?.isr], [NO_LEADER, [1]]);
    assert.equal(fencingChange(state([1, 2], [1], NO_LEADER), 0, live([2])), undefined);
    assert.equal(fencingChange(state([1, 2], [1], NO_LEADER), 0, live([1, 2]))?.leader, 1);
  });

  test("fencing is one entry per topic, with only the partitions that change", () => {
    const topics = [{ name: "a" }, { name: "b" }] as TopicInfo[];
    const states: Record<string, PartitionState[]> = {
      a: [state([1, 2], [1, 2], 1), state([2, 3], [2, 3], 2), state([3, 1], [3, 1], 3)],
      b: [state([2, 3], [2, 3], 2)],
    };
    const batch = fencingChanges({ topics: () => topics, partitionStates: (t) => states[t] }, live([2, 3]));
    assert.deepEqual(
      batch.map((b) => [b.topic, b.changes.map((c) => c.partition)]),
      [["a", [0, 2]]],
    );
  });

  test("preferred and unclean elections answer as Kafka's controller", () => {
    const all = live([1, 2, 3]);
    const P = ElectionType.PREFERRED;
    assert.equal(election(state([1, 2], [1, 2], 1), 0, P, all).errorCode, ErrorCode.ELECTION_NOT_NEEDED);
    assert.equal(election(state([1, 2], [2, 1], 2), 0, P, all).change?.leader, 1);
    assert.equal(election(state([1, 2], [2], 2), 0, P, all).errorCode, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
    assert.equal(
      election(state([1, 2], [2, 1], 2), 0, P, live([2])).errorCode,
      ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
    );
    const U = ElectionType.UNCLEAN;
    assert.equal(election(state([1, 2], [1, 2], 1), 0, U, all).errorCode, ErrorCode.ELECTION_NOT_NEEDED);
    assert.deepEqual(election(state([1, 2], [1], NO_LEADER), 0, U, live([2])).change?.isr, [2]);
    assert.equal(
      election(state([1, 2], [1], NO_LEADER), 0, U, live([3])).errorCode,
      ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
    );
  });
});
