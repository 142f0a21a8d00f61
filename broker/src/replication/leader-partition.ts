import { ErrorCode } from "../errors.js";
import type { PartitionState } from "../cluster/metadata.js";
import type { PartitionLog } from "../log/partition-log.js";
import type { ReplicaView } from "./replica-selector.js";

/**
 * A partition this broker leads with other replicas (Kafka's Partition on a leader): what each follower
 * has (from the offsets its fetches name), the high watermark (the smallest log end of the ISR), the ISR
 * changes the leader asks for (a follower that caught up joins, one that lagged for
 * replica.lag.time.max.ms leaves), the acks=all produces waiting for the ISR to have their records and
 * the DeleteRecords waiting for every live replica to have deleted theirs. While a change is asked for
 * and not answered, the high watermark counts the members of both the ISR and the one asked for (Kafka's
 * maximal ISR, KIP-497): the controller may have the new member in sync already, and may elect it, so
 * nothing it lacks may be acknowledged.
 */

/** What the leader knows of one follower. */
interface FollowerState {
  /** The follower's log end, as its last fetch named it; -1 until it fetched from this leader. */
  logEndOffset: bigint;
  /** The follower's log start, as its last fetch named it; -1 until it fetched from this leader. */
  logStartOffset: bigint;
  /** When it last had everything the leader had (Kafka's lastCaughtUpTimeMs). */
  lastCaughtUpMs: number;
  lastFetchMs: number;
  /** The leader's log end when it answered the follower's previous fetch. */
  leaderEndAtLastFetch: bigint;
}

interface CommitWaiter {
  readonly requiredOffset: bigint;
  readonly minIsr: number;
  readonly resolve: (errorCode: number) => void;
  readonly timer: NodeJS.Timeout;
}

/** A DeleteRecords waiting for every live replica's log start to pass its offset. */
interface LowWatermarkWaiter {
  readonly requiredOffset: bigint;
  readonly resolve: (errorCode: number, lowWatermark: bigint) => void;
  readonly timer: NodeJS.Timeout;
}

/** What a leader partition asks of the broker around it. */
export interface LeaderHost {
  readonly nodeId: number;
  /**
   * Asks the controller's store for a new ISR (AlterPartition); answers the new state, or undefined when
   * refused. Rejects when the outcome is unknown (the store could not be reached or did not answer).
   */
  alterIsr(
    topic: string,
    partition: number,
    state: PartitionState,
    isr: readonly number[],
  ): Promise<PartitionState | undefined>;
  /** The high watermark moved: consumers waiting for records may read. */
  highWatermarkMoved(topic: string, partition: number): void;
  /** Whether a node is a live broker (one that is gone cannot join the ISR). */
  isLive(nodeId: number): boolean;
}

export class LeaderPartition {
  private readonly followers = new Map<number, FollowerState>();
  private waiters: CommitWaiter[] = [];
  private lowWatermarkWaiters: LowWatermarkWaiter[] = [];
  /** Told by the log after each append: the leader's own log end may move the high watermark. */
  private readonly onAppend = (): void => this.maybeAdvanceHighWatermark();
  /** The ISR of a change sent and not answered yet: no other is sent meanwhile. */
  private isrInFlight: readonly number[] | null = null;
  /**
   * Members of changes whose outcome stayed unknown (the store failed), and the partition epoch they were
   * asked from: they count as in sync until a newer partition state says what the controller has.
   */
  private unknownIsr: { readonly members: readonly number[]; readonly partitionEpoch: number } | null = null;
  /** Where this leader's epoch starts in the log: a follower joins the ISR only once it has that. */
  private readonly epochStartOffset: bigint;
  private isClosed = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: PartitionLog,
    private state: PartitionState,
    private readonly host: LeaderHost,
    now: number,
  ) {
    this.epochStartOffset = log.logEndOffset;
    log.assignLeaderEpoch(state.leaderEpoch);
    this.trackFollowers(state.replicas, now);
    log.appendListener = this.onAppend;
  }

  get leaderEpoch(): number {
    return this.state.leaderEpoch;
  }

  get isr(): readonly number[] {
    return this.state.isr;
  }

  /** Closed (this broker stopped leading, or was fenced): a leader again gets a new one. */
  get closed(): boolean {
    return this.isClosed;
  }

  isReplica(nodeId: number): boolean {
    return this.followers.has(nodeId);
  }

  /** Knows every replica but this broker as a follower, new ones from `now` (a reassignment adds replicas). */
  private trackFollowers(replicas: readonly number[], now: number): void {
    for (const r of this.followers.keys()) if (!replicas.includes(r)) this.followers.delete(r);
    for (const r of replicas) {
      if (r === this.host.nodeId || this.followers.has(r)) continue;
      this.followers.set(r, {
        logEndOffset: -1n,
        logStartOffset: -1n,
        lastCaughtUpMs: now,
        lastFetchMs: now,
        leaderEndAtLastFetch: -1n,
      });
    }
  }

  /**
   * A newer state of the partition with this broker still leading at the same epoch: an ISR change, or the
   * replicas a reassignment adds.
   */
  update(state: PartitionState): void {
    if (state.partitionEpoch < this.state.partitionEpoch) return;
    this.state = state;
    // The controller's state moved past the one those changes were asked from: it says what holds.
    if (this.unknownIsr !== null && state.partitionEpoch > this.unknownIsr.partitionEpoch) this.unknownIsr = null;
    this.trackFollowers(state.replicas, Date.now());
    this.maybeAdvanceHighWatermark();
    this.answerWaiters();
  }

  /**
   * The in-sync followers a consumer at `fetchOffset` could read from (they hold that offset), with their
   * rack, for the replica selector (KIP-392; Kafka leaves out-of-sync followers out).
   */
  readReplicas(fetchOffset: bigint, now: number, rackOf: (nodeId: number) => string | null | undefined): ReplicaView[] {
    const out: ReplicaView[] = [];
    for (const [nodeId, f] of this.followers) {
      const rack = rackOf(nodeId);
      if (rack === undefined || !this.state.isr.includes(nodeId)) continue;
      if (f.logEndOffset < fetchOffset || f.logStartOffset < 0n || f.logStartOffset > fetchOffset) continue;
      out.push({ nodeId, rack, logEndOffset: f.logEndOffset, sinceCaughtUpMs: now - f.lastCaughtUpMs });
    }
    return out;
  }

  /**
   * A follower's fetch from `fetchOffset` (its log end): its progress, whether it caught up (Kafka's rule:
   * it reached the leader's log end now, or the one of its previous fetch), then the ISR and high watermark.
   */
  followerFetched(replicaId: number, fetchOffset: bigint, logStartOffset: bigint, now: number): void {
    const f = this.followers.get(replicaId);
    if (f === undefined) return;
    const leaderEnd = this.log.logEndOffset;
    if (fetchOffset >= leaderEnd) f.lastCaughtUpMs = now;
    else if (fetchOffset >= f.leaderEndAtLastFetch && f.leaderEndAtLastFetch >= 0n) f.lastCaughtUpMs = f.lastFetchMs;
    f.logEndOffset = fetchOffset;
    f.logStartOffset = logStartOffset;
    f.lastFetchMs = now;
    f.leaderEndAtLastFetch = leaderEnd;
    this.maybeExpandIsr(replicaId, f);
    this.maybeAdvanceHighWatermark();
    this.answerLowWatermarkWaiters();
  }

  /**
   * Kafka's low watermark: the smallest log start of this log and of every live follower (one that has not
   * fetched from this leader yet counts as -1).
   */
  lowWatermark(): bigint {
    let low = this.log.logStartOffset;
    for (const [nodeId, f] of this.followers)
      if (f.logStartOffset < low && this.host.isLive(nodeId)) low = f.logStartOffset;
    return low;
  }

  /**
   * DeleteRecords (Kafka's DelayedDeleteRecords): resolves once the low watermark reaches `requiredOffset`
   * (NONE and the low watermark), or with REQUEST_TIMED_OUT and the low watermark of the start after
   * `timeoutMs`; NOT_LEADER_OR_FOLLOWER when this broker stops leading first.
   */
  waitForLowWatermark(requiredOffset: bigint, timeoutMs: number): Promise<{ errorCode: number; lowWatermark: bigint }> {
    return new Promise((done) => {
      const resolve = (errorCode: number, lowWatermark: bigint): void => done({ errorCode, lowWatermark });
      const start = this.lowWatermark();
      if (start >= requiredOffset) return resolve(ErrorCode.NONE, start);
      const waiter: LowWatermarkWaiter = {
        requiredOffset,
        resolve,
        timer: setTimeout(
          () => {
            this.lowWatermarkWaiters = this.lowWatermarkWaiters.filter((w) => w !== waiter);
            resolve(ErrorCode.REQUEST_TIMED_OUT, start);
          },
          Math.max(0, timeoutMs),
        ),
      };
      this.lowWatermarkWaiters.push(waiter);
    });
  }

  private answerLowWatermarkWaiters(): void {
    if (this.lowWatermarkWaiters.length === 0) return;
    const low = this.lowWatermark();
    this.lowWatermarkWaiters = this.lowWatermarkWaiters.filter((w) => {
      if (low < w.requiredOffset) return true;
      clearTimeout(w.timer);
      w.resolve(ErrorCode.NONE, low);
      return false;
    });
  }

  /** The ISR with the members of changes asked for and not answered (Kafka's maximal ISR). */
  private maximalIsr(): readonly number[] {
    const asked = [...(this.isrInFlight ?? []), ...(this.unknownIsr?.members ?? [])];
    return [...new Set([...this.state.isr, ...asked])];
  }

  /** The smallest log end of the maximal ISR (the leader's own included); moves forward only. */
  maybeAdvanceHighWatermark(): void {
    let hw = this.log.logEndOffset;
    for (const r of this.maximalIsr()) {
      if (r === this.host.nodeId) continue;
      const end = this.followers.get(r)?.logEndOffset ?? -1n;
      if (end < hw) hw = end;
    }
    if (hw < 0n) return;
    if (this.log.setHighWatermark(hw)) {
      this.host.highWatermarkMoved(this.topic, this.partition);
      this.answerWaiters();
    }
  }

  /**
   * Waits until the high watermark reaches `requiredOffset` (the records are on every ISR member): NONE,
   * or NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below `minIsr` meanwhile; REQUEST_TIMED_OUT
   * after `timeoutMs`.
   */
  waitForCommit(requiredOffset: bigint, minIsr: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve) => {
      if (this.checkCommitted(requiredOffset, minIsr, resolve)) return;
      const waiter: CommitWaiter = {
        requiredOffset,
        minIsr,
        resolve,
        timer: setTimeout(
          () => {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            resolve(ErrorCode.REQUEST_TIMED_OUT);
          },
          Math.max(0, timeoutMs),
        ),
      };
      this.waiters.push(waiter);
    });
  }

  private checkCommitted(requiredOffset: bigint, minIsr: number, resolve: (errorCode: number) => void): boolean {
    if (this.log.highWatermark < requiredOffset) return false;
    resolve(this.state.isr.length < minIsr ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : ErrorCode.NONE);
    return true;
  }

  private answerWaiters(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (!this.checkCommitted(w.requiredOffset, w.minIsr, w.resolve)) return true;
      clearTimeout(w.timer);
      return false;
    });
  }

  /**
   * ISR members that have not caught up for `lagMs` leave it (Kafka's maybeShrinkIsr); a lagging member of
   * a change of unknown outcome too (the answer to this one settles what the controller has).
   */
  maybeShrinkIsr(now: number, lagMs: number): void {
    if (this.isrInFlight !== null) return;
    const lagging = this.maximalIsr().filter((r) => {
      const f = this.followers.get(r);
      return f !== undefined && now - f.lastCaughtUpMs > lagMs;
    });
    if (lagging.length === 0) return;
    this.sendIsr(this.state.isr.filter((r) => !lagging.includes(r)));
  }

  /** A follower out of the ISR joins once it has everything up to the high watermark and this epoch's start. */
  private maybeExpandIsr(replicaId: number, f: FollowerState): void {
    if (this.isrInFlight !== null || this.state.isr.includes(replicaId) || !this.host.isLive(replicaId)) return;
    if (f.logEndOffset < this.log.highWatermark || f.logEndOffset < this.epochStartOffset) return;
    this.sendIsr([...this.state.isr, replicaId]);
  }

  private sendIsr(isr: readonly number[]): void {
    this.isrInFlight = isr;
    const from = this.state.partitionEpoch;
    void this.host.alterIsr(this.topic, this.partition, this.state, isr).then(
      (next) => {
        // Answered: the controller has this ISR (the state says so) or kept its own.
        this.isrInFlight = null;
        if (next !== undefined && next.leaderEpoch === this.state.leaderEpoch) this.update(next);
        else this.maybeAdvanceHighWatermark();
      },
      () => {
        // Unknown: the controller may have this ISR; its members stay counted until a newer state.
        const members = [...new Set([...(this.unknownIsr?.members ?? []), ...isr])];
        this.unknownIsr = { members, partitionEpoch: Math.min(this.unknownIsr?.partitionEpoch ?? from, from) };
        this.isrInFlight = null;
      },
    );
  }

  /** This broker no longer leads (or the partition is gone): waiting produces are answered with `errorCode`. */
  close(errorCode: number = ErrorCode.NOT_LEADER_OR_FOLLOWER): void {
    this.isClosed = true;
    if (this.log.appendListener === this.onAppend) this.log.appendListener = null;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(errorCode);
    }
    this.waiters = [];
    for (const w of this.lowWatermarkWaiters) {
      clearTimeout(w.timer);
      w.resolve(errorCode, -1n);
    }
    this.lowWatermarkWaiters = [];
  }
}
