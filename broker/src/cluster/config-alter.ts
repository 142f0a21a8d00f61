import { dynamicBrokerKey, withDynamicConfigs, type BrokerConfig } from "../config.js";
import { reloadedTls, tlsFor } from "../server/listener.js";
import { ErrorCode } from "../errors.js";
import { ResourceType, invalidBrokerConfigs, invalidTopicConfigs } from "./config-catalog.js";
import type { ClusterMetadata, DynamicScope, TopicInfo } from "./metadata.js";

/**
 * What AlterConfigs and IncrementalAlterConfigs share: which resource an alteration names, and
 * replacing that resource's whole set of explicit configs once the table's rules accept it.
 */

export interface AlterOutcome {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** What an alteration reads and writes. */
export interface AlterHost {
  readonly config: BrokerConfig;
  readonly metadata: ClusterMetadata;
}

const OK: AlterOutcome = { errorCode: ErrorCode.NONE, errorMessage: null };

/** What an alteration names: a topic, this node's or the cluster-wide dynamic broker configs, or an error. */
export type AlterTarget = { readonly topic: TopicInfo } | { readonly scope: DynamicScope } | AlterOutcome;

export function alterTarget(host: AlterHost, resourceType: number, resourceName: string): AlterTarget {
  if (resourceType === ResourceType.TOPIC) {
    const topic = host.metadata.topic(resourceName);
    if (topic !== undefined) return { topic };
    return {
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `The topic '${resourceName}' does not exist.`,
    };
  }
  if (resourceType === ResourceType.BROKER) {
    const nodeId = host.config.nodeId;
    if (resourceName === "") return { scope: { kind: "default" } };
    if (resourceName === String(nodeId)) return { scope: { kind: "broker", nodeId } };
    return {
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Unexpected broker id, expected ${nodeId}, but received ${resourceName}`,
    };
  }
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${resourceType}` };
}

/** Validates a topic's complete new overrides and, unless only validating, stores and applies them. */
export async function replaceTopicConfigs(
  host: AlterHost,
  topic: string,
  configs: Readonly<Record<string, string | null>>,
  validateOnly: boolean,
): Promise<AlterOutcome> {
  const problem = invalidTopicConfigs(configs);
  if (problem !== undefined) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem };
  if (!validateOnly) await host.metadata.updateTopic(topic, { configs: configs as Record<string, string> });
  return OK;
}

/**
 * Validates the complete new dynamic broker configs of `scope` and, unless only validating, stores and
 * applies them. Kafka answers a bad broker config with INVALID_REQUEST (not INVALID_CONFIG as for topics).
 */
export async function replaceBrokerConfigs(
  host: AlterHost,
  scope: DynamicScope,
  configs: Readonly<Record<string, string | null>>,
  validateOnly: boolean,
): Promise<AlterOutcome> {
  const problem = invalidBrokerConfigs(configs, scope.kind === "broker") ?? tlsStoresProblem(host, configs);
  if (problem !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
  if (!validateOnly) await host.metadata.setBrokerConfigs(scope, configs as Record<string, string>);
  return OK;
}

/**
 * As Kafka: a listener's new key or trust stores are loaded before they are stored, and refused (with
 * Kafka's words around the reason) when they cannot be used or name another identity.
 */
function tlsStoresProblem(host: AlterHost, configs: Readonly<Record<string, string | null>>): string | undefined {
  if (!Object.keys(configs).some((k) => dynamicBrokerKey(k)?.listener === true)) return undefined;
  const next = withDynamicConfigs(host.config, {
    perBroker: configs as Record<string, string>,
    clusterDefault: host.config.dynamic.clusterDefault,
  });
  for (const l of next.listeners) {
    try {
      const current = tlsFor(host.config, l);
      if (current !== undefined) reloadedTls(current.options, next, l);
    } catch (e) {
      const reason = (e as Error).message.replace(/^config: /, "");
      return `Invalid value org.apache.kafka.common.config.ConfigException: Validation of dynamic config update of SSLFactory failed: ${reason} for configuration Invalid dynamic configuration`;
    }
  }
  return undefined;
}
