import {
  ApiKey,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createListOffsetsRequest,
  type FetchResponsePartitionData,
} from "@tskafka/protocol";
import type { ClientSecurity } from "../cli/client-security.js";
import { KafkaConnection } from "../cli/kafka-connection.js";
import { ErrorCode } from "../errors.js";
import type { PartitionLog } from "../log/partition-log.js";
import type { Logger } from "../logger.js";

/**
 * The follower side (Kafka's ReplicaFetcherThread): one fetcher per leader broker, fetching every
 * partition this broker follows there in one Fetch (v17, with its replica id and broker epoch), from
 * each log's end and with the epoch of its last batch. The leader's batches are appended unchanged; a
 * diverging epoch in the answer (KIP-595's check, which Kafka's followers use from Fetch v12 in place of
 * an OffsetForLeaderEpoch round trip) cuts the log back to where it left the leader's history first.
 */

/** Fetch v17: replica state, topic ids, diverging epochs, current leader. */
const FETCH_VERSION = 17;

/** A partition this broker follows on the fetcher's leader. */
export interface FollowedPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly log: PartitionLog;
  /** The leader epoch it follows at: fetches name it, a newer leader fences them. */
  readonly leaderEpoch: number;
}

/** Where a leader is reached, and how a follower connects there (TLS, SASL login). */
export interface InterBrokerEndpoint {
  readonly host: string;
  readonly port: number;
  /** The client security of the connection; throws (a config error) when it cannot be made. */
  security(): ClientSecurity;
}

export interface FetcherSettings {
  readonly nodeId: number;
  readonly brokerEpoch: () => bigint;
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly partitionMaxBytes: number;
  readonly backoffMs: number;
  readonly socketTimeoutMs: number;
  /** Where the leader is reached (its inter-broker listener), undefined while it is not registered. */
  readonly endpoint: (nodeId: number) => InterBrokerEndpoint | undefined;
  /** The follower's high watermark moved: consumers reading from this replica (KIP-392) may read on. */
  readonly highWatermarkMoved: (topic: string, partition: number) => void;
  readonly log: Logger;
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export class ReplicaFetcher {
  private readonly partitions = new Map<string, FollowedPartition>();
  /** Partitions held back until this time (the leader refused them: a new epoch is on its way). */
  private readonly delayedUntil = new Map<string, number>();
  private connection: KafkaConnection | undefined;
  private running = true;
  private wake: (() => void) | undefined;
  /** The error of the last fetch that failed, until one succeeds. */
  private lastError: string | undefined;
  private readonly loop: Promise<void>;

  constructor(
    readonly leaderId: number,
    private readonly settings: FetcherSettings,
  ) {
    this.loop = this.run();
  }

  get size(): number {
    return this.partitions.size;
  }

  add(p: FollowedPartition): void {
    const k = key(p.topic, p.partition);
    this.partitions.set(k, p);
    this.delayedUntil.delete(k);
    this.wake?.();
  }

  remove(topic: string, partition: number): void {
    this.partitions.delete(key(topic, partition));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.connection?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const now = Date.now();
      const ready = [...this.partitions.entries()].filter(([k]) => (this.delayedUntil.get(k) ?? 0) <= now);
      if (ready.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, this.partitions.size === 0 ? 60_000 : 100).unref();
        });
        this.wake = undefined;
        continue;
      }
      try {
        await this.fetchOnce(ready.map(([, p]) => p));
        this.lastError = undefined;
      } catch (e) {
        if (!this.running) return;
        // Said once while it lasts: a leader away (unregistered, unreachable) fails every backoff.
        const message = (e as Error).message;
        if (message !== this.lastError)
          this.settings.log.warn(`replica fetcher for leader ${this.leaderId}: ${message}`);
        this.lastError = message;
        this.connection?.close();
        this.connection = undefined;
        await sleep(this.settings.backoffMs);
      }
    }
  }

  private async connect(): Promise<KafkaConnection> {
    if (this.connection !== undefined && !this.connection.closed) return this.connection;
    const at = this.settings.endpoint(this.leaderId);
    if (at === undefined) throw new Error(`broker ${this.leaderId} is not registered`);
    const timeout = this.settings.socketTimeoutMs + this.settings.maxWaitMs;
    const clientId = `broker-${this.settings.nodeId}-fetcher`;
    this.connection = await KafkaConnection.open(at.host, at.port, clientId, at.security(), timeout);
    return this.connection;
  }

  private async fetchOnce(batch: readonly FollowedPartition[]): Promise<void> {
    const s = this.settings;
    const conn = await this.connect();
    const byTopic = new Map<string, FollowedPartition[]>();
    for (const p of batch) byTopic.set(p.topicId, [...(byTopic.get(p.topicId) ?? []), p]);
    // What each fetch asked from: an answer applies only to a log that has not moved meanwhile.
    const asked = new Map(batch.map((p) => [key(p.topic, p.partition), p.log.logEndOffset]));
    const response = await conn.send(
      ApiKey.Fetch,
      FETCH_VERSION,
      createFetchRequest({
        replicaState: { replicaId: s.nodeId, replicaEpoch: s.brokerEpoch() },
        maxWaitMs: s.maxWaitMs,
        minBytes: s.minBytes,
        maxBytes: s.maxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topicId, ps]) =>
          createFetchRequestFetchTopic({
            topicId,
            partitions: ps.map((p) =>
              createFetchRequestFetchPartition({
                partition: p.partition,
                currentLeaderEpoch: p.leaderEpoch,
                fetchOffset: p.log.logEndOffset,
                lastFetchedEpoch: p.log.epochs.latestEpoch,
                logStartOffset: p.log.logStartOffset,
                partitionMaxBytes: s.partitionMaxBytes,
              }),
            ),
          }),
        ),
      }),
    );
    if (response.errorCode !== ErrorCode.NONE) throw new Error(`fetch refused with error ${response.errorCode}`);
    const byId = new Map(batch.map((p) => [`${p.topicId}\u0000${p.partition}`, p]));
    for (const t of response.responses) {
      for (const data of t.partitions) {
        const p = byId.get(`${t.topicId}\u0000${data.partitionIndex}`);
        if (p === undefined) continue;
        const k = key(p.topic, p.partition);
        // Dropped or handed to another leader while the fetch was out: the answer is stale.
        if (this.partitions.get(k) !== p || asked.get(k) !== p.log.logEndOffset) continue;
        await this.apply(p, data);
      }
    }
  }

  private async apply(p: FollowedPartition, data: FetchResponsePartitionData): Promise<void> {
    const log = p.log;
    const k = key(p.topic, p.partition);
    if (data.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
      await this.outOfRange(p);
      return;
    }
    if (data.errorCode !== ErrorCode.NONE) {
      // The leader moved on or does not lead yet: wait for the new partition state to reach us.
      this.settings.log.debug(`fetch of ${p.topic}-${p.partition} from ${this.leaderId}: error ${data.errorCode}`);
      this.delayedUntil.set(k, Date.now() + this.settings.backoffMs);
      return;
    }
    const diverging = data.divergingEpoch;
    if (diverging.epoch >= 0 && diverging.endOffset >= 0n) {
      await this.truncate(p, diverging.epoch, diverging.endOffset);
      return;
    }
    const records = data.records;
    if (records !== null && records.length > 0) {
      const result = await log.appendAsFollower(records);
      if (result.errorCode !== ErrorCode.NONE) {
        this.settings.log.error(
          `appending ${p.topic}-${p.partition} from leader ${this.leaderId}: ${result.errorMessage}`,
        );
        this.delayedUntil.set(k, Date.now() + this.settings.backoffMs);
        return;
      }
    }
    // The follower's high watermark is the leader's, as far as its own log reaches; its log start follows
    // the leader's (DeleteRecords, retention) as far as its high watermark allows.
    if (data.highWatermark >= 0n && log.setHighWatermark(data.highWatermark))
      this.settings.highWatermarkMoved(p.topic, p.partition);
    const leaderStart = data.logStartOffset;
    if (leaderStart > log.logStartOffset && leaderStart <= log.highWatermark)
      await log.deleteRecordsBefore(leaderStart);
  }

  /**
   * The leader has nothing at this log's end (Kafka's handling of OFFSET_OUT_OF_RANGE on a follower): a log
   * past the leader's end is cut back to it; one that ends before the leader's log start starts again there.
   */
  private async outOfRange(p: FollowedPartition): Promise<void> {
    const conn = await this.connect();
    const ask = async (timestamp: bigint): Promise<bigint | undefined> => {
      const r = await conn.send(
        ApiKey.ListOffsets,
        7,
        createListOffsetsRequest({
          replicaId: this.settings.nodeId,
          topics: [
            {
              name: p.topic,
              partitions: [
                { partitionIndex: p.partition, currentLeaderEpoch: p.leaderEpoch, timestamp, maxNumOffsets: 1 },
              ],
            },
          ],
        }),
      );
      const answer = r.topics[0]?.partitions[0];
      return answer === undefined || answer.errorCode !== ErrorCode.NONE ? undefined : answer.offset;
    };
    const leaderEnd = await ask(-1n);
    const leaderStart = await ask(-2n);
    const log = p.log;
    if (leaderEnd === undefined || leaderStart === undefined) {
      this.delayedUntil.set(key(p.topic, p.partition), Date.now() + this.settings.backoffMs);
    } else if (leaderEnd < log.logEndOffset) {
      this.settings.log.warn(
        `${p.topic}-${p.partition}: truncating from ${log.logEndOffset} to the leader's end ${leaderEnd}`,
      );
      await log.truncateTo(leaderEnd);
    } else if (log.logEndOffset < leaderStart) {
      this.settings.log.info(`${p.topic}-${p.partition}: starting again at the leader's log start ${leaderStart}`);
      await log.truncateFullyAndStartAt(leaderStart);
    }
  }

  /**
   * Kafka's truncation on a diverging epoch: to the end the leader gives for the epoch, or to where this
   * log's own history of the largest epoch at or below it ends, whichever is first.
   */
  private async truncate(p: FollowedPartition, epoch: number, leaderEnd: bigint): Promise<void> {
    const log = p.log;
    const local = log.epochs.endOffsetFor(epoch, log.logEndOffset);
    let target = leaderEnd;
    if (local.epoch >= 0 && local.endOffset >= 0n && local.endOffset < target) target = local.endOffset;
    if (target >= log.logEndOffset) return;
    this.settings.log.info(
      `${p.topic}-${p.partition}: truncating from ${log.logEndOffset} to ${target} (diverged from leader ${this.leaderId} at epoch ${epoch})`,
    );
    await log.truncateTo(target);
  }
}
