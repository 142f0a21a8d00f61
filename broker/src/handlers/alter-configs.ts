import { ApiKey, createAlterConfigsResponse, createAlterConfigsResponseAlterConfigsResourceResponse } from "@tskafka/protocol";
import type { Broker } from "../broker.js";
import { ResourceType, invalidTopicConfigs } from "../cluster/config-catalog.js";
import type { TopicInfo } from "../cluster/topics.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

export interface AlterOutcome {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

const OK: AlterOutcome = { errorCode: ErrorCode.NONE, errorMessage: null };

/**
 * The resource an alteration names: a topic, or an answer for everything else. This broker has no
 * dynamic broker configs, so a broker resource is refused the way Kafka refuses read-only keys.
 */
export function alterTarget(broker: Broker, resourceType: number, resourceName: string, keys: readonly string[]): TopicInfo | AlterOutcome {
  if (resourceType === ResourceType.TOPIC) {
    const info = broker.topics.get(resourceName);
    if (info !== undefined) return info;
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `The topic '${resourceName}' does not exist.` };
  }
  if (resourceType === ResourceType.BROKER) {
    const nodeId = String(broker.config.nodeId);
    if (resourceName !== "" && resourceName !== nodeId) {
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${nodeId}, but received ${resourceName}` };
    }
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Cannot update these configs dynamically: Set(${keys.join(", ")})` };
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

/** AlterConfigs v0-2 (the legacy API): replaces a topic's whole set of overrides. */
export const alterConfigsHandler = defineHandler({
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const responses = [];
    for (const r of request.resources) {
      const target = alterTarget(
        ctx.broker,
        r.resourceType,
        r.resourceName,
        r.configs.map((c) => c.name),
      );
      let outcome: AlterOutcome;
      if ("errorCode" in target) {
        outcome = target;
      } else {
        const configs: Record<string, string | null> = {};
        for (const c of r.configs) configs[c.name] = c.value;
        outcome = await replaceTopicConfigs(ctx.broker, target.name, configs, request.validateOnly);
      }
      responses.push(
        createAlterConfigsResponseAlterConfigsResourceResponse({
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
        }),
      );
    }
    return createAlterConfigsResponse({ responses });
  },
});
