import {
  ApiKey,
  createIncrementalAlterConfigsResponse,
  createIncrementalAlterConfigsResponseAlterConfigsResourceResponse,
  type IncrementalAlterConfigsRequestAlterableConfig,
  type IncrementalAlterConfigsRequestAlterConfigsResource,
} from "@tskafka/protocol";
import type { Services } from "../services.js";
import { alterTarget, replaceBrokerConfigs, replaceTopicConfigs, type AlterOutcome } from "../cluster/config-alter.js";
import {
  describeBrokerConfigs,
  describeTopicConfigs,
  isListConfig,
  type ConfigEntry,
} from "../cluster/config-catalog.js";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, configAuthorizationError } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";
import { GROUP_RESOURCE, describeGroupConfigs, invalidGroupConfigs } from "../share/group-configs.js";

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;
const OP_NAMES = ["set", "delete", "append", "subtract"];

function listItems(value: string | null): string[] {
  return value === null || value.trim() === "" ? [] : value.split(",").map((s) => s.trim());
}

type Applied = { configs: Record<string, string | null> } | { failed: AlterOutcome };

/**
 * A resource's explicit configs (a topic's overrides, or dynamic broker configs) after the operations,
 * or why they cannot apply. `describe` gives the current effective values that lists grow from.
 */
function applyOps(
  resourceType: number,
  current: Readonly<Record<string, string>>,
  describe: () => readonly ConfigEntry[],
  ops: readonly IncrementalAlterConfigsRequestAlterableConfig[],
): Applied {
  const next: Record<string, string | null> = { ...current };
  let effective: Map<string, string | null> | undefined;
  for (const op of ops) {
    switch (op.configOperation) {
      case SET:
        next[op.name] = op.value;
        break;
      case DELETE:
        delete next[op.name];
        break;
      case APPEND:
      case SUBTRACT: {
        if (!isListConfig(resourceType, op.name)) {
          const errorMessage = `Config value ${OP_NAMES[op.configOperation]} is not allowed for config key: ${op.name}`;
          return { failed: { errorCode: ErrorCode.INVALID_CONFIG, errorMessage } };
        }
        // Lists grow from (or shrink) the current value, which may be the broker's default.
        effective ??= new Map(describe().map((e) => [e.name, e.value]));
        const items = listItems(next[op.name] ?? effective.get(op.name) ?? null);
        const given = listItems(op.value);
        next[op.name] = (
          op.configOperation === APPEND
            ? [...items, ...given.filter((g) => !items.includes(g))]
            : items.filter((c) => !given.includes(c))
        ).join(",");
        break;
      }
      default: {
        const errorMessage = `Unknown alter config operation type ${op.configOperation}`;
        return { failed: { errorCode: ErrorCode.INVALID_REQUEST, errorMessage } };
      }
    }
  }
  return { configs: next };
}

/** One resource's alteration: its operations applied to its explicit configs, then validated and stored. */
async function alterResource(
  services: Services,
  r: IncrementalAlterConfigsRequestAlterConfigsResource,
  validateOnly: boolean,
): Promise<AlterOutcome> {
  const keys = r.configs.map((c) => c.name);
  if (new Set(keys).size !== keys.length) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Error due to duplicate config keys" };
  }
  if (r.resourceType === GROUP_RESOURCE) return alterGroup(services, r, validateOnly);
  const target = alterTarget(services, r.resourceType, r.resourceName);
  if ("errorCode" in target) return target;
  if ("topic" in target) {
    const { topic } = target;
    const next = applyOps(
      r.resourceType,
      topic.configs,
      () => describeTopicConfigs(topic.configs, services.config),
      r.configs,
    );
    return "failed" in next ? next.failed : replaceTopicConfigs(services, topic.name, next.configs, validateOnly);
  }
  const { scope } = target;
  const describe = (): ConfigEntry[] => describeBrokerConfigs(services.config, keys, scope.kind === "broker");
  const next = applyOps(r.resourceType, services.metadata.brokerConfigs(scope).configs, describe, r.configs);
  return "failed" in next ? next.failed : replaceBrokerConfigs(services, scope, next.configs, validateOnly);
}

function alterAuthorized(
  ctx: RequestContext,
  r: IncrementalAlterConfigsRequestAlterConfigsResource,
  validateOnly: boolean,
): Promise<AlterOutcome> | AlterOutcome {
  const refused = configAuthorizationError(ctx, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName);
  if (refused !== ErrorCode.NONE) return { errorCode: refused, errorMessage: AUTHORIZATION_MESSAGE[refused]! };
  return alterResource(ctx.services, r, validateOnly);
}

/** A group's configs (share.auto.offset.reset, ...), checked against the broker's bounds, then stored. */
async function alterGroup(
  services: Services,
  r: IncrementalAlterConfigsRequestAlterConfigsResource,
  validateOnly: boolean,
): Promise<AlterOutcome> {
  const current = services.metadata.groupConfigs(r.resourceName).configs;
  const next = applyOps(r.resourceType, current, () => describeGroupConfigs(current, services.config), r.configs);
  if ("failed" in next) return next.failed;
  const configs: Record<string, string> = {};
  for (const [k, v] of Object.entries(next.configs)) if (v !== null) configs[k] = v.trim();
  const why = invalidGroupConfigs(configs, services.config);
  if (why !== undefined) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: why };
  if (!validateOnly) await services.metadata.setGroupConfigs(r.resourceName, configs);
  return { errorCode: ErrorCode.NONE, errorMessage: null };
}

/**
 * IncrementalAlterConfigs v0-1: SET, DELETE, APPEND and SUBTRACT on a topic's overrides, a broker's
 * dynamic configs or a group's configs. A resource named twice in one request is refused at every place
 * it appears, as Kafka does. ALTER_CONFIGS is needed on the cluster (brokers), the topic or the group,
 * else the resource has CLUSTER_, TOPIC_ or GROUP_AUTHORIZATION_FAILED.
 */
export const incrementalAlterConfigsHandler = defineHandler({
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const responses = [];
    const seen = new Map<string, number>();
    for (const r of request.resources)
      seen.set(`${r.resourceType}:${r.resourceName}`, (seen.get(`${r.resourceType}:${r.resourceName}`) ?? 0) + 1);
    for (const r of request.resources) {
      const outcome: AlterOutcome =
        seen.get(`${r.resourceType}:${r.resourceName}`)! > 1
          ? { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Each resource must appear at most once." }
          : await alterAuthorized(ctx, r, request.validateOnly);
      responses.push(
        createIncrementalAlterConfigsResponseAlterConfigsResourceResponse({
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
        }),
      );
    }
    return createIncrementalAlterConfigsResponse({ responses });
  },
});
