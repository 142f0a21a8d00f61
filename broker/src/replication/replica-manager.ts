import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { FetchWaiters } from "../cluster/fetch-waiters.js";
import type { Leadership, RoleChange } from "../cluster/leadership.js";
import { roleOf } from "../cluster/leadership.js";
import type { BrokerEndpoint, BrokerInfo, ClusterMetadata, PartitionState } from "../cluster/metadata.js";
import type { LogManager } from "../log/log-manager.js";
import type { PartitionLog } from "../log/partition-log.js";
import type { Logger } from "../logger.js";
import { readHighWatermarks, writeHighWatermarks, type CheckpointedOffset } from "./high-watermark-checkpoint.js";
import { LeaderPartition, type LeaderHost } from "./leader-partition.js";
import { ReplicaFetcher } from "./replica-fetcher.js";
import type { CurrentLeader, NodeEndpoint, Replication } from "./replication.js";
import { interBrokerSecurity } from "./inter-broker-security.js";
import { rackAwareReplica } from "./replica-selector.js";
import type { InterBrokerEndpoint } from "./replica-fetcher.js";

/**
 * Replication on this broker (Kafka's ReplicaManager): follows this broker's role in each partition
 * (cluster/leadership.ts) and makes it so. A partition led here with other replicas gets a LeaderPartition
 * (followers' progress, high watermark, ISR, acks=all); one followed here is fetched by the fetcher of its
 * leader broker. Partitions with one replica (every partition of a single node) are left as they are: their
 * high watermark is their log end. Also answers the handlers' questions (who leads, at which epoch, may a
 * write be taken) and writes the high watermark checkpoints.
 */

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export interface ReplicaManagerHost {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: ClusterMetadata;
  readonly logs: LogManager;
  readonly leadership: Leadership;
  readonly fetchWaiters: FetchWaiters;
  /** This broker's epoch in the cluster (its registration's), -1 before it registered. */
  brokerEpoch(): number;
}

export class ReplicaManager implements Replication {
  private readonly leaders = new Map<string, LeaderPartition>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  /** The leader each followed partition is fetched from. */
  private readonly following = new Map<string, number>();
  /** Role changes of one partition are applied in order, one at a time. */
  private readonly chains = new Map<string, Promise<void>>();
  /** High watermarks read from the checkpoints at start, for logs replication has not taken up yet. */
  private checkpointed = new Map<string, bigint>();
  private timers: NodeJS.Timeout[] = [];
  private unlisten: (() => void) | undefined;
  private isFenced = false;
  /** Counts the fences: an unfence that a new fence overtook leaves the broker fenced. */
  private fences = 0;
  private readonly nodeId: number;
  private readonly leaderHost: LeaderHost;
  /** Whether the metadata is shared with other brokers (etcd): a partition may be created by another one. */
  private readonly clustered: boolean;
  /** replica.selector.class: empty, consumers read from leaders. */
  private readonly selector: string;

  constructor(private readonly host: ReplicaManagerHost) {
    this.nodeId = host.config.nodeId;
    this.clustered = (host.config.props["etcd.endpoints"] ?? "").trim() !== "";
    this.selector = host.config.props["replica.selector.class"] ?? "";
    this.leaderHost = {
      nodeId: this.nodeId,
      alterIsr: (topic, partition, state, isr) => this.alterIsr(topic, partition, state, isr),
      highWatermarkMoved: (topic, partition) => host.fetchWaiters.notify(topic, partition),
      isLive: (nodeId) => host.metadata.brokers().some((b) => b.nodeId === nodeId),
    };
  }

  /** Reads the checkpoints and follows role changes; call before leadership starts, to see every partition. */
  async start(): Promise<void> {
    for (const dir of this.host.logs.dirs) {
      for (const e of await readHighWatermarks(dir)) this.checkpointed.set(key(e.topic, e.partition), e.offset);
    }
    if (this.clustered) await this.removeLogsOfDeletedTopics();
    this.unlisten = this.host.leadership.onChange((c) => this.changed(c));
    const p = this.host.config.props;
    const lagMs = Number(p["replica.lag.time.max.ms"]);
    // As Kafka: the ISR is checked at half the lag time, so a follower leaves within 1.5 times it.
    this.timers.push(setInterval(() => this.shrinkIsrs(lagMs), Math.max(10, lagMs / 2)));
    const every = Number(p["replica.high.watermark.checkpoint.interval.ms"]);
    this.timers.push(setInterval(() => void this.checkpointHighWatermarks().catch(() => undefined), every));
    for (const t of this.timers) t.unref();
  }

  /** Stops fetching and leading (waiting produces are answered), and writes the high watermarks a last time. */
  async stop(): Promise<void> {
    this.unlisten?.();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()));
    this.fetchers.clear();
    for (const l of this.leaders.values()) l.close();
    this.leaders.clear();
    await Promise.all(this.chains.values());
    await this.checkpointHighWatermarks().catch(() => undefined);
  }

  /**
   * The registration is lost (its lease expired): another broker may lead now, so this one takes no more
   * writes as leader (Kafka's fenced broker) and answers the produces waiting for their replicas.
   */
  fence(): void {
    if (this.isFenced) return;
    this.isFenced = true;
    this.fences++;
    this.host.log.warn("the broker registration is lost: no writes are taken as leader any more");
    for (const l of this.leaders.values()) l.close();
  }

  /**
   * Registered again (Kafka's unfencing): every partition is applied again from its state now, as after
   * a restart (a leader closed by the fence gets a new LeaderPartition; a follower fetches and truncates
   * where its log left the leader's), and only then are writes taken again as leader.
   */
  async unfence(): Promise<void> {
    if (!this.isFenced) return;
    const fence = this.fences;
    const applied: Promise<void>[] = [];
    for (const t of this.host.metadata.topics()) {
      const count = this.host.metadata.partitionStates(t.name)?.length ?? 0;
      for (let p = 0; p < count; p++) applied.push(this.enqueue(t.name, p));
    }
    await Promise.all(applied);
    if (this.fences !== fence) return;
    this.isFenced = false;
    this.host.log.warn(`registered again: writes are taken as leader again (${this.leaders.size} partitions led)`);
  }

  get fenced(): boolean {
    return this.isFenced;
  }

  /** The logs of topics deleted while this broker was down (the cluster no longer has them). */
  private async removeLogsOfDeletedTopics(): Promise<void> {
    for (const { topic, partition } of [...this.host.logs.entries()]) {
      if (this.host.metadata.topic(topic) !== undefined) continue;
      await this.host.logs.deletePartitionLog(topic, partition);
      this.host.log.info(`removed the log of ${topic}-${partition}: its topic was deleted`);
    }
  }

  private state(topic: string, partition: number): PartitionState | undefined {
    return this.host.leadership.state(topic, partition);
  }

  leaderError(topic: string, partition: number, currentLeaderEpoch: number, followerMay = false): number {
    const state = this.state(topic, partition);
    if (state === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    // KIP-320: the epoch is checked first, as Kafka's Partition does.
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch > state.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < state.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
    if (state.leader === this.nodeId) return ErrorCode.NONE;
    if (followerMay && state.replicas.includes(this.nodeId)) return ErrorCode.NONE;
    return ErrorCode.NOT_LEADER_OR_FOLLOWER;
  }

  writeError(topic: string, partition: number, acks: number): number {
    const error = this.leaderError(topic, partition, -1);
    if (error !== ErrorCode.NONE) return error;
    if (this.isFenced) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (acks !== -1) return ErrorCode.NONE;
    const state = this.state(topic, partition);
    const isr = state?.isr.length ?? 0;
    return isr < this.minInsyncReplicas(topic, state) ? ErrorCode.NOT_ENOUGH_REPLICAS : ErrorCode.NONE;
  }

  leaderEpoch(topic: string, partition: number): number {
    return this.state(topic, partition)?.leaderEpoch ?? -1;
  }

  currentLeader(topic: string, partition: number): CurrentLeader {
    const state = this.state(topic, partition);
    return { leaderId: state?.leader ?? -1, leaderEpoch: state?.leaderEpoch ?? -1 };
  }

  endpoints(nodeIds: Iterable<number>, listenerName: string | undefined): NodeEndpoint[] {
    const wanted = new Set(nodeIds);
    const out: NodeEndpoint[] = [];
    for (const b of this.host.metadata.brokers()) {
      if (!wanted.has(b.nodeId)) continue;
      const l = b.listeners.find((e) => e.name === listenerName) ?? b.listeners[0];
      if (l !== undefined) out.push({ nodeId: b.nodeId, host: l.host, port: l.port, rack: b.rack });
    }
    return out;
  }

  waitForCommit(topic: string, partition: number, requiredOffset: bigint, timeoutMs: number): Promise<number> {
    const leader = this.leaders.get(key(topic, partition));
    if (leader === undefined) {
      // One replica: written is committed. A replicated partition no longer led here (its leadership moved
      // while the append was under way) cannot say whether the new leader has the records.
      const state = this.state(topic, partition);
      const single = state === undefined || state.replicas.length <= 1;
      return Promise.resolve(single ? ErrorCode.NONE : ErrorCode.NOT_LEADER_OR_FOLLOWER);
    }
    return leader.waitForCommit(requiredOffset, this.minInsyncReplicas(topic, this.state(topic, partition)), timeoutMs);
  }

  waitForLowWatermark(
    topic: string,
    partition: number,
    log: PartitionLog,
    requiredOffset: bigint,
    timeoutMs: number,
  ): Promise<{ errorCode: number; lowWatermark: bigint }> {
    const leader = this.leaders.get(key(topic, partition));
    // One replica: its log start is the low watermark.
    if (leader === undefined) return Promise.resolve({ errorCode: ErrorCode.NONE, lowWatermark: log.logStartOffset });
    return leader.waitForLowWatermark(requiredOffset, timeoutMs);
  }

  followerFetched(
    topic: string,
    partition: number,
    replicaId: number,
    fetchOffset: bigint,
    logStartOffset: bigint,
  ): void {
    this.leaders.get(key(topic, partition))?.followerFetched(replicaId, fetchOffset, logStartOffset, Date.now());
  }

  preferredReadReplica(
    topic: string,
    partition: number,
    clientRack: string | null,
    fetchOffset: bigint,
    listenerName: string | undefined,
  ): number {
    const leader = this.leaders.get(key(topic, partition));
    if (this.selector === "" || leader === undefined) return -1;
    // A replica is a candidate only while registered with an endpoint on the consumer's listener.
    const brokers = new Map(this.host.metadata.brokers().map((b) => [b.nodeId, b]));
    const rackOf = (nodeId: number): string | null | undefined => {
      const b = brokers.get(nodeId);
      return b?.listeners.some((l) => l.name === listenerName) === true ? b.rack : undefined;
    };
    const followers = leader.readReplicas(fetchOffset, Date.now(), rackOf);
    const self = {
      nodeId: this.nodeId,
      rack: rackOf(this.nodeId) ?? null,
      logEndOffset: leader.log.logEndOffset,
      sinceCaughtUpMs: 0,
    };
    return rackAwareReplica(clientRack, self, followers);
  }

  /**
   * The topic's min.insync.replicas (else the broker's), never more than the partition has replicas: Kafka
   * 4's effective minimum (an acks=all write to a topic of one replica with min.insync.replicas=2 is taken).
   */
  private minInsyncReplicas(topic: string, state: PartitionState | undefined): number {
    const own = this.host.metadata.topic(topic)?.configs["min.insync.replicas"];
    const configured = own !== undefined ? Number(own) : Number(this.host.config.props["min.insync.replicas"]);
    return Math.min(configured, state?.replicas.length ?? 1);
  }

  private changed(c: RoleChange): void {
    void this.enqueue(c.topic, c.partition);
  }

  /** Applies the partition's state after the changes already queued for it; resolves once done. */
  private enqueue(topic: string, partition: number): Promise<void> {
    const k = key(topic, partition);
    const run = (): Promise<void> => this.apply(topic, partition);
    const next = (this.chains.get(k) ?? Promise.resolve()).then(run).catch((e: Error) => {
      this.host.log.error(`replication of ${topic}-${partition}: ${e.stack ?? e.message}`);
    });
    this.chains.set(k, next);
    void next.then(() => {
      if (this.chains.get(k) === next) this.chains.delete(k);
    });
    return next;
  }

  /** Makes this broker's part in a partition what its latest state says. */
  private async apply(topic: string, partition: number): Promise<void> {
    const k = key(topic, partition);
    const state = this.state(topic, partition);
    const info = this.host.metadata.topic(topic);
    const role = roleOf(state, this.nodeId);
    if (role === "none" || state === undefined || info === undefined) {
      this.stopLeading(k);
      this.stopFollowing(topic, partition);
      // Not a replica (moved away, also while this broker was down: Kafka's stray replicas), or the topic is
      // gone (TopicAdmin removes its logs too; this catches a log that was being opened meanwhile): the log goes.
      if (state !== undefined || (info === undefined && this.clustered)) await this.removeLog(topic, partition);
      return;
    }
    // One replica stays as a single node has it; in a cluster its log is opened here, wherever it was created.
    if (state.replicas.length <= 1 && !this.leaders.has(k) && !this.following.has(k)) {
      if (this.clustered && this.host.logs.get(topic, partition) === undefined)
        await this.host.logs.getOrCreate(topic, partition);
      return;
    }
    const log = await this.host.logs.getOrCreate(topic, partition);
    const now = this.state(topic, partition);
    // A newer state came meanwhile: its own turn applies it.
    if (now?.partitionEpoch !== state.partitionEpoch || now.leaderEpoch !== state.leaderEpoch) return;
    if (role === "leader") this.lead(topic, partition, log, state);
    else this.follow(topic, info.id, partition, log, state);
  }

  private async removeLog(topic: string, partition: number): Promise<void> {
    if (this.host.logs.get(topic, partition) === undefined) return;
    await this.host.logs.deletePartitionLog(topic, partition);
    this.host.log.info(`removed the log of ${topic}-${partition}: this broker is no longer one of its replicas`);
  }

  private lead(topic: string, partition: number, log: PartitionLog, state: PartitionState): void {
    const k = key(topic, partition);
    this.stopFollowing(topic, partition);
    const current = this.leaders.get(k);
    if (current !== undefined && !current.closed && current.leaderEpoch === state.leaderEpoch && current.log === log) {
      current.update(state);
      return;
    }
    current?.close();
    this.takeUp(k, log);
    const leader = new LeaderPartition(topic, partition, log, state, this.leaderHost, Date.now());
    this.leaders.set(k, leader);
    this.host.log.info(`leading ${topic}-${partition} at epoch ${state.leaderEpoch}, ISR ${state.isr.join(",")}`);
    leader.maybeAdvanceHighWatermark();
  }

  private follow(topic: string, topicId: string, partition: number, log: PartitionLog, state: PartitionState): void {
    const k = key(topic, partition);
    this.stopLeading(k);
    this.takeUp(k, log);
    const leaderId = state.leader;
    const before = this.following.get(k);
    if (before !== undefined && before !== leaderId) this.fetchers.get(before)?.remove(topic, partition);
    if (leaderId < 0) {
      this.following.delete(k);
      return;
    }
    this.following.set(k, leaderId);
    let fetcher = this.fetchers.get(leaderId);
    if (fetcher === undefined) {
      fetcher = new ReplicaFetcher(leaderId, this.fetcherSettings());
      this.fetchers.set(leaderId, fetcher);
    }
    fetcher.add({ topic, topicId, partition, log, leaderEpoch: state.leaderEpoch });
    this.host.log.info(`following ${topic}-${partition} on broker ${leaderId} at epoch ${state.leaderEpoch}`);
  }

  /** A log replication starts setting the high watermark of: from the checkpoint, else from nothing. */
  private takeUp(k: string, log: PartitionLog): void {
    if (log.replicated) return;
    log.setHighWatermark(this.checkpointed.get(k) ?? 0n, true);
    this.checkpointed.delete(k);
  }

  private stopLeading(k: string): void {
    const l = this.leaders.get(k);
    if (l === undefined) return;
    l.close();
    this.leaders.delete(k);
  }

  private stopFollowing(topic: string, partition: number): void {
    const k = key(topic, partition);
    const leaderId = this.following.get(k);
    if (leaderId === undefined) return;
    this.fetchers.get(leaderId)?.remove(topic, partition);
    this.following.delete(k);
  }

  private shrinkIsrs(lagMs: number): void {
    const now = Date.now();
    for (const l of this.leaders.values()) l.maybeShrinkIsr(now, lagMs);
  }

  /**
   * AlterPartition through the metadata seam: the new state, or undefined when it was refused; rejects when
   * the store failed (the change may have been made or not).
   */
  private async alterIsr(
    topic: string,
    partition: number,
    state: PartitionState,
    isr: readonly number[],
  ): Promise<PartitionState | undefined> {
    if (this.isFenced) return undefined;
    try {
      const [results] = await this.host.metadata.alterPartitions([
        {
          topic,
          changes: [
            {
              kind: "isr",
              partition,
              brokerId: this.nodeId,
              leaderEpoch: state.leaderEpoch,
              partitionEpoch: state.partitionEpoch,
              isr,
            },
          ],
        },
      ]);
      const r = results?.[0];
      if (r === undefined || r.errorCode !== ErrorCode.NONE) {
        this.host.log.info(`ISR change of ${topic}-${partition} to [${isr.join(",")}] refused: error ${r?.errorCode}`);
        return undefined;
      }
      this.host.log.info(`ISR of ${topic}-${partition} is now [${isr.join(",")}] (was [${state.isr.join(",")}])`);
      return r.state;
    } catch (e) {
      this.host.log.warn(`ISR change of ${topic}-${partition} failed: ${(e as Error).message}`);
      throw e;
    }
  }

  private fetcherSettings() {
    const p = this.host.config.props;
    return {
      nodeId: this.nodeId,
      brokerEpoch: () => BigInt(this.host.brokerEpoch()),
      maxWaitMs: Number(p["replica.fetch.wait.max.ms"]),
      minBytes: Number(p["replica.fetch.min.bytes"]),
      maxBytes: Number(p["replica.fetch.response.max.bytes"]),
      partitionMaxBytes: Number(p["replica.fetch.max.bytes"]),
      backoffMs: Number(p["replica.fetch.backoff.ms"]),
      socketTimeoutMs: Number(p["replica.socket.timeout.ms"]),
      endpoint: (nodeId: number) => this.interBrokerEndpoint(nodeId),
      highWatermarkMoved: (topic: string, partition: number) => this.host.fetchWaiters.notify(topic, partition),
      log: this.host.log,
    };
  }

  /**
   * Where a follower reaches broker `nodeId`: its listener named by inter.broker.listener.name, else the one
   * named after (or speaking) security.inter.broker.protocol, as Kafka picks it.
   */
  private interBrokerEndpoint(nodeId: number): InterBrokerEndpoint | undefined {
    const broker: BrokerInfo | undefined = this.host.metadata.brokers().find((b) => b.nodeId === nodeId);
    if (broker === undefined) return undefined;
    const p = this.host.config.props;
    const name = p["inter.broker.listener.name"];
    const protocol = String(p["security.inter.broker.protocol"]);
    const pick = (f: (e: BrokerEndpoint) => boolean): BrokerEndpoint | undefined => broker.listeners.find(f);
    const l =
      (name !== null && name !== undefined ? pick((e) => e.name === name) : undefined) ??
      pick((e) => e.name === protocol) ??
      pick((e) => e.securityProtocol === protocol) ??
      broker.listeners[0];
    if (l === undefined) return undefined;
    return { host: l.host, port: l.port, security: () => interBrokerSecurity(this.host.config, l) };
  }

  /** Writes each log directory's replication-offset-checkpoint (replicated partitions only). */
  async checkpointHighWatermarks(): Promise<void> {
    const byDir = new Map<string, CheckpointedOffset[]>();
    for (const { topic, partition, log } of this.host.logs.entries()) {
      if (!log.replicated) continue;
      const dir = this.host.logs.dirOf(log);
      byDir.set(dir, [...(byDir.get(dir) ?? []), { topic, partition, offset: log.highWatermark }]);
    }
    for (const [dir, entries] of byDir) await writeHighWatermarks(dir, entries);
  }
}
