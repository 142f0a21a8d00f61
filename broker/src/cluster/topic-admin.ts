import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import { logConfigFromKafka } from "../log/config.js";
import type { LogManager } from "../log/log-manager.js";
import type { Logger } from "../logger.js";
import { isStale, type ClusterMetadata, type TopicInfo } from "./metadata.js";
import { invalidTopicName } from "./topic-rules.js";

export interface TopicAdminHost {
  /** The config in force. */
  readonly config: BrokerConfig;
  readonly log: Logger;
}

/**
 * Topics as the cluster metadata and this node's partition logs together: creating, deleting and growing
 * a topic writes the metadata and then opens or removes its logs; a topic's config overrides reach its
 * logs through a watch, whoever changed them.
 */
export class TopicAdmin {
  constructor(
    private readonly metadata: ClusterMetadata,
    private readonly logs: LogManager,
    private readonly host: TopicAdminHost,
  ) {
    metadata.watch("topic", (e) => {
      if (e.after !== undefined && e.after.configs !== e.before?.configs)
        logs.setTopicConfig(e.name, logConfigFromKafka(e.after.configs));
    });
  }

  /** Creates a topic and its partition logs; Kafka's name rules apply. Returns an error code or the topic. */
  async create(
    name: string,
    partitions: number,
    configs: Readonly<Record<string, string>> = {},
  ): Promise<TopicInfo | number> {
    if (invalidTopicName(name) !== undefined) return ErrorCode.INVALID_TOPIC_EXCEPTION;
    const topic = await this.metadata.createTopic(name, partitions, configs);
    if (isStale(topic)) return ErrorCode.TOPIC_ALREADY_EXISTS;
    for (let p = 0; p < partitions; p++) await this.logs.getOrCreate(name, p);
    this.host.log.info(`created topic ${name} with ${partitions} partitions`);
    return topic;
  }

  /** Auto-creation as Metadata and Produce trigger it: the broker's default partition count. */
  async autoCreate(name: string): Promise<TopicInfo | number> {
    return this.metadata.topic(name) ?? this.create(name, this.host.config.props["num.partitions"]);
  }

  async delete(name: string): Promise<TopicInfo | undefined> {
    const topic = await this.metadata.deleteTopic(name);
    if (isStale(topic)) return undefined;
    await this.logs.deletePartitionLogs(name);
    this.host.log.info(`deleted topic ${name}`);
    return topic;
  }

  /** Opens the new partitions' logs, then records the new count (a reader never sees a partition without its log). */
  async addPartitions(name: string, total: number): Promise<void> {
    const topic = this.metadata.topic(name);
    if (topic === undefined) return;
    for (let p = topic.partitions; p < total; p++) await this.logs.getOrCreate(name, p);
    await this.metadata.updateTopic(name, { partitions: total });
    this.host.log.info(`topic ${name} now has ${total} partitions`);
  }
}
