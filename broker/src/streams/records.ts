import {
  Reader,
  StreamsGroupCurrentMemberAssignmentKeyCodec,
  StreamsGroupCurrentMemberAssignmentValueCodec,
  StreamsGroupMemberMetadataKeyCodec,
  StreamsGroupMemberMetadataValueCodec,
  StreamsGroupMetadataKeyCodec,
  StreamsGroupMetadataValueCodec,
  StreamsGroupTargetAssignmentMemberKeyCodec,
  StreamsGroupTargetAssignmentMemberValueCodec,
  StreamsGroupTargetAssignmentMetadataKeyCodec,
  StreamsGroupTargetAssignmentMetadataValueCodec,
  StreamsGroupTopologyKeyCodec,
  StreamsGroupTopologyValueCodec,
  Writer,
  type MessageCodec,
  type StreamsGroupMemberMetadataValue,
  type StreamsGroupTopologyValue,
} from "@tskafka/protocol";
import { taskKey, type Tasks, type TaskMap } from "./tasks.js";

/**
 * Streams group records as Kafka 4.4 writes them to `__consumer_offsets`: the key starts with an int16
 * record type (17 group metadata, 19 member metadata, 20 target assignment metadata, 21 a member's target
 * assignment, 22 its current assignment, 23 the topology), the value with an int16 version (0); a null
 * value deletes. The group coordinator writes and replays them with its own records.
 */

export const StreamsRecordType = {
  GROUP: 17,
  MEMBER: 19,
  TARGET_METADATA: 20,
  TARGET_MEMBER: 21,
  CURRENT_MEMBER: 22,
  TOPOLOGY: 23,
} as const;

export interface StreamsRecord {
  key: Buffer;
  value: Buffer | null;
}

function versioned<T>(codec: MessageCodec<T>, m: T, version: number): Buffer {
  const buf = Buffer.allocUnsafe(2 + codec.size(m, version));
  buf.writeInt16BE(version, 0);
  codec.encode(new Writer(buf, 2), m, version);
  return buf;
}

const taskIds = (m: TaskMap) => [...m].map(([subtopologyId, partitions]) => ({ subtopologyId, partitions }));
const taskMap = (list: readonly { subtopologyId: string; partitions: number[] }[]): TaskMap =>
  new Map(list.map((t) => [t.subtopologyId, [...t.partitions].sort((a, b) => a - b)]));

/** The group's epoch and metadata hash; null deletes the group. */
export function groupRecord(
  groupId: string,
  v: { epoch: number; metadataHash: bigint; validatedTopologyEpoch: number } | null,
): StreamsRecord {
  return {
    key: versioned(StreamsGroupMetadataKeyCodec, { groupId }, StreamsRecordType.GROUP),
    value:
      v === null
        ? null
        : versioned(
            StreamsGroupMetadataValueCodec,
            {
              epoch: v.epoch,
              metadataHash: v.metadataHash,
              validatedTopologyEpoch: v.validatedTopologyEpoch,
              lastAssignmentConfigs: null,
              storedDescriptionTopologyEpoch: -1,
              failedDescriptionTopologyEpoch: -1,
            },
            0,
          ),
  };
}

export function topologyRecord(groupId: string, topology: StreamsGroupTopologyValue | null): StreamsRecord {
  return {
    key: versioned(StreamsGroupTopologyKeyCodec, { groupId }, StreamsRecordType.TOPOLOGY),
    value: topology === null ? null : versioned(StreamsGroupTopologyValueCodec, topology, 0),
  };
}

export function memberRecord(
  groupId: string,
  memberId: string,
  value: StreamsGroupMemberMetadataValue | null,
): StreamsRecord {
  return {
    key: versioned(StreamsGroupMemberMetadataKeyCodec, { groupId, memberId }, StreamsRecordType.MEMBER),
    value: value === null ? null : versioned(StreamsGroupMemberMetadataValueCodec, value, 0),
  };
}

export function targetMetadataRecord(groupId: string, assignmentEpoch: number | null, now: number): StreamsRecord {
  return {
    key: versioned(StreamsGroupTargetAssignmentMetadataKeyCodec, { groupId }, StreamsRecordType.TARGET_METADATA),
    value:
      assignmentEpoch === null
        ? null
        : versioned(
            StreamsGroupTargetAssignmentMetadataValueCodec,
            { assignmentEpoch, assignmentTimestamp: BigInt(now) },
            0,
          ),
  };
}

export function targetMemberRecord(groupId: string, memberId: string, tasks: Tasks | null): StreamsRecord {
  return {
    key: versioned(StreamsGroupTargetAssignmentMemberKeyCodec, { groupId, memberId }, StreamsRecordType.TARGET_MEMBER),
    value:
      tasks === null
        ? null
        : versioned(
            StreamsGroupTargetAssignmentMemberValueCodec,
            {
              activeTasks: taskIds(tasks.active),
              standbyTasks: taskIds(tasks.standby),
              warmupTasks: taskIds(tasks.warmup),
            },
            0,
          ),
  };
}

export interface CurrentAssignment {
  memberEpoch: number;
  previousMemberEpoch: number;
  /** Kafka's MemberState: 0 stable, 1 unrevoked tasks, 2 unreleased tasks, 3 unknown. */
  state: number;
  assigned: Tasks;
  pendingRevocation: Tasks;
  /** Task key (`taskKey`) -> the member epoch at which the active task was given (AssignmentEpochs). */
  activeEpochs: Map<string, number>;
}

export function currentMemberRecord(groupId: string, memberId: string, c: CurrentAssignment | null): StreamsRecord {
  const ids = (m: TaskMap) => taskIds(m).map((t) => ({ ...t, assignmentEpochs: null }));
  const active = (m: TaskMap) =>
    taskIds(m).map((t) => ({
      ...t,
      assignmentEpochs: t.partitions.map((p) => c?.activeEpochs.get(taskKey(t.subtopologyId, p)) ?? c!.memberEpoch),
    }));
  return {
    key: versioned(
      StreamsGroupCurrentMemberAssignmentKeyCodec,
      { groupId, memberId },
      StreamsRecordType.CURRENT_MEMBER,
    ),
    value:
      c === null
        ? null
        : versioned(
            StreamsGroupCurrentMemberAssignmentValueCodec,
            {
              memberEpoch: c.memberEpoch,
              previousMemberEpoch: c.previousMemberEpoch,
              state: c.state,
              activeTasks: active(c.assigned.active),
              standbyTasks: ids(c.assigned.standby),
              warmupTasks: ids(c.assigned.warmup),
              activeTasksPendingRevocation: active(c.pendingRevocation.active),
              standbyTasksPendingRevocation: ids(c.pendingRevocation.standby),
              warmupTasksPendingRevocation: ids(c.pendingRevocation.warmup),
            },
            0,
          ),
  };
}

/** What loading learns from one streams group record (undefined: another record type). */
export type DecodedStreamsRecord =
  | {
      type: "streams-group";
      group: string;
      value: { epoch: number; metadataHash: bigint; validatedTopologyEpoch: number } | null;
    }
  | { type: "streams-topology"; group: string; value: StreamsGroupTopologyValue | null }
  | { type: "streams-member"; group: string; memberId: string; value: StreamsGroupMemberMetadataValue | null }
  | { type: "streams-target-metadata"; group: string; value: number | null }
  | { type: "streams-target-member"; group: string; memberId: string; value: Tasks | null }
  | { type: "streams-current-member"; group: string; memberId: string; value: CurrentAssignment | null };

export function decodeStreamsRecord(key: Buffer, value: Buffer | null): DecodedStreamsRecord | undefined {
  if (key.length < 2) return undefined;
  const type = key.readInt16BE(0);
  const k = new Reader(key, 2, key.length);
  const v = value === null ? undefined : new Reader(value, 2, value.length);
  const vv = value === null ? 0 : value.readInt16BE(0);
  switch (type) {
    case StreamsRecordType.GROUP: {
      const { groupId } = StreamsGroupMetadataKeyCodec.decode(k, type);
      const d = v === undefined ? null : StreamsGroupMetadataValueCodec.decode(v, vv);
      return { type: "streams-group", group: groupId, value: d };
    }
    case StreamsRecordType.TOPOLOGY: {
      const { groupId } = StreamsGroupTopologyKeyCodec.decode(k, type);
      return {
        type: "streams-topology",
        group: groupId,
        value: v === undefined ? null : StreamsGroupTopologyValueCodec.decode(v, vv),
      };
    }
    case StreamsRecordType.MEMBER: {
      const { groupId, memberId } = StreamsGroupMemberMetadataKeyCodec.decode(k, type);
      const d = v === undefined ? null : StreamsGroupMemberMetadataValueCodec.decode(v, vv);
      return { type: "streams-member", group: groupId, memberId, value: d };
    }
    case StreamsRecordType.TARGET_METADATA: {
      const { groupId } = StreamsGroupTargetAssignmentMetadataKeyCodec.decode(k, type);
      const d = v === undefined ? null : StreamsGroupTargetAssignmentMetadataValueCodec.decode(v, vv).assignmentEpoch;
      return { type: "streams-target-metadata", group: groupId, value: d };
    }
    case StreamsRecordType.TARGET_MEMBER: {
      const { groupId, memberId } = StreamsGroupTargetAssignmentMemberKeyCodec.decode(k, type);
      if (v === undefined) return { type: "streams-target-member", group: groupId, memberId, value: null };
      const d = StreamsGroupTargetAssignmentMemberValueCodec.decode(v, vv);
      return {
        type: "streams-target-member",
        group: groupId,
        memberId,
        value: { active: taskMap(d.activeTasks), standby: taskMap(d.standbyTasks), warmup: taskMap(d.warmupTasks) },
      };
    }
    case StreamsRecordType.CURRENT_MEMBER: {
      const { groupId, memberId } = StreamsGroupCurrentMemberAssignmentKeyCodec.decode(k, type);
      if (v === undefined) return { type: "streams-current-member", group: groupId, memberId, value: null };
      const d = StreamsGroupCurrentMemberAssignmentValueCodec.decode(v, vv);
      // Epochs of the active tasks; where they are missing or do not match, the member epoch (as Kafka).
      const activeEpochs = new Map<string, number>();
      for (const t of [...d.activeTasks, ...d.activeTasksPendingRevocation]) {
        const epochs = t.assignmentEpochs?.length === t.partitions.length ? t.assignmentEpochs : null;
        t.partitions.forEach((p, i) => activeEpochs.set(taskKey(t.subtopologyId, p), epochs?.[i] ?? d.memberEpoch));
      }
      return {
        type: "streams-current-member",
        group: groupId,
        memberId,
        value: {
          memberEpoch: d.memberEpoch,
          previousMemberEpoch: d.previousMemberEpoch,
          state: d.state,
          assigned: {
            active: taskMap(d.activeTasks),
            standby: taskMap(d.standbyTasks),
            warmup: taskMap(d.warmupTasks),
          },
          pendingRevocation: {
            active: taskMap(d.activeTasksPendingRevocation),
            standby: taskMap(d.standbyTasksPendingRevocation),
            warmup: taskMap(d.warmupTasksPendingRevocation),
          },
          activeEpochs,
        },
      };
    }
    default:
      return undefined;
  }
}
