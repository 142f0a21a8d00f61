import type { Broker } from "../broker.js";
import { ErrorCode } from "../errors.js";
import { ResourceType, invalidBrokerConfigs, invalidTopicConfigs } from "./config-catalog.js";
import type { DynamicScope } from "./dynamic-configs.js";
import type { TopicInfo } from "./topics.js";

/**
 * What AlterConfigs and IncrementalAlterConfigs share: which resource an alteration names, and
 * replacing that resource's whole set of explicit configs once the table's rules accept it.
 */

export interface AlterOutcome {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

const OK: AlterOutcome = { errorCode: ErrorCode.NONE, errorMessage: null };

/** What an alteration names: a topic, this node's or the cluster-wide dynamic broker configs, or an error. */
export type AlterTarget = { readonly topic: TopicInfo } | { readonly scope: DynamicScope } | AlterOutcome;

export function alterTarget(broker: Broker, resourceType: number, resourceName: string): AlterTarget {
  if (resourceType === ResourceType.TOPIC) {
    const topic = broker.topics.get(resourceName);
    if (topic !== undefined) return { topic };
    return {
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `The topic '${resourceName}' does not exist.`,
    };
  }
  if (resourceType === ResourceType.BROKER) {
    const nodeId = broker.config.nodeId;
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
  broker: Broker,
  topic: string,
  configs: Readonly<Record<string, string | null>>,
  validateOnly: boolean,
): Promise<AlterOutcome> {
  const problem = invalidTopicConfigs(configs);
  if (problem !== undefined) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem };
  if (!validateOnly) await broker.setTopicConfigs(topic, configs as Record<string, string>);
  return OK;
}

/**
 * Validates the complete new dynamic broker configs of `scope` and, unless only validating, stores and
 * applies them. Kafka answers a bad broker config with INVALID_REQUEST (not INVALID_CONFIG as for topics).
 */
export async function replaceBrokerConfigs(
  broker: Broker,
  scope: DynamicScope,
  configs: Readonly<Record<string, string | null>>,
  validateOnly: boolean,
): Promise<AlterOutcome> {
  const problem = invalidBrokerConfigs(configs);
  if (problem !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
  if (!validateOnly) await broker.setDynamicConfigs(scope, configs as Record<string, string>);
  return OK;
}
