import { createServer, type Server, type Socket } from "node:net";
import { createApiVersionsResponse, createApiVersionsResponseApiVersion, type ApiVersionsResponse } from "@tskafka/protocol";
import { TopicRegistry, invalidTopicName, type TopicInfo } from "./cluster/topics.js";
import { brokerLogDefaults, withDynamicConfigs, type BrokerConfig } from "./config.js";
import { DynamicConfigStore, type DynamicScope } from "./cluster/dynamic-configs.js";
import { ErrorCode } from "./errors.js";
import type { Handler } from "./handlers/handler.js";
import { HANDLERS } from "./handlers/index.js";
import { logConfigFromKafka } from "./log/config.js";
import { LogManager } from "./log/log-manager.js";
import type { Logger } from "./logger.js";
import { Connection } from "./server/connection.js";
import { ProducerIds } from "./cluster/producer-ids.js";
import { FetchWaiters } from "./cluster/fetch-waiters.js";
import { FetchSessionCache } from "./cluster/fetch-sessions.js";
import { GroupCoordinator } from "./group/coordinator.js";

/**
 * The broker: a single node that is also the controller. It owns the services the handlers use
 * (topics, logs, producer ids, fetch wake-ups) and the listener; handlers never reach into each other.
 */
export class Broker {
  readonly handlers: ReadonlyMap<number, Handler>;
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private apiVersions: ApiVersionsResponse | undefined;
  readonly producerIds: ProducerIds;
  readonly fetchWaiters = new FetchWaiters();
  readonly fetchSessions = new FetchSessionCache();
  /** The group coordinator: consumer groups of both protocols and their committed offsets. */
  readonly groups: GroupCoordinator;

  /** The config in force: server.properties and flags with the dynamic broker configs over them. */
  private effectiveConfig: BrokerConfig;

  private constructor(
    config: BrokerConfig,
    readonly log: Logger,
    readonly topics: TopicRegistry,
    readonly logs: LogManager,
    readonly dynamicConfigs: DynamicConfigStore,
  ) {
    this.effectiveConfig = config;
    this.handlers = new Map(HANDLERS.map((h) => [h.apiKey, h as Handler]));
    this.producerIds = new ProducerIds(config.dataDir);
    this.groups = new GroupCoordinator(this);
  }

  get config(): BrokerConfig {
    return this.effectiveConfig;
  }

  static async open(staticConfig: BrokerConfig, log: Logger): Promise<Broker> {
    const topics = await TopicRegistry.load(staticConfig.dataDir);
    const dynamicConfigs = await DynamicConfigStore.load(staticConfig.dataDir);
    const config = withDynamicConfigs(staticConfig, dynamicConfigs.layers(staticConfig.nodeId));
    const p = config.props;
    const defaults = brokerLogDefaults(config);
    const topicConfigs = new Map(topics.list().map((t) => [t.name, logConfigFromKafka(t.configs)]));
    const started = Date.now();
    const logs = await LogManager.open(config.dataDir, {
      defaults,
      topicConfigs,
      retentionCheckIntervalMs: p["log.retention.check.interval.ms"],
      cleanerBackoffMs: p["log.cleaner.backoff.ms"],
      onCleanerError: (dir, e) => log.error(`log cleaner: ${dir}: ${e.message}`),
    });
    const broker = new Broker(config, log, topics, logs, dynamicConfigs);
    await broker.producerIds.load();
    await broker.groups.load();
    log.info(`loaded ${topics.list().length} topics from ${config.dataDir} in ${Date.now() - started} ms`);
    return broker;
  }

  /** The ApiVersions answer, built once from the handler registry. */
  apiVersionsResponse(): ApiVersionsResponse {
    this.apiVersions ??= createApiVersionsResponse({
      apiKeys: [...this.handlers.values()]
        .sort((a, b) => a.apiKey - b.apiKey)
        .map((h) =>
          createApiVersionsResponseApiVersion({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }),
        ),
    });
    return this.apiVersions;
  }

  async listen(): Promise<{ host: string; port: number }> {
    this.logs.start();
    this.groups.start();
    const server = createServer((socket: Socket) => {
      const conn = new Connection(socket, this, this.handlers);
      this.connections.add(conn);
      this.log.info(`connection opened ${conn.remote}`);
      void conn.closed.then(() => this.connections.delete(conn));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.config.port, this.config.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address();
    const port = typeof addr === "object" && addr !== null ? addr.port : this.config.port;
    return { host: this.config.host, port };
  }

  /** Stop accepting, answer what is in flight, then flush and close every log. */
  async close(): Promise<void> {
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.fetchWaiters.wakeAll();
    this.groups.stop();
    await Promise.all([...this.connections].map((c) => c.drain()));
    await this.groups.flush();
    this.logs.stop();
    await this.logs.close();
    await this.producerIds.save();
  }

  /** Creates a topic and its partition logs; Kafka's name rules apply. Returns an error code or the topic. */
  async createTopic(name: string, partitions: number, configs: Record<string, string> = {}): Promise<TopicInfo | number> {
    if (invalidTopicName(name) !== undefined) return ErrorCode.INVALID_TOPIC_EXCEPTION;
    if (this.topics.get(name) !== undefined) return ErrorCode.TOPIC_ALREADY_EXISTS;
    const topic = await this.topics.create(name, partitions, configs);
    this.logs.setTopicConfig(name, logConfigFromKafka(configs));
    for (let p = 0; p < partitions; p++) await this.logs.getOrCreate(name, p);
    this.log.info(`created topic ${name} with ${partitions} partitions`);
    return topic;
  }

  /** Auto-creation as Metadata and Produce trigger it: the broker's default partition count. */
  async autoCreateTopic(name: string): Promise<TopicInfo | number> {
    const existing = this.topics.get(name);
    if (existing !== undefined) return existing;
    return this.createTopic(name, this.config.props["num.partitions"]);
  }

  async deleteTopic(name: string): Promise<TopicInfo | undefined> {
    const topic = await this.topics.delete(name);
    if (topic === undefined) return undefined;
    await this.logs.deletePartitionLogs(name);
    this.log.info(`deleted topic ${name}`);
    return topic;
  }

  async addPartitions(name: string, total: number): Promise<void> {
    const topic = this.topics.get(name);
    if (topic === undefined) return;
    for (let p = topic.partitions; p < total; p++) await this.logs.getOrCreate(name, p);
    await this.topics.setPartitions(name, total);
    this.log.info(`topic ${name} now has ${total} partitions`);
  }

  /** Replaces the dynamic broker configs of `scope` (validated by the caller), persists and applies them. */
  async setDynamicConfigs(scope: DynamicScope, configs: Readonly<Record<string, string>>): Promise<void> {
    await this.dynamicConfigs.set(scope, configs);
    this.effectiveConfig = withDynamicConfigs(this.effectiveConfig, this.dynamicConfigs.layers(this.effectiveConfig.nodeId));
    this.logs.setDefaults(brokerLogDefaults(this.effectiveConfig));
  }

  async setTopicConfigs(name: string, configs: Record<string, string>): Promise<void> {
    await this.topics.setConfigs(name, configs);
    this.logs.setTopicConfig(name, logConfigFromKafka(configs));
  }
}
