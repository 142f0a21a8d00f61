import {
  ConsumerProtocolAssignmentCodec,
  ConsumerProtocolSubscriptionCodec,
  Reader,
  Writer,
  type MessageCodec,
} from "@tskafka/protocol";
import { only, type GroupMembership } from "./consume-member.js";
import type { KafkaAdmin } from "./kafka-admin.js";
import { RETRIABLE_COORDINATOR } from "./kafka-client.js";
import { check } from "./kafka-error.js";
import { decodeAssignment } from "./kafka-groups.js";

/**
 * A classic consumer group member (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) with Kafka's range
 * assignor, eager: on a rebalance the member commits its positions, gives up every partition, joins
 * again, and the leader (one of the members) assigns the topic's partitions in ranges. Java consumers
 * offering `range` (their default list does) can share the group.
 */

const SESSION_TIMEOUT_MS = 10_000;
const REBALANCE_TIMEOUT_MS = 30_000;
const HEARTBEAT_MS = 1_000;
/** Kafka's error codes met while joining. */
const ILLEGAL_GENERATION = 22;
const UNKNOWN_MEMBER_ID = 25;
const REBALANCE_IN_PROGRESS = 27;
const MEMBER_ID_REQUIRED = 79;
/** The version of the embedded consumer protocol messages we write (Kafka reads every version). */
const PROTOCOL_VERSION = 0;

export class ClassicMembership implements GroupMembership {
  private memberId = "";
  private generation = -1;
  private joined = false;
  private nextBeat = 0;
  private assigned: number[] = [];

  constructor(
    private readonly admin: KafkaAdmin,
    private readonly group: string,
    private readonly topic: string,
  ) {}

  async poll(positions: ReadonlyMap<number, bigint>): Promise<number[]> {
    if (!this.joined) return this.join();
    if (Date.now() < this.nextBeat) return this.assigned;
    const code = await this.admin.groupHeartbeat(this.group, this.generation, this.memberId);
    this.nextBeat = Date.now() + HEARTBEAT_MS;
    if (code === 0) return this.assigned;
    if (RETRIABLE_COORDINATOR.has(code)) return this.assigned; // the group moves or loads: beat again
    if (code === REBALANCE_IN_PROGRESS) await this.commit(positions).catch(() => undefined);
    else if (code === UNKNOWN_MEMBER_ID) this.memberId = "";
    else if (code !== ILLEGAL_GENERATION) check(code, `heartbeat of ${this.group}`);
    this.joined = false;
    this.assigned = [];
    return this.join();
  }

  async commit(positions: ReadonlyMap<number, bigint>): Promise<void> {
    const mine = only(positions, this.assigned);
    if (mine.size > 0)
      await this.admin.commit(this.group, this.topic, mine, { id: this.memberId, epoch: this.generation });
  }

  async leave(): Promise<void> {
    if (this.memberId !== "") await this.admin.leaveGroup(this.group, this.memberId).catch(() => undefined);
  }

  /** Joins (again) until a generation's SyncGroup answers this member's partitions. */
  private async join(): Promise<number[]> {
    const metadata = encodeEmbedded(ConsumerProtocolSubscriptionCodec, {
      topics: [this.topic],
      userData: null,
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    });
    for (;;) {
      const j = await this.admin.joinGroup(this.group, this.memberId, [{ name: "range", metadata }], {
        sessionMs: SESSION_TIMEOUT_MS,
        rebalanceMs: REBALANCE_TIMEOUT_MS,
      });
      if (j.errorCode === MEMBER_ID_REQUIRED || j.errorCode === UNKNOWN_MEMBER_ID) {
        this.memberId = j.errorCode === MEMBER_ID_REQUIRED ? j.memberId : "";
        continue;
      }
      if (j.errorCode === REBALANCE_IN_PROGRESS) continue;
      if (RETRIABLE_COORDINATOR.has(j.errorCode)) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      check(j.errorCode, `join ${this.group}`);
      this.memberId = j.memberId;
      this.generation = j.generationId;
      const assignments = j.leader === j.memberId ? await this.assign(j.members) : [];
      const s = await this.admin.syncGroup(
        this.group,
        this.generation,
        this.memberId,
        j.protocolName ?? "range",
        assignments,
        REBALANCE_TIMEOUT_MS + 10_000,
      );
      if (s.errorCode === REBALANCE_IN_PROGRESS || s.errorCode === ILLEGAL_GENERATION) continue;
      if (RETRIABLE_COORDINATOR.has(s.errorCode)) continue; // join the new coordinator's generation
      check(s.errorCode, `sync ${this.group}`);
      this.assigned = (decodeAssignment(s.assignment).find((a) => a.topic === this.topic)?.partitions ?? []).sort(
        (a, b) => a - b,
      );
      this.joined = true;
      this.nextBeat = Date.now() + HEARTBEAT_MS;
      return this.assigned;
    }
  }

  /** The leader's work: every member's share of every topic any member subscribed to. */
  private async assign(
    members: { memberId: string; metadata: Buffer }[],
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const subscriptions = new Map(members.map((m) => [m.memberId, decodeSubscription(m.metadata)]));
    const topics = [...new Set([...subscriptions.values()].flat())].sort();
    const partitionCounts = new Map<string, number>();
    for (const t of topics) partitionCounts.set(t, (await this.admin.topic(t)).partitions.length);
    const plan = rangeAssign(subscriptions, partitionCounts);
    return members.map((m) => ({
      memberId: m.memberId,
      assignment: encodeEmbedded(ConsumerProtocolAssignmentCodec, {
        assignedPartitions: [...(plan.get(m.memberId) ?? new Map<string, number[]>())].map(([topic, partitions]) => ({
          topic,
          partitions,
        })),
        userData: null,
      }),
    }));
  }
}

/**
 * Kafka's range assignor: per topic, its subscribers sorted by member id each take a contiguous range
 * of partitions, the first (count % members) one more than the others.
 */
export function rangeAssign(
  subscriptions: ReadonlyMap<string, readonly string[]>,
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, Map<string, number[]>> {
  const plan = new Map<string, Map<string, number[]>>([...subscriptions.keys()].map((m) => [m, new Map()]));
  for (const [topic, count] of partitionCounts) {
    const members = [...subscriptions]
      .filter(([, t]) => t.includes(topic))
      .map(([m]) => m)
      .sort();
    if (members.length === 0) continue;
    const per = Math.floor(count / members.length);
    const extra = count % members.length;
    members.forEach((m, i) => {
      const start = i * per + Math.min(i, extra);
      const length = per + (i < extra ? 1 : 0);
      if (length > 0)
        plan.get(m)!.set(
          topic,
          Array.from({ length }, (_, k) => start + k),
        );
    });
  }
  return plan;
}

/** An embedded consumer protocol message: its int16 version, then its body. */
function encodeEmbedded<T>(codec: MessageCodec<T>, m: T): Buffer {
  const buf = Buffer.alloc(2 + codec.size(m, PROTOCOL_VERSION));
  buf.writeInt16BE(PROTOCOL_VERSION, 0);
  codec.encode(new Writer(buf, 2), m, PROTOCOL_VERSION);
  return buf;
}

/** The topics of a member's subscription (any version). */
function decodeSubscription(bytes: Buffer): string[] {
  if (bytes.length < 2) return [];
  const version = Math.min(bytes.readInt16BE(0), 3);
  return ConsumerProtocolSubscriptionCodec.decode(new Reader(bytes, 2, bytes.length), version).topics;
}
