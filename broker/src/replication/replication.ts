import type { PartitionLog } from "../log/partition-log.js";

/**
 * What handlers ask of replication (services.replication): who leads a partition and at which epoch,
 * whether this broker may take a client's read or write as its leader, and when an acks=all write is on
 * enough replicas. A follower's fetch reports its progress here.
 */

export interface CurrentLeader {
  /** -1 when the partition has no leader or is unknown. */
  readonly leaderId: number;
  readonly leaderEpoch: number;
}

/** A broker as the NodeEndpoints of Produce and Fetch answers name it. */
export interface NodeEndpoint {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface Replication {
  /**
   * NONE when this broker leads the partition (or, with `followerMay`, holds a replica of it) for a client
   * naming `currentLeaderEpoch` (-1: any); else UNKNOWN_LEADER_EPOCH (newer than ours), FENCED_LEADER_EPOCH
   * (older), NOT_LEADER_OR_FOLLOWER.
   */
  leaderError(topic: string, partition: number, currentLeaderEpoch: number, followerMay?: boolean): number;
  /**
   * NONE when a produce with `acks` may be appended here: this broker leads (and is not fenced) and, for
   * acks=all, the ISR has at least min.insync.replicas members (NOT_ENOUGH_REPLICAS otherwise).
   */
  writeError(topic: string, partition: number, acks: number): number;
  /** The leader epoch to stamp on batches appended as leader (-1 when unknown). */
  leaderEpoch(topic: string, partition: number): number;
  currentLeader(topic: string, partition: number): CurrentLeader;
  /** The live brokers among `nodeIds`, with their endpoint on `listenerName` (the client's listener). */
  endpoints(nodeIds: Iterable<number>, listenerName: string | undefined): NodeEndpoint[];
  /**
   * acks=all: resolves once the ISR has every offset below `requiredOffset` (NONE, or
   * NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR is below min.insync.replicas by then), REQUEST_TIMED_OUT
   * after `timeoutMs`, NOT_LEADER_OR_FOLLOWER when this broker stops leading first.
   */
  waitForCommit(topic: string, partition: number, requiredOffset: bigint, timeoutMs: number): Promise<number>;
  /**
   * DeleteRecords on a leader, after its own log start moved: resolves once every live replica's log start
   * reached `requiredOffset` (NONE and the low watermark, their smallest), REQUEST_TIMED_OUT after
   * `timeoutMs`, NOT_LEADER_OR_FOLLOWER when this broker stops leading first. One replica: at once.
   */
  waitForLowWatermark(
    topic: string,
    partition: number,
    log: PartitionLog,
    requiredOffset: bigint,
    timeoutMs: number,
  ): Promise<{ errorCode: number; lowWatermark: bigint }>;
  /**
   * A follower fetched from `fetchOffset` (its log end), its log starting at `logStartOffset`: its
   * progress, the ISR and the high watermark follow.
   */
  followerFetched(
    topic: string,
    partition: number,
    replicaId: number,
    fetchOffset: bigint,
    logStartOffset: bigint,
  ): void;
  /**
   * The replica a consumer in `clientRack` fetching from `fetchOffset` should read from instead of this
   * leader (KIP-392, by replica.selector.class), -1 for this one (no selector, not the leader, none better).
   */
  preferredReadReplica(
    topic: string,
    partition: number,
    clientRack: string | null,
    fetchOffset: bigint,
    listenerName: string | undefined,
  ): number;
}
