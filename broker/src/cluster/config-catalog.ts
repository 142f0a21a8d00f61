import { dynamicBrokerKey, type BrokerConfig } from "../config.js";
import { ConfigType, invalidValueMessage } from "../config-def.js";
import {
  TOPIC_KEY_NAMES,
  brokerKey,
  brokerSynonymsOf,
  settingNames,
  toTopicUnit,
  topicKey,
  type TopicKeyDef,
} from "../config-keys.js";

/**
 * What DescribeConfigs reports and what AlterConfigs accepts, both derived from the config table
 * (config-keys.ts): every topic config with its value, source and broker synonyms, and the broker's
 * own server.properties keys, of which the "cluster-wide" ones are dynamic broker configs (per broker
 * or for the cluster, see dynamic-configs.ts).
 */

/** DescribeConfigs' ConfigSource (Kafka's DescribeConfigsResponse.ConfigSource ids). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;
export type ConfigSource = (typeof ConfigSource)[keyof typeof ConfigSource];

/** ConfigResource types of DescribeConfigs/AlterConfigs. */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** Whether Kafka and this broker let `key` change at runtime through a BROKER resource (for one broker at least). */
export function isDynamicBrokerConfig(key: string): boolean {
  const d = dynamicBrokerKey(key);
  if (d === undefined) return false;
  return d.listener ? d.def.dynamic === "per-broker" : d.def.dynamic !== "read-only";
}

/** One described config: value, source and the synonyms it was resolved through. */
export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly source: ConfigSource;
  readonly readOnly: boolean;
  readonly sensitive: boolean;
  readonly type: ConfigType;
  readonly doc: string | null;
  readonly synonyms: readonly ConfigSynonym[];
}

interface ConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: ConfigSource;
}

/**
 * Where the broker keys `keys` (one setting under several names, most specific first) get values, in
 * Kafka's precedence: every name's per-broker dynamic value, then every cluster-wide dynamic value, then
 * server.properties, then the table's defaults.
 */
function brokerSynonyms(keys: readonly string[], config: BrokerConfig, perBroker: boolean): ConfigSynonym[] {
  const out: ConfigSynonym[] = [];
  const add = (values: (key: string) => string | null | undefined, source: ConfigSource): void => {
    for (const name of keys) {
      const value = values(name);
      if (value !== undefined && value !== null) out.push({ name, value, source });
    }
  };
  if (perBroker) add((k) => config.dynamic.perBroker[k], ConfigSource.DYNAMIC_BROKER_CONFIG);
  add((k) => config.dynamic.clusterDefault[k], ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
  add((k) => config.staticText[k], ConfigSource.STATIC_BROKER_CONFIG);
  add((k) => brokerKey(k)?.default, ConfigSource.DEFAULT_CONFIG);
  return out;
}

/** A topic config's value from a broker synonym, in the topic config's unit (log.retention.hours: ms). */
function inTopicUnit(synonym: ConfigSynonym): string | null {
  const scale = brokerKey(synonym.name)?.topic?.scale;
  if (scale === undefined || synonym.value === null) return synonym.value;
  return String(toTopicUnit(Number(synonym.value), scale));
}

/** A topic config's broker synonyms as Kafka describes them: its own, never tskafka's internal ones. */
function describedSynonymsOf(topicName: string): readonly string[] {
  return brokerSynonymsOf(topicName).filter((k) => brokerKey(k)?.internal !== true);
}

function describeTopicConfig(
  name: string,
  def: TopicKeyDef,
  own: string | undefined,
  config: BrokerConfig,
): ConfigEntry {
  const names = describedSynonymsOf(name);
  const all = brokerSynonyms(names, config, true);
  // As Kafka (ConfigHelper): the synonyms start at the most specific broker key, so a setting given
  // only in a longer unit (log.retention.hours, also its default) is not listed, and is not the source.
  const from = all.findIndex((s) => s.name === names[0]);
  const inherited = from < 0 ? [] : all.slice(from);
  const synonyms =
    own !== undefined ? [{ name, value: own, source: ConfigSource.DYNAMIC_TOPIC_CONFIG }, ...inherited] : inherited;
  const first = all[0];
  return {
    name,
    value: own ?? (first !== undefined ? inTopicUnit(first) : def.default),
    source: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
    readOnly: false,
    sensitive: false,
    type: def.type,
    doc: def.doc,
    synonyms,
  };
}

/** Every topic config of a topic with `overrides`, in name order; an internal one only when it is set. */
export function describeTopicConfigs(overrides: Readonly<Record<string, string>>, config: BrokerConfig): ConfigEntry[] {
  return [...TOPIC_KEY_NAMES]
    .filter((name) => topicKey(name)!.internal !== true || overrides[name] !== undefined)
    .sort()
    .map((name) => describeTopicConfig(name, topicKey(name)!, overrides[name], config));
}

/**
 * The broker's own configs as this node (`perBroker`) or the cluster-wide default resource sees them;
 * the keys that cannot change at runtime are read-only. A key the table lacks is UNKNOWN, as in Kafka.
 */
export function describeBrokerConfigs(config: BrokerConfig, keys: Iterable<string>, perBroker: boolean): ConfigEntry[] {
  const described = [...keys].filter((name) => brokerKey(name)?.internal !== true);
  return described.sort().map((name) => {
    const def = brokerKey(name);
    const all = brokerSynonyms(
      settingNames(name).filter((k) => brokerKey(k)?.internal !== true),
      config,
      perBroker,
    );
    // As Kafka: a setting's longer-unit forms do not describe its shorter ones (log.retention.hours
    // is not the source of log.retention.ms).
    const from = all.findIndex((s) => s.name === name);
    // The cluster-wide resource shows only what is set there.
    // A password, key or JAAS text is never shown, as Kafka: sensitive, with null values.
    const sensitive = def?.type === ConfigType.PASSWORD;
    const synonyms = (
      from < 0
        ? []
        : all.slice(from).filter((s) => perBroker || s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)
    ).map((s) => (sensitive ? { ...s, value: null } : s));
    const shown = perBroker ? (synonyms[0]?.value ?? null) : (config.dynamic.clusterDefault[name] ?? null);
    return {
      name,
      // The winning synonym's text (Kafka's Long.MAX_VALUE defaults included).
      value: sensitive ? null : shown,
      source: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      readOnly: def?.dynamic !== "cluster-wide" && def?.dynamic !== "per-broker",
      sensitive,
      type: def?.type ?? ConfigType.UNKNOWN,
      doc: def?.doc ?? null,
      synonyms,
    };
  });
}

/**
 * Checks one topic config as Kafka's ConfigDef would; returns Kafka's style of message, or undefined
 * when the value is good. Values are trimmed as Kafka trims them.
 */
export function invalidTopicConfig(name: string, value: string | null): string | undefined {
  const def = topicKey(name);
  if (def === undefined) return `Unknown topic config name: ${name}`;
  if (value === null) return `Null value not supported for topic configs: ${name}`;
  return invalidValueMessage(name, def, value);
}

/**
 * Checks a set of dynamic broker configs: Kafka's "Cannot update these configs dynamically" for keys
 * that are not dynamic here, then each value by the table's rules.
 */
export function invalidBrokerConfigs(
  configs: Readonly<Record<string, string | null>>,
  perBroker: boolean,
): string | undefined {
  const names = Object.keys(configs);
  const set = (keys: string[]): string => `[${keys.join(", ")}]`; // Kafka 4.4 prints the names as a Java list
  const fixed = names.filter((k) => !isDynamicBrokerConfig(k));
  if (fixed.length > 0) return `Cannot update these configs dynamically: ${set(fixed)}`;
  // As Kafka: key and trust stores change per listener, and only for one broker.
  const unprefixed = names.filter(
    (k) => dynamicBrokerKey(k)?.def.dynamic === "per-broker" && !dynamicBrokerKey(k)!.listener,
  );
  if (unprefixed.length > 0)
    return `These security configs can be dynamically updated only per-listener using the listener prefix: ${set(unprefixed)}`;
  const brokerOnly = names.filter((k) => dynamicBrokerKey(k)?.def.dynamic === "per-broker");
  if (!perBroker && brokerOnly.length > 0)
    return `Cannot update these configs at default cluster level, broker id must be specified: ${set(brokerOnly)}`;
  for (const [name, value] of Object.entries(configs)) {
    if (value === null) return `Null value not supported for : ${name}`;
    const problem = invalidValueMessage(name, dynamicBrokerKey(name)!.def, value);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Checks a whole set of topic overrides: each value, then the rules that span configs. Returns the
 * first problem's message, or undefined.
 */
export function invalidTopicConfigs(configs: Readonly<Record<string, string | null>>): string | undefined {
  for (const [name, value] of Object.entries(configs)) {
    const problem = invalidTopicConfig(name, value);
    if (problem !== undefined) return problem;
  }
  if (configs["remote.storage.enable"]?.trim().toLowerCase() === "true") {
    return "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.";
  }
  return undefined;
}

/** Whether a topic's or a broker's config is a list (APPEND/SUBTRACT of IncrementalAlterConfigs apply only to lists). */
export function isListConfig(resourceType: number, name: string): boolean {
  const def = resourceType === ResourceType.TOPIC ? topicKey(name) : brokerKey(name);
  return def?.type === ConfigType.LIST;
}
