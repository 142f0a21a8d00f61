import assert from "node:assert/strict";
import { test } from "node:test";
import type { BrokerConfig } from "../src/config.js";
import { LogManager } from "../src/log/log-manager.js";
import { Logger } from "../src/logger.js";
import type { ShareStateRecord } from "../src/share/state-records.js";
import { SHARE_STATE_TOPIC, ShareStateTopic } from "../src/share/state-topic.js";
import { withTempDir } from "./temp.js";

/**
 * `__share_group_state` pruning on a real log (one partition, so every share-partition shares it): the
 * records below the oldest latest snapshot go, and only then; what is left replays to every share-partition's
 * latest snapshot and the updates after it, also in a new instance (a restart).
 */

const TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAA";

function stateTopic(logs: LogManager): ShareStateTopic {
  const info = { name: SHARE_STATE_TOPIC, id: TOPIC_ID, partitions: 1, configs: {}, version: 1 };
  return new ShareStateTopic({
    config: { props: { "share.coordinator.state.topic.num.partitions": 1 } } as unknown as BrokerConfig,
    log: new Logger("error"),
    metadata: { topic: (name: string) => (name === SHARE_STATE_TOPIC ? info : undefined) },
    topics: { create: () => Promise.resolve(info) },
    logs,
  });
}

const record = (partition: number, kind: "snapshot" | "update", startOffset: number): ShareStateRecord => ({
  kind,
  groupId: "g",
  topicId: TOPIC_ID,
  partition,
  snapshotEpoch: 0,
  stateEpoch: 0,
  leaderEpoch: 0,
  deliveryComplete: -1,
  startOffset,
  batches: [],
});

test("__share_group_state: pruned below the oldest latest snapshot, and what is left replays", async () => {
  await withTempDir("tskafka-share-state-", async (dir) => {
    let logs = await LogManager.open(dir);
    const topic = stateTopic(logs);
    const write = async (r: ShareStateRecord): Promise<void> => assert.equal(await topic.write(r), 0);
    await write(record(0, "snapshot", 0)); // offset 0
    await write(record(0, "update", 5)); // 1
    await write(record(1, "snapshot", 0)); // 2: share-partition 0's snapshot at 0 is still the oldest
    const log = (): { logStartOffset: bigint } => logs.get(SHARE_STATE_TOPIC, 0)!;
    assert.equal(log().logStartOffset, 0n);
    await write(record(0, "snapshot", 7)); // 3: now the oldest latest snapshot is partition 1's, at 2
    assert.equal(log().logStartOffset, 2n);
    await write(record(1, "update", 3)); // 4
    await logs.close();

    logs = await LogManager.open(dir);
    const replayed: string[] = [];
    await stateTopic(logs).loadPartition(0, (r) => replayed.push(`${r.partition}:${r.kind}`));
    assert.deepEqual(replayed, ["1:snapshot", "0:snapshot", "1:update"]);
    await logs.close();
  });
});
