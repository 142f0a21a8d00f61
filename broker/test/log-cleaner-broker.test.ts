import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  ApiKey,
  createCreateTopicsRequest,
  createOffsetCommitRequest,
  createOffsetFetchRequest,
  ZERO_UUID,
} from "@tskafka/protocol";
import { RawClient } from "./clients/raw-client.js";
import { haveKcat, kcatConsume } from "./clients/run.js";
import { startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { tempDir, type TempDir } from "./temp.js";

/**
 * Log compaction end to end: a compacted topic with tiny segments and the group coordinator's
 * __consumer_offsets, cleaned by the broker's periodic cleaner, read back by clients, and reloaded
 * after a restart.
 */

const TOPIC = "compacted";
const PROPERTIES = {
  // The cleaner checks at least as often as retention does.
  "log.retention.check.interval.ms": 200,
  // __consumer_offsets has 100 MB segments: let time roll them so there is something to clean.
  "log.roll.ms": 400,
  "offsets.topic.num.partitions": 1,
};

let broker: BrokerProcess | undefined;
let client: RawClient | undefined;
let data: TempDir | undefined;
after(async () => {
  client?.close();
  await broker?.cleanup();
  await data?.cleanup();
});

function commit(c: RawClient, offset: bigint) {
  return c.request(
    ApiKey.OffsetCommit,
    8,
    createOffsetCommitRequest({
      groupId: "cg",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      topics: [
        {
          name: TOPIC,
          topicId: ZERO_UUID,
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: offset,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: `m${offset}`,
            },
          ],
        },
      ],
    }),
  );
}

async function committed(c: RawClient): Promise<[bigint, string | null]> {
  const res = await c.request(
    ApiKey.OffsetFetch,
    8,
    createOffsetFetchRequest({
      groups: [
        {
          groupId: "cg",
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: TOPIC, topicId: ZERO_UUID, partitionIndexes: [0] }],
        },
      ],
    }),
  );
  const p = res.groups[0]!.topics[0]!.partitions[0]!;
  return [p.committedOffset, p.metadata];
}

async function readTopic(c: RawClient): Promise<{ offset: bigint; key: string; value: string | null }[]> {
  return (await c.fetchAll(TOPIC, 0)).map(({ offset, record }) => ({
    offset,
    key: record.key?.toString() ?? "",
    value: record.value?.toString() ?? null,
  }));
}

test(
  "a compacted topic and __consumer_offsets are cleaned, read back and reloaded after a restart",
  { timeout: 150_000 },
  async () => {
    data = await tempDir("tskafka-cleaner-");
    broker = await startBroker({ properties: PROPERTIES, logLevel: "warn", dataDir: data.dir });
    let c = (client = await RawClient.connect(broker.port));
    const created = await c.request(
      ApiKey.CreateTopics,
      5,
      createCreateTopicsRequest({
        topics: [
          {
            name: TOPIC,
            numPartitions: 1,
            replicationFactor: 1,
            assignments: [],
            configs: [
              { name: "cleanup.policy", value: "compact" },
              { name: "internal.segment.bytes", value: "1024" },
              { name: "delete.retention.ms", value: "1500" },
            ],
          },
        ],
        timeoutMs: 5000,
      }),
    );
    assert.equal(created.topics[0]!.errorCode, 0);

    // Offset commits spread over several __consumer_offsets segments, all for one key.
    for (let i = 1n; i <= 6n; i++) {
      assert.equal((await commit(c, i)).topics[0]!.partitions[0]!.errorCode, 0);
      await new Promise((r) => setTimeout(r, 150));
    }

    const expected = new Map<string, string | null>();
    const send = async (key: string, value: string | null): Promise<void> => {
      const r = await c.produce(TOPIC, 0, [{ key, value }]);
      assert.equal(r.errorCode, 0);
      expected.set(key, value);
    };
    for (let i = 0; i < 200; i++) await send(`k${i % 5}`, `value-${i}-${"x".repeat(20)}`);
    await send("k4", null);
    for (let i = 0; i < 40; i++) await send(`k${i % 4}`, `later-${i}-${"y".repeat(20)}`);

    // Cleaned up to the tombstone at least (the cleaner may run while the records arrive).
    const cleanedTo = (dir: string): bigint => {
      const path = join(broker!.dataDir, dir, "cleaner-offset.checkpoint");
      return existsSync(path) ? BigInt(readFileSync(path, "utf8").split("\n")[1]!) : -1n;
    };
    await waitFor(
      "both logs cleaned",
      () => cleanedTo(`${TOPIC}-0`) > 200n && cleanedTo("__consumer_offsets-0") > 0n,
      // Generous: on two loaded cores (CI runs two test files at a time) a cleaner pass can wait its turn.
      45_000,
    );
    let records = await readTopic(c);
    for (let i = 1; i < records.length; i++) assert.ok(records[i]!.offset > records[i - 1]!.offset, "offsets increase");
    assert.ok(records.length < 120, `${records.length} records left of 241`);
    const latest = new Map(records.map((r) => [r.key, r.value]));
    for (const [key, value] of expected) if (value !== null) assert.equal(latest.get(key), value, key);

    // The tombstone goes once delete.retention.ms has passed since it was first cleaned.
    const deadline = Date.now() + 45_000;
    while (records.some((r) => r.key === "k4")) {
      assert.ok(Date.now() < deadline, "the tombstone of k4 was never removed");
      await new Promise((r) => setTimeout(r, 250));
      records = await readTopic(c);
    }
    assert.equal(latest.get("k4") ?? null, null, "k4 ends deleted");

    if (haveKcat()) {
      const seen = await kcatConsume(broker.bootstrap, TOPIC, 0);
      assert.deepEqual(
        seen.map((r) => [BigInt(r.offset), r.key, r.value]),
        records.map((r) => [r.offset, r.key, r.value ?? ""]),
      );
    }
    assert.deepEqual(await committed(c), [6n, "m6"]);

    // Restart on the same data: the cleaned segments load, and so do the committed offsets.
    c.close();
    assert.equal(await broker.stop(), 0);
    broker = await startBroker({ properties: PROPERTIES, logLevel: "warn", dataDir: data.dir });
    c = client = await RawClient.connect(broker.port);
    assert.deepEqual(await readTopic(c), records);
    assert.deepEqual(await committed(c), [6n, "m6"]);
  },
);
