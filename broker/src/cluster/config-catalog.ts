import { defaultPropertyValue, invalidPropertyValue, type BrokerConfig } from "../config.js";

/**
 * The configs this broker describes and accepts, as Kafka 3.9 names, types and defaults them: every
 * topic config (validated on CreateTopics/AlterConfigs, shown by DescribeConfigs with its source and
 * broker synonyms) and the broker's own server.properties keys, of which the log defaults Kafka lets
 * change at runtime are dynamic broker configs (per broker or cluster-wide, see dynamic-configs.ts).
 */

/** DescribeConfigs' ConfigType. */
export const ConfigType = {
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;
export type ConfigType = (typeof ConfigType)[keyof typeof ConfigType];

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

/** A broker config a topic config falls back to; `scale` converts its unit (hours, minutes) to the topic's. */
interface BrokerSynonym {
  readonly key: string;
  readonly scale?: number;
}

export interface ConfigDef {
  readonly name: string;
  readonly type: ConfigType;
  /** Kafka's default as text; null when there is none. */
  readonly default: string | null;
  readonly doc: string;
  readonly min?: number;
  readonly max?: number;
  /** Allowed values (of each item, for lists). */
  readonly oneOf?: readonly string[];
  /** Broker configs that set this topic config's default, most specific first. */
  readonly synonyms?: readonly BrokerSynonym[];
  /** True when this broker acts on it; the others are stored and described only. */
  readonly applied?: boolean;
}

const LONG_MAX = "9223372036854775807";
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

const topic = (
  name: string,
  type: ConfigType,
  dflt: string,
  doc: string,
  extra: Omit<ConfigDef, "name" | "type" | "default" | "doc"> = {},
): ConfigDef => ({ name, type, default: dflt, doc, ...extra });

const T = ConfigType;

/** Kafka 3.9's topic configs. */
export const TOPIC_CONFIGS: ReadonlyMap<string, ConfigDef> = new Map(
  [
    topic("cleanup.policy", T.LIST, "delete", "delete: old segments go by retention; compact: keep the latest value per key.", {
      oneOf: ["compact", "delete"],
      synonyms: [{ key: "log.cleanup.policy" }],
      applied: true,
    }),
    topic("compression.gzip.level", T.INT, "-1", "gzip level when compression.type is gzip.", { min: -1, max: 9 }),
    topic("compression.lz4.level", T.INT, "9", "lz4 level when compression.type is lz4.", { min: 1, max: 17 }),
    topic("compression.type", T.STRING, "producer", "Codec of stored batches; producer keeps what the producer sent.", {
      oneOf: ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"],
      applied: true,
    }),
    topic("compression.zstd.level", T.INT, "3", "zstd level when compression.type is zstd.", { min: -131072, max: 22 }),
    topic("delete.retention.ms", T.LONG, "86400000", "How long delete tombstones are kept on compacted topics.", { min: 0 }),
    topic("file.delete.delay.ms", T.LONG, "60000", "Wait before a deleted segment's files are removed.", { min: 0, applied: true }),
    topic("flush.messages", T.LONG, LONG_MAX, "Messages written between forced fsyncs.", {
      min: 1,
      synonyms: [{ key: "log.flush.interval.messages" }],
      applied: true,
    }),
    topic("flush.ms", T.LONG, LONG_MAX, "Longest time between forced fsyncs.", { min: 0, synonyms: [{ key: "log.flush.interval.ms" }], applied: true }),
    topic("follower.replication.throttled.replicas", T.LIST, "", "Replicas throttled on the follower side (no replication here)."),
    topic("index.interval.bytes", T.INT, "4096", "Bytes between offset index entries.", {
      min: 0,
      synonyms: [{ key: "log.index.interval.bytes" }],
      applied: true,
    }),
    topic("leader.replication.throttled.replicas", T.LIST, "", "Replicas throttled on the leader side (no replication here)."),
    topic("local.retention.bytes", T.LONG, "-2", "Local retention by size with tiered storage (-2: retention.bytes).", { min: -2 }),
    topic("local.retention.ms", T.LONG, "-2", "Local retention by time with tiered storage (-2: retention.ms).", { min: -2 }),
    topic("max.compaction.lag.ms", T.LONG, LONG_MAX, "Longest a record may stay uncompacted.", { min: 1 }),
    topic("max.message.bytes", T.INT, "1048588", "Largest record batch accepted.", { min: 0, synonyms: [{ key: "message.max.bytes" }], applied: true }),
    topic("message.downconversion.enable", T.BOOLEAN, "true", "Whether old fetch versions may get down-converted batches."),
    topic("message.format.version", T.STRING, "3.0-IV1", "Deprecated; ignored from 3.0."),
    topic("message.timestamp.after.max.ms", T.LONG, LONG_MAX, "How far in the future a CreateTime timestamp may be.", { min: 0, applied: true }),
    topic("message.timestamp.before.max.ms", T.LONG, LONG_MAX, "How far in the past a CreateTime timestamp may be.", { min: 0, applied: true }),
    topic("message.timestamp.difference.max.ms", T.LONG, LONG_MAX, "Deprecated; see message.timestamp.before/after.max.ms.", { min: 0 }),
    topic("message.timestamp.type", T.STRING, "CreateTime", "Whether stored timestamps are the producer's or the broker's append time.", {
      oneOf: ["CreateTime", "LogAppendTime"],
      synonyms: [{ key: "log.message.timestamp.type" }],
      applied: true,
    }),
    topic("min.cleanable.dirty.ratio", T.DOUBLE, "0.5", "Dirty share of a log that makes it eligible for compaction.", { min: 0, max: 1 }),
    topic("min.compaction.lag.ms", T.LONG, "0", "Shortest a record stays uncompacted.", { min: 0 }),
    topic("min.insync.replicas", T.INT, "1", "Replicas that must acknowledge acks=all writes (one here).", { min: 1 }),
    topic("preallocate", T.BOOLEAN, "false", "Preallocate segment files."),
    topic("remote.log.copy.disable", T.BOOLEAN, "false", "Stop copying segments to tiered storage."),
    topic("remote.log.delete.on.disable", T.BOOLEAN, "false", "Delete tiered data when tiered storage is turned off."),
    topic("remote.storage.enable", T.BOOLEAN, "false", "Tiered storage for this topic (not available on this broker)."),
    topic("retention.bytes", T.LONG, "-1", "Size a partition may keep before old segments are deleted (-1: no limit).", {
      synonyms: [{ key: "log.retention.bytes" }],
      applied: true,
    }),
    topic("retention.ms", T.LONG, "604800000", "Age after which old segments are deleted (-1: no limit).", {
      min: -1,
      synonyms: [{ key: "log.retention.ms" }, { key: "log.retention.minutes", scale: 60_000 }, { key: "log.retention.hours", scale: 3_600_000 }],
      applied: true,
    }),
    topic("segment.bytes", T.INT, "1073741824", "Size at which a segment rolls.", { min: 14, synonyms: [{ key: "log.segment.bytes" }], applied: true }),
    topic("segment.index.bytes", T.INT, "10485760", "Size of a segment's offset index.", { min: 4, applied: true }),
    topic("segment.jitter.ms", T.LONG, "0", "Random jitter subtracted from segment.ms.", { min: 0, applied: true }),
    topic("segment.ms", T.LONG, "604800000", "Age at which a segment rolls.", {
      min: 1,
      synonyms: [{ key: "log.roll.ms" }, { key: "log.roll.hours", scale: 3_600_000 }],
      applied: true,
    }),
    topic("unclean.leader.election.enable", T.BOOLEAN, "false", "Whether an out-of-sync replica may become leader (one replica here)."),
  ].map((d) => [d.name, d]),
);

interface BrokerConfigDef {
  readonly type: ConfigType;
  readonly doc: string;
  /** Kafka lets it change at runtime (DynamicBrokerConfig) and this broker applies the change. */
  readonly dynamic?: boolean;
  /** Kafka's default as text where this broker's own default differs in form. */
  readonly default?: string;
  readonly min?: number;
  readonly max?: number;
  readonly oneOf?: readonly string[];
}

/** Types and docs of the broker keys (server.properties) this broker reads; values come from its config. */
const BROKER_CONFIGS: ReadonlyMap<string, BrokerConfigDef> = new Map<string, BrokerConfigDef>([
  ["node.id", { type: T.INT, doc: "This node's id." }],
  ["listeners", { type: T.STRING, doc: "The listener this broker accepts connections on." }],
  ["advertised.listeners", { type: T.STRING, doc: "The address clients are told to connect to." }],
  ["log.dirs", { type: T.STRING, doc: "The data directory." }],
  ["num.partitions", { type: T.INT, doc: "Partitions of auto-created topics and of CreateTopics with -1." }],
  ["default.replication.factor", { type: T.INT, doc: "Replication factor of topics created with -1." }],
  ["auto.create.topics.enable", { type: T.BOOLEAN, doc: "Create unknown topics on Metadata and Produce." }],
  ["log.segment.bytes", { type: T.INT, doc: "Default segment.bytes.", dynamic: true, min: 14, max: INT_MAX }],
  ["log.roll.ms", { type: T.LONG, doc: "Default segment.ms; log.roll.hours when unset.", dynamic: true, min: 1 }],
  ["log.roll.hours", { type: T.INT, doc: "Default segment.ms in hours." }],
  ["log.retention.ms", { type: T.LONG, doc: "Default retention.ms; log.retention.minutes when unset.", dynamic: true, min: -1 }],
  ["log.retention.minutes", { type: T.INT, doc: "Default retention.ms in minutes; log.retention.hours when unset." }],
  ["log.retention.hours", { type: T.INT, doc: "Default retention.ms in hours." }],
  ["log.retention.bytes", { type: T.LONG, doc: "Default retention.bytes.", dynamic: true }],
  ["log.retention.check.interval.ms", { type: T.LONG, doc: "How often retention runs." }],
  ["log.flush.interval.messages", { type: T.LONG, doc: "Default flush.messages.", dynamic: true, min: 1, default: LONG_MAX }],
  ["log.flush.interval.ms", { type: T.LONG, doc: "Default flush.ms.", dynamic: true, min: 0 }],
  ["log.index.interval.bytes", { type: T.INT, doc: "Default index.interval.bytes.", dynamic: true, min: 0 }],
  ["log.message.timestamp.type", { type: T.STRING, doc: "Default message.timestamp.type.", dynamic: true, oneOf: ["CreateTime", "LogAppendTime"] }],
  ["log.cleanup.policy", { type: T.LIST, doc: "Default cleanup.policy.", dynamic: true, oneOf: ["compact", "delete"] }],
  ["message.max.bytes", { type: T.INT, doc: "Default max.message.bytes.", dynamic: true, min: 0 }],
  ["socket.request.max.bytes", { type: T.INT, doc: "Largest request accepted." }],
  ["offsets.retention.minutes", { type: T.INT, doc: "How long committed offsets of empty groups are kept." }],
  ["offsets.topic.num.partitions", { type: T.INT, doc: "Partitions of __consumer_offsets." }],
  ["group.initial.rebalance.delay.ms", { type: T.INT, doc: "Wait for more members before the first rebalance of a group." }],
  ["group.min.session.timeout.ms", { type: T.INT, doc: "Smallest session timeout a member may ask for." }],
  ["group.max.session.timeout.ms", { type: T.INT, doc: "Largest session timeout a member may ask for." }],
  ["group.max.size", { type: T.INT, doc: "Most members a group may have." }],
  ["group.consumer.heartbeat.interval.ms", { type: T.INT, doc: "Heartbeat interval of consumer-protocol groups." }],
  ["group.consumer.session.timeout.ms", { type: T.INT, doc: "Session timeout of consumer-protocol groups." }],
  ["cluster.id", { type: T.STRING, doc: "The cluster id." }],
]);

/** Whether Kafka and this broker let `key` change at runtime through a BROKER resource. */
export function isDynamicBrokerConfig(key: string): boolean {
  return BROKER_CONFIGS.get(key)?.dynamic === true;
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

function propValue(props: BrokerConfig["props"], key: string): string | null {
  const v = (props as Record<string, unknown>)[key];
  return v === undefined ? null : String(v);
}

function kafkaDefault(key: string): string | null {
  return BROKER_CONFIGS.get(key)?.default ?? defaultPropertyValue(key);
}

/**
 * Where the broker keys `keys` (one setting under several names, most specific first) get values, in
 * Kafka's precedence: every name's per-broker dynamic value, then every cluster-wide dynamic value, then
 * server.properties, then Kafka's defaults.
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
  add((k) => (config.explicitKeys.has(k) ? propValue(config.staticProps, k) : null), ConfigSource.STATIC_BROKER_CONFIG);
  add(kafkaDefault, ConfigSource.DEFAULT_CONFIG);
  return out;
}

/** Kafka's names of one broker setting: the time settings have ms/minutes/hours forms. */
function brokerNames(key: string): readonly string[] {
  if (key === "log.roll.ms" || key === "log.roll.hours") return ["log.roll.ms", "log.roll.hours"];
  const retention = ["log.retention.ms", "log.retention.minutes", "log.retention.hours"];
  if (retention.includes(key)) return retention;
  return [key];
}

/** A topic-default value from its first broker synonym, converted to the topic config's unit. */
function scaled(def: ConfigDef, synonym: ConfigSynonym): string | null {
  const scale = def.synonyms?.find((s) => s.key === synonym.name)?.scale;
  if (scale === undefined || synonym.value === null) return synonym.value;
  const n = Number(synonym.value) * scale;
  return String(n < 0 ? -1 : n);
}

/** Every topic config of a topic with `overrides`, in name order. */
export function describeTopicConfigs(overrides: Readonly<Record<string, string>>, config: BrokerConfig): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const def of [...TOPIC_CONFIGS.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const own = overrides[def.name];
    const inherited = brokerSynonyms((def.synonyms ?? []).map((s) => s.key), config, true);
    const synonyms = own !== undefined ? [{ name: def.name, value: own, source: ConfigSource.DYNAMIC_TOPIC_CONFIG }, ...inherited] : inherited;
    const first = inherited[0];
    out.push({
      name: def.name,
      value: own ?? (first !== undefined ? scaled(def, first) : def.default),
      source: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      readOnly: false,
      sensitive: false,
      type: def.type,
      doc: def.doc,
      synonyms,
    });
  }
  return out;
}

/**
 * The broker's own configs as this node (`perBroker`) or the cluster-wide default resource sees them;
 * the keys Kafka cannot change at runtime are read-only.
 */
export function describeBrokerConfigs(config: BrokerConfig, keys: Iterable<string>, perBroker: boolean): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const name of [...keys].sort()) {
    const meta = BROKER_CONFIGS.get(name);
    const all = brokerSynonyms(brokerNames(name), config, perBroker);
    // As Kafka: a setting's longer-unit forms do not describe its shorter ones (log.retention.hours
    // is not the source of log.retention.ms).
    const from = all.findIndex((s) => s.name === name);
    // The cluster-wide resource shows only what is set there.
    const synonyms = from < 0 ? [] : all.slice(from).filter((s) => perBroker || s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
    out.push({
      name,
      // The winning synonym's text where there is one (Kafka's Long.MAX_VALUE defaults included).
      value: perBroker ? (synonyms[0]?.value ?? propValue(config.props, name)) : (config.dynamic.clusterDefault[name] ?? null),
      source: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      readOnly: meta?.dynamic !== true,
      sensitive: false,
      type: meta?.type ?? ConfigType.UNKNOWN,
      doc: meta?.doc ?? null,
      synonyms,
    });
  }
  return out;
}

function parseLong(v: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = BigInt(v);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

interface ValueRule {
  readonly type: ConfigType;
  readonly min?: number;
  readonly max?: number;
  readonly oneOf?: readonly string[];
}

/** Checks a value against its config's type and range as Kafka's ConfigDef would; Kafka's message, or undefined. */
function invalidValue(name: string, rule: ValueRule, value: string): string | undefined {
  const v = value.trim();
  const bad = (why: string): string => `Invalid value ${value} for configuration ${name}: ${why}`;
  const range = (n: number | bigint): string | undefined => {
    if (rule.min !== undefined && n < rule.min) {
      return bad(rule.max !== undefined ? `Value must be between ${rule.min} and ${rule.max}` : `Value must be at least ${rule.min}`);
    }
    if (rule.max !== undefined && n > rule.max) {
      return bad(rule.min !== undefined ? `Value must be between ${rule.min} and ${rule.max}` : `Value must be no more than ${rule.max}`);
    }
    return undefined;
  };
  switch (rule.type) {
    case T.INT: {
      const n = parseLong(v);
      if (n === undefined || n < INT_MIN || n > INT_MAX) return bad("Not a number of type INT");
      return range(Number(n));
    }
    case T.LONG: {
      const n = parseLong(v);
      if (n === undefined) return bad("Not a number of type LONG");
      return range(n);
    }
    case T.DOUBLE: {
      const n = Number(v);
      if (v === "" || !Number.isFinite(n)) return bad("Not a number of type DOUBLE");
      return range(n);
    }
    case T.BOOLEAN:
      if (!/^(true|false)$/i.test(v)) return bad("Expected value to be either true or false");
      return undefined;
    case T.LIST: {
      if (rule.oneOf === undefined) return undefined;
      const items = v === "" ? [] : v.split(",").map((s) => s.trim());
      const wrong = items.find((i) => !rule.oneOf!.includes(i));
      if (wrong !== undefined) return bad(`String must be one of: ${rule.oneOf.join(", ")}`);
      return undefined;
    }
    default:
      if (rule.oneOf !== undefined && !rule.oneOf.includes(v)) return bad(`String must be one of: ${rule.oneOf.join(", ")}`);
      return undefined;
  }
}

/**
 * Checks one topic config as Kafka's ConfigDef would; returns Kafka's style of message, or undefined
 * when the value is good. Values are trimmed as Kafka trims them.
 */
export function invalidTopicConfig(name: string, value: string | null): string | undefined {
  const def = TOPIC_CONFIGS.get(name);
  if (def === undefined) return `Unknown topic config name: ${name}`;
  if (value === null) return `Null value not supported for topic configs: ${name}`;
  return invalidValue(name, def, value);
}

/**
 * Checks a set of dynamic broker configs: Kafka's "Cannot update these configs dynamically" for keys
 * that are not dynamic here, then each value by Kafka's rules and this broker's own limits.
 */
export function invalidBrokerConfigs(configs: Readonly<Record<string, string | null>>): string | undefined {
  const fixed = Object.keys(configs).filter((k) => !isDynamicBrokerConfig(k));
  if (fixed.length > 0) return `Cannot update these configs dynamically: Set(${fixed.join(", ")})`;
  for (const [name, value] of Object.entries(configs)) {
    if (value === null) return `Null value not supported for : ${name}`;
    const problem = invalidValue(name, BROKER_CONFIGS.get(name)!, value) ?? invalidPropertyValue(name, value);
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

/** Whether the config is a list (APPEND/SUBTRACT of IncrementalAlterConfigs apply only to lists). */
export function isListConfig(name: string): boolean {
  return (TOPIC_CONFIGS.get(name) ?? BROKER_CONFIGS.get(name))?.type === T.LIST;
}
