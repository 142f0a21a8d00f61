import type { ApiRequests, ApiResponses } from "@tskafka/protocol";
import { KafkaConnection } from "../cli/kafka-connection.js";
import type { BrokerConfig } from "../config.js";
import type { ClusterMetadata } from "./metadata.js";

/**
 * This broker's connections to the other brokers of the cluster, for the requests brokers send each other
 * (transaction markers, transaction verification): one connection per broker, to its inter-broker listener
 * (`inter.broker.listener.name`, else its first), opened on first use and again after a failure.
 * PLAINTEXT only: the other broker serves them as ANONYMOUS (with an authorizer, ANONYMOUS needs
 * CLUSTER_ACTION on the cluster).
 */

export interface InterBrokerHost {
  readonly config: BrokerConfig;
  readonly metadata: Pick<ClusterMetadata, "brokers">;
}

const TIMEOUT_MS = 10_000;

export class InterBrokerClients {
  private readonly connections = new Map<number, Promise<KafkaConnection>>();

  constructor(private readonly host: InterBrokerHost) {}

  /** Sends one request to broker `nodeId`; throws when it cannot be reached or does not answer. */
  async send<K extends keyof ApiRequests & keyof ApiResponses>(
    nodeId: number,
    apiKey: K,
    version: number,
    body: ApiRequests[K],
  ): Promise<ApiResponses[K]> {
    const connection = this.connection(nodeId);
    try {
      return await (await connection).send(apiKey, version, body);
    } catch (e) {
      if (this.connections.get(nodeId) === connection) this.connections.delete(nodeId);
      void connection.then((c) => c.close()).catch(() => undefined);
      throw e;
    }
  }

  close(): void {
    for (const c of this.connections.values()) void c.then((k) => k.close()).catch(() => undefined);
    this.connections.clear();
  }

  private connection(nodeId: number): Promise<KafkaConnection> {
    const open = this.connections.get(nodeId);
    if (open !== undefined) return open;
    const broker = this.host.metadata.brokers().find((b) => b.nodeId === nodeId);
    const name = this.host.config.props["inter.broker.listener.name"] ?? undefined;
    const endpoint =
      broker?.listeners.find((l) => l.name === name) ?? (name === undefined ? broker?.listeners[0] : undefined);
    if (endpoint === undefined) return Promise.reject(new Error(`broker ${nodeId} is not registered`));
    if (endpoint.securityProtocol !== "PLAINTEXT")
      return Promise.reject(new Error(`broker ${nodeId}'s listener ${endpoint.name} is not PLAINTEXT`));
    const clientId = `tskafka-broker-${this.host.config.nodeId}`;
    const opening = KafkaConnection.open(endpoint.host, endpoint.port, clientId, TIMEOUT_MS);
    opening.catch(() => {
      if (this.connections.get(nodeId) === opening) this.connections.delete(nodeId);
    });
    this.connections.set(nodeId, opening);
    return opening;
  }
}
