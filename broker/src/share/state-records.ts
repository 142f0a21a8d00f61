import {
  Reader,
  ShareSnapshotKeyCodec,
  ShareSnapshotValueCodec,
  ShareUpdateKeyCodec,
  ShareUpdateValueCodec,
  Writer,
  type MessageCodec,
} from "@tskafka/protocol";
import type { StateBatch } from "./share-partition.js";

/**
 * The records of `__share_group_state` in Kafka's share-coordinator layout: the key starts with an int16
 * record type (0 ShareSnapshot, 1 ShareUpdate), the value with an int16 version (0). A snapshot holds a
 * share-partition's whole state; an update the start offset and the ranges that changed since.
 */

const SNAPSHOT = 0;
const UPDATE = 1;

export interface ShareStateKey {
  readonly groupId: string;
  readonly topicId: string;
  readonly partition: number;
}

export interface ShareStateRecord extends ShareStateKey {
  readonly kind: "snapshot" | "update";
  readonly snapshotEpoch: number;
  /** The state epoch (a snapshot's; an update keeps the one before it). */
  readonly stateEpoch: number;
  /** The leader epoch of the topic partition whose leader wrote the state. */
  readonly leaderEpoch: number;
  readonly startOffset: number;
  /** Records from the start offset on that are done, as the leader counted them (-1: not known). */
  readonly deliveryComplete: number;
  readonly batches: StateBatch[];
}

function encode<T>(codec: MessageCodec<T>, m: T, version: number): Buffer {
  const buf = Buffer.allocUnsafe(2 + codec.size(m, version));
  buf.writeInt16BE(version, 0);
  codec.encode(new Writer(buf, 2), m, version);
  return buf;
}

/** A state batch as the share-state records and the share-state APIs (83-87) carry it. */
export interface WireStateBatch {
  firstOffset: bigint;
  lastOffset: bigint;
  deliveryState: number;
  deliveryCount: number;
}

export const stateBatchToWire = (b: StateBatch): WireStateBatch => ({
  firstOffset: BigInt(b.first),
  lastOffset: BigInt(b.last),
  deliveryState: b.state,
  deliveryCount: b.deliveryCount,
});

export function encodeStateRecord(r: ShareStateRecord, now: number): { key: Buffer; value: Buffer } {
  const key = { groupId: r.groupId, topicId: r.topicId, partition: r.partition };
  const stateBatches = r.batches.map(stateBatchToWire);
  if (r.kind === "snapshot") {
    return {
      key: encode(ShareSnapshotKeyCodec, key, SNAPSHOT),
      value: encode(
        ShareSnapshotValueCodec,
        {
          snapshotEpoch: r.snapshotEpoch,
          stateEpoch: r.stateEpoch,
          leaderEpoch: r.leaderEpoch,
          startOffset: BigInt(r.startOffset),
          deliveryCompleteCount: r.deliveryComplete,
          createTimestamp: BigInt(now),
          writeTimestamp: BigInt(now),
          stateBatches,
        },
        0,
      ),
    };
  }
  return {
    key: encode(ShareUpdateKeyCodec, key, UPDATE),
    value: encode(
      ShareUpdateValueCodec,
      {
        snapshotEpoch: r.snapshotEpoch,
        leaderEpoch: r.leaderEpoch,
        startOffset: BigInt(r.startOffset),
        deliveryCompleteCount: r.deliveryComplete,
        stateBatches,
      },
      0,
    ),
  };
}

export const stateBatchFromWire = (b: WireStateBatch): StateBatch => ({
  first: Number(b.firstOffset),
  last: Number(b.lastOffset),
  state: b.deliveryState,
  deliveryCount: b.deliveryCount,
});

/** The tombstones that delete a share-partition's state (its group was deleted). */
export function stateTombstones(k: ShareStateKey): { key: Buffer; value: null }[] {
  const key = { groupId: k.groupId, topicId: k.topicId, partition: k.partition };
  return [
    { key: encode(ShareSnapshotKeyCodec, key, SNAPSHOT), value: null },
    { key: encode(ShareUpdateKeyCodec, key, UPDATE), value: null },
  ];
}

/** A stored record, a tombstone ("delete"), or undefined for a record type this broker does not know. */
export function decodeStateRecord(
  key: Buffer,
  value: Buffer | null,
): ShareStateRecord | (ShareStateKey & { kind: "delete" }) | undefined {
  if (key.length < 2) return undefined;
  const type = key.readInt16BE(0);
  if (type !== SNAPSHOT && type !== UPDATE) return undefined;
  if (value !== null && value.length < 2) return undefined;
  const snapshot = type === SNAPSHOT;
  // As Kafka: a key's version is its record type.
  const k = (snapshot ? ShareSnapshotKeyCodec : ShareUpdateKeyCodec).decode(new Reader(key, 2, key.length), type);
  const { groupId, topicId, partition } = k;
  if (value === null) return { kind: "delete", groupId, topicId, partition };
  const vr = new Reader(value, 2, value.length);
  const v = (snapshot ? ShareSnapshotValueCodec : ShareUpdateValueCodec).decode(vr, value.readInt16BE(0));
  return {
    kind: snapshot ? "snapshot" : "update",
    groupId,
    topicId,
    partition,
    snapshotEpoch: v.snapshotEpoch,
    stateEpoch: (v as { stateEpoch?: number }).stateEpoch ?? 0,
    leaderEpoch: v.leaderEpoch,
    startOffset: Number(v.startOffset),
    deliveryComplete: v.deliveryCompleteCount,
    batches: v.stateBatches.map(stateBatchFromWire),
  };
}
