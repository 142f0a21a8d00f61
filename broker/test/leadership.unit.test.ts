import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FileClusterMetadata } from "../src/cluster/file-metadata.js";
import { Leadership, type RoleChange } from "../src/cluster/leadership.js";
import { isStale, NO_LEADER } from "../src/cluster/metadata.js";
import { withTempDir } from "./temp.js";

/** The seam replication and the coordinators follow: this broker's role in each partition, and its changes. */
describe("leadership", () => {
  it("tells of existing partitions at start, new ones, leader changes and deletion; a re-read state is no change", () =>
    withTempDir("tskafka-leadership-", async (dir) => {
      const metadata = await FileClusterMetadata.open(dir, 1);
      const reg = await metadata.registerBroker(1, [], null);
      assert.ok(!isStale(reg));
      await metadata.createTopic("old", 2, {});
      const leadership = new Leadership(metadata, 1);
      const changes: RoleChange[] = [];
      leadership.onChange((c) => changes.push(c));
      leadership.start();
      assert.deepEqual(
        changes.map((c) => [c.topic, c.partition, c.previous, c.role]),
        [
          ["old", 0, "none", "leader"],
          ["old", 1, "none", "leader"],
        ],
      );
      changes.length = 0;
      await metadata.createTopic("new", 1, {});
      assert.deepEqual(
        changes.map((c) => [c.topic, c.partition, c.role]),
        [["new", 0, "leader"]],
      );
      changes.length = 0;
      const state = leadership.state("new", 0)!;
      const results = await metadata.alterPartitions([
        {
          topic: "new",
          changes: [
            { kind: "leader", partition: 0, partitionEpoch: state.partitionEpoch, leader: NO_LEADER, isr: [1] },
          ],
        },
      ]);
      assert.equal(results[0]?.[0]?.errorCode, 0);
      assert.deepEqual(
        changes.map((c) => [c.topic, c.partition, c.previous, c.role, c.state?.leaderEpoch]),
        [["new", 0, "leader", "follower", 1]],
      );
      assert.equal(leadership.leader("new", 0), NO_LEADER);
      assert.equal(leadership.role("old", 1), "leader");
      changes.length = 0;
      await metadata.deleteTopic("old");
      assert.deepEqual(
        changes.map((c) => [c.topic, c.partition, c.role, c.state]),
        [
          ["old", 0, "none", undefined],
          ["old", 1, "none", undefined],
        ],
      );
      leadership.stop();
      await reg.unregister();
      await metadata.close();
    }));
});
