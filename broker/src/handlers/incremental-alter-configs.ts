import {
  ApiKey,
  createIncrementalAlterConfigsResponse,
  createIncrementalAlterConfigsResponseAlterConfigsResourceResponse,
  type IncrementalAlterConfigsRequestAlterableConfig,
} from "@tskafka/protocol";
import { describeBrokerConfigs, describeTopicConfigs, isListConfig, type ConfigEntry } from "../cluster/config-catalog.js";
import { ErrorCode } from "../errors.js";
import { alterTarget, replaceBrokerConfigs, replaceTopicConfigs, type AlterOutcome } from "./alter-configs.js";
import { defineHandler } from "./handler.js";

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;
const OP_NAMES = ["set", "delete", "append", "subtract"];

function listItems(value: string | null): string[] {
  return value === null || value.trim() === "" ? [] : value.split(",").map((s) => s.trim());
}

/**
 * A resource's explicit configs (a topic's overrides, or dynamic broker configs) after the operations,
 * or why they cannot apply. `describe` gives the current effective values that lists grow from.
 */
function applyOps(
  current: Readonly<Record<string, string>>,
  describe: () => readonly ConfigEntry[],
  ops: readonly IncrementalAlterConfigsRequestAlterableConfig[],
): { configs: Record<string, string | null> } | { failed: AlterOutcome } {
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
        if (!isListConfig(op.name)) {
          const errorMessage = `Config value ${OP_NAMES[op.configOperation]} is not allowed for config key: ${op.name}`;
          return { failed: { errorCode: ErrorCode.INVALID_CONFIG, errorMessage } };
        }
        // Lists grow from (or shrink) the current value, which may be the broker's default.
        effective ??= new Map(describe().map((e) => [e.name, e.value]));
        const current = listItems(next[op.name] ?? effective.get(op.name) ?? null);
        const given = listItems(op.value);
        const items = op.configOperation === APPEND ? [...current, ...given.filter((g) => !current.includes(g))] : current.filter((c) => !given.includes(c));
        next[op.name] = items.join(",");
        break;
      }
      default:
        return { failed: { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown alter config operation type ${op.configOperation}` } };
    }
  }
  return { configs: next };
}

/** IncrementalAlterConfigs v0-1: SET, DELETE, APPEND and SUBTRACT on a topic's overrides or a broker's dynamic configs. */
export const incrementalAlterConfigsHandler = defineHandler({
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const responses = [];
    for (const r of request.resources) {
      const keys = r.configs.map((c) => c.name);
      let outcome: AlterOutcome;
      if (new Set(keys).size !== keys.length) {
        outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Error due to duplicate config keys" };
      } else {
        const broker = ctx.broker;
        const target = alterTarget(broker, r.resourceType, r.resourceName);
        if ("errorCode" in target) {
          outcome = target;
        } else if ("topic" in target) {
          const { topic } = target;
          const next = applyOps(topic.configs, () => describeTopicConfigs(topic.configs, broker.config), r.configs);
          outcome = "failed" in next ? next.failed : await replaceTopicConfigs(broker, topic.name, next.configs, request.validateOnly);
        } else {
          const { scope } = target;
          const describe = (): ConfigEntry[] => describeBrokerConfigs(broker.config, keys, scope.kind === "broker");
          const next = applyOps(broker.dynamicConfigs.get(scope), describe, r.configs);
          outcome = "failed" in next ? next.failed : await replaceBrokerConfigs(broker, scope, next.configs, request.validateOnly);
        }
      }
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
