import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { logConfig } from "../src/log/config.js";
import { ErrorCode } from "../src/log/errors.js";
import { BatchOffsets, verifyBatchCrc, writeBatchCrc } from "../src/log/records.js";
import { assignOffsets, validateRecords } from "../src/log/validator.js";
import { batchOf, encodeBatch } from "./log-fixtures.js";

const now = 1_700_000_000_000;

describe("validateRecords", () => {
  it("accepts a well-formed batch and reports its header facts", () => {
    const b = batchOf(3, "v", 0, { producerId: 7n, producerEpoch: 2, baseSequence: 10 });
    const v = validateRecords(b, logConfig(), now);
    assert.equal(v.errorCode, ErrorCode.NONE);
    assert.equal(v.size, b.length);
    assert.equal(v.recordCount, 3);
    assert.equal(v.producerId, 7n);
    assert.equal(v.producerEpoch, 2);
    assert.equal(v.baseSequence, 10);
  });

  it("maps each malformation to Kafka's error code", () => {
    const config = logConfig();
    const crc = batchOf(2);
    crc.writeUInt8((crc.at(-1) ?? 0) ^ 0x55, crc.length - 1);
    assert.equal(validateRecords(crc, config, now).errorCode, ErrorCode.CORRUPT_MESSAGE);

    assert.equal(validateRecords(batchOf(2).subarray(0, 70), config, now).errorCode, ErrorCode.CORRUPT_MESSAGE);
    assert.equal(validateRecords(Buffer.alloc(0), config, now).errorCode, ErrorCode.INVALID_RECORD);
    assert.equal(
      validateRecords(Buffer.concat([batchOf(1), batchOf(1)]), config, now).errorCode,
      ErrorCode.INVALID_RECORD,
    );

    const legacy = batchOf(1);
    legacy.writeInt8(1, BatchOffsets.magic);
    assert.equal(validateRecords(legacy, config, now).errorCode, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);

    const big = batchOf(10, "v", 200);
    assert.equal(
      validateRecords(big, logConfig({ maxMessageBytes: 1000 }), now).errorCode,
      ErrorCode.MESSAGE_TOO_LARGE,
    );

    const count = batchOf(3);
    count.writeInt32BE(5, BatchOffsets.recordCount);
    writeBatchCrc(count);
    assert.equal(validateRecords(count, config, now).errorCode, ErrorCode.INVALID_RECORD);

    const control = batchOf(1);
    control.writeInt16BE(0x20, BatchOffsets.attributes);
    writeBatchCrc(control);
    assert.equal(validateRecords(control, config, now).errorCode, ErrorCode.INVALID_RECORD);

    const offset = batchOf(1);
    offset.writeBigInt64BE(5n, BatchOffsets.baseOffset);
    assert.equal(validateRecords(offset, config, now).errorCode, ErrorCode.INVALID_RECORD);

    const seq = batchOf(1, "v", 0, { producerId: 1n, producerEpoch: 0, baseSequence: -1 });
    assert.equal(validateRecords(seq, config, now).errorCode, ErrorCode.INVALID_RECORD);

    const future = encodeBatch([{ value: "x", timestamp: BigInt(now + 10_000) }]);
    assert.equal(
      validateRecords(future, logConfig({ messageTimestampAfterMaxMs: 1000 }), now).errorCode,
      ErrorCode.INVALID_TIMESTAMP,
    );
    assert.equal(validateRecords(future, config, now).errorCode, ErrorCode.NONE);
  });
});

describe("assignOffsets", () => {
  it("patches base offset and leader epoch without touching the CRC under CreateTime", () => {
    const b = batchOf(4);
    const crc = b.readUInt32BE(BatchOffsets.crc);
    const config = logConfig();
    const a = assignOffsets(b, validateRecords(b, config, now), 100n, 3, config, now);
    assert.equal(a.firstOffset, 100n);
    assert.equal(a.lastOffset, 103n);
    assert.equal(a.logAppendTime, -1n);
    assert.equal(b.readBigInt64BE(0), 100n);
    assert.equal(b.readInt32BE(BatchOffsets.partitionLeaderEpoch), 3);
    assert.equal(b.readUInt32BE(BatchOffsets.crc), crc);
    assert.ok(verifyBatchCrc(b));
  });

  it("stamps LogAppendTime and recomputes the CRC", () => {
    const b = batchOf(2);
    const config = logConfig({ messageTimestampType: "LogAppendTime" });
    const a = assignOffsets(b, validateRecords(b, config, now), 0n, 0, config, now);
    assert.equal(a.logAppendTime, BigInt(now));
    assert.equal(b.readBigInt64BE(BatchOffsets.maxTimestamp), BigInt(now));
    assert.equal(b.readInt16BE(BatchOffsets.attributes) & 0x08, 0x08);
    assert.ok(verifyBatchCrc(b));
  });
});
