import type { CommittedOffset } from "./offset-store.js";
import {
  ConsumerGroupCurrentMemberAssignmentKeyCodec,
  ConsumerGroupCurrentMemberAssignmentValueCodec,
  ConsumerGroupMemberMetadataKeyCodec,
  ConsumerGroupMemberMetadataValueCodec,
  ConsumerGroupMetadataKeyCodec,
  ConsumerGroupMetadataValueCodec,
  GroupMetadataKeyCodec,
  GroupMetadataValueCodec,
  OffsetCommitKeyCodec,
  OffsetCommitValueCodec,
  Reader,
  Writer,
  ZERO_UUID,
  type ConsumerGroupCurrentMemberAssignmentValue,
  type ConsumerGroupMemberMetadataValue,
  type ConsumerGroupMetadataValue,
  type GroupMetadataValue,
  type MessageCodec,
  type OffsetCommitValue,
} from "@tskafka/protocol";
import { decodeStreamsRecord, type DecodedStreamsRecord } from "../streams/records.js";

/**
 * The records of `__consumer_offsets` in Kafka's own layout: key and value each start with an int16
 * version; the key's version names the record type. A null value is a tombstone.
 */

/** Key versions, which double as record types. */
export const RecordType = {
  OFFSET_COMMIT_LEGACY: 0,
  OFFSET_COMMIT: 1,
  GROUP_METADATA: 2,
  CONSUMER_GROUP_METADATA: 3,
  CONSUMER_GROUP_MEMBER_METADATA: 5,
  CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT: 8,
} as const;

/**
 * Value versions written, as Kafka 3.9 writes them: OffsetCommitValue v3, or v1 when the commit carries
 * its own expiry (OffsetCommit v2-4 retention time); GroupMetadataValue v3.
 */
const OFFSET_COMMIT_VALUE_VERSION = 3;
const OFFSET_COMMIT_VALUE_WITH_EXPIRY_VERSION = 1;
const GROUP_METADATA_VALUE_VERSION = 3;

export interface CoordinatorRecord {
  key: Buffer;
  value: Buffer | null;
}

function encodeVersioned<T>(codec: MessageCodec<T>, m: T, version: number): Buffer {
  const buf = Buffer.allocUnsafe(2 + codec.size(m, version));
  buf.writeInt16BE(version, 0);
  const w = new Writer(buf, 2);
  codec.encode(w, m, version);
  return buf;
}

function decodeVersioned<T>(codec: MessageCodec<T>, buf: Buffer): T {
  const version = buf.readInt16BE(0);
  return codec.decode(new Reader(buf, 2, buf.length), version);
}

export function offsetCommitRecord(
  group: string,
  topic: string,
  partition: number,
  value: OffsetCommitValue | null,
): CoordinatorRecord {
  return {
    key: encodeVersioned(OffsetCommitKeyCodec, { group, topic, partition }, RecordType.OFFSET_COMMIT),
    value:
      value === null
        ? null
        : encodeVersioned(
            OffsetCommitValueCodec,
            value,
            value.expireTimestamp >= 0n ? OFFSET_COMMIT_VALUE_WITH_EXPIRY_VERSION : OFFSET_COMMIT_VALUE_VERSION,
          ),
  };
}

/** The record of an offset as the store keeps it (OffsetCommit and TxnOffsetCommit write the same). */
export function committedOffsetRecord(
  group: string,
  topic: string,
  partition: number,
  o: CommittedOffset,
): CoordinatorRecord {
  return offsetCommitRecord(group, topic, partition, {
    offset: o.offset,
    leaderEpoch: o.leaderEpoch,
    metadata: o.metadata,
    commitTimestamp: BigInt(o.commitTimestamp),
    expireTimestamp: BigInt(o.expireTimestamp),
    topicId: ZERO_UUID,
  });
}

export function groupMetadataRecord(group: string, value: GroupMetadataValue | null): CoordinatorRecord {
  return {
    key: encodeVersioned(GroupMetadataKeyCodec, { group }, RecordType.GROUP_METADATA),
    value: value === null ? null : encodeVersioned(GroupMetadataValueCodec, value, GROUP_METADATA_VALUE_VERSION),
  };
}

export function consumerGroupMetadataRecord(
  groupId: string,
  value: ConsumerGroupMetadataValue | null,
): CoordinatorRecord {
  return {
    key: encodeVersioned(ConsumerGroupMetadataKeyCodec, { groupId }, RecordType.CONSUMER_GROUP_METADATA),
    value: value === null ? null : encodeVersioned(ConsumerGroupMetadataValueCodec, value, 0),
  };
}

export function consumerMemberMetadataRecord(
  groupId: string,
  memberId: string,
  value: ConsumerGroupMemberMetadataValue | null,
): CoordinatorRecord {
  return {
    key: encodeVersioned(
      ConsumerGroupMemberMetadataKeyCodec,
      { groupId, memberId },
      RecordType.CONSUMER_GROUP_MEMBER_METADATA,
    ),
    value: value === null ? null : encodeVersioned(ConsumerGroupMemberMetadataValueCodec, value, 0),
  };
}

export function consumerMemberAssignmentRecord(
  groupId: string,
  memberId: string,
  value: ConsumerGroupCurrentMemberAssignmentValue | null,
): CoordinatorRecord {
  return {
    key: encodeVersioned(
      ConsumerGroupCurrentMemberAssignmentKeyCodec,
      { groupId, memberId },
      RecordType.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT,
    ),
    value: value === null ? null : encodeVersioned(ConsumerGroupCurrentMemberAssignmentValueCodec, value, 0),
  };
}

/** A record read back, by type; `value` null for a tombstone. Record types this broker does not use are skipped. */
export type DecodedRecord =
  | DecodedStreamsRecord
  | { type: "offset"; group: string; topic: string; partition: number; value: OffsetCommitValue | null }
  | { type: "group"; group: string; value: GroupMetadataValue | null }
  | { type: "consumer-group"; group: string; value: ConsumerGroupMetadataValue | null }
  | { type: "consumer-member"; group: string; memberId: string; value: ConsumerGroupMemberMetadataValue | null }
  | {
      type: "consumer-assignment";
      group: string;
      memberId: string;
      value: ConsumerGroupCurrentMemberAssignmentValue | null;
    };

export function decodeRecord(key: Buffer, value: Buffer | null): DecodedRecord | undefined {
  if (key.length < 2) return undefined;
  const type = key.readInt16BE(0);
  switch (type) {
    case RecordType.OFFSET_COMMIT_LEGACY:
    case RecordType.OFFSET_COMMIT: {
      const k = decodeVersioned(OffsetCommitKeyCodec, key);
      const v = value === null ? null : decodeVersioned(OffsetCommitValueCodec, value);
      return { type: "offset", group: k.group, topic: k.topic, partition: k.partition, value: v };
    }
    case RecordType.GROUP_METADATA: {
      const k = decodeVersioned(GroupMetadataKeyCodec, key);
      return {
        type: "group",
        group: k.group,
        value: value === null ? null : decodeVersioned(GroupMetadataValueCodec, value),
      };
    }
    case RecordType.CONSUMER_GROUP_METADATA: {
      const k = decodeVersioned(ConsumerGroupMetadataKeyCodec, key);
      return {
        type: "consumer-group",
        group: k.groupId,
        value: value === null ? null : decodeVersioned(ConsumerGroupMetadataValueCodec, value),
      };
    }
    case RecordType.CONSUMER_GROUP_MEMBER_METADATA: {
      const k = decodeVersioned(ConsumerGroupMemberMetadataKeyCodec, key);
      const v = value === null ? null : decodeVersioned(ConsumerGroupMemberMetadataValueCodec, value);
      return { type: "consumer-member", group: k.groupId, memberId: k.memberId, value: v };
    }
    case RecordType.CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT: {
      const k = decodeVersioned(ConsumerGroupCurrentMemberAssignmentKeyCodec, key);
      const v = value === null ? null : decodeVersioned(ConsumerGroupCurrentMemberAssignmentValueCodec, value);
      return { type: "consumer-assignment", group: k.groupId, memberId: k.memberId, value: v };
    }
    default:
      return decodeStreamsRecord(key, value);
  }
}

/** The tombstone that deletes a group's metadata, by the group's protocol. */
export function groupTombstone(kind: "classic" | "consumer", groupId: string): CoordinatorRecord {
  return kind === "classic" ? groupMetadataRecord(groupId, null) : consumerGroupMetadataRecord(groupId, null);
}
