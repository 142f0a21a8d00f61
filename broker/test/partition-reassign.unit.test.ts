import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodePartitions, encodePartitions } from "../src/cluster/etcd-layout.js";
import type { PartitionChange, PartitionState } from "../src/cluster/metadata.js";
import { applyPartitionChange, initialPartitionState } from "../src/cluster/partition-state.js";
import { ErrorCode } from "../src/errors.js";

/**
 * The rules of a reassignment (KIP-455) as Kafka's controller applies them (PartitionChangeBuilder): the
 * replicas become the union, the reassignment completes in the ISR change that brings the last target
 * replica in sync, a removed leader hands over to the first target replica in the ISR at a new leader
 * epoch, and a cancellation takes the added replicas out again.
 */

const everyone = (): boolean => true;

/** A change without its partition and the epoch it read (the state's own, filled in). */
type Unversioned = PartitionChange extends infer C
  ? C extends unknown
    ? Omit<C, "partition" | "partitionEpoch">
    : never
  : never;

function apply(state: PartitionState, change: Unversioned): PartitionState {
  const r = applyPartitionChange(
    state,
    { ...change, partition: 0, partitionEpoch: state.partitionEpoch } as PartitionChange,
    everyone,
  );
  assert.equal(r.errorCode, ErrorCode.NONE);
  return r.state ?? state;
}

const summary = (s: PartitionState) => [s.replicas, s.isr, s.leader, s.leaderEpoch, s.adding, s.removing];

describe("partition reassignment rules", () => {
  it("moves {1,2} to {2,3}: union while the new replica catches up, then the target with a new leader", () => {
    const start = initialPartitionState([1, 2]);
    const moving = apply(start, { kind: "reassign", target: [2, 3] });
    assert.deepEqual(summary(moving), [[2, 3, 1], [1, 2], 1, 0, [3], [1]]);
    assert.equal(moving.partitionEpoch, 1);
    const again = applyPartitionChange(
      moving,
      { kind: "reassign", partition: 0, partitionEpoch: 1, target: [2, 3] },
      everyone,
    );
    assert.deepEqual([again.errorCode, again.state], [ErrorCode.NONE, undefined], "the same target again: no change");
    // The leader's AlterPartition that brings 3 in sync completes the move in the same write.
    const done = apply(moving, { kind: "isr", brokerId: 1, leaderEpoch: 0, isr: [1, 2, 3] });
    assert.deepEqual(summary(done), [[2, 3], [2, 3], 2, 1, undefined, undefined]);
    assert.equal(done.partitionEpoch, 2);
  });

  it("an ISR change that leaves a target replica out does not complete it", () => {
    const moving = apply(initialPartitionState([1, 2]), { kind: "reassign", target: [3, 4] });
    const partly = apply(moving, { kind: "isr", brokerId: 1, leaderEpoch: 0, isr: [1, 2, 3] });
    assert.deepEqual(summary(partly), [[3, 4, 1, 2], [1, 2, 3], 1, 0, [3, 4], [1, 2]]);
  });

  it("a cancellation takes the added replicas out and fences them; cancelling nothing is NO_REASSIGNMENT_IN_PROGRESS", () => {
    const start = initialPartitionState([1, 2]);
    const moving = apply(start, { kind: "reassign", target: [3, 1] });
    const back = apply(moving, { kind: "reassign", target: null });
    assert.deepEqual(summary(back), [[1, 2], [1, 2], 1, 1, undefined, undefined]);
    const none = applyPartitionChange(
      back,
      { kind: "reassign", partition: 0, partitionEpoch: 2, target: null },
      everyone,
    );
    assert.equal(none.errorCode, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
  });

  it("a cancellation that would leave no replica in sync is refused (it would need an unclean election)", () => {
    const moving = apply(initialPartitionState([1]), { kind: "reassign", target: [2] });
    // Only the adding replica is in sync (the old one left the ISR meanwhile).
    const odd: PartitionState = { ...moving, isr: [2], leader: 2 };
    const r = applyPartitionChange(odd, { kind: "reassign", partition: 0, partitionEpoch: 1, target: null }, everyone);
    assert.equal(r.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  });

  it("replicas in sync complete at once: a reorder keeps the leader and its epoch, a shrink moves a removed leader", () => {
    const three = initialPartitionState([1, 2, 3]);
    const reordered = apply(three, { kind: "reassign", target: [3, 2, 1] });
    assert.deepEqual(summary(reordered), [[3, 2, 1], [1, 2, 3], 1, 0, undefined, undefined]);
    const shrunk = apply(three, { kind: "reassign", target: [2, 3] });
    assert.deepEqual(summary(shrunk), [[2, 3], [2, 3], 2, 1, undefined, undefined]);
    const same = applyPartitionChange(
      three,
      { kind: "reassign", partition: 0, partitionEpoch: 0, target: [1, 2, 3] },
      everyone,
    );
    assert.deepEqual([same.errorCode, same.state], [ErrorCode.NONE, undefined], "nothing to write");
  });

  it("a reassignment names the partition epoch it read (compare-and-swap)", () => {
    const start = initialPartitionState([1, 2]);
    const r = applyPartitionChange(
      start,
      { kind: "reassign", partition: 0, partitionEpoch: 3, target: [2, 3] },
      everyone,
    );
    assert.equal(r.errorCode, ErrorCode.INVALID_UPDATE_VERSION);
  });

  it("etcd keeps the adding and removing replicas with the state, and nothing more without a reassignment", () => {
    const moving = apply(initialPartitionState([1, 2]), { kind: "reassign", target: [2, 3] });
    const plain = initialPartitionState([1]);
    const text = encodePartitions([moving, plain]);
    assert.deepEqual(decodePartitions(text), [moving, plain]);
    assert.equal(text, "[[[2,3,1],[1,2],1,0,1,[3],[1]],[[1],[1],1,0,0]]");
  });
});
