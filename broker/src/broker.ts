import { createServer, type Server, type Socket } from "node:net";
import { createHash } from "node:crypto";
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket, type TlsOptions } from "node:tls";
import {
  createApiVersionsResponse,
  createApiVersionsResponseApiVersion,
  type ApiVersionsResponse,
} from "@tskafka/protocol";
import {
  advertisedAddress,
  brokerLogDefaults,
  withDynamicConfigs,
  type BrokerConfig,
  type DynamicLayers,
} from "./config.js";
import type { Handler } from "./handlers/handler.js";
import { HANDLERS } from "./handlers/index.js";
import { logConfigFromKafka } from "./log/config.js";
import { verifyLogDirIdentities } from "./log/dir-identity.js";
import { LogManager } from "./log/log-manager.js";
import type { Logger } from "./logger.js";
import { Connection } from "./server/connection.js";
import { buildListeners, reloadedTls, type ListenerRuntime } from "./server/listener.js";
import { keyCertificate } from "./security/tls-reload.js";
import { certificateSubject, mapPrincipal } from "./security/tls.js";
import { ProducerIds } from "./cluster/producer-ids.js";
import { FetchWaiters } from "./cluster/fetch-waiters.js";
import { FetchSessionCache } from "./cluster/fetch-sessions.js";
import { FileClusterMetadata } from "./cluster/file-metadata.js";
import type { ClusterMetadata } from "./cluster/metadata.js";
import { BrokerSession } from "./cluster/broker-session.js";
import { Leadership } from "./cluster/leadership.js";
import { rackOf } from "./cluster/cluster-view.js";
import { Reassignments } from "./cluster/reassignments.js";
import { Controller } from "./cluster/controller.js";
import { NO_LEADER } from "./cluster/metadata.js";
import { PartitionLogs } from "./cluster/partition-logs.js";
import { ReplicaManager } from "./replication/replica-manager.js";
import { TopicAdmin } from "./cluster/topic-admin.js";
import { GroupCoordinator, type TxnCommitRequest } from "./group/coordinator.js";
import { OffsetsTopic } from "./group/offsets-topic.js";
import type { Services } from "./services.js";
import { ALLOW_ALL, type Authorizer } from "./security/authorizer.js";
import { ClientQuotas } from "./quota/client-quotas.js";
import { ConnectionQuotas } from "./quota/connection-quotas.js";
import { StandardAuthorizer } from "./security/standard-authorizer.js";
import { ShareCoordinator } from "./share/coordinator.js";
import { MembershipLog } from "./share/membership-log.js";
import { CoordinatorPersister, type SharePersister } from "./share/persister.js";
import { ShareStateCoordinator } from "./share/state-coordinator.js";
import { ShareStateTopic } from "./share/state-topic.js";
import { TransactionCoordinator } from "./txn/coordinator.js";
import { ClusterMarkerWriter } from "./txn/cluster-markers.js";
import { InterBrokerClients } from "./cluster/inter-broker.js";
import { LocalMarkerWriter } from "./txn/local-markers.js";
import { TransactionStateTopic } from "./txn/state-topic.js";
import { checkTxnOffsetCommit } from "./txn/write-check.js";
import { HttpListener, parseHttpListener, type HttpContent } from "./http/http-listener.js";
import type { Console } from "./console/console.js";
import { consoleSettings } from "./console/settings.js";
import { BrokerMetrics } from "./metrics/broker-metrics.js";
import { meteredHandler } from "./metrics/metered-handler.js";
import { brokerMetricsSource } from "./metrics/source.js";
import { ThroughputHistory } from "./metrics/throughput.js";

/** What identifies a TLS listener's key and trust stores: a new value means new certificates. */
function storesDigest(o: TlsOptions): string {
  const h = createHash("sha256");
  for (const v of [o.pfx, o.cert, o.key, o.ca, o.passphrase]) h.update(JSON.stringify(v ?? null));
  return h.digest("hex");
}

/** How long a controlled shutdown waits for the controller to move this broker's leaderships. */
const CONTROLLED_SHUTDOWN_MS = 15_000;

/** How long a clean shutdown waits for clients to close their ended connections before cutting them. */
const SHUTDOWN_GRACE_MS = 1000;

/** Where a Kafka listener was bound. */
export interface BoundListener {
  readonly name: string;
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
}

/**
 * The config with ephemeral ports filled in, as Kafka's ListenerInfo.withEphemeralPortsCorrected does:
 * a listener bound to port 0 gets the port it was given, and so does an advertised port of 0.
 */
function withBoundPorts(config: BrokerConfig, bound: readonly BoundListener[]): BrokerConfig {
  const listeners = config.listeners.map((l, i) => {
    const port = l.port === 0 ? (bound[i]?.port ?? 0) : l.port;
    return { ...l, port, advertisedPort: l.advertisedPort === 0 ? port : l.advertisedPort };
  });
  const first = listeners[0]!;
  return { ...config, listeners, port: first.port, advertisedPort: first.advertisedPort };
}

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
  /** The TLS servers by listener name, with the digest of the stores they serve. */
  private readonly tlsServers = new Map<string, { server: TlsServer; options: TlsOptions; digest: string }>();
  private apiVersions: ApiVersionsResponse | undefined;
  readonly producerIds: ProducerIds;
  readonly fetchWaiters = new FetchWaiters();
  readonly fetchSessions = new FetchSessionCache();
  readonly topics: TopicAdmin;
  readonly partitions: PartitionLogs;
  /** This broker's role (leader, follower, none) in each partition, followed from the cluster's partition states. */
  readonly leadership: Leadership;
  /** The controller's work, done while this broker holds the controller role; elections on request. */
  readonly controller: Controller;
  /** Partition reassignments between brokers, written as partition changes like the controller's. */
  readonly reassignments: Reassignments;
  /** Replication of the partitions this broker leads or follows with other replicas. */
  readonly replication: ReplicaManager;
  /** The group coordinator: consumer groups of both protocols and their committed offsets. */
  readonly groups: GroupCoordinator;
  /** Share groups (KIP-932): membership, and the share-partitions of the partitions led here. */
  readonly shareGroups: ShareCoordinator;
  /** The share coordinator: share-partition state of the `__share_group_state` partitions led here. */
  readonly shareState: ShareStateCoordinator;
  /** The share-partitions' way to their share coordinator (this one, or another broker's). */
  readonly sharePersister: SharePersister;
  /** The transaction coordinator: transactional ids, their transactions and markers (`__transaction_state`). */
  readonly transactions: TransactionCoordinator;
  /** Transaction markers to each partition's leader (this broker's own through the local writer). */
  private readonly markers: ClusterMarkerWriter;
  /** Connections to the other brokers (markers, transaction verification). */
  readonly interBroker: InterBrokerClients;
  /** Client quotas (produce, fetch, request) and connection limits, following the cluster's quotas. */
  readonly quotas: ClientQuotas;
  private readonly connectionQuotas: ConnectionQuotas;
  /** Kafka's StandardAuthorizer over the cluster's ACLs when `authorizer.class.name` names it; else allows everything. */
  readonly authorizer: Authorizer;
  /** This broker's Prometheus metrics (a registry of its own). */
  readonly metrics: BrokerMetrics;
  private http: HttpListener | undefined;
  /** The HTTP listener's URL once listening (`http.listener`), undefined when there is none. */
  httpUrl: string | undefined;

  /** The config in force: server.properties and flags with the dynamic broker configs over them. */
  private effectiveConfig: BrokerConfig;
  /** This broker in the cluster's list of live brokers, once it listens (registered again after a loss). */
  private session: BrokerSession | undefined;

  private constructor(
    config: BrokerConfig,
    readonly log: Logger,
    readonly metadata: ClusterMetadata,
    readonly logs: LogManager,
  ) {
    this.effectiveConfig = config;
    this.listeners = buildListeners(config, metadata);
    this.metrics = new BrokerMetrics(brokerMetricsSource(metadata, logs, () => this.groups));
    this.handlers = new Map(HANDLERS.map((h) => [h.apiKey, meteredHandler(h as Handler, this.metrics)]));
    const p = config.props;
    this.authorizer =
      p["authorizer.class.name"] === ""
        ? ALLOW_ALL
        : new StandardAuthorizer(metadata, {
            superUsers: p["super.users"],
            allowIfNoAcl: p["allow.everyone.if.no.acl.found"],
            log,
          });
    this.producerIds = new ProducerIds(metadata);
    this.topics = new TopicAdmin(metadata, logs, this);
    this.partitions = new PartitionLogs(metadata, logs);
    this.leadership = new Leadership(metadata, config.nodeId);
    this.topics.followLeadership(this.leadership);
    this.controller = new Controller(metadata, this);
    this.reassignments = new Reassignments(metadata, (nodeId) => this.topics.isLiveBroker(nodeId));
    this.replication = new ReplicaManager(this);
    this.groups = new GroupCoordinator(this, new OffsetsTopic(this));
    this.interBroker = new InterBrokerClients(this);
    this.shareState = new ShareStateCoordinator(this, new ShareStateTopic(this));
    this.sharePersister = new CoordinatorPersister(this, this.shareState);
    this.shareGroups = new ShareCoordinator(this, new MembershipLog(this));
    const localMarkers = new LocalMarkerWriter(this);
    this.markers = new ClusterMarkerWriter(this, localMarkers, this.interBroker);
    this.transactions = new TransactionCoordinator(this, new TransactionStateTopic(this), this.markers, localMarkers);
    const samples = config.props["quota.window.num"];
    const windowSeconds = config.props["quota.window.size.seconds"];
    this.quotas = new ClientQuotas(samples, windowSeconds);
    this.connectionQuotas = new ConnectionQuotas(() => this.effectiveConfig, samples, windowSeconds * 1000);
    const applyQuotas = (): void => {
      const entries = metadata.clientQuotas();
      this.quotas.update(entries);
      this.connectionQuotas.update(entries);
    };
    applyQuotas();
    metadata.watch("clientQuotas", applyQuotas);
    // Dynamic broker configs apply as soon as they are stored, whoever stored them.
    metadata.watch("brokerConfigs", () => {
      this.effectiveConfig = withDynamicConfigs(
        this.effectiveConfig,
        dynamicLayers(metadata, this.effectiveConfig.nodeId),
      );
      this.logs.setDefaults(brokerLogDefaults(this.effectiveConfig));
      this.reloadTlsStores();
    });
  }

  get config(): BrokerConfig {
    return this.effectiveConfig;
  }

  /** This broker's epoch in the cluster (its registration's), -1 before it registered. */
  brokerEpoch(): number {
    return this.session?.registration?.epoch ?? -1;
  }

  /** The group coordinator's hook before transactional offsets are written: the transaction coordinator's check. */
  verifyTxnOffsetCommit(req: TxnCommitRequest, offsetsPartition: number): Promise<number> {
    return checkTxnOffsetCommit(this.transactions, req, offsetsPartition);
  }

  /** Where the cluster metadata lives: etcd when `etcd.endpoints` is set, else files in the data directory. */
  private static async openMetadata(config: BrokerConfig, log: Logger): Promise<ClusterMetadata> {
    const endpoints = (config.props["etcd.endpoints"] ?? "")
      .split(",")
      .map((e) => e.trim())
      .filter((e) => e !== "");
    if (endpoints.length === 0) return FileClusterMetadata.open(config.dataDir, config.nodeId);
    log.info(`cluster metadata in etcd at ${endpoints.join(", ")}`);
    // Loaded only here: the etcd client (gRPC, protobuf) costs a single-node broker about 25 MiB of memory.
    const { EtcdClusterMetadata } = await import("./cluster/etcd-metadata.js");
    const sessionTtlSeconds = Math.ceil(config.props["broker.session.timeout.ms"] / 1000);
    return EtcdClusterMetadata.open({ endpoints, nodeId: config.nodeId, sessionTtlSeconds });
  }

  static async open(staticConfig: BrokerConfig, log: Logger): Promise<Broker> {
    const metadata = await Broker.openMetadata(staticConfig, log);
    const config = withDynamicConfigs(staticConfig, dynamicLayers(metadata, staticConfig.nodeId));
    const p = config.props;
    const defaults = brokerLogDefaults(config);
    const topics = metadata.topics();
    const topicConfigs = new Map(topics.map((t) => [t.name, logConfigFromKafka(t.configs)]));
    const started = Date.now();
    const dirIds = await verifyLogDirIdentities(config.logDirs, metadata.clusterId, config.nodeId);
    for (const [dir, id] of dirIds) log.debug(`log directory ${dir} has directory id ${id}`);
    const logs = await LogManager.open(config.logDirs, {
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
      onMoved: (partition, from, to) => log.info(`partition ${partition} moved from log directory ${from} to ${to}`),
      onMoveFailed: (partition, to, e) =>
        log.error(`moving partition ${partition} to log directory ${to} failed: ${e.message}`),
    });
    const broker = new Broker(config, log, metadata, logs);
    await broker.groups.load();
    await broker.transactions.load();
    await broker.shareGroups.load();
    log.info(
      `loaded ${topics.length} topics (metadata in ${config.dataDir}, logs in ${config.logDirs.join(", ")}) in ${Date.now() - started} ms`,
    );
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
  async listen(): Promise<BoundListener[]> {
    this.logs.start();
    // Replication listens first, so that it sees every partition the leadership starts with.
    await this.replication.start();
    this.leadership.start();
    this.groups.start();
    this.transactions.start();
    this.shareState.start();
    this.shareGroups.start();
    const bound = [];
    for (const l of this.listeners) bound.push(await this.listenOn(l));
    this.effectiveConfig = withBoundPorts(this.effectiveConfig, bound);
    await this.listenHttp(bound);
    await this.register(bound);
    return bound;
  }

  /**
   * Registers this broker with its listeners' advertised addresses and campaigns for the controller role;
   * a lost registration fences replication until the broker is registered again (broker-session.ts).
   */
  private async register(bound: readonly { name: string; protocol: string; port: number }[]): Promise<void> {
    const config = this.effectiveConfig;
    const listeners = bound.map((b) => {
      const advertised = advertisedAddress(config, b.name);
      return { name: b.name, host: advertised.host, port: advertised.port || b.port, securityProtocol: b.protocol };
    });
    const host = {
      metadata: this.metadata,
      log: this.log,
      fence: () => this.replication.fence(),
      unfence: () => this.replication.unfence(),
    };
    const session = new BrokerSession(host, config.nodeId, listeners, rackOf(config));
    await session.start();
    this.session = session;
    this.controller.start();
  }

  /**
   * Kafka's controlled shutdown: this broker is marked as shutting down, and the controller moves the
   * leadership of every partition it leads to another member of the ISR; waits (bounded) until none is
   * left that could move. Clients meanwhile are told of the new leaders by the other brokers.
   */
  private async controlledShutdown(): Promise<void> {
    const registration = this.session?.registration;
    if (registration === undefined || !this.config.props["controlled.shutdown.enable"]) return;
    if (!this.metadata.brokers().some((b) => b.nodeId !== this.config.nodeId)) return;
    const started = Date.now();
    try {
      await registration.enterControlledShutdown();
    } catch (e) {
      this.log.warn(`controlled shutdown: cannot tell the controller: ${(e as Error).message}`);
      return;
    }
    const movable = (): number => this.movableLeaderships();
    while (movable() > 0 && Date.now() - started < CONTROLLED_SHUTDOWN_MS) await new Promise((r) => setTimeout(r, 50));
    const left = movable();
    if (left > 0)
      this.log.warn(`controlled shutdown: ${left} leaderships not moved after ${CONTROLLED_SHUTDOWN_MS} ms`);
    else this.log.info(`controlled shutdown: leaderships moved in ${Date.now() - started} ms`);
  }

  /** Partitions led here whose ISR has another broker that could lead. */
  private movableLeaderships(): number {
    const self = this.config.nodeId;
    const eligible = this.controller.eligibleNow();
    let n = 0;
    for (const t of this.metadata.topics()) {
      for (const s of this.metadata.partitionStates(t.name) ?? []) {
        if (s.leader !== self || s.leader === NO_LEADER) continue;
        if (s.isr.some((r) => r !== self && eligible(r))) n++;
      }
    }
    return n;
  }

  /** The HTTP listener (metrics), when `http.listener` names one. */
  private async listenHttp(bound: readonly BoundListener[]): Promise<void> {
    const value = this.config.props["http.listener"];
    if (value === "") return;
    const address = parseHttpListener(value);
    if (typeof address === "string") return; // the config table refused it at start-up
    const onError = (e: Error): void => this.log.error(`HTTP listener: ${e.stack ?? e.message}`);
    const settings = consoleSettings(this.config, bound, (name) => {
      const served = this.tlsServers.get(name);
      return served === undefined ? undefined : keyCertificate(served.options);
    });
    const throughput = new ThroughputHistory(() => this.metrics.topicTotals());
    // The sparklines need history from start-up; the console's modules load with its first page.
    if (settings.mode !== "off") throughput.start();
    let made: Promise<Console> | undefined;
    const content: HttpContent = {
      metricsContentType: this.metrics.contentType,
      metrics: () => this.metrics.scrape(),
      console: () =>
        (made ??= import("./console/console.js").then(
          ({ Console }) => new Console({ ...settings, throughput, onError }),
        )),
      close: () => {
        throughput.stop();
        void made?.then(
          (c) => c.close(),
          () => undefined,
        );
      },
    };
    const { listener, url } = await HttpListener.start(address.host, address.port, content, onError);
    this.http = listener;
    this.httpUrl = url;
  }

  private accept(listener: ListenerRuntime, socket: Socket, tlsPrincipal?: string): void {
    const conn = new Connection(socket, this, this.handlers, listener, tlsPrincipal);
    this.connections.add(conn);
    const name = listener.config.name;
    this.metrics.connectionOpened(name);
    const as = tlsPrincipal === undefined ? "" : ` as User:${tlsPrincipal}`;
    this.log.info(`connection opened ${conn.remote} on listener ${listener.config.name}${as}`);
    void conn.closed.then(() => {
      this.connections.delete(conn);
      this.metrics.connectionClosed(name);
    });
  }

  /**
   * As Kafka's dynamic key stores: after a change of the per-broker configs, every TLS listener reads its
   * stores again (the same path too, for a renewed file); when they changed, new connections get the new
   * certificates and the open ones keep theirs. Stores that cannot be used, or whose certificate names
   * another identity (Kafka's rule), leave the old ones in place.
   */
  private reloadTlsStores(): void {
    for (const l of this.listeners) {
      const served = this.tlsServers.get(l.config.name);
      if (served === undefined) continue;
      let options: TlsOptions;
      try {
        options = reloadedTls(served.options, this.effectiveConfig, l.config).options;
      } catch (e) {
        this.log.error(`listener ${l.config.name}: new TLS stores refused, the old ones stay: ${(e as Error).message}`);
        continue;
      }
      const digest = storesDigest(options);
      if (digest === served.digest) continue;
      served.server.setSecureContext(options);
      served.options = options;
      served.digest = digest;
      this.log.info(`listener ${l.config.name}: TLS key and trust stores reloaded for new connections`);
    }
  }

  /**
   * Counts a new TCP connection against the connection limits before anything else sees it; a refused one
   * is closed at once and logged, as Kafka's TooManyConnectionsException.
   */
  private admit(listener: ListenerRuntime, socket: Socket): boolean {
    const name = listener.config.name;
    const raw = socket.remoteAddress ?? "";
    const ip = raw.startsWith("::ffff:") ? raw.slice(7) : raw;
    const refused = this.connectionQuotas.admit(name, ip);
    if (refused !== undefined) {
      this.log.warn(`refused connection from ${ip}:${socket.remotePort ?? "?"} on listener ${name}: ${refused}`);
      socket.destroy();
      return false;
    }
    socket.once("close", () => this.connectionQuotas.release(name, ip));
    return true;
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
    this.tlsServers.set(listener.config.name, { server, options: tls.options, digest: storesDigest(tls.options) });
    return server;
  }

  private async listenOn(listener: ListenerRuntime): Promise<BoundListener> {
    const { name, protocol, host, port } = listener.config;
    // TCP is accepted here and counted against the connection limits; an admitted socket goes on to the
    // TLS server (which never listens itself) or straight to a Connection.
    const tls = listener.tls !== undefined ? this.tlsServer(listener) : undefined;
    const server = createServer((s) => {
      if (!this.admit(listener, s)) return;
      if (tls !== undefined) tls.emit("connection", s);
      else this.accept(listener, s);
    });
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
    await this.controlledShutdown();
    // Stops accepting at once; resolves only when every connection is gone, which clients that keep
    // idle connections open (KafkaJS) never do by themselves: they are ended below, as Kafka ends them.
    const stopped = Promise.all(
      this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    const http = this.http?.close();
    this.fetchWaiters.wakeAll();
    this.leadership.stop();
    const replicationStopped = this.replication.stop();
    this.groups.stop();
    this.transactions.stop();
    this.shareGroups.stop();
    this.shareState.stop();
    await Promise.all([...this.connections].map((c) => c.drain()));
    // Answers are out and each socket is ended; a client that does not close its side gets a second.
    await Promise.race([stopped, new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref())]);
    for (const c of this.connections) c.close();
    await stopped;
    await this.transactions.flush();
    await this.shareGroups.flush();
    this.interBroker.close();
    await this.groups.flush();
    await this.shareState.flush();
    await replicationStopped;
    this.logs.stop();
    await this.logs.close();
    await this.producerIds.save();
    await this.controller.stop();
    await this.session?.stop();
    await this.metadata.close();
    await http;
  }
}
