import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../src/errors.js";
import { GroupLogWriter } from "../src/group/log-writer.js";
import { groupMetadataRecord, type CoordinatorRecord } from "../src/group/records.js";

/** Write ordering to `__consumer_offsets`, with a fake topic whose appends finish when the test says. */

interface PendingAppend {
  groupId: string;
  records: readonly CoordinatorRecord[];
  finish(errorCode: number): void;
  fail(e: Error): void;
}

function fakeTopic(partitions: Record<string, number>) {
  const started: PendingAppend[] = [];
  const topic = {
    partitionFor: (groupId: string) => partitions[groupId]!,
    append: (groupId: string, records: readonly CoordinatorRecord[]) =>
      new Promise<number>((resolve, reject) => started.push({ groupId, records, finish: resolve, fail: reject })),
  };
  return { topic, started };
}

const quiet = { error: () => undefined };
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const record = (groupId: string) => [groupMetadataRecord(groupId, null)];

test("appends to one partition start one after the other, in the order written", async () => {
  const { topic, started } = fakeTopic({ a: 0, b: 0 });
  const writer = new GroupLogWriter(topic, quiet);
  const done: string[] = [];
  const first = writer.write("a", record("a")).then((e) => done.push(`a1:${e}`));
  const second = writer.write("b", record("b")).then((e) => done.push(`b:${e}`));
  const third = writer.write("a", record("a")).then((e) => done.push(`a2:${e}`));
  await settle();
  assert.deepEqual(
    started.map((s) => s.groupId),
    ["a"],
    "the second append waits for the first",
  );
  started[0]!.finish(ErrorCode.NONE);
  await settle();
  assert.deepEqual(
    started.map((s) => s.groupId),
    ["a", "b"],
  );
  started[1]!.finish(ErrorCode.NONE);
  await settle();
  started[2]!.finish(ErrorCode.NONE);
  await Promise.all([first, second, third]);
  assert.deepEqual(done, ["a1:0", "b:0", "a2:0"]);
  assert.equal(writer.busyPartitions, 0, "finished chains are forgotten");
});

test("appends to different partitions do not wait for each other", async () => {
  const { topic, started } = fakeTopic({ a: 0, b: 1 });
  const writer = new GroupLogWriter(topic, quiet);
  const a = writer.write("a", record("a"));
  const b = writer.write("b", record("b"));
  await settle();
  assert.deepEqual(
    started.map((s) => s.groupId),
    ["a", "b"],
  );
  assert.equal(writer.busyPartitions, 2);
  started[1]!.finish(ErrorCode.NONE);
  assert.equal(await b, ErrorCode.NONE, "b is done while a is still writing");
  started[0]!.finish(ErrorCode.INVALID_COMMIT_OFFSET_SIZE);
  assert.equal(await a, ErrorCode.INVALID_COMMIT_OFFSET_SIZE, "the topic's error code is passed on");
});

test("a failed append is logged and answered with UNKNOWN_SERVER_ERROR; the next one still runs", async () => {
  const { topic, started } = fakeTopic({ a: 0 });
  const logged: string[] = [];
  const writer = new GroupLogWriter(topic, { error: (m) => logged.push(m) });
  const first = writer.write("a", record("a"));
  const second = writer.write("a", record("a"));
  await settle();
  started[0]!.fail(new Error("disk full"));
  assert.equal(await first, ErrorCode.UNKNOWN_SERVER_ERROR);
  assert.deepEqual(logged, ["group a: disk full"]);
  await settle();
  assert.equal(started.length, 2);
  started[1]!.finish(ErrorCode.NONE);
  assert.equal(await second, ErrorCode.NONE);
});

test("nothing to write is done at once; flush waits for every queued append", async () => {
  const { topic, started } = fakeTopic({ a: 0, b: 1 });
  const writer = new GroupLogWriter(topic, quiet);
  assert.equal(await writer.write("a", []), ErrorCode.NONE);
  assert.equal(started.length, 0);
  void writer.write("a", record("a"));
  void writer.write("a", record("a"));
  void writer.write("b", record("b"));
  let flushed = false;
  const flush = writer.flush().then(() => (flushed = true));
  await settle();
  for (const s of started) s.finish(ErrorCode.NONE);
  await settle();
  assert.equal(flushed, false, "the second append to a is still queued");
  started[2]!.finish(ErrorCode.NONE);
  await flush;
  assert.equal(started.length, 3);
});
