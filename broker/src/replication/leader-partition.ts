import { ErrorCode } from "../errors.js";
import type { PartitionState } from "../cluster/metadata.js";
import type { PartitionLog } from "../log/partition-log.js";

/**
 * A partition this broker leads with other replicas (Kafka's Partition on a leader): what each follower
 * has (from the offsets its fetches name), the high watermark (the smallest log end of the ISR), the ISR
 * changes the leader asks for (a follower that caught up joins, one that lagged for
 * replica.lag.time.max.ms leaves) and the acks=all produces waiting for the ISR to have their records.
 */

/** What the leader knows of one follower. */
interface FollowerState {
  /** The follower's log end, as its last fetch named it; -1 until it fetched from this leader. */
  logEndOffset: bigint;
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

/** What a leader partition asks of the broker around it. */
export interface LeaderHost {
  readonly nodeId: number;
  /** Asks the controller's store for a new ISR (AlterPartition); answers the new state, or undefined when refused. */
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
  /** Told by the log after each append: the leader's own log end may move the high watermark. */
  private readonly onAppend = (): void => this.maybeAdvanceHighWatermark();
  /** An ISR change sent and not answered yet: no other is sent meanwhile. */
  private isrInFlight = false;
  /** Where this leader's epoch starts in the log: a follower joins the ISR only once it has that. */
  private readonly epochStartOffset: bigint;

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

  isReplica(nodeId: number): boolean {
    return this.followers.has(nodeId);
  }

  /** Knows every replica but this broker as a follower, new ones from `now` (a reassignment adds replicas). */
  private trackFollowers(replicas: readonly number[], now: number): void {
    for (const r of this.followers.keys()) if (!replicas.includes(r)) this.followers.delete(r);
    for (const r of replicas) {
      if (r === this.host.nodeId || this.followers.has(r)) continue;
      this.followers.set(r, { logEndOffset: -1n, lastCaughtUpMs: now, lastFetchMs: now, leaderEndAtLastFetch: -1n });
    }
  }

  /**
   * A newer state of the partition with this broker still leading at the same epoch: an ISR change, or the
   * replicas a reassignment adds.
   */
  update(state: PartitionState): void {
    if (state.partitionEpoch < this.state.partitionEpoch) return;
    this.state = state;
    this.trackFollowers(state.replicas, Date.now());
    this.maybeAdvanceHighWatermark();
    this.answerWaiters();
  }

  /**
   * A follower's fetch from `fetchOffset` (its log end): its progress, whether it caught up (Kafka's rule:
   * it reached the leader's log end now, or the one of its previous fetch), then the ISR and high watermark.
   */
  followerFetched(replicaId: number, fetchOffset: bigint, now: number): void {
    const f = this.followers.get(replicaId);
    if (f === undefined) return;
    const leaderEnd = this.log.logEndOffset;
    if (fetchOffset >= leaderEnd) f.lastCaughtUpMs = now;
    else if (fetchOffset >= f.leaderEndAtLastFetch && f.leaderEndAtLastFetch >= 0n) f.lastCaughtUpMs = f.lastFetchMs;
    f.logEndOffset = fetchOffset;
    f.lastFetchMs = now;
    f.leaderEndAtLastFetch = leaderEnd;
    this.maybeExpandIsr(replicaId, f);
    this.maybeAdvanceHighWatermark();
  }

  /** The smallest log end of the ISR (the leader's own included); moves forward only. */
  maybeAdvanceHighWatermark(): void {
    let hw = this.log.logEndOffset;
    for (const r of this.state.isr) {
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

  /** ISR members that have not caught up for `lagMs` leave it (Kafka's maybeShrinkIsr). */
  maybeShrinkIsr(now: number, lagMs: number): void {
    if (this.isrInFlight) return;
    const lagging = this.state.isr.filter((r) => {
      const f = this.followers.get(r);
      return f !== undefined && now - f.lastCaughtUpMs > lagMs;
    });
    if (lagging.length === 0) return;
    this.sendIsr(this.state.isr.filter((r) => !lagging.includes(r)));
  }

  /** A follower out of the ISR joins once it has everything up to the high watermark and this epoch's start. */
  private maybeExpandIsr(replicaId: number, f: FollowerState): void {
    if (this.isrInFlight || this.state.isr.includes(replicaId) || !this.host.isLive(replicaId)) return;
    if (f.logEndOffset < this.log.highWatermark || f.logEndOffset < this.epochStartOffset) return;
    this.sendIsr([...this.state.isr, replicaId]);
  }

  private sendIsr(isr: readonly number[]): void {
    this.isrInFlight = true;
    void this.host
      .alterIsr(this.topic, this.partition, this.state, isr)
      .then((next) => {
        if (next !== undefined && next.leaderEpoch === this.state.leaderEpoch) this.update(next);
      })
      .finally(() => (this.isrInFlight = false));
  }

  /** This broker no longer leads (or the partition is gone): waiting produces are answered with `errorCode`. */
  close(errorCode: number = ErrorCode.NOT_LEADER_OR_FOLLOWER): void {
    if (this.log.appendListener === this.onAppend) this.log.appendListener = null;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(errorCode);
    }
    this.waiters = [];
  }
}
