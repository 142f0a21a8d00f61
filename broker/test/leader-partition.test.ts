import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { electFromIsr } from "../src/cluster/leader-election.js";
import type { PartitionState } from "../src/cluster/metadata.js";
import { applyPartitionChange } from "../src/cluster/partition-state.js";
import { ErrorCode } from "../src/errors.js";
import { logConfig } from "../src/log/config.js";
import { PartitionLog } from "../src/log/partition-log.js";
import { LeaderPartition, type LeaderHost } from "../src/replication/leader-partition.js";
import { batchOf } from "./log-fixtures.js";
import { tempDir, type TempDir } from "./temp.js";

/**
 * A leader's view of its followers, in process over real logs: the high watermark and acks=all while an
 * ISR change is on its way to the controller (its store applies the change with the controller's own
 * rules, partition-state.ts, and the answer reaches the leader when the test lets it). A follower's fetch
 * is what ReplicaFetcher does: the leader hears its log end, the follower appends what the leader has.
 */

let root: TempDir;
let n = 0;
before(async () => {
  root = await tempDir("tskafka-leader-partition-");
});
after(async () => {
  await root.cleanup();
});

async function openLog(): Promise<PartitionLog> {
  const log = await PartitionLog.open(join(root.dir, `p-${n++}`), logConfig());
  log.setHighWatermark(0n, true);
  return log;
}

/**
 * The controller's store: applies an AlterPartition at once, answers the leader when `release` is called
 * (or, with `lost`, fails as a store out of reach does: the leader cannot tell whether the change was made).
 */
class HeldController implements LeaderHost {
  readonly nodeId = 1;
  private held: ((lost: boolean) => void)[] = [];

  constructor(public state: PartitionState) {}

  alterIsr(_topic: string, partition: number, from: PartitionState, isr: readonly number[]) {
    const { leaderEpoch, partitionEpoch } = from;
    const change = { kind: "isr", partition, brokerId: this.nodeId, leaderEpoch, partitionEpoch, isr } as const;
    const result = applyPartitionChange(this.state, change, () => true);
    if (result.state !== undefined) this.state = result.state;
    return new Promise<PartitionState | undefined>((resolve, reject) =>
      this.held.push((lost) => (lost ? reject(new Error("etcd unreachable")) : resolve(result.state))),
    );
  }

  /** The answers reach the leader, or are lost. */
  async release(lost = false): Promise<void> {
    for (const r of this.held.splice(0)) r(lost);
    await new Promise((r) => setImmediate(r));
  }

  highWatermarkMoved(): void {}

  isLive(): boolean {
    return true;
  }
}

/** One fetch of `follower` (node `id`) from `leader`: the leader hears its log end, then it appends what it gets. */
async function fetchOnce(lp: LeaderPartition, leader: PartitionLog, id: number, follower: PartitionLog) {
  lp.followerFetched(id, follower.logEndOffset, follower.logStartOffset, Date.now());
  if (follower.logEndOffset >= leader.logEndOffset) return;
  const r = await leader.read(follower.logEndOffset, 1 << 20, { minOneBatch: true, replica: true });
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal((await follower.appendAsFollower(r.records)).errorCode, ErrorCode.NONE);
}

const PRODUCER = { producerId: 42n, producerEpoch: 0 };

describe("a leader partition", () => {
  it("acknowledges nothing that a follower joining the ISR lacks while the controller's answer is on its way", async () => {
    // Broker 3 comes back after a restart: out of the ISR, preferred over 2 in an election.
    const controller = new HeldController({
      replicas: [1, 3, 2],
      isr: [1, 2],
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
    });
    const [leader, two, three] = [await openLog(), await openLog(), await openLog()];
    const lp = new LeaderPartition("t", 0, leader, controller.state, controller, Date.now());
    try {
      const first = await leader.append(batchOf(2, "a", 0, { ...PRODUCER, baseSequence: 0 }), { leaderEpoch: 0 });
      await fetchOnce(lp, leader, 2, two);
      await fetchOnce(lp, leader, 2, two);
      assert.equal(leader.highWatermark, first.lastOffset + 1n);
      await fetchOnce(lp, leader, 3, three);
      assert.deepEqual(controller.state.isr, [1, 2]);
      // Broker 3 has everything now: the leader asks for it to join, and the controller makes it so.
      await fetchOnce(lp, leader, 3, three);
      assert.deepEqual(controller.state.isr, [1, 2, 3]);
      assert.deepEqual(lp.isr, [1, 2], "the answer is on its way");

      // Before the answer reaches the leader, a produce whose records only broker 2 fetches.
      const second = await leader.append(batchOf(2, "b", 0, { ...PRODUCER, baseSequence: 2 }), { leaderEpoch: 0 });
      const acked = lp.waitForCommit(second.lastOffset + 1n, 2, 60_000);
      await fetchOnce(lp, leader, 2, two);
      await fetchOnce(lp, leader, 2, two);
      assert.equal(leader.highWatermark, first.lastOffset + 1n, "the high watermark waits for broker 3");

      // Were the leader lost now, the controller would elect broker 3 from its ISR. It must have every
      // acknowledged record: were the second batch acknowledged, the producer's next batch would be out of
      // sequence there (the fatal OUT_OF_ORDER_SEQUENCE_NUMBER of issue 16).
      assert.equal(
        electFromIsr(controller.state, (id) => id !== 1),
        3,
      );
      const third = batchOf(1, "c", 0, { ...PRODUCER, baseSequence: 4 });
      const onThree = await three.append(third, { leaderEpoch: 1 });
      assert.equal(onThree.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, "broker 3 lacks the second batch");

      // The answer arrives, broker 3 fetches the second batch: now it is acknowledged.
      await controller.release();
      assert.deepEqual(lp.isr, [1, 2, 3]);
      await fetchOnce(lp, leader, 3, three);
      await fetchOnce(lp, leader, 3, three);
      assert.equal(await acked, ErrorCode.NONE);
      assert.equal(leader.highWatermark, second.lastOffset + 1n);
      assert.equal(three.logEndOffset, leader.logEndOffset);
    } finally {
      lp.close();
      for (const log of [leader, two, three]) await log.close();
    }
  });

  it("counts a joining follower whose ISR change had no answer until a newer partition state comes", async () => {
    const controller = new HeldController({
      replicas: [1, 3, 2],
      isr: [1, 2],
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
    });
    const [leader, two, three] = [await openLog(), await openLog(), await openLog()];
    const lp = new LeaderPartition("t", 0, leader, controller.state, controller, Date.now());
    try {
      const first = await leader.append(batchOf(2, "a", 0, { ...PRODUCER, baseSequence: 0 }), { leaderEpoch: 0 });
      for (const [id, log] of [
        [2, two],
        [2, two],
        [3, three],
        [3, three],
      ] as const)
        await fetchOnce(lp, leader, id, log);
      assert.deepEqual(controller.state.isr, [1, 2, 3]);
      await controller.release(true);
      assert.deepEqual(lp.isr, [1, 2]);

      const second = await leader.append(batchOf(2, "b", 0, { ...PRODUCER, baseSequence: 2 }), { leaderEpoch: 0 });
      await fetchOnce(lp, leader, 2, two);
      await fetchOnce(lp, leader, 2, two);
      assert.equal(leader.highWatermark, first.lastOffset + 1n, "broker 3 may be in the controller's ISR");
      await fetchOnce(lp, leader, 3, three);
      await fetchOnce(lp, leader, 3, three);
      assert.equal(leader.highWatermark, second.lastOffset + 1n);

      // The metadata watch brings the state the controller has: broker 3 is in the ISR.
      lp.update(controller.state);
      assert.deepEqual(lp.isr, [1, 2, 3]);
    } finally {
      lp.close();
      for (const log of [leader, two, three]) await log.close();
    }
  });
});
