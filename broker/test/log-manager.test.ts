import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { describe, it } from "node:test";
import { ErrorCode } from "../src/log/errors.js";
import { LogManager } from "../src/log/log-manager.js";
import { batchOf } from "./log-fixtures.js";
import { withTempDir } from "./temp.js";

describe("LogManager", () => {
  it("creates, reopens, configures per topic and deletes partition logs", async () => {
    await withTempDir("tskafka-log-", async (dir) => {
      let manager = await LogManager.open(dir, {
        topicConfigs: new Map([["t-a", { messageTimestampType: "LogAppendTime" }]]),
      });
      const a0 = await manager.getOrCreate("t-a", 0);
      const a1 = await manager.getOrCreate("t-a", 1);
      const b0 = await manager.getOrCreate("b", 0, { maxMessageBytes: 100 });
      assert.equal(await manager.getOrCreate("t-a", 0), a0);
      assert.ok((await a0.append(batchOf(2))).logAppendTime > 0n);
      await a1.append(batchOf(3));
      assert.equal((await b0.append(batchOf(5, "v", 50))).errorCode, ErrorCode.MESSAGE_TOO_LARGE);
      manager.start();
      await manager.close();

      manager = await LogManager.open(dir);
      assert.equal(manager.get("t-a", 0)?.logEndOffset, 2n);
      assert.equal(manager.get("t-a", 1)?.logEndOffset, 3n);
      assert.equal(manager.get("b", 0)?.logEndOffset, 0n);
      await manager.deletePartitionLogs("t-a");
      assert.equal(manager.get("t-a", 0), undefined);
      const left = (await readdir(dir)).filter((d) => d.startsWith("t-a-") && !d.endsWith("-delete"));
      assert.deepEqual(left, []);
      await manager.close();
      manager = await LogManager.open(dir);
      assert.deepEqual(
        [...manager.entries()].map((e) => `${e.topic}/${e.partition}`),
        ["b/0"],
      );
      assert.deepEqual((await readdir(dir)).sort(), ["b-0"]);
      await manager.close();
    });
  });
});
