import { ApiKey, createListConfigResourcesResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/** Config resource types, as DescribeConfigs numbers them. */
const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;
const KNOWN: ReadonlySet<number> = new Set(Object.values(ResourceType));
/** An empty list asks for the types that have configs here: topics and brokers. */
const DEFAULT_TYPES = [ResourceType.TOPIC, ResourceType.BROKER];

/**
 * ListConfigResources v0-1 (v0 was ListClientMetricsResources, KIP-714; v1 lists any type, KIP-1142).
 * Topics and this broker have configs; there are no client metrics subscriptions, broker loggers or
 * group configs here, so those types list nothing. An unknown type is INVALID_REQUEST. DESCRIBE_CONFIGS
 * on the cluster is needed (CLUSTER_AUTHORIZATION_FAILED), as Kafka checks.
 */
export const listConfigResourcesHandler = defineHandler({
  apiKey: ApiKey.ListConfigResources,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE_CONFIGS))
      return createListConfigResourcesResponse({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED });
    const types =
      ctx.apiVersion === 0
        ? [ResourceType.CLIENT_METRICS]
        : request.resourceTypes.length === 0
          ? DEFAULT_TYPES
          : request.resourceTypes;
    const unknown = types.find((t) => !KNOWN.has(t));
    if (unknown !== undefined) return createListConfigResourcesResponse({ errorCode: ErrorCode.INVALID_REQUEST });
    const configResources: { resourceName: string; resourceType: number }[] = [];
    for (const type of new Set(types)) {
      if (type === ResourceType.TOPIC)
        for (const t of ctx.services.metadata.topics())
          configResources.push({ resourceName: t.name, resourceType: type });
      if (type === ResourceType.BROKER)
        configResources.push({ resourceName: String(ctx.services.config.nodeId), resourceType: type });
    }
    return createListConfigResourcesResponse({ configResources });
  },
});
