import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import { logConfigFromKafka } from "../log/config.js";
import type { LogManager } from "../log/log-manager.js";
import type { Logger } from "../logger.js";
import { rackOf } from "./cluster-view.js";
import type { Leadership } from "./leadership.js";
import { isStale, type ClusterMetadata, type TopicInfo } from "./metadata.js";
import { invalidReplicationFactor, placeReplicas, type PlacementBroker } from "./replica-placement.js";
import { invalidTopicName } from "./topic-rules.js";

/**
 * Where a new topic's replicas go: a replication factor to place over the live brokers (replica-placement.ts),
 * or each partition's replicas as given (a manual assignment, checked by the caller).
 */
export type Placement =
  | {
      readonly replicationFactor: number;
      /** An internal topic's factor: capped by the live brokers rather than refused (see `replicasOf`). */
      readonly capped?: boolean;
    }
  | { readonly assignments: readonly (readonly number[])[] };

export interface TopicAdminHost {
  /** The config in force. */
  readonly config: BrokerConfig;
  readonly log: Logger;
}

/**
 * Topics as the cluster metadata and this node's partition logs together: creating, deleting and growing
 * a topic places its replicas over the live brokers, writes the metadata and opens the logs of the
 * replicas on this node; the logs of partitions another broker created or moved here open when this
 * broker becomes one of their replicas (Leadership), and a topic deleted anywhere loses its logs here.
 * A topic's config overrides reach its logs through a watch, whoever changed them.
 */
export class TopicAdmin {
  /** The logs being opened for partitions that became this broker's. */
  private opening: Promise<void> = Promise.resolve();
  /** Topics this broker is deleting (it removes their logs itself). */
  private readonly deleting = new Set<string>();

  constructor(
    private readonly metadata: ClusterMetadata,
    private readonly logs: LogManager,
    private readonly host: TopicAdminHost,
  ) {
    metadata.watch("topic", (e) => {
      if (e.after !== undefined && e.after.configs !== e.before?.configs)
        logs.setTopicConfig(e.name, logConfigFromKafka(e.after.configs));
      if (e.after === undefined && e.before !== undefined) void this.dropLogs(e.name, e.before.id);
    });
  }

  /** Opens the log of every partition this broker becomes a replica of (created or moved elsewhere). */
  followLeadership(leadership: Leadership): void {
    leadership.onChange((c) => {
      if (c.role === "none" || c.previous !== "none" || this.logs.get(c.topic, c.partition) !== undefined) return;
      // One at a time, in the order of the partitions: logs are listed in the order they were opened.
      this.opening = this.opening
        .then(() => this.logs.getOrCreate(c.topic, c.partition))
        .then(
          () => undefined,
          (e: Error) => this.host.log.error(`cannot open the log of ${c.topic}-${c.partition}: ${e.message}`),
        );
    });
  }

  /** The live brokers replicas may go to (this one alone until it is registered). */
  placementBrokers(): PlacementBroker[] {
    const live = this.metadata.brokers();
    if (live.length > 0) return live.map((b) => ({ nodeId: b.nodeId, rack: b.rack }));
    return [{ nodeId: this.host.config.nodeId, rack: rackOf(this.host.config) }];
  }

  /** Whether `nodeId` is a live broker replicas may be assigned to. */
  isLiveBroker(nodeId: number): boolean {
    return this.placementBrokers().some((b) => b.nodeId === nodeId);
  }

  /** Why `replicationFactor` cannot be placed on the live brokers (Kafka's message), undefined if it can. */
  invalidReplicationFactor(replicationFactor: number): string | undefined {
    return invalidReplicationFactor(replicationFactor, this.placementBrokers().length);
  }

  /** The logs of a topic deleted by another broker (the one that deleted it removed them already). */
  private async dropLogs(name: string, id: string): Promise<void> {
    if (this.deleting.has(name)) return;
    // A log being opened for the topic is removed too, once it is open.
    await this.opening;
    // A topic of the same name created since is another topic: its logs stay.
    if (this.metadata.topic(name) !== undefined && this.metadata.topic(name)?.id !== id) return;
    try {
      await this.logs.deletePartitionLogs(name);
    } catch (e) {
      this.host.log.error(`cannot remove the logs of deleted topic ${name}: ${(e as Error).message}`);
    }
  }

  private replicasOf(partitions: number, placement: Placement): readonly (readonly number[])[] | number {
    if ("assignments" in placement) return placement.assignments;
    const brokers = this.placementBrokers();
    const rf =
      placement.capped === true ? Math.min(placement.replicationFactor, brokers.length) : placement.replicationFactor;
    // Kafka 4.4 refuses (its coordinators stay unavailable until enough brokers registered, so a single
    // node needs offsets.topic.replication.factor=1); here a single node keeps working, and says so.
    if (rf < placement.replicationFactor)
      this.host.log.info(
        `only ${brokers.length} live broker(s): an internal topic gets ${rf} replica(s), not the ${placement.replicationFactor} configured`,
      );
    if (invalidReplicationFactor(rf, brokers.length) !== undefined) return ErrorCode.INVALID_REPLICATION_FACTOR;
    return placeReplicas(brokers, partitions, rf);
  }

  /**
   * Creates a topic with its replicas placed (one replica by default) and the logs of those on this node;
   * Kafka's name rules apply. Returns an error code (INVALID_REPLICATION_FACTOR when the factor cannot be
   * placed on the live brokers) or the topic.
   */
  async create(
    name: string,
    partitions: number,
    configs: Readonly<Record<string, string>> = {},
    placement: Placement = { replicationFactor: 1 },
  ): Promise<TopicInfo | number> {
    if (invalidTopicName(name) !== undefined) return ErrorCode.INVALID_TOPIC_EXCEPTION;
    const replicas = this.replicasOf(partitions, placement);
    if (typeof replicas === "number") return replicas;
    const topic = await this.metadata.createTopic(name, partitions, configs, replicas);
    if (isStale(topic)) return ErrorCode.TOPIC_ALREADY_EXISTS;
    const self = this.host.config.nodeId;
    for (let p = 0; p < partitions; p++) if (replicas[p]!.includes(self)) await this.logs.getOrCreate(name, p);
    const rf = replicas[0]?.length ?? 0;
    this.host.log.info(`created topic ${name} with ${partitions} partitions of ${rf} replicas`);
    return topic;
  }

  /** Auto-creation as Metadata and Produce trigger it: the broker's default partition count and replication factor. */
  async autoCreate(name: string): Promise<TopicInfo | number> {
    const props = this.host.config.props;
    return (
      this.metadata.topic(name) ??
      this.create(name, props["num.partitions"], {}, { replicationFactor: props["default.replication.factor"] })
    );
  }

  async delete(name: string): Promise<TopicInfo | undefined> {
    this.deleting.add(name);
    try {
      const topic = await this.metadata.deleteTopic(name);
      if (isStale(topic)) return undefined;
      await this.logs.deletePartitionLogs(name);
      this.host.log.info(`deleted topic ${name}`);
      return topic;
    } finally {
      this.deleting.delete(name);
    }
  }

  /**
   * Places the new partitions (the topic's replication factor over the live brokers, or `assignments`),
   * opens their logs on this node, then records the new count (a reader never sees a partition led here
   * without its log). Returns an error code (NONE when done).
   */
  async addPartitions(name: string, total: number, assignments?: readonly (readonly number[])[]): Promise<number> {
    const topic = this.metadata.topic(name);
    if (topic === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const added = total - topic.partitions;
    const rf = this.metadata.partitionStates(name)?.[0]?.replicas.length ?? 1;
    const replicas = this.replicasOf(added, assignments !== undefined ? { assignments } : { replicationFactor: rf });
    if (typeof replicas === "number") return replicas;
    const self = this.host.config.nodeId;
    for (let i = 0; i < added; i++)
      if (replicas[i]!.includes(self)) await this.logs.getOrCreate(name, topic.partitions + i);
    await this.metadata.updateTopic(name, { partitions: total, newReplicas: replicas });
    this.host.log.info(`topic ${name} now has ${total} partitions`);
    return ErrorCode.NONE;
  }
}
