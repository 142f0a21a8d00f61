import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { logConfig } from "../src/log/config.js";
import { ErrorCode } from "../src/log/errors.js";
import { PartitionLog } from "../src/log/partition-log.js";
import { lastSequence, ProducerStateManager } from "../src/log/producer-state.js";
import { batchOf } from "./log-fixtures.js";
import { tempDir, type TempDir } from "./temp.js";

let root: TempDir;
let n = 0;
before(async () => {
  root = await tempDir("tskafka-log-");
});
after(async () => {
  await root.cleanup();
});

const idem = (seq: number, count = 2, epoch = 0, pid = 42n): Buffer =>
  batchOf(count, `s${seq}`, 0, { producerId: pid, producerEpoch: epoch, baseSequence: seq });

describe("ProducerStateManager", () => {
  it("wraps sequences at Int32 max", () => {
    assert.equal(lastSequence(0x7ffffffe, 3), 1);
    assert.equal(lastSequence(5, 3), 8);
    const p = new ProducerStateManager();
    p.update(1n, 0, 0x7ffffffe, 0x7fffffff, 0n, 1n, 0n, 0);
    assert.equal(p.check(1n, 0, 0, 4).kind, "append");
    assert.equal(p.check(1n, 0, 1, 4).kind, "error");
  });

  it("remembers only the last 5 batches", () => {
    const p = new ProducerStateManager();
    for (let i = 0; i < 7; i++) p.update(1n, 0, i, i, BigInt(i), BigInt(i), 0n, 0);
    assert.equal(p.check(1n, 0, 6, 6).kind, "duplicate");
    assert.equal(p.check(1n, 0, 2, 2).kind, "duplicate");
    const old = p.check(1n, 0, 1, 1);
    assert.equal(old.kind === "error" && old.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });
});

describe("idempotent appends", () => {
  it("acknowledges duplicates with the original offsets, rejects gaps and stale epochs, and survives reopen", async () => {
    const dir = join(root.dir, `p-${n++}`);
    let log = await PartitionLog.open(dir, logConfig());
    assert.equal((await log.append(batchOf(3))).baseOffset, 0n); // a non-idempotent batch first
    const first = await log.append(idem(0));
    assert.deepEqual([first.baseOffset, first.lastOffset], [3n, 4n]);
    const second = await log.append(idem(2));
    assert.deepEqual([second.baseOffset, second.lastOffset], [5n, 6n]);
    const dup = await log.append(idem(0));
    assert.equal(dup.errorCode, ErrorCode.NONE);
    assert.deepEqual([dup.baseOffset, dup.lastOffset], [3n, 4n]);
    assert.equal(log.logEndOffset, 7n);
    assert.equal((await log.append(idem(5))).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // An unknown producer may start at any sequence.
    assert.equal((await log.append(idem(17, 1, 0, 43n))).errorCode, ErrorCode.NONE);
    // A new epoch must start at 0; the old epoch is then fenced.
    assert.equal((await log.append(idem(4, 1, 1))).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await log.append(idem(0, 1, 1))).baseOffset, 8n);
    assert.equal((await log.append(idem(4, 1, 0))).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    await log.abandon(); // unclean: state comes back from the log itself

    log = await PartitionLog.open(dir, logConfig());
    const again = await log.append(idem(0, 1, 1));
    assert.deepEqual([again.errorCode, again.baseOffset], [ErrorCode.NONE, 8n]);
    assert.equal((await log.append(idem(1, 1, 1))).baseOffset, 9n);
    assert.equal((await log.append(idem(3, 1, 1))).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    await log.close();

    log = await PartitionLog.open(dir, logConfig());
    assert.equal((await log.append(idem(1, 1, 1))).baseOffset, 9n);
    assert.equal((await log.append(idem(2, 1, 1))).baseOffset, 10n);
    await log.close();
  });

  it("detects a retry arriving in the same group as its original", async () => {
    const log = await PartitionLog.open(join(root.dir, `p-${n++}`), logConfig({ flushMessages: 1 }));
    const [a, b, c] = await Promise.all([log.append(idem(0)), log.append(idem(0)), log.append(idem(2))]);
    assert.deepEqual([a?.baseOffset, b?.baseOffset, c?.baseOffset], [0n, 0n, 2n]);
    assert.equal(log.logEndOffset, 4n);
    await log.close();
  });
});
