import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Broker } from "../src/broker.js";
import { buildConfig } from "../src/config.js";
import { Logger } from "../src/logger.js";

/** Offset retention of empty groups, and that expiry is written to `__consumer_offsets` (it survives a reopen). */

test(
  "offsets of an empty group expire after offsets.retention.minutes, and stay expired after a reopen",
  { timeout: 20_000 },
  async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "tskafka-group-expiry-"));
    const config = buildConfig({
      dataDir,
      port: 0,
      file: new Map([
        ["offsets.topic.num.partitions", "2"],
        ["offsets.retention.minutes", "60"],
      ]),
    });
    const log = new Logger("error");
    try {
      let broker = await Broker.open(config, log);
      await broker.topics.create("ex", 2);
      const commit = (groupId: string) =>
        broker.groups.commitOffsets({
          groupId,
          generationIdOrMemberEpoch: -1,
          memberId: "",
          groupInstanceId: null,
          retentionTimeMs: -1n,
          apiVersion: 8,
          topics: [
            {
              name: "ex",
              partitions: [
                { partitionIndex: 0, committedOffset: 7n, committedLeaderEpoch: -1, committedMetadata: null },
              ],
            },
          ],
        });
      assert.equal((await commit("old"))[0]!.partitions[0]!.errorCode, 0);
      assert.equal(await broker.groups.expireOffsets(Date.now() + 30 * 60_000), 0, "not yet");
      assert.equal(await broker.groups.expireOffsets(Date.now() + 61 * 60_000), 1);
      assert.equal(
        broker.groups.fetchOffsets("old", [{ name: "ex", partitionIndexes: [0] }], null).topics[0]!.partitions[0]!
          .committedOffset,
        -1n,
      );
      assert.ok(!broker.groups.list().some((g) => g.groupId === "old"), "the empty group without offsets is gone");
      assert.equal((await commit("kept"))[0]!.partitions[0]!.errorCode, 0);
      await broker.close();

      broker = await Broker.open(config, log);
      assert.equal(
        broker.groups.fetchOffsets("old", [{ name: "ex", partitionIndexes: [0] }], null).topics[0]!.partitions[0]!
          .committedOffset,
        -1n,
      );
      assert.equal(
        broker.groups.fetchOffsets("kept", [{ name: "ex", partitionIndexes: [0] }], null).topics[0]!.partitions[0]!
          .committedOffset,
        7n,
      );
      assert.deepEqual(
        broker.groups.list().map((g) => g.groupId),
        ["kept"],
      );
      await broker.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  },
);
