import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import {
  election,
  ElectionType,
  fencingChanges,
  preferredChanges,
  type Eligible,
  type ElectionOutcome,
} from "./leader-election.js";
import type { ClusterMetadata, PartitionChange, TopicPartitionChanges } from "./metadata.js";

/**
 * The controller: active on the broker that holds the controller role (etcd election, `campaign()`), it
 * keeps every partition led by a live broker. When a broker's registration goes (its lease expired, or it
 * unregistered) or it enters controlled shutdown, the partitions it led get new leaders from their ISR
 * and it leaves their ISRs, in one batch of a few etcd transactions (leader-election.ts); a partition left
 * without a leader gets one as soon as a member of its ISR is back. With `auto.leader.rebalance.enable`,
 * every `leader.imbalance.check.interval.seconds` the partitions not led by their preferred replica go back
 * to it when it is in the ISR. ElectLeaders (kafka-leader-election.sh) elects on request, on any broker:
 * each change is a compare-and-swap on the partition epoch, so the answer is the same as the controller's.
 */

/** What the controller needs of the broker. */
export interface ControllerHost {
  /** The config in force (read at each use). */
  readonly config: BrokerConfig;
  readonly log: Logger;
}

/** A partition an election was asked for. */
export interface ElectionTarget {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/** ElectLeaders' answer for one partition. */
export interface ElectionResult {
  readonly partition: number;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** What handlers use of the controller. */
export type ElectionService = Pick<Controller, "electLeaders">;

/** Tries of a batch whose partitions changed under it (their leaders' ISR changes) before the next event. */
const MAX_TRIES = 5;

/** Kafka's messages of the errors an election answers. */
const MESSAGES: Readonly<Record<number, string>> = {
  [ErrorCode.ELECTION_NOT_NEEDED]: "Leader election not needed for topic partition.",
  [ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]: "The preferred leader was not available.",
  [ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE]: "Eligible topic partition leaders are not available.",
};

export class Controller {
  private active = false;
  private unwatchController: (() => void) | undefined;
  private unwatchBrokers: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Actions run one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  /** A fencing pass is queued and not started: later events ride on it. */
  private fencingQueued = false;

  constructor(
    private readonly metadata: ClusterMetadata,
    private readonly host: ControllerHost,
  ) {}

  private get nodeId(): number {
    return this.host.config.nodeId;
  }

  /** Follows the controller role: active while this broker holds it. */
  start(): void {
    this.unwatchController = this.metadata.watch("controller", () => this.follow());
    this.follow();
  }

  /** Stops acting (the role is given up with the registration) and waits for the action under way. */
  async stop(): Promise<void> {
    this.unwatchController?.();
    this.unwatchController = undefined;
    this.deactivate();
    await this.queue;
  }

  /** Whether this broker is the active controller. */
  isActive(): boolean {
    return this.active;
  }

  /** Which brokers may lead and be in an ISR now (registered, not shutting down), read once for a pass. */
  eligibleNow(): Eligible {
    const ids = new Set(this.metadata.brokers().flatMap((b) => (b.shuttingDown === true ? [] : [b.nodeId])));
    return (nodeId) => ids.has(nodeId);
  }

  private follow(): void {
    const holds = this.metadata.controller()?.nodeId === this.nodeId;
    if (holds && !this.active) this.activate();
    else if (!holds && this.active) this.deactivate();
  }

  private activate(): void {
    this.active = true;
    this.host.log.info(`node ${this.nodeId} is the active controller`);
    this.unwatchBrokers = this.metadata.watch("broker", () => this.scheduleFencing());
    // Brokers may have left while no controller was active.
    this.scheduleFencing();
    if (this.host.config.props["auto.leader.rebalance.enable"]) {
      const ms = this.host.config.props["leader.imbalance.check.interval.seconds"] * 1000;
      this.timer = setInterval(() => this.enqueue(() => this.balance()), ms);
      this.timer.unref();
    }
  }

  private deactivate(): void {
    if (!this.active) return;
    this.active = false;
    this.unwatchBrokers?.();
    this.unwatchBrokers = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    // A pass queued and not started is skipped now: the next activation must queue its own.
    this.fencingQueued = false;
  }

  private enqueue(action: () => Promise<void>): void {
    this.queue = this.queue
      .then(() => (this.active ? action() : undefined))
      .catch((e: Error) => this.host.log.error(`controller: ${e.message}`));
  }

  private scheduleFencing(): void {
    if (this.fencingQueued) return;
    this.fencingQueued = true;
    this.enqueue(() => {
      this.fencingQueued = false;
      return this.write("moved leaderships of brokers gone or shutting down", () =>
        fencingChanges(this.metadata, this.eligibleNow()),
      );
    });
  }

  /** Kafka's leader imbalance check: every partition whose preferred replica can lead goes back to it. */
  private balance(): Promise<void> {
    return this.write("preferred leader election", () => preferredChanges(this.metadata, this.eligibleNow()));
  }

  /** Writes the batch `plan` makes from the current view, again while some of it lost a race. */
  private async write(what: string, plan: () => TopicPartitionChanges[]): Promise<void> {
    for (let tries = 0; tries < MAX_TRIES && this.active; tries++) {
      const batch = plan();
      if (batch.length === 0) return;
      const results = (await this.metadata.alterPartitions(batch)).flat();
      const changed = results.filter((r) => r.state !== undefined).length;
      if (changed > 0) this.host.log.info(`controller: ${what}: ${changed} partitions`);
      if (changed === results.length) return;
    }
  }

  /**
   * ElectLeaders: each named partition's election (all partitions when `targets` is null, answering only
   * those where one was needed, as Kafka's controller does), written in one batch.
   */
  async electLeaders(type: number, targets: readonly ElectionTarget[] | null): Promise<Map<string, ElectionResult[]>> {
    const answers = new Map<string, ElectionResult[]>();
    const batch: TopicPartitionChanges[] = [];
    const eligible = this.eligibleNow();
    const asked =
      targets ??
      this.metadata
        .topics()
        .map((t) => ({ topic: t.name, partitions: Array.from({ length: t.partitions }, (_, p) => p) }));
    for (const { topic, partitions } of asked) {
      const states = this.metadata.partitionStates(topic);
      const results: ElectionResult[] = answers.get(topic) ?? [];
      answers.set(topic, results);
      const changes: PartitionChange[] = [];
      for (const p of partitions) {
        const state = states?.[p];
        const outcome: ElectionOutcome =
          state === undefined
            ? { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
            : election(state, p, type === ElectionType.UNCLEAN ? type : ElectionType.PREFERRED, eligible);
        if (targets === null && outcome.errorCode === ErrorCode.ELECTION_NOT_NEEDED) continue;
        const message =
          outcome.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            ? (MESSAGES[outcome.errorCode] ?? null)
            : states === undefined
              ? `No such topic as ${topic}`
              : `No such partition as ${topic}-${p}`;
        results.push({ partition: p, errorCode: outcome.errorCode, errorMessage: message });
        if (outcome.change !== undefined) changes.push(outcome.change);
      }
      if (changes.length > 0) batch.push({ topic, changes });
    }
    if (batch.length === 0) return answers;
    const written = await this.metadata.alterPartitions(batch);
    batch.forEach(({ topic, changes }, i) => {
      const results = answers.get(topic)!;
      changes.forEach((c, j) => {
        const r = written[i]![j]!;
        if (r.errorCode === ErrorCode.NONE) return;
        // The partition changed since it was read: the election did not happen.
        const k = results.findIndex((x) => x.partition === c.partition);
        const errorCode =
          type === ElectionType.UNCLEAN
            ? ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE
            : ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE;
        results[k] = { partition: c.partition, errorCode, errorMessage: MESSAGES[errorCode]! };
      });
    });
    return answers;
  }
}
