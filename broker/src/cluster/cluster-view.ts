import { advertisedAddress, type BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import { NO_LEADER, type BrokerInfo, type ClusterMetadata, type PartitionState } from "./metadata.js";

/**
 * The cluster as a client is told about it (Metadata, DescribeCluster, DescribeTopicPartitions,
 * FindCoordinator): the live brokers with their address on the listener the request came in on, and each
 * partition's leader, replicas, ISR and offline replicas, as Kafka's KRaftMetadataCache answers them. A
 * broker without an endpoint on that listener is left out, as Kafka leaves it out; this broker is always
 * listed, with its own config's address (the single-node answers, and a broker not registered yet).
 */

/** A live broker where a client reaches it on one listener. */
export interface NodeAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

/** What the view needs of the broker. */
export interface ClusterViewHost {
  readonly config: BrokerConfig;
  readonly metadata: Pick<ClusterMetadata, "brokers" | "fencedBrokers" | "controller" | "partitionStates">;
}

/** This broker's rack (`broker.rack`), null when unset. */
export function rackOf(config: BrokerConfig): string | null {
  const rack = config.props["broker.rack"];
  return rack === null || rack === undefined || rack === "" ? null : rack;
}

function endpointOn(b: BrokerInfo, listener: string | undefined): NodeAddress | undefined {
  const e = listener === undefined ? b.listeners[0] : b.listeners.find((l) => l.name === listener);
  return e === undefined ? undefined : { nodeId: b.nodeId, host: e.host, port: e.port, rack: b.rack };
}

/** The live brokers reachable on `listener`, by node id (this broker among them). */
export function liveBrokers(host: ClusterViewHost, listener: string | undefined): NodeAddress[] {
  const self = host.config.nodeId;
  const own = { nodeId: self, ...advertisedAddress(host.config, listener), rack: rackOf(host.config) };
  const others = host.metadata
    .brokers()
    .filter((b) => b.nodeId !== self)
    .map((b) => endpointOn(b, listener))
    .filter((b): b is NodeAddress => b !== undefined);
  return [own, ...others].sort((a, b) => a.nodeId - b.nodeId);
}

/** The brokers registered once and not live now (Kafka's fenced brokers) reachable on `listener`, by node id. */
export function fencedBrokers(host: ClusterViewHost, listener: string | undefined): NodeAddress[] {
  const self = host.config.nodeId;
  return host.metadata
    .fencedBrokers()
    .filter((b) => b.nodeId !== self)
    .map((b) => endpointOn(b, listener))
    .filter((b): b is NodeAddress => b !== undefined);
}

/** The controller's id; this broker's while none is known (the single node before its first election). */
export function controllerId(host: ClusterViewHost): number {
  return host.metadata.controller()?.nodeId ?? host.config.nodeId;
}

/** One partition as Metadata and DescribeTopicPartitions describe it. */
export interface PartitionView {
  readonly errorCode: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicaNodes: number[];
  readonly isrNodes: number[];
  readonly offlineReplicas: number[];
}

/**
 * A partition's state seen from `live` (the node ids reachable on the request's listener): a leader that
 * is not live is no leader (LEADER_NOT_AVAILABLE, leader -1), replicas that are not live are offline. As
 * Kafka, only Metadata v0 (`filterReplicas`) drops the dead replicas from the lists and says
 * REPLICA_NOT_AVAILABLE; later versions list every replica.
 */
export function partitionView(state: PartitionState, live: ReadonlySet<number>, filterReplicas = false): PartitionView {
  const offlineReplicas = state.replicas.filter((r) => !live.has(r));
  const replicaNodes = filterReplicas ? state.replicas.filter((r) => live.has(r)) : [...state.replicas];
  const isrNodes = filterReplicas ? state.isr.filter((r) => live.has(r)) : [...state.isr];
  const led = state.leader !== NO_LEADER && live.has(state.leader);
  const errorCode = !led
    ? ErrorCode.LEADER_NOT_AVAILABLE
    : filterReplicas && (replicaNodes.length < state.replicas.length || isrNodes.length < state.isr.length)
      ? ErrorCode.REPLICA_NOT_AVAILABLE
      : ErrorCode.NONE;
  return {
    errorCode,
    leaderId: led ? state.leader : NO_LEADER,
    leaderEpoch: state.leaderEpoch,
    replicaNodes,
    isrNodes,
    offlineReplicas,
  };
}

/** The partition states of `topic` (`count` of them), a state on this node alone for any not known yet. */
export function topicPartitionStates(host: ClusterViewHost, topic: string, count: number): PartitionState[] {
  const states = host.metadata.partitionStates(topic) ?? [];
  const self = host.config.nodeId;
  return Array.from(
    { length: count },
    (_, p) => states[p] ?? { replicas: [self], isr: [self], leader: self, leaderEpoch: 0, partitionEpoch: 0 },
  );
}
