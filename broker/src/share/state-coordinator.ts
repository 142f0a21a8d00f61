import type { Leadership, RoleChange } from "../cluster/leadership.js";
import type { ClusterMetadata } from "../cluster/metadata.js";
import { ErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import type { StateBatch } from "./share-partition.js";
import type { ShareStateKey, ShareStateRecord } from "./state-records.js";
import { SHARE_STATE_TOPIC, type ShareStateTopic } from "./state-topic.js";

/**
 * The share coordinator (Kafka's ShareCoordinatorShard): the persisted state of the share-partitions whose
 * key ("group:topicId:partition") hashes to a `__share_group_state` partition led here. A partition's
 * state is loaded when this broker becomes its leader (COORDINATOR_LOAD_IN_PROGRESS meanwhile) and
 * dropped when it stops (NOT_COORDINATOR). Share-partition leaders initialize, read and write it through
 * the persister (`persister.ts`), here or over InitializeShareGroupState, ReadShareGroupState,
 * WriteShareGroupState, DeleteShareGroupState and ReadShareGroupStateSummary. Each write is a
 * ShareUpdate record, merged into the state; every
 * `share.coordinator.snapshot.update.records.per.snapshot` updates the whole state is written again as a
 * ShareSnapshot. A write or read from an older leader epoch is FENCED_LEADER_EPOCH (a leader that lost
 * its partition), a write or initialization of an older state epoch FENCED_STATE_EPOCH (offsets were reset).
 */

export interface ShareStateHost {
  readonly log: Logger;
  readonly config: { readonly props: { readonly "share.coordinator.snapshot.update.records.per.snapshot": number } };
  readonly metadata: Pick<ClusterMetadata, "topic" | "topicById">;
  /** Absent (unit tests): partitions are loaded with `loadPartition`. */
  readonly leadership?: Pick<Leadership, "onChange" | "role">;
}

/** A share-partition's persisted state, as ReadShareGroupState answers it. */
export interface PersistedState {
  readonly stateEpoch: number;
  readonly leaderEpoch: number;
  /** -1: not initialized with a start offset (the leader picks one by share.auto.offset.reset). */
  readonly startOffset: number;
  readonly batches: readonly StateBatch[];
  /** Written by the leader (WriteShareGroupState v1): records from the start offset on that are done. */
  readonly deliveryComplete?: number;
}

/** ReadShareGroupStateSummary's answer. */
export interface StateSummary {
  readonly stateEpoch: number;
  readonly leaderEpoch: number;
  readonly startOffset: number;
  /** Records from the start offset on that are acknowledged or archived, as the leader last wrote (-1: unknown). */
  readonly deliveryComplete: number;
}

export interface StateError {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export type Answer<T = object> = StateError | (T & { errorCode: 0; errorMessage: null });

interface Held {
  stateEpoch: number;
  leaderEpoch: number;
  snapshotEpoch: number;
  startOffset: number;
  deliveryComplete: number;
  /** By offset, one entry per offset at or above the start offset. */
  batches: Map<number, StateBatch>;
  /** Updates written since the last snapshot. */
  updates: number;
}

const OK = { errorCode: ErrorCode.NONE, errorMessage: null } as const;
const invalid = (errorMessage: string): StateError => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage });

export class ShareStateCoordinator {
  private readonly states = new Map<string, Held>();
  /** `__share_group_state` partitions being loaded, and loaded. */
  private readonly loading = new Map<number, Promise<void>>();
  private readonly loaded = new Set<number>();
  private unfollow: (() => void) | undefined;

  constructor(
    private readonly host: ShareStateHost,
    private readonly topic: ShareStateTopic,
  ) {}

  /** Follows the leadership of `__share_group_state`, loading the partitions led here already. */
  start(): void {
    const leadership = this.host.leadership;
    if (leadership === undefined) return;
    this.unfollow = leadership.onChange((c) => this.onRoleChange(c));
    const partitions = this.host.metadata.topic(SHARE_STATE_TOPIC)?.partitions ?? 0;
    for (let p = 0; p < partitions; p++)
      if (leadership.role(SHARE_STATE_TOPIC, p) === "leader") void this.loadPartition(p);
  }

  stop(): void {
    this.unfollow?.();
  }

  flush(): Promise<void> {
    return this.topic.flush();
  }

  /** Creates `__share_group_state` on first use (FindCoordinator of a share key). */
  ensureStateTopic(): Promise<void> {
    return this.topic.ensureCreated();
  }

  partitionFor(key: ShareStateKey): number {
    return this.topic.partitionFor(key);
  }

  private onRoleChange(c: RoleChange): void {
    if (c.topic !== SHARE_STATE_TOPIC) return;
    if (c.role === "leader") void this.loadPartition(c.partition);
    else if (this.loaded.delete(c.partition)) {
      for (const k of [...this.states.keys()]) if (this.partitionOfKey(k) === c.partition) this.states.delete(k);
      this.topic.dropPartition(c.partition);
      this.host.log.info(`${SHARE_STATE_TOPIC}-${c.partition} is led elsewhere now: its share state is not kept here`);
    }
  }

  /** Loads a partition's share-partitions (once; again after it was led elsewhere). */
  loadPartition(p: number): Promise<void> {
    if (this.loaded.has(p)) return Promise.resolve();
    let loading = this.loading.get(p);
    if (loading !== undefined) return loading;
    loading = this.replay(p)
      .then(() => {
        // Led elsewhere again while it loaded: nothing of it is kept.
        if (this.host.leadership === undefined || this.host.leadership.role(SHARE_STATE_TOPIC, p) === "leader")
          this.loaded.add(p);
        else for (const k of [...this.states.keys()]) if (this.partitionOfKey(k) === p) this.states.delete(k);
      })
      .catch((e: Error) => this.host.log.error(`loading ${SHARE_STATE_TOPIC}-${p}: ${e.message}`))
      .finally(() => this.loading.delete(p));
    this.loading.set(p, loading);
    return loading;
  }

  private async replay(p: number): Promise<void> {
    for (const k of [...this.states.keys()]) if (this.partitionOfKey(k) === p) this.states.delete(k);
    const n = await this.topic.loadPartition(p, (r) => {
      const k = keyOf(r);
      if (r.kind === "delete") this.states.delete(k);
      else this.apply(k, r);
    });
    if (n > 0) this.host.log.info(`loaded ${n} records of ${SHARE_STATE_TOPIC}-${p}`);
  }

  /** A stored record (or one just written) merged into the state. */
  private apply(k: string, r: ShareStateRecord): void {
    let s = this.states.get(k);
    if (r.kind === "snapshot" || s === undefined) {
      s = {
        deliveryComplete: -1,
        stateEpoch: r.stateEpoch,
        leaderEpoch: r.leaderEpoch,
        snapshotEpoch: r.snapshotEpoch,
        startOffset: -1,
        batches: new Map(),
        updates: 0,
      };
      this.states.set(k, s);
    } else s.updates++;
    s.leaderEpoch = r.leaderEpoch;
    s.snapshotEpoch = r.snapshotEpoch;
    if (r.deliveryComplete !== -1 || r.kind === "snapshot") s.deliveryComplete = r.deliveryComplete;
    if (r.startOffset !== -1 || r.kind === "snapshot") s.startOffset = r.startOffset;
    for (const b of r.batches) for (let o = b.first; o <= b.last; o++) s.batches.set(o, { ...b, first: o, last: o });
    for (const o of s.batches.keys()) if (o < s.startOffset) s.batches.delete(o);
  }

  private partitionOfKey(k: string): number {
    const [groupId, topicId, partition] = k.split("\u0000") as [string, string, string];
    return this.topic.partitionFor({ groupId, topicId, partition: Number(partition) });
  }

  /** NONE when `key`'s partition is loaded here, else NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS. */
  coordinatorError(key: ShareStateKey): number {
    const p = this.topic.partitionFor(key);
    if (this.loaded.has(p)) return ErrorCode.NONE;
    return this.loading.has(p) ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NOT_COORDINATOR;
  }

  /** The checks every operation starts with, in Kafka's order; undefined: go on. */
  private check(key: ShareStateKey): StateError | undefined {
    const code = this.coordinatorError(key);
    if (code !== ErrorCode.NONE) return { errorCode: code, errorMessage: null };
    if (key.partition < 0) return invalid("The partition id cannot be a negative number.");
    return undefined;
  }

  private unknownPartition(key: ShareStateKey): StateError | undefined {
    const topic = this.host.metadata.topicById(key.topicId);
    if (topic !== undefined && key.partition < topic.partitions) return undefined;
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
  }

  /** Share-partition keys of a group held here. */
  keysOf(groupId: string): ShareStateKey[] {
    const out: ShareStateKey[] = [];
    for (const k of this.states.keys()) {
      const [g, topicId, partition] = k.split("\u0000") as [string, string, string];
      if (g === groupId) out.push({ groupId, topicId, partition: Number(partition) });
    }
    return out;
  }

  /** InitializeShareGroupState: the state starts again at `startOffset` (or -1: unset), nothing in flight. */
  async initialize(key: ShareStateKey, stateEpoch: number, startOffset: number): Promise<StateError> {
    const refused = this.check(key);
    if (refused !== undefined) return refused;
    if (stateEpoch < 0) return invalid("The state epoch cannot be a negative number.");
    const held = this.states.get(keyOf(key));
    if (held !== undefined && held.stateEpoch > stateEpoch)
      return { errorCode: ErrorCode.FENCED_STATE_EPOCH, errorMessage: "The state epoch is fenced." };
    const unknown = this.unknownPartition(key);
    if (unknown !== undefined) return unknown;
    return this.append({
      ...key,
      kind: "snapshot",
      snapshotEpoch: (held?.snapshotEpoch ?? -1) + 1,
      stateEpoch,
      leaderEpoch: held?.leaderEpoch ?? -1,
      startOffset,
      deliveryComplete: -1,
      batches: [],
    });
  }

  /** ReadShareGroupState from the leader at `leaderEpoch`, which becomes the state's leader epoch. */
  async read(key: ShareStateKey, leaderEpoch: number): Promise<Answer<PersistedState>> {
    const refused = this.check(key);
    if (refused !== undefined) return refused;
    if (leaderEpoch < 0) return invalid("The leader epoch cannot be a negative number.");
    const held = this.states.get(keyOf(key));
    if (held === undefined) return invalid("Read operation on uninitialized share partition not allowed.");
    if (held.leaderEpoch > leaderEpoch)
      return { errorCode: ErrorCode.FENCED_LEADER_EPOCH, errorMessage: "The leader epoch is fenced." };
    const unknown = this.unknownPartition(key);
    if (unknown !== undefined) return unknown;
    if (held.leaderEpoch !== leaderEpoch) {
      // As Kafka: the new leader's epoch is written, so that the one before it is fenced from now on.
      const written = await this.append(this.updateRecord(key, held, leaderEpoch, -1, -1, []));
      if (written.errorCode !== ErrorCode.NONE) return written;
    }
    const now = this.states.get(keyOf(key)) ?? held;
    return {
      ...OK,
      stateEpoch: now.stateEpoch,
      leaderEpoch: now.leaderEpoch,
      startOffset: now.startOffset,
      batches: ranges(now.batches),
    };
  }

  /** WriteShareGroupState: the leader's start offset (-1: unchanged) and the ranges that changed. */
  async write(key: ShareStateKey, w: PersistedState): Promise<StateError> {
    const refused = this.check(key);
    if (refused !== undefined) return refused;
    if (w.leaderEpoch < 0) return invalid("The leader epoch cannot be a negative number.");
    if (w.stateEpoch < 0) return invalid("The state epoch cannot be a negative number.");
    const held = this.states.get(keyOf(key));
    if (held === undefined) return invalid("Write operation on uninitialized share partition not allowed.");
    if (held.leaderEpoch > w.leaderEpoch)
      return { errorCode: ErrorCode.FENCED_LEADER_EPOCH, errorMessage: "The leader epoch is fenced." };
    if (held.stateEpoch > w.stateEpoch)
      return { errorCode: ErrorCode.FENCED_STATE_EPOCH, errorMessage: "The state epoch is fenced." };
    const unknown = this.unknownPartition(key);
    if (unknown !== undefined) return unknown;
    const perSnapshot = this.host.config.props["share.coordinator.snapshot.update.records.per.snapshot"];
    if (held.updates + 1 < perSnapshot)
      return this.append(
        this.updateRecord(key, held, w.leaderEpoch, w.startOffset, w.deliveryComplete ?? -1, w.batches),
      );
    // The whole state, merged with this write, as a snapshot.
    const merged = new Map(held.batches);
    const startOffset = w.startOffset === -1 ? held.startOffset : w.startOffset;
    for (const b of w.batches) for (let o = b.first; o <= b.last; o++) merged.set(o, { ...b, first: o, last: o });
    for (const o of merged.keys()) if (o < startOffset) merged.delete(o);
    return this.append({
      ...key,
      kind: "snapshot",
      snapshotEpoch: held.snapshotEpoch + 1,
      stateEpoch: held.stateEpoch,
      leaderEpoch: w.leaderEpoch,
      startOffset,
      deliveryComplete: w.deliveryComplete ?? held.deliveryComplete,
      batches: ranges(merged),
    });
  }

  /** DeleteShareGroupState: the share-partition's records are tombstoned (none: nothing to do). */
  async delete(key: ShareStateKey): Promise<StateError> {
    const refused = this.check(key);
    if (refused !== undefined) return refused;
    const unknown = this.unknownPartition(key);
    if (unknown !== undefined) return unknown;
    if (!this.states.delete(keyOf(key))) return OK;
    const code = await this.topic.delete(key);
    return { errorCode: code, errorMessage: null };
  }

  /** ReadShareGroupStateSummary: start offset -1 for a share-partition without state. */
  summary(key: ShareStateKey): Answer<StateSummary> {
    const refused = this.check(key);
    if (refused !== undefined) return refused;
    const unknown = this.unknownPartition(key);
    if (unknown !== undefined) return unknown;
    const held = this.states.get(keyOf(key));
    if (held === undefined) return { ...OK, stateEpoch: 0, leaderEpoch: 0, startOffset: -1, deliveryComplete: -1 };
    return {
      ...OK,
      stateEpoch: held.stateEpoch,
      leaderEpoch: held.leaderEpoch,
      startOffset: held.startOffset,
      deliveryComplete: held.deliveryComplete,
    };
  }

  private updateRecord(
    key: ShareStateKey,
    held: Held,
    leaderEpoch: number,
    startOffset: number,
    deliveryComplete: number,
    batches: readonly StateBatch[],
  ): ShareStateRecord {
    return {
      ...key,
      kind: "update",
      snapshotEpoch: held.snapshotEpoch,
      stateEpoch: held.stateEpoch,
      leaderEpoch,
      startOffset,
      deliveryComplete,
      batches: [...batches],
    };
  }

  /** Writes a record and, once it is in the ISR, applies it (a failed write changes nothing). */
  private async append(r: ShareStateRecord): Promise<StateError> {
    const code = await this.topic.write(r);
    if (code !== ErrorCode.NONE) return { errorCode: code, errorMessage: null };
    // The partition may have moved away while the write waited for its ISR.
    if (this.coordinatorError(r) !== ErrorCode.NONE)
      return { errorCode: ErrorCode.NOT_COORDINATOR, errorMessage: null };
    this.apply(keyOf(r), r);
    return OK;
  }
}

function keyOf(k: ShareStateKey): string {
  return `${k.groupId}\u0000${k.topicId}\u0000${k.partition}`;
}

/** Per-offset entries joined into ranges of one state and delivery count, in offset order. */
function ranges(byOffset: ReadonlyMap<number, StateBatch>): StateBatch[] {
  const out: StateBatch[] = [];
  for (const o of [...byOffset.keys()].sort((a, b) => a - b)) {
    const b = byOffset.get(o)!;
    const last = out[out.length - 1];
    if (last !== undefined && last.last === o - 1 && last.state === b.state && last.deliveryCount === b.deliveryCount)
      last.last = o;
    else out.push({ first: o, last: o, state: b.state, deliveryCount: b.deliveryCount });
  }
  return out;
}
