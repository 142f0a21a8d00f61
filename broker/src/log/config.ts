import { defaultValue, invalidReason, parseValue } from "../config-def.js";
import { TOPIC_KEY_NAMES, topicKey, type LogFields } from "../config-keys.js";

/**
 * Topic-level log settings: the topic configs of the config table (config-keys.ts) that name a `log`
 * field, under that field, typed and defaulted by the table (Kafka 3.9's defaults). Kafka's
 * "Long.MAX_VALUE means never" settings are kept as that (huge) number, so comparisons still work.
 */
export type LogConfig = LogFields;

/** Kafka topic config name for each field, for mapping DescribeConfigs/CreateTopics configs. */
export const LOG_CONFIG_NAMES: Readonly<Record<keyof LogConfig, string>> = Object.freeze(
  Object.fromEntries(
    TOPIC_KEY_NAMES.flatMap((name) => {
      const field = topicKey(name)!.log;
      return field === undefined ? [] : [[field, name]];
    }),
  ) as Record<keyof LogConfig, string>,
);

const fields = Object.keys(LOG_CONFIG_NAMES) as (keyof LogConfig)[];

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze(
  Object.fromEntries(fields.map((f) => [f, defaultValue(topicKey(LOG_CONFIG_NAMES[f])!)])) as LogConfig,
);

/** Defaults overlaid with the given overrides. */
export function logConfig(
  overrides: Partial<LogConfig> = {},
  base: Readonly<LogConfig> = DEFAULT_LOG_CONFIG,
): LogConfig {
  return { ...base, ...overrides };
}

/**
 * Builds overrides from Kafka-named string configs (as CreateTopics/AlterConfigs carry them), parsed
 * by the table's rules. Names this store does not use are ignored; a value the rules refuse throws.
 */
export function logConfigFromKafka(configs: Readonly<Record<string, string>>): Partial<LogConfig> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const name = LOG_CONFIG_NAMES[field];
    const value = configs[name];
    if (value === undefined) continue;
    const def = topicKey(name)!;
    const why = invalidReason(def, value);
    if (why !== undefined) throw new Error(`${name}: ${why}: ${value}`);
    out[field] = parseValue(def, value);
  }
  // Kafka's internal.segment.bytes (for tests, below segment.bytes' minimum) wins over segment.bytes.
  const internal = configs["internal.segment.bytes"];
  if (internal !== undefined && invalidReason(topicKey("internal.segment.bytes")!, internal) === undefined)
    out.segmentBytes = parseValue(topicKey("internal.segment.bytes")!, internal);
  return out as Partial<LogConfig>;
}
