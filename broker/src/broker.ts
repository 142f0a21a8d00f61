import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import {
  createApiVersionsResponse,
  createApiVersionsResponseApiVersion,
  type ApiVersionsResponse,
} from "@tskafka/protocol";
import { brokerLogDefaults, withDynamicConfigs, type BrokerConfig, type DynamicLayers } from "./config.js";
import type { Handler } from "./handlers/handler.js";
import { HANDLERS } from "./handlers/index.js";
import { logConfigFromKafka } from "./log/config.js";
import { LogManager } from "./log/log-manager.js";
import type { Logger } from "./logger.js";
import { Connection } from "./server/connection.js";
import { buildListeners, type ListenerRuntime } from "./server/listener.js";
import { certificateSubject, mapPrincipal } from "./security/tls.js";
import { ProducerIds } from "./cluster/producer-ids.js";
import { FetchWaiters } from "./cluster/fetch-waiters.js";
import { FetchSessionCache } from "./cluster/fetch-sessions.js";
import { FileClusterMetadata } from "./cluster/file-metadata.js";
import type { ClusterMetadata } from "./cluster/metadata.js";
import { PartitionLogs } from "./cluster/partition-logs.js";
import { TopicAdmin } from "./cluster/topic-admin.js";
import { GroupCoordinator, type TxnCommitRequest } from "./group/coordinator.js";
import { OffsetsTopic } from "./group/offsets-topic.js";
import type { Services } from "./services.js";
import { ALLOW_ALL, type Authorizer } from "./security/authorizer.js";
import { ShareCoordinator } from "./share/coordinator.js";
import { MembershipLog } from "./share/membership-log.js";
import { ShareStateTopic } from "./share/state-topic.js";
import { TransactionCoordinator } from "./txn/coordinator.js";
import { LocalMarkerWriter } from "./txn/local-markers.js";
import { TransactionStateTopic } from "./txn/state-topic.js";
import { checkTxnOffsetCommit } from "./txn/write-check.js";

/** How long a clean shutdown waits for clients to close their ended connections before cutting them. */
const SHUTDOWN_GRACE_MS = 1000;

/** What applies to node `nodeId` of the dynamic broker configs: its own and the cluster-wide ones. */
function dynamicLayers(metadata: ClusterMetadata, nodeId: number): DynamicLayers {
  return {
    perBroker: metadata.brokerConfigs({ kind: "broker", nodeId }).configs,
    clusterDefault: metadata.brokerConfigs({ kind: "default" }).configs,
  };
}

/**
 * The broker: a single node that is also the controller. It builds the services the handlers use
 * (cluster metadata, topics, partition logs, groups, producer ids, fetch wake-ups), starts and stops
 * them, and owns the listener; handlers see only the services.
 */
export class Broker implements Services {
  readonly handlers: ReadonlyMap<number, Handler>;
  private readonly servers: Server[] = [];
  /** Every listener, its TLS and SASL settings checked at start-up. */
  readonly listeners: readonly ListenerRuntime[];
  private readonly connections = new Set<Connection>();
  private apiVersions: ApiVersionsResponse | undefined;
  readonly producerIds: ProducerIds;
  readonly fetchWaiters = new FetchWaiters();
  readonly fetchSessions = new FetchSessionCache();
  readonly topics: TopicAdmin;
  readonly partitions: PartitionLogs;
  /** The group coordinator: consumer groups of both protocols and their committed offsets. */
  readonly groups: GroupCoordinator;
  /** Share groups (KIP-932) and their share-partitions' state (`__share_group_state`). */
  readonly shareGroups: ShareCoordinator;
  /** The transaction coordinator: transactional ids, their transactions and markers (`__transaction_state`). */
  readonly transactions: TransactionCoordinator;
  /** Allows everything until an authorizer is configured (`authorizer.class.name`). */
  readonly authorizer: Authorizer = ALLOW_ALL;

  /** The config in force: server.properties and flags with the dynamic broker configs over them. */
  private effectiveConfig: BrokerConfig;

  private constructor(
    config: BrokerConfig,
    readonly log: Logger,
    readonly metadata: ClusterMetadata,
    readonly logs: LogManager,
  ) {
    this.effectiveConfig = config;
    this.listeners = buildListeners(config, metadata);
    this.handlers = new Map(HANDLERS.map((h) => [h.apiKey, h as Handler]));
    this.producerIds = new ProducerIds(metadata);
    this.topics = new TopicAdmin(metadata, logs, this);
    this.partitions = new PartitionLogs(metadata, logs);
    this.groups = new GroupCoordinator(this, new OffsetsTopic(this));
    this.shareGroups = new ShareCoordinator(this, new ShareStateTopic(this), new MembershipLog(this));
    this.transactions = new TransactionCoordinator(this, new TransactionStateTopic(this), new LocalMarkerWriter(this));
    // Dynamic broker configs apply as soon as they are stored, whoever stored them.
    metadata.watch("brokerConfigs", () => {
      this.effectiveConfig = withDynamicConfigs(
        this.effectiveConfig,
        dynamicLayers(metadata, this.effectiveConfig.nodeId),
      );
      this.logs.setDefaults(brokerLogDefaults(this.effectiveConfig));
    });
  }

  get config(): BrokerConfig {
    return this.effectiveConfig;
  }

  /** The group coordinator's hook before transactional offsets are written: the transaction coordinator's check. */
  verifyTxnOffsetCommit(req: TxnCommitRequest, offsetsPartition: number): Promise<number> {
    return checkTxnOffsetCommit(this.transactions, req, offsetsPartition);
  }

  static async open(staticConfig: BrokerConfig, log: Logger): Promise<Broker> {
    const metadata = await FileClusterMetadata.open(staticConfig.dataDir);
    const config = withDynamicConfigs(staticConfig, dynamicLayers(metadata, staticConfig.nodeId));
    const p = config.props;
    const defaults = brokerLogDefaults(config);
    const topics = metadata.topics();
    const topicConfigs = new Map(topics.map((t) => [t.name, logConfigFromKafka(t.configs)]));
    const started = Date.now();
    const logs = await LogManager.open(config.dataDir, {
      defaults,
      topicConfigs,
      retentionCheckIntervalMs: p["log.retention.check.interval.ms"],
      cleanerBackoffMs: p["log.cleaner.backoff.ms"],
      onCleanerError: (dir, e) => log.error(`log cleaner: ${dir}: ${e.message}`),
      onStorageError: (dir, partition, e) =>
        log.error(
          `log directory ${dir} is offline (partition ${partition}): ${e.message}; appends get KAFKA_STORAGE_ERROR until it works again`,
        ),
      onStorageRecovered: (dir) => log.warn(`log directory ${dir} is back online: appends are taken again`),
    });
    const broker = new Broker(config, log, metadata, logs);
    await broker.groups.load();
    await broker.transactions.load();
    await broker.shareGroups.load();
    log.info(`loaded ${topics.length} topics from ${config.dataDir} in ${Date.now() - started} ms`);
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

  /** Starts the services and every listener; answers where each one listens (the first is the main one). */
  async listen(): Promise<{ name: string; protocol: string; host: string; port: number }[]> {
    this.logs.start();
    this.groups.start();
    this.transactions.start();
    this.shareGroups.start();
    const bound = [];
    for (const l of this.listeners) bound.push(await this.listenOn(l));
    return bound;
  }

  private accept(listener: ListenerRuntime, socket: Socket, tlsPrincipal?: string): void {
    const conn = new Connection(socket, this, this.handlers, listener, tlsPrincipal);
    this.connections.add(conn);
    const as = tlsPrincipal === undefined ? "" : ` as User:${tlsPrincipal}`;
    this.log.info(`connection opened ${conn.remote} on listener ${listener.config.name}${as}`);
    void conn.closed.then(() => this.connections.delete(conn));
  }

  private tlsServer(listener: ListenerRuntime): Server {
    const tls = listener.tls!;
    const server = createTlsServer(tls.options, (socket: TLSSocket) => {
      // "requested": a client without a certificate is served, one with an invalid certificate is not.
      if (tls.clientAuth === "requested" && !socket.authorized && socket.getPeerX509Certificate() !== undefined) {
        this.log.warn(
          `TLS client certificate refused on listener ${listener.config.name}: ${String(socket.authorizationError)}`,
        );
        socket.destroy();
        return;
      }
      const subject = tls.clientAuth === "none" ? undefined : certificateSubject(socket);
      const principal = subject === undefined ? undefined : mapPrincipal(tls.rules, subject);
      if (subject !== undefined && principal === undefined) {
        this.log.warn(`no ssl.principal.mapping.rules rule applies to ${subject} on listener ${listener.config.name}`);
        socket.destroy();
        return;
      }
      this.accept(listener, socket, principal);
    });
    server.on("tlsClientError", (e) =>
      this.log.warn(`TLS handshake failed on listener ${listener.config.name}: ${e.message}`),
    );
    return server;
  }

  private async listenOn(
    listener: ListenerRuntime,
  ): Promise<{ name: string; protocol: string; host: string; port: number }> {
    const { name, protocol, host, port } = listener.config;
    const server =
      listener.tls !== undefined ? this.tlsServer(listener) : createServer((s) => this.accept(listener, s));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address();
    return { name, protocol, host, port: typeof addr === "object" && addr !== null ? addr.port : port };
  }

  /** Stop accepting, answer what is in flight, then flush and close every log. */
  async close(): Promise<void> {
    // Stops accepting at once; resolves only when every connection is gone, which clients that keep
    // idle connections open (KafkaJS) never do by themselves: they are ended below, as Kafka ends them.
    const stopped = Promise.all(
      this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    this.fetchWaiters.wakeAll();
    this.groups.stop();
    this.transactions.stop();
    this.shareGroups.stop();
    await Promise.all([...this.connections].map((c) => c.drain()));
    // Answers are out and each socket is ended; a client that does not close its side gets a second.
    await Promise.race([stopped, new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref())]);
    for (const c of this.connections) c.close();
    await stopped;
    await this.transactions.flush();
    await this.groups.flush();
    await this.shareGroups.flush();
    this.logs.stop();
    await this.logs.close();
    await this.producerIds.save();
    await this.metadata.close();
  }
}
