import {
  ApiKey,
  createDescribeConfigsResponse,
  createDescribeConfigsResponseDescribeConfigsResourceResult,
  createDescribeConfigsResponseDescribeConfigsResult,
  createDescribeConfigsResponseDescribeConfigsSynonym,
  type DescribeConfigsRequest,
  type DescribeConfigsRequestDescribeConfigsResource,
  type DescribeConfigsResponseDescribeConfigsResourceResult,
} from "@tskafka/protocol";
import type { Services } from "../services.js";
import {
  ConfigSource,
  ResourceType,
  describeBrokerConfigs,
  describeTopicConfigs,
  type ConfigEntry,
} from "../cluster/config-catalog.js";
import { invalidTopicName } from "../cluster/topic-rules.js";
import { BROKER_KEY_NAMES } from "../config-keys.js";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, configAuthorizationError } from "./authz.js";
import { GROUP_RESOURCE, describeGroupConfigs } from "../share/group-configs.js";
import { defineHandler } from "./handler.js";

type Described = { readonly entries: ConfigEntry[] } | { readonly errorCode: number; readonly errorMessage: string };

/** A resource's configs (all of the config table's keys for it), or why it cannot be described. */
function describeResource(services: Services, r: DescribeConfigsRequestDescribeConfigsResource): Described {
  const config = services.config;
  if (r.resourceType === ResourceType.TOPIC) {
    const info = services.metadata.topic(r.resourceName);
    if (info !== undefined) return { entries: describeTopicConfigs(info.configs, config) };
    const illegal = invalidTopicName(r.resourceName) !== undefined;
    return illegal
      ? { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: `Topic name "${r.resourceName}" is illegal` }
      : {
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `The topic '${r.resourceName}' does not exist.`,
        };
  }
  // A group's configs may be set and read before the group exists.
  if (r.resourceType === GROUP_RESOURCE)
    return { entries: describeGroupConfigs(services.metadata.groupConfigs(r.resourceName).configs, config) };
  if (r.resourceType !== ResourceType.BROKER) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${r.resourceType}` };
  }
  if (r.resourceName === "") {
    return { entries: describeBrokerConfigs(config, Object.keys(config.dynamic.clusterDefault), false) };
  }
  if (r.resourceName !== String(config.nodeId)) {
    const errorMessage = `Unexpected broker id, expected ${config.nodeId} or empty string, but received ${r.resourceName}`;
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage };
  }
  return { entries: describeBrokerConfigs(config, BROKER_KEY_NAMES, true) };
}

/** One config as version `v` carries it: synonyms when asked (v1+), type (v3+) and documentation when asked. */
function configResult(
  e: ConfigEntry,
  request: DescribeConfigsRequest,
  v: number,
): DescribeConfigsResponseDescribeConfigsResourceResult {
  const out = createDescribeConfigsResponseDescribeConfigsResourceResult({
    name: e.name,
    value: e.value,
    readOnly: e.readOnly,
    isSensitive: e.sensitive,
    configSource: e.source,
  });
  // isDefault exists only in v0; the source replaces it from v1.
  if (v === 0) out.isDefault = e.source === ConfigSource.DEFAULT_CONFIG;
  if (request.includeSynonyms && v >= 1) {
    out.synonyms = e.synonyms.map((s) =>
      createDescribeConfigsResponseDescribeConfigsSynonym({ name: s.name, value: s.value, source: s.source }),
    );
  }
  if (v >= 3) {
    out.configType = e.type;
    out.documentation = request.includeDocumentation ? e.doc : null;
  }
  return out;
}

/**
 * DescribeConfigs v0-4 for topics, groups (the share group configs) and for this broker: every config or the requested keys, with value,
 * read-only flag, source (v1+; v0's isDefault), synonyms when asked (v1+), and type and documentation
 * when asked (v3+). A broker named "" is the cluster-wide dynamic default: only the configs set there.
 * DESCRIBE_CONFIGS is needed on the cluster (brokers) or the topic, else the resource has
 * CLUSTER_ or TOPIC_AUTHORIZATION_FAILED (answered after the others), as Kafka answers.
 */
export const describeConfigsHandler = defineHandler({
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    const results = request.resources.map((r) => {
      const result = createDescribeConfigsResponseDescribeConfigsResult({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        errorMessage: null,
      });
      const refused = configAuthorizationError(ctx, AclOperation.DESCRIBE_CONFIGS, r.resourceType, r.resourceName);
      const described: Described =
        refused === ErrorCode.NONE
          ? describeResource(ctx.services, r)
          : { errorCode: refused, errorMessage: AUTHORIZATION_MESSAGE[refused]! };
      if ("errorCode" in described) {
        result.errorCode = described.errorCode;
        result.errorMessage = described.errorMessage;
        return result;
      }
      const wanted = r.configurationKeys === null ? undefined : new Set(r.configurationKeys);
      const entries = wanted === undefined ? described.entries : described.entries.filter((e) => wanted.has(e.name));
      result.configs = entries.map((e) => configResult(e, request, ctx.apiVersion));
      return result;
    });
    // As Kafka: the resources refused by the authorizer come after the others.
    const refused = (code: number) => AUTHORIZATION_MESSAGE[code] !== undefined;
    return createDescribeConfigsResponse({
      results: [...results.filter((r) => !refused(r.errorCode)), ...results.filter((r) => refused(r.errorCode))],
    });
  },
});
