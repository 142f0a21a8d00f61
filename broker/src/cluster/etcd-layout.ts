import type { ScramCredential } from "../security/sasl-mechanism.js";
import { SUPPORTED_FEATURES } from "./features.js";
import type { BrokerInfo, ControllerInfo, DynamicScope, FinalizedFeatures, PartitionState } from "./metadata.js";

/**
 * The keys and values of the cluster metadata in etcd, all under one prefix (default `/tskafka/`), so that
 * a broker keeps its whole view current with one watch:
 *
 *   cluster-id               the cluster id (text), made by the first broker
 *   topics/<name>            {id, partitions, configs}: the topic's version is this key's mod revision
 *   partitions/<name>        [[replicas, isr, leader, leaderEpoch, partitionEpoch], ...]: every partition's
 *                            state in one value, so that moving a broker's leaderships writes one key per
 *                            topic (batched many to a transaction), never one per partition; a
 *                            reassignment in progress adds [..., adding, removing]
 *   brokers/<id>             {listeners, rack}, under the broker's lease: gone when the broker is
 *   controller               {nodeId}, under the controller's broker lease; its create revision is the epoch
 *   registered/<id>          {listeners, rack} of the broker's last registration, kept when it is gone:
 *                            a registered broker that is not live is fenced (DescribeCluster v2)
 *   configs/default          the cluster-wide dynamic broker configs; configs/<id> one broker's
 *   producer-ids             the next producer id never reserved (decimal)
 *   features                 {epoch, levels}
 *   scram/<user>             {<mechanism>: {salt, storedKey, serverKey, iterations}}
 *   group-configs/<group>    {<key>: value}: the configs set on a group (GROUP resource)
 *   quotas/<entity>          {entity, values}: one client quota entity (user, client-id, ip) and its values
 *   acls/<type>/<pattern>/<name>  [binding, ...]: the ACLs of one resource pattern (Kafka's codes), in the
 *                            order they were created
 *
 * Names are URI-encoded in keys. Values are JSON (text), small and written whole.
 */

export const DEFAULT_PREFIX = "/tskafka/";

export const CLUSTER_ID = "cluster-id";
export const CONTROLLER = "controller";
export const PRODUCER_IDS = "producer-ids";
export const FEATURES = "features";

const TOPICS = "topics/";
const PARTITIONS = "partitions/";
const BROKERS = "brokers/";
const REGISTERED = "registered/";
const CONFIGS = "configs/";
const SCRAM = "scram/";
const QUOTAS = "quotas/";
const GROUP_CONFIGS = "group-configs/";
const ACLS = "acls/";

export const topicKey = (name: string): string => TOPICS + encodeURIComponent(name);
export const partitionsKey = (name: string): string => PARTITIONS + encodeURIComponent(name);
export const brokerKey = (nodeId: number): string => BROKERS + String(nodeId);
export const registeredKey = (nodeId: number): string => REGISTERED + String(nodeId);
export const scramKey = (user: string): string => SCRAM + encodeURIComponent(user);
export const groupConfigsKey = (groupId: string): string => GROUP_CONFIGS + encodeURIComponent(groupId);
/** `entity` is the entity's one text (client-quota-changes.ts `entityKey`). */
export const quotaKey = (entity: string): string => QUOTAS + encodeURIComponent(entity);
/** The key of the ACLs of one resource pattern. */
export const aclKey = (b: { resourceType: number; patternType: number; resourceName: string }): string =>
  `${ACLS}${b.resourceType}/${b.patternType}/${encodeURIComponent(b.resourceName)}`;
export const configsKey = (scope: DynamicScope): string =>
  CONFIGS + (scope.kind === "default" ? "default" : String(scope.nodeId));

/** What a key (relative to the prefix) holds. */
export type ParsedKey =
  | { readonly kind: "topic" | "partitions" | "scram" | "quota" | "acl" | "groupConfigs"; readonly name: string }
  | { readonly kind: "broker" | "registered"; readonly nodeId: number }
  | { readonly kind: "configs"; readonly scope: DynamicScope }
  | { readonly kind: "controller" | "producerIds" | "features" | "clusterId" | "other" };

export function parseKey(key: string): ParsedKey {
  if (key.startsWith(TOPICS)) return { kind: "topic", name: decodeURIComponent(key.slice(TOPICS.length)) };
  if (key.startsWith(PARTITIONS)) return { kind: "partitions", name: decodeURIComponent(key.slice(PARTITIONS.length)) };
  if (key.startsWith(SCRAM)) return { kind: "scram", name: decodeURIComponent(key.slice(SCRAM.length)) };
  if (key.startsWith(GROUP_CONFIGS))
    return { kind: "groupConfigs", name: decodeURIComponent(key.slice(GROUP_CONFIGS.length)) };
  if (key.startsWith(ACLS)) return { kind: "acl", name: key.slice(ACLS.length) };
  if (key.startsWith(QUOTAS)) return { kind: "quota", name: decodeURIComponent(key.slice(QUOTAS.length)) };
  if (key.startsWith(BROKERS)) return { kind: "broker", nodeId: Number(key.slice(BROKERS.length)) };
  if (key.startsWith(REGISTERED)) return { kind: "registered", nodeId: Number(key.slice(REGISTERED.length)) };
  if (key.startsWith(CONFIGS)) {
    const rest = key.slice(CONFIGS.length);
    return {
      kind: "configs",
      scope: rest === "default" ? { kind: "default" } : { kind: "broker", nodeId: Number(rest) },
    };
  }
  if (key === CONTROLLER) return { kind: "controller" };
  if (key === PRODUCER_IDS) return { kind: "producerIds" };
  if (key === FEATURES) return { kind: "features" };
  if (key === CLUSTER_ID) return { kind: "clusterId" };
  return { kind: "other" };
}

/** A topic's value: what TopicInfo has besides its name and version. */
export interface StoredTopicValue {
  readonly id: string;
  readonly partitions: number;
  readonly configs: Readonly<Record<string, string>>;
}

export const encodeTopic = (t: StoredTopicValue): string =>
  JSON.stringify({ id: t.id, partitions: t.partitions, configs: t.configs });
export const decodeTopic = (text: string): StoredTopicValue => JSON.parse(text) as StoredTopicValue;

/**
 * One partition as a short array: a topic of many partitions stays a small value. A reassignment in
 * progress adds its adding and removing replicas at the end.
 */
type StoredPartition = [
  replicas: number[],
  isr: number[],
  leader: number,
  leaderEpoch: number,
  partitionEpoch: number,
  adding?: number[],
  removing?: number[],
];

export const encodePartitions = (states: readonly PartitionState[]): string =>
  JSON.stringify(
    states.map((s) => {
      const stored = [s.replicas, s.isr, s.leader, s.leaderEpoch, s.partitionEpoch];
      return s.adding !== undefined || s.removing !== undefined
        ? [...stored, s.adding ?? [], s.removing ?? []]
        : stored;
    }),
  );

export function decodePartitions(text: string): PartitionState[] {
  return (JSON.parse(text) as StoredPartition[]).map(
    ([replicas, isr, leader, leaderEpoch, partitionEpoch, adding, removing]) => ({
      replicas,
      isr,
      leader,
      leaderEpoch,
      partitionEpoch,
      ...(adding !== undefined && removing !== undefined ? { adding, removing } : {}),
    }),
  );
}

export const encodeBroker = (b: Omit<BrokerInfo, "epoch" | "nodeId">): string =>
  JSON.stringify({ listeners: b.listeners, rack: b.rack, ...(b.shuttingDown === true ? { shuttingDown: true } : {}) });

export function decodeBroker(nodeId: number, text: string, epoch: number): BrokerInfo {
  const v = JSON.parse(text) as Pick<BrokerInfo, "listeners" | "rack" | "shuttingDown">;
  return {
    nodeId,
    listeners: v.listeners,
    rack: v.rack,
    epoch,
    ...(v.shuttingDown === true ? { shuttingDown: true } : {}),
  };
}

export const encodeController = (nodeId: number): string => JSON.stringify({ nodeId });
export const decodeController = (text: string, epoch: number): ControllerInfo => ({
  nodeId: (JSON.parse(text) as { nodeId: number }).nodeId,
  epoch,
});

export const encodeFeatures = (f: FinalizedFeatures): string =>
  JSON.stringify({ epoch: f.epoch.toString(), levels: Object.fromEntries(f.levels.map((l) => [l.name, l.level])) });

export function decodeFeatures(text: string): FinalizedFeatures {
  const v = JSON.parse(text) as { epoch: string; levels: Record<string, number> };
  const levels = SUPPORTED_FEATURES.filter((f) => typeof v.levels[f.name] === "number");
  return { epoch: BigInt(v.epoch), levels: levels.map((f) => ({ name: f.name, level: v.levels[f.name]! })) };
}

type Mechanism = ScramCredential["mechanism"];
interface StoredCredential {
  salt: string;
  storedKey: string;
  serverKey: string;
  iterations: number;
}

export function encodeScram(credentials: Iterable<ScramCredential>): string {
  const out: Partial<Record<Mechanism, StoredCredential>> = {};
  for (const c of credentials) {
    out[c.mechanism] = {
      salt: c.salt.toString("base64"),
      storedKey: c.storedKey.toString("base64"),
      serverKey: c.serverKey.toString("base64"),
      iterations: c.iterations,
    };
  }
  return JSON.stringify(out);
}

export function decodeScram(text: string): Map<Mechanism, ScramCredential> {
  const v = JSON.parse(text) as Partial<Record<Mechanism, StoredCredential>>;
  const out = new Map<Mechanism, ScramCredential>();
  for (const [mechanism, c] of Object.entries(v) as [Mechanism, StoredCredential][]) {
    out.set(mechanism, {
      mechanism,
      salt: Buffer.from(c.salt, "base64"),
      storedKey: Buffer.from(c.storedKey, "base64"),
      serverKey: Buffer.from(c.serverKey, "base64"),
      iterations: c.iterations,
    });
  }
  return out;
}
