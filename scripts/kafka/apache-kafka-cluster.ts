// Several Apache Kafka nodes on loopback forming one KRaft cluster: each node is broker and controller
// (combined mode) and votes in the quorum; all are formatted with the same cluster id. Used to compare
// our cluster with Kafka's (scripts/cluster/compare-kafka.ts) and by the bench's replicated rows.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { freeLoopbackPort, startApacheKafka, type ApacheKafka } from "./apache-kafka.js";

export interface ApacheKafkaClusterOptions {
  readonly nodes: number;
  /** node-<id> folders are made in it. */
  readonly dataDir: string;
  readonly version?: string;
  /** JVM heap of each node. */
  readonly heap?: string;
  /** More server.properties for every node. */
  readonly properties?: Readonly<Record<string, string>>;
  /** Racks rack-1..rack-N, one per node. */
  readonly racks?: boolean;
  /** How long each node may take to start (a loaded machine forms the quorum late). */
  readonly startTimeoutMs?: number;
}

export interface ApacheKafkaNode extends ApacheKafka {
  readonly nodeId: number;
}

export interface ApacheKafkaCluster {
  readonly nodes: readonly ApacheKafkaNode[];
  /** host:port of every node, comma-separated. */
  readonly bootstrap: string;
  stop(): Promise<void>;
}

export async function startApacheKafkaCluster(options: ApacheKafkaClusterOptions): Promise<ApacheKafkaCluster> {
  const ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
  const ports = await Promise.all(ids.map(() => freeLoopbackPort()));
  const controllers = await Promise.all(ids.map(() => freeLoopbackPort()));
  const voters = ids.map((id, i) => `${id}@127.0.0.1:${controllers[i]!}`).join(",");
  let clusterId = randomBytes(16).toString("base64url");
  while (clusterId.startsWith("-")) clusterId = randomBytes(16).toString("base64url");
  // Together: a node is ready only once a quorum of voters is up to elect a controller.
  const started = await Promise.allSettled(
    ids.map((id, i) =>
      startApacheKafka({
        port: ports[i]!,
        controllerPort: controllers[i]!,
        dataDir: join(options.dataDir, `node-${id}`),
        clusterId,
        startTimeoutMs: options.startTimeoutMs ?? 120_000,
        ...(options.version !== undefined ? { version: options.version } : {}),
        ...(options.heap !== undefined ? { heap: options.heap } : {}),
        properties: {
          "node.id": String(id),
          "controller.quorum.voters": voters,
          ...(options.racks === true ? { "broker.rack": `rack-${id}` } : {}),
          ...options.properties,
        },
      }).then((k) => Object.assign(k, { nodeId: id })),
    ),
  );
  const nodes = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const stop = async (): Promise<void> => void (await Promise.all(nodes.map((n) => n.stop())));
  const failed = started.find((s) => s.status === "rejected");
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  return { nodes, bootstrap: nodes.map((n) => `127.0.0.1:${n.port}`).join(","), stop };
}
