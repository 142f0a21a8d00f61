import {
  ApiKey,
  createDescribeConfigsResponse,
  createDescribeConfigsResponseDescribeConfigsResourceResult,
  createDescribeConfigsResponseDescribeConfigsResult,
  createDescribeConfigsResponseDescribeConfigsSynonym,
  type DescribeConfigsResponseDescribeConfigsResult,
} from "@tskafka/protocol";
import { ConfigSource, ResourceType, describeBrokerConfigs, describeTopicConfigs, type ConfigEntry } from "../cluster/config-catalog.js";
import { invalidTopicName } from "../cluster/topics.js";
import { KNOWN_KEYS } from "../config.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * DescribeConfigs v0-4 for topics and for this broker: every config or the requested keys, with value,
 * read-only flag, source (v1+; v0's isDefault), synonyms when asked (v1+), and type and documentation
 * when asked (v3+). A broker named "" is the cluster-wide dynamic default: only the configs set there.
 */
export const describeConfigsHandler = defineHandler({
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    const broker = ctx.broker;
    const v = ctx.apiVersion;
    const results: DescribeConfigsResponseDescribeConfigsResult[] = [];
    for (const r of request.resources) {
      const result = createDescribeConfigsResponseDescribeConfigsResult({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        errorMessage: null,
      });
      results.push(result);
      let entries: ConfigEntry[];
      if (r.resourceType === ResourceType.TOPIC) {
        const info = broker.topics.get(r.resourceName);
        if (info === undefined) {
          const illegal = invalidTopicName(r.resourceName) !== undefined;
          result.errorCode = illegal ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          result.errorMessage = illegal ? `Topic name "${r.resourceName}" is illegal` : `The topic '${r.resourceName}' does not exist.`;
          continue;
        }
        entries = describeTopicConfigs(info.configs, broker.config);
      } else if (r.resourceType === ResourceType.BROKER) {
        if (r.resourceName === "") {
          entries = describeBrokerConfigs(broker.config, Object.keys(broker.config.dynamic.clusterDefault), false);
        } else if (r.resourceName !== String(broker.config.nodeId)) {
          result.errorCode = ErrorCode.INVALID_REQUEST;
          result.errorMessage = `Unexpected broker id, expected ${broker.config.nodeId} or empty string, but received ${r.resourceName}`;
          continue;
        } else {
          entries = describeBrokerConfigs(broker.config, KNOWN_KEYS, true);
        }
      } else {
        result.errorCode = ErrorCode.INVALID_REQUEST;
        result.errorMessage = `Unsupported resource type ${r.resourceType}`;
        continue;
      }
      if (r.configurationKeys !== null) {
        const keys = new Set(r.configurationKeys);
        entries = entries.filter((e) => keys.has(e.name));
      }
      result.configs = entries.map((e) => {
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
          out.synonyms = e.synonyms.map((s) => createDescribeConfigsResponseDescribeConfigsSynonym({ name: s.name, value: s.value, source: s.source }));
        }
        if (v >= 3) {
          out.configType = e.type;
          out.documentation = request.includeDocumentation ? e.doc : null;
        }
        return out;
      });
    }
    return createDescribeConfigsResponse({ results });
  },
});
