import type { ApiRequests, ApiResponses } from "@tskafka/protocol";
import { KafkaConnection } from "../cli/kafka-connection.js";
import type { BrokerConfig } from "../config.js";
import { interBrokerSecurity } from "../replication/inter-broker-security.js";
import type { BrokerEndpoint, ClusterMetadata } from "./metadata.js";

/**
 * This broker's connections to the other brokers of the cluster, for the requests brokers send each other
 * (transaction markers, transaction verification): one connection per broker, to its inter-broker listener
 * with its security settings (TLS, or the SASL login of sasl.mechanism.inter.broker.protocol), opened on
 * first use and again after a failure; with an authorizer, that principal needs CLUSTER_ACTION on the cluster.
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
    const endpoint = this.endpoint(nodeId);
    if (endpoint === undefined) return Promise.reject(new Error(`broker ${nodeId} is not registered`));
    const clientId = `tskafka-broker-${this.host.config.nodeId}`;
    const security = interBrokerSecurity(this.host.config, endpoint);
    const opening = KafkaConnection.open(endpoint.host, endpoint.port, clientId, security, TIMEOUT_MS);
    opening.catch(() => {
      if (this.connections.get(nodeId) === opening) this.connections.delete(nodeId);
    });
    this.connections.set(nodeId, opening);
    return opening;
  }

  /**
   * Broker `nodeId`'s inter-broker listener: the one inter.broker.listener.name names, else the one named
   * after (or speaking) security.inter.broker.protocol, as the followers pick it (replication/).
   */
  private endpoint(nodeId: number): BrokerEndpoint | undefined {
    const broker = this.host.metadata.brokers().find((b) => b.nodeId === nodeId);
    if (broker === undefined) return undefined;
    const p = this.host.config.props;
    const name = p["inter.broker.listener.name"];
    const protocol = String(p["security.inter.broker.protocol"]);
    const pick = (f: (e: BrokerEndpoint) => boolean): BrokerEndpoint | undefined => broker.listeners.find(f);
    return (
      (name !== null && name !== undefined ? pick((e) => e.name === name) : undefined) ??
      pick((e) => e.name === protocol) ??
      pick((e) => e.securityProtocol === protocol) ??
      broker.listeners[0]
    );
  }
}
