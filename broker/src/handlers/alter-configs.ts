import {
  ApiKey,
  createAlterConfigsResponse,
  createAlterConfigsResponseAlterConfigsResourceResponse,
} from "@tskafka/protocol";
import { alterTarget, replaceBrokerConfigs, replaceTopicConfigs, type AlterOutcome } from "../cluster/config-alter.js";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, configAuthorizationError } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * AlterConfigs v0-2 (the legacy API): replaces a topic's whole set of overrides, or a broker's dynamic
 * configs. ALTER_CONFIGS is needed on the cluster (brokers) or the topic, else the resource has
 * CLUSTER_ or TOPIC_AUTHORIZATION_FAILED, as Kafka answers.
 */
export const alterConfigsHandler = defineHandler({
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const responses = [];
    for (const r of request.resources) {
      const refused = configAuthorizationError(ctx, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName);
      const target =
        refused === ErrorCode.NONE
          ? alterTarget(ctx.services, r.resourceType, r.resourceName)
          : { errorCode: refused, errorMessage: AUTHORIZATION_MESSAGE[refused]! };
      const configs: Record<string, string | null> = {};
      for (const c of r.configs) configs[c.name] = c.value;
      let outcome: AlterOutcome;
      if ("errorCode" in target) outcome = target;
      else if ("topic" in target)
        outcome = await replaceTopicConfigs(ctx.services, target.topic.name, configs, request.validateOnly);
      else outcome = await replaceBrokerConfigs(ctx.services, target.scope, configs, request.validateOnly);
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
