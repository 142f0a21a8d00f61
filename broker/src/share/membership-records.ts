import {
  Reader,
  ShareGroupCurrentMemberAssignmentKeyCodec,
  ShareGroupCurrentMemberAssignmentValueCodec,
  ShareGroupMemberMetadataKeyCodec,
  ShareGroupMemberMetadataValueCodec,
  ShareGroupMetadataKeyCodec,
  ShareGroupMetadataValueCodec,
  ShareGroupTargetAssignmentMemberKeyCodec,
  ShareGroupTargetAssignmentMemberValueCodec,
  ShareGroupTargetAssignmentMetadataKeyCodec,
  ShareGroupTargetAssignmentMetadataValueCodec,
  Writer,
  type MessageCodec,
} from "@tskafka/protocol";

/**
 * Share group membership as Kafka 4.4 writes it to `__consumer_offsets`: the key starts with an int16
 * record type (10 member metadata, 11 group metadata, 12 target assignment metadata, 13 a member's target
 * assignment, 14 its current assignment), the value with an int16 version (0); a null value deletes.
 */

const Type = {
  MEMBER: 10,
  GROUP: 11,
  TARGET_METADATA: 12,
  TARGET_MEMBER: 13,
  CURRENT_MEMBER: 14,
} as const;

export interface MembershipRecord {
  key: Buffer;
  value: Buffer | null;
}

/** Topic id to partitions, as the records carry assignments. */
export type Partitions = ReadonlyMap<string, readonly number[]>;

function versioned<T>(codec: MessageCodec<T>, m: T, version: number): Buffer {
  const buf = Buffer.allocUnsafe(2 + codec.size(m, version));
  buf.writeInt16BE(version, 0);
  codec.encode(new Writer(buf, 2), m, version);
  return buf;
}

const topicPartitions = (p: Partitions) =>
  [...p].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions] }));

/** The group's epoch; null deletes the group. */
export function groupRecord(groupId: string, epoch: number | null): MembershipRecord {
  return {
    key: versioned(ShareGroupMetadataKeyCodec, { groupId }, Type.GROUP),
    value: epoch === null ? null : versioned(ShareGroupMetadataValueCodec, { epoch, metadataHash: 0n }, 0),
  };
}

export function memberRecord(
  groupId: string,
  m:
    | { memberId: string; rackId: string | null; clientId: string; clientHost: string; subscribedTopics: string[] }
    | string,
): MembershipRecord {
  const memberId = typeof m === "string" ? m : m.memberId;
  return {
    key: versioned(ShareGroupMemberMetadataKeyCodec, { groupId, memberId }, Type.MEMBER),
    value:
      typeof m === "string"
        ? null
        : versioned(
            ShareGroupMemberMetadataValueCodec,
            {
              rackId: m.rackId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              subscribedTopicNames: m.subscribedTopics,
            },
            0,
          ),
  };
}

export function targetMetadataRecord(groupId: string, assignmentEpoch: number, now: number): MembershipRecord {
  return {
    key: versioned(ShareGroupTargetAssignmentMetadataKeyCodec, { groupId }, Type.TARGET_METADATA),
    value: versioned(
      ShareGroupTargetAssignmentMetadataValueCodec,
      { assignmentEpoch, assignmentTimestamp: BigInt(now) },
      0,
    ),
  };
}

export function targetMetadataTombstone(groupId: string): MembershipRecord {
  return { key: versioned(ShareGroupTargetAssignmentMetadataKeyCodec, { groupId }, Type.TARGET_METADATA), value: null };
}

export function targetMemberRecord(groupId: string, memberId: string, p: Partitions | null): MembershipRecord {
  return {
    key: versioned(ShareGroupTargetAssignmentMemberKeyCodec, { groupId, memberId }, Type.TARGET_MEMBER),
    value:
      p === null
        ? null
        : versioned(ShareGroupTargetAssignmentMemberValueCodec, { topicPartitions: topicPartitions(p) }, 0),
  };
}

export function currentMemberRecord(
  groupId: string,
  memberId: string,
  current: { memberEpoch: number; previousMemberEpoch: number; assignment: Partitions } | null,
): MembershipRecord {
  return {
    key: versioned(ShareGroupCurrentMemberAssignmentKeyCodec, { groupId, memberId }, Type.CURRENT_MEMBER),
    value:
      current === null
        ? null
        : versioned(
            ShareGroupCurrentMemberAssignmentValueCodec,
            {
              memberEpoch: current.memberEpoch,
              previousMemberEpoch: current.previousMemberEpoch,
              state: 0,
              assignedPartitions: topicPartitions(current.assignment),
            },
            0,
          ),
  };
}

/** What loading learns from one record (undefined: not a share group record). */
export type DecodedMembership =
  | { type: "group"; groupId: string; epoch: number | null }
  | {
      type: "member";
      groupId: string;
      memberId: string;
      value: { rackId: string | null; clientId: string; clientHost: string; subscribedTopicNames: string[] } | null;
    }
  | {
      type: "current";
      groupId: string;
      memberId: string;
      memberEpoch: number | null;
      assignment: Map<string, number[]>;
    };

export function decodeMembership(key: Buffer, value: Buffer | null): DecodedMembership | undefined {
  if (key.length < 2) return undefined;
  const type = key.readInt16BE(0);
  const k = new Reader(key, 2, key.length);
  const v = value === null ? undefined : new Reader(value, 2, value.length);
  const vv = value === null ? 0 : value.readInt16BE(0);
  switch (type) {
    case Type.GROUP: {
      const { groupId } = ShareGroupMetadataKeyCodec.decode(k, type);
      return {
        type: "group",
        groupId,
        epoch: v === undefined ? null : ShareGroupMetadataValueCodec.decode(v, vv).epoch,
      };
    }
    case Type.MEMBER: {
      const { groupId, memberId } = ShareGroupMemberMetadataKeyCodec.decode(k, type);
      return {
        type: "member",
        groupId,
        memberId,
        value: v === undefined ? null : ShareGroupMemberMetadataValueCodec.decode(v, vv),
      };
    }
    case Type.CURRENT_MEMBER: {
      const { groupId, memberId } = ShareGroupCurrentMemberAssignmentKeyCodec.decode(k, type);
      if (v === undefined) return { type: "current", groupId, memberId, memberEpoch: null, assignment: new Map() };
      const c = ShareGroupCurrentMemberAssignmentValueCodec.decode(v, vv);
      return {
        type: "current",
        groupId,
        memberId,
        memberEpoch: c.memberEpoch,
        assignment: new Map(c.assignedPartitions.map((t) => [t.topicId, t.partitions])),
      };
    }
    default:
      return undefined;
  }
}
