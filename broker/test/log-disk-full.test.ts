import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiKey, createDescribeLogDirsRequest } from "@tskafka/protocol";
import { skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";
import { RawClient } from "./clients/raw-client.js";

/**
 * A data directory on a real, small filesystem (a 40 MB tmpfs, which needs root) filled by a producer
 * of 10 KB records with acks=all: once the disk is full every produce is answered KAFKA_STORAGE_ERROR at
 * once, the broker says so once, reads go on and DescribeLogDirs reports the directory offline; after space is freed the log takes
 * appends again without a restart, and after a restart every acknowledged record is there exactly once.
 */

const KAFKA_STORAGE_ERROR = 56;
const FS_BYTES = 40 << 20;
/** Most of the filesystem is taken by a file the test deletes to give the space back. */
const BALLAST_BYTES = 30 << 20;
const RECORD_BYTES = 10 * 1024;
const TOPIC = "full";

function tryMount(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${FS_BYTES}`, "tmpfs", dir], {
    stdio: "ignore",
    timeout: 10_000,
  });
  return r.status === 0;
}

function unmount(dir: string): void {
  spawnSync("umount", [dir], { stdio: "ignore", timeout: 10_000 });
}

async function writeBallast(path: string): Promise<void> {
  const fh = await open(path, "w");
  try {
    const chunk = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < BALLAST_BYTES; i += chunk.length) await fh.write(chunk);
  } finally {
    await fh.close();
  }
}

function recordValue(n: number): Buffer {
  const v = Buffer.alloc(RECORD_BYTES, 0x61);
  v.write(`record-${n}-`, 0);
  return v;
}

function idOf(value: Buffer | null): string {
  return (value ?? Buffer.alloc(0)).subarray(0, 32).toString().split("-").slice(0, 2).join("-");
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

const root = await mkdtemp(join(tmpdir(), "tskafka-diskfull-"));
const mounted = tryMount(root);
const skip = skipUnless(mounted, "mounting a tmpfs (as root)");

describe("disk full", { skip, timeout: 120_000 }, () => {
  const dataDir = join(root, "data");
  const ballast = join(root, "ballast");
  const properties = { "num.partitions": 1, "log.segment.bytes": 4 << 20 };
  let broker: BrokerProcess | undefined;
  let client: RawClient | undefined;
  /** Ids of the records whose produce was acknowledged. */
  const acked = new Set<string>();
  let next = 0;

  /** One produce of one record, which must be answered within a second. */
  async function produceOne(): Promise<number> {
    const n = next++;
    const t0 = Date.now();
    const r = await client!.produce(TOPIC, 0, [{ value: recordValue(n) }], -1);
    assert.ok(Date.now() - t0 < 1000, `produce answered after ${Date.now() - t0} ms`);
    if (r.errorCode === 0) acked.add(`record-${n}`);
    return r.errorCode;
  }

  async function describeDir() {
    const res = await client!.request(ApiKey.DescribeLogDirs, 4, createDescribeLogDirsRequest({ topics: null }));
    assert.equal(res.results.length, 1);
    return res.results[0]!;
  }

  async function storedIds(c: RawClient): Promise<string[]> {
    return (await c.fetchAll(TOPIC, 0)).map((r) => idOf(r.record.value));
  }

  before(async () => {
    await mkdir(dataDir);
    await writeBallast(ballast);
    broker = await startBroker({ dataDir, properties });
    client = await RawClient.connect(broker.port, { requestTimeoutMs: 5000 });
    await client.metadata([TOPIC]);
  });

  after(async () => {
    client?.close();
    await broker?.cleanup();
    if (mounted) unmount(root);
    await rm(root, { recursive: true, force: true });
  });

  test("a full disk is answered at once, reported once, and recovered from without a restart", async () => {
    // Fill the disk.
    let code = 0;
    for (let i = 0; i < 5000 && code === 0; i++) code = await produceOne();
    assert.equal(code, KAFKA_STORAGE_ERROR, "the disk filled up");
    assert.ok(acked.size > 100, `${acked.size} records fit`);
    for (let i = 0; i < 20; i++) assert.equal(await produceOne(), KAFKA_STORAGE_ERROR);
    await waitFor("the offline log line", () => broker!.output().includes("is offline"), 5000);
    assert.equal(count(broker!.output(), "is offline"), 1, "the failure is logged once");
    assert.match(broker!.output(), /log directory .* is offline .*ENOSPC/);

    // Reads of what is stored go on; the directory reports its error and, as Kafka, nothing else.
    assert.deepEqual((await storedIds(client!)).sort(), [...acked].sort());
    const offline = await describeDir();
    assert.equal(offline.errorCode, KAFKA_STORAGE_ERROR);
    assert.deepEqual([offline.totalBytes, offline.usableBytes, offline.topics], [-1n, -1n, []]);

    // Space comes back: appends are taken again, without a restart.
    await rm(ballast);
    const deadline = Date.now() + 15_000;
    while ((await produceOne()) !== 0) {
      assert.ok(Date.now() < deadline, "appends were not taken again after space came back");
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 20; i++) assert.equal(await produceOne(), 0);
    await waitFor("the online log line", () => broker!.output().includes("is back online"), 5000);
    assert.equal(count(broker!.output(), "is offline"), 1);
    assert.equal(count(broker!.output(), "is back online"), 1);
    assert.equal((await describeDir()).errorCode, 0);
    assert.deepEqual((await storedIds(client!)).sort(), [...acked].sort());
  });

  test("after a restart every acknowledged record is there exactly once", async () => {
    client?.close();
    assert.equal(await broker!.stop(), 0);
    broker = await startBroker({ dataDir, properties });
    client = await RawClient.connect(broker.port, { requestTimeoutMs: 5000 });
    const ids = await storedIds(client);
    assert.equal(new Set(ids).size, ids.length, "no record is stored twice");
    assert.deepEqual(ids.sort(), [...acked].sort());
  });
});
