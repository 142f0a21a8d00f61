import type { BrokerConfig } from "../config.js";
import type { Logger } from "../logger.js";
import type { ClassicState } from "./classic-group.js";
import type { OffsetStore } from "./offset-store.js";
import { groupTombstone, offsetCommitRecord, type CoordinatorRecord } from "./records.js";

/**
 * Expiry of committed offsets, as Kafka's `offsets.retention.minutes`: every
 * `offsets.retention.check.interval.ms`, the offsets of a group without members that are older than the
 * retention are deleted (for a classic group, counted from when it became empty, if later), and so are
 * the offsets of topics a group with members no longer subscribes to; an empty group left without
 * offsets goes too. An offset committed with its own retention (OffsetCommit v2-4) expires at its own time.
 * As in Kafka, an open transaction holds things back: an offset with a transactional offset staged for
 * its partition does not expire, and a group with a transaction open is not removed.
 */

/** What expiry sees of a classic group (ClassicGroup is one). */
export interface ClassicExpiryGroup {
  readonly kind: "classic";
  readonly groupId: string;
  readonly state: ClassicState;
  readonly protocolType: string | null;
  /** When the group entered its current state (ms). */
  readonly stateTimestamp: number;
  readonly members: { readonly size: number };
  /** Members still to come back with the id they were given (KIP-394) count as members. */
  readonly pendingMembers: { readonly size: number };
  subscribedTopics(): Set<string> | undefined;
}

/** What expiry sees of a consumer-protocol group (ConsumerGroup is one). */
export interface ConsumerExpiryGroup {
  readonly kind: "consumer";
  readonly groupId: string;
  readonly members: { readonly size: number };
  subscribedTopics(): Set<string>;
}

/** What expiry sees of a streams group (StreamsGroup is one): a consumer group with more to delete. */
export interface StreamsExpiryGroup {
  readonly kind: "streams";
  readonly groupId: string;
  readonly members: { readonly size: number };
  subscribedTopics(): Set<string>;
  /** The records that delete the group. */
  tombstones(): CoordinatorRecord[];
}

export type ExpiryGroup = ClassicExpiryGroup | ConsumerExpiryGroup | StreamsExpiryGroup;

/** What expiry uses: settings, the groups, their offsets, and the ordered writer. */
export interface OffsetExpiryHost<G extends ExpiryGroup> {
  /** Read at each use. */
  readonly config: {
    readonly props: Pick<BrokerConfig["props"], "offsets.retention.minutes" | "offsets.retention.check.interval.ms">;
  };
  readonly log: Pick<Logger, "info">;
  readonly offsets: Pick<OffsetStore, "committed" | "delete" | "has" | "hasPending" | "hasPendingGroup">;
  /** Every group now (a copy: groups may be removed during a pass). */
  groups(): readonly G[];
  /** Removes an expired group (its tombstone is written by expiry). */
  removeGroup(group: G): void;
  /** Appends to `__consumer_offsets` in order; resolves to an error code. */
  write(groupId: string, records: CoordinatorRecord[]): Promise<number>;
}

export class OffsetExpiry<G extends ExpiryGroup> {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly host: OffsetExpiryHost<G>) {}

  /** Starts the periodic pass (idempotent). */
  start(): void {
    if (this.timer !== undefined) return;
    const interval = this.host.config.props["offsets.retention.check.interval.ms"];
    this.timer = setInterval(() => void this.expire(), interval);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass; returns how many offsets expired. */
  async expire(now = Date.now()): Promise<number> {
    const retentionMs = this.host.config.props["offsets.retention.minutes"] * 60_000;
    let expired = 0;
    for (const group of this.host.groups()) {
      const committed = this.host.offsets.committed(group.groupId);
      const empty = group.members.size === 0 && (group.kind !== "classic" || group.pendingMembers.size === 0);
      let subscribed: Set<string> | undefined;
      if (!empty) subscribed = group.subscribedTopics();
      if (!empty && subscribed === undefined) continue;
      const records: CoordinatorRecord[] = [];
      const doomed: { topic: string; partition: number }[] = [];
      for (const [topic, parts] of committed ?? []) {
        if (subscribed?.has(topic) === true) continue;
        for (const [partition, o] of parts) {
          const base =
            empty && group.kind === "classic" && group.protocolType !== null
              ? Math.max(group.stateTimestamp, o.commitTimestamp)
              : o.commitTimestamp;
          const expiresAt = o.expireTimestamp >= 0 ? o.expireTimestamp : base + retentionMs;
          if (now < expiresAt || this.host.offsets.hasPending(group.groupId, topic, partition)) continue;
          records.push(offsetCommitRecord(group.groupId, topic, partition, null));
          doomed.push({ topic, partition });
        }
      }
      for (const d of doomed) this.host.offsets.delete(group.groupId, d.topic, d.partition);
      expired += doomed.length;
      const idle = empty && (group.kind !== "classic" || group.state === "Empty");
      if (idle && !this.host.offsets.has(group.groupId) && !this.host.offsets.hasPendingGroup(group.groupId)) {
        records.push(...(group.kind === "streams" ? group.tombstones() : [groupTombstone(group.kind, group.groupId)]));
        this.host.removeGroup(group);
      }
      if (records.length > 0) await this.host.write(group.groupId, records);
    }
    if (expired > 0) this.host.log.info(`expired ${expired} committed offsets`);
    return expired;
  }
}
