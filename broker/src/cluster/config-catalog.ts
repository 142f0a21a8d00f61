import type { BrokerConfig } from "../config.js";

/**
 * The configs this broker describes and accepts, as Kafka 3.9 names, types and defaults them: every
 * topic config (validated on CreateTopics/AlterConfigs, shown by DescribeConfigs with its source and
 * broker synonyms) and the broker's own server.properties keys (shown read-only: this broker has no
 * dynamic broker configs).
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

/** DescribeConfigs' ConfigSource. */
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
    topic("cleanup.policy", T.LIST, "delete", "delete: old segments go by retention; compact: keep the latest value per key (stored, compaction is not implemented here).", {
      oneOf: ["compact", "delete"],
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

/** Types and docs of the broker keys (server.properties) this broker reads; values come from its config. */
const BROKER_CONFIGS: ReadonlyMap<string, { type: ConfigType; doc: string }> = new Map(
  (
    [
      ["node.id", T.INT, "This node's id."],
      ["listeners", T.STRING, "The listener this broker accepts connections on."],
      ["advertised.listeners", T.STRING, "The address clients are told to connect to."],
      ["log.dirs", T.STRING, "The data directory."],
      ["num.partitions", T.INT, "Partitions of auto-created topics and of CreateTopics with -1."],
      ["default.replication.factor", T.INT, "Replication factor of topics created with -1."],
      ["auto.create.topics.enable", T.BOOLEAN, "Create unknown topics on Metadata and Produce."],
      ["log.segment.bytes", T.INT, "Default segment.bytes."],
      ["log.roll.ms", T.LONG, "Default segment.ms; log.roll.hours when unset."],
      ["log.roll.hours", T.INT, "Default segment.ms in hours."],
      ["log.retention.ms", T.LONG, "Default retention.ms; log.retention.minutes when unset."],
      ["log.retention.minutes", T.INT, "Default retention.ms in minutes; log.retention.hours when unset."],
      ["log.retention.hours", T.INT, "Default retention.ms in hours."],
      ["log.retention.bytes", T.LONG, "Default retention.bytes."],
      ["log.retention.check.interval.ms", T.LONG, "How often retention runs."],
      ["log.flush.interval.messages", T.LONG, "Default flush.messages."],
      ["log.flush.interval.ms", T.LONG, "Default flush.ms."],
      ["log.index.interval.bytes", T.INT, "Default index.interval.bytes."],
      ["log.message.timestamp.type", T.STRING, "Default message.timestamp.type."],
      ["message.max.bytes", T.INT, "Default max.message.bytes."],
      ["socket.request.max.bytes", T.INT, "Largest request accepted."],
      ["offsets.retention.minutes", T.INT, "How long committed offsets of empty groups are kept."],
      ["offsets.topic.num.partitions", T.INT, "Partitions of __consumer_offsets."],
      ["group.initial.rebalance.delay.ms", T.INT, "Wait for more members before the first rebalance of a group."],
      ["group.min.session.timeout.ms", T.INT, "Smallest session timeout a member may ask for."],
      ["group.max.session.timeout.ms", T.INT, "Largest session timeout a member may ask for."],
      ["group.max.size", T.INT, "Most members a group may have."],
      ["group.consumer.heartbeat.interval.ms", T.INT, "Heartbeat interval of consumer-protocol groups."],
      ["group.consumer.session.timeout.ms", T.INT, "Session timeout of consumer-protocol groups."],
      ["cluster.id", T.STRING, "The cluster id."],
    ] as const
  ).map(([name, type, doc]) => [name, { type, doc }]),
);

/** One described config: value, source and the synonyms it was resolved through. */
export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly source: ConfigSource;
  readonly readOnly: boolean;
  readonly sensitive: boolean;
  readonly type: ConfigType;
  readonly doc: string | null;
  readonly synonyms: readonly { name: string; value: string | null; source: ConfigSource }[];
}

function propValue(config: BrokerConfig, key: string): string | null {
  const v = (config.props as Record<string, unknown>)[key];
  return v === undefined ? null : String(v);
}

/** A topic config's effective value when the topic does not override it: the broker's, else Kafka's default. */
function topicDefault(def: ConfigDef, config: BrokerConfig): { value: string | null; source: ConfigSource } {
  for (const s of def.synonyms ?? []) {
    if (!config.explicitKeys.has(s.key)) continue;
    const v = propValue(config, s.key);
    if (v === null) continue;
    return { value: s.scale !== undefined ? String(Number(v) * s.scale) : v, source: ConfigSource.STATIC_BROKER_CONFIG };
  }
  return { value: def.default, source: ConfigSource.DEFAULT_CONFIG };
}

/** Every topic config of a topic with `overrides`, in name order. */
export function describeTopicConfigs(overrides: Readonly<Record<string, string>>, config: BrokerConfig): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const def of [...TOPIC_CONFIGS.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const synonyms: { name: string; value: string | null; source: ConfigSource }[] = [];
    const own = overrides[def.name];
    if (own !== undefined) synonyms.push({ name: def.name, value: own, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    for (const s of def.synonyms ?? []) {
      const v = propValue(config, s.key);
      if (v === null) continue;
      const source = config.explicitKeys.has(s.key) ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
      synonyms.push({ name: s.key, value: v, source });
    }
    const fallback = topicDefault(def, config);
    if (fallback.source === ConfigSource.DEFAULT_CONFIG && !synonyms.some((s) => s.source === ConfigSource.DEFAULT_CONFIG)) {
      synonyms.push({ name: def.name, value: def.default, source: ConfigSource.DEFAULT_CONFIG });
    }
    out.push({
      name: def.name,
      value: own ?? fallback.value,
      source: own !== undefined ? ConfigSource.DYNAMIC_TOPIC_CONFIG : fallback.source,
      readOnly: false,
      sensitive: false,
      type: def.type,
      doc: def.doc,
      synonyms,
    });
  }
  return out;
}

/** The broker's own configs, all read-only (set at start from server.properties and flags). */
export function describeBrokerConfigs(config: BrokerConfig, keys: Iterable<string>): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  for (const name of [...keys].sort()) {
    const meta = BROKER_CONFIGS.get(name);
    const value = propValue(config, name);
    const source = config.explicitKeys.has(name) ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
    out.push({
      name,
      value,
      source,
      readOnly: true,
      sensitive: false,
      type: meta?.type ?? ConfigType.UNKNOWN,
      doc: meta?.doc ?? null,
      synonyms: [{ name, value, source }],
    });
  }
  return out;
}

function parseLong(v: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = BigInt(v);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

/**
 * Checks one topic config as Kafka's ConfigDef would; returns Kafka's style of message, or undefined
 * when the value is good. Values are trimmed as Kafka trims them.
 */
export function invalidTopicConfig(name: string, value: string | null): string | undefined {
  const def = TOPIC_CONFIGS.get(name);
  if (def === undefined) return `Unknown topic config name: ${name}`;
  if (value === null) return `Null value not supported for topic configs: ${name}`;
  const v = value.trim();
  const bad = (why: string): string => `Invalid value ${value} for configuration ${name}: ${why}`;
  const range = (n: number | bigint): string | undefined => {
    if (def.min !== undefined && n < def.min) {
      return bad(def.max !== undefined ? `Value must be between ${def.min} and ${def.max}` : `Value must be at least ${def.min}`);
    }
    if (def.max !== undefined && n > def.max) {
      return bad(def.min !== undefined ? `Value must be between ${def.min} and ${def.max}` : `Value must be no more than ${def.max}`);
    }
    return undefined;
  };
  switch (def.type) {
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
      if (def.oneOf === undefined) return undefined;
      const items = v === "" ? [] : v.split(",").map((s) => s.trim());
      const wrong = items.find((i) => !def.oneOf!.includes(i));
      if (wrong !== undefined) return bad(`String must be one of: ${def.oneOf.join(", ")}`);
      return undefined;
    }
    default:
      if (def.oneOf !== undefined && !def.oneOf.includes(v)) return bad(`String must be one of: ${def.oneOf.join(", ")}`);
      return undefined;
  }
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
  return TOPIC_CONFIGS.get(name)?.type === T.LIST;
}
