import { readFileSync } from "node:fs";
import { z } from "zod";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "./log/config.js";

/**
 * Broker configuration: Kafka's own `server.properties` keys for what this broker supports, validated
 * with zod so that a bad value stops start-up naming the key. Command-line flags override the file.
 */

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(["true", "false"]).transform((v) => v === "true");

/** Every key this broker reads, with Kafka's defaults where Kafka has one. */
const properties = z.object({
  "node.id": int(0).default(1),
  listeners: z
    .string()
    .regex(/^[A-Za-z_]+:\/\/[^:,]*:\d+$/, "expected one listener such as PLAINTEXT://127.0.0.1:9092")
    .default("PLAINTEXT://127.0.0.1:9092"),
  "advertised.listeners": z
    .string()
    .regex(/^[A-Za-z_]+:\/\/[^:,]+:\d+$/, "expected one listener such as PLAINTEXT://127.0.0.1:9092")
    .optional(),
  "log.dirs": z.string().min(1).default("./data"),
  "num.partitions": int(1, 100_000).default(1),
  "default.replication.factor": int(1, 1).default(1),
  "auto.create.topics.enable": bool.default(true),
  "log.segment.bytes": int(14, 2 ** 31 - 1).default(1024 * 1024 * 1024),
  "log.roll.ms": int(1).optional(),
  "log.roll.hours": int(1).default(168),
  "log.retention.ms": int(-1).optional(),
  "log.retention.minutes": int(-1).optional(),
  "log.retention.hours": int(-1).default(168),
  "log.retention.bytes": int(-1).default(-1),
  "log.retention.check.interval.ms": int(1).default(300_000),
  "log.cleaner.backoff.ms": int(1).default(15_000),
  "log.flush.interval.messages": int(1).default(Number.MAX_SAFE_INTEGER),
  "log.flush.interval.ms": int(0).optional(),
  "log.index.interval.bytes": int(0).default(4096),
  "log.message.timestamp.type": z.enum(["CreateTime", "LogAppendTime"]).default("CreateTime"),
  "log.cleanup.policy": z
    .string()
    .regex(/^\s*(compact|delete)\s*(,\s*(compact|delete)\s*)*$/, "expected delete, compact or both (comma-separated)")
    .default("delete"),
  "message.max.bytes": int(0).default(1_048_588),
  "socket.request.max.bytes": int(1).default(104_857_600),
  "offsets.retention.minutes": int(1).default(10_080),
  "offsets.topic.num.partitions": int(1, 1000).default(50),
  "offsets.retention.check.interval.ms": int(1).default(600_000),
  "offset.metadata.max.bytes": int(0).default(4096),
  "group.initial.rebalance.delay.ms": int(0).default(3000),
  "group.min.session.timeout.ms": int(0).default(6000),
  "group.max.session.timeout.ms": int(0).default(1_800_000),
  "group.max.size": int(1).default(2 ** 31 - 1),
  "group.consumer.heartbeat.interval.ms": int(1).default(5000),
  "group.consumer.session.timeout.ms": int(1).default(45_000),
  "cluster.id": z.string().min(1).optional(),
});

export type BrokerProperties = z.output<typeof properties>;
export const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(properties.shape));

export interface BrokerConfig {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly advertisedHost: string;
  readonly advertisedPort: number;
  readonly dataDir: string;
  readonly props: BrokerProperties;
  /** Keys set by the file or by flags (the rest are defaults), for DescribeConfigs' config sources. */
  readonly explicitKeys: ReadonlySet<string>;
  /** The values from the file, flags and defaults, before dynamic broker configs. */
  readonly staticProps: BrokerProperties;
  /** Dynamic broker configs in force (already in `props`): this node's own and the cluster-wide defaults. */
  readonly dynamic: DynamicLayers;
  /** Retention in ms after Kafka's precedence: ms, then minutes, then hours. */
  readonly retentionMs: number;
  readonly rollMs: number;
}

export interface DynamicLayers {
  readonly perBroker: Readonly<Record<string, string>>;
  readonly clusterDefault: Readonly<Record<string, string>>;
}

const NO_DYNAMIC: DynamicLayers = { perBroker: {}, clusterDefault: {} };

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Parses Java properties text: `key=value` or `key: value`, `#`/`!` comments, `\` continuations. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trimStart();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trimStart();
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
    else out.set(line.trim(), "");
  }
  return out;
}

export interface ConfigInputs {
  /** Raw key/values from a properties file, if one was given. */
  readonly file?: Map<string, string>;
  readonly host?: string;
  readonly port?: number;
  readonly dataDir?: string;
  readonly nodeId?: number;
  readonly warn?: (message: string) => void;
}

/** Builds the broker config; throws ConfigError naming the offending key. */
export function buildConfig(inputs: ConfigInputs): BrokerConfig {
  const raw: Record<string, string> = {};
  for (const [k, v] of inputs.file ?? []) {
    if (!KNOWN_KEYS.has(k)) inputs.warn?.(`config: unknown key ${k} is ignored`);
    else raw[k] = v;
  }
  if (inputs.nodeId !== undefined) raw["node.id"] = String(inputs.nodeId);
  if (inputs.dataDir !== undefined) raw["log.dirs"] = inputs.dataDir;
  const parsed = properties.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? "?");
    throw new ConfigError(`config: ${key}=${JSON.stringify(raw[key] ?? "")}: ${issue.message}`);
  }
  const props = parsed.data;
  if (props["log.dirs"].includes(",")) throw new ConfigError("config: log.dirs: one data directory is supported");
  const listener = /^[A-Za-z_]+:\/\/([^:,]*):(\d+)$/.exec(props.listeners)!;
  const host = inputs.host ?? (listener[1] === "" ? "0.0.0.0" : listener[1]!);
  const port = inputs.port ?? Number(listener[2]);
  if (port > 65535) throw new ConfigError(`config: listeners: port ${port} is out of range`);
  let advertisedHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  let advertisedPort = port;
  const adv = props["advertised.listeners"];
  if (adv !== undefined) {
    const m = /^[A-Za-z_]+:\/\/([^:,]+):(\d+)$/.exec(adv)!;
    advertisedHost = m[1]!;
    advertisedPort = Number(m[2]);
  }
  return {
    nodeId: props["node.id"],
    host,
    port,
    advertisedHost,
    advertisedPort,
    dataDir: props["log.dirs"],
    props,
    explicitKeys: new Set(Object.keys(raw)),
    staticProps: props,
    dynamic: NO_DYNAMIC,
    ...derivedTimes(props),
  };
}

/** Retention and roll times after Kafka's precedence: ms, then minutes, then hours. */
function derivedTimes(props: BrokerProperties): { retentionMs: number; rollMs: number } {
  const retentionMs =
    props["log.retention.ms"] ??
    (props["log.retention.minutes"] !== undefined ? props["log.retention.minutes"] * 60_000 : props["log.retention.hours"] * 3_600_000);
  return { retentionMs: retentionMs < 0 ? -1 : retentionMs, rollMs: props["log.roll.ms"] ?? props["log.roll.hours"] * 3_600_000 };
}

type PropertySchema = (typeof properties.shape)[keyof typeof properties.shape];

function schemaOf(key: string): PropertySchema | undefined {
  return KNOWN_KEYS.has(key) ? properties.shape[key as keyof typeof properties.shape] : undefined;
}

/** Why this broker cannot take `value` for `key` (its own limits), or undefined when it can. */
export function invalidPropertyValue(key: string, value: string): string | undefined {
  const schema = schemaOf(key);
  if (schema === undefined) return `unknown broker config ${key}`;
  const parsed = schema.safeParse(value.trim());
  return parsed.success ? undefined : `Invalid value ${value} for configuration ${key}: ${parsed.error.issues[0]?.message ?? "invalid"}`;
}

/** The value a key has when server.properties does not set it, as text; null when it has none. */
export function defaultPropertyValue(key: string): string | null {
  const parsed = schemaOf(key)?.safeParse(undefined);
  return parsed?.success === true && parsed.data !== undefined ? String(parsed.data) : null;
}

/**
 * The config in force once dynamic broker configs apply: per-broker values over cluster-wide defaults
 * over the static ones. Values must already be valid (see invalidPropertyValue).
 */
export function withDynamicConfigs(base: BrokerConfig, dynamic: DynamicLayers): BrokerConfig {
  const props: Record<string, unknown> = { ...base.staticProps };
  for (const [key, value] of Object.entries({ ...dynamic.clusterDefault, ...dynamic.perBroker })) {
    const parsed = schemaOf(key)?.safeParse(value.trim());
    if (parsed?.success === true) props[key] = parsed.data;
  }
  const effective = props as BrokerProperties;
  return { ...base, props: effective, dynamic, ...derivedTimes(effective) };
}

/** The log settings a broker config gives topics without their own overrides. */
export function brokerLogDefaults(config: BrokerConfig): Partial<LogConfig> {
  const p = config.props;
  return {
    segmentBytes: p["log.segment.bytes"],
    segmentMs: config.rollMs,
    retentionMs: config.retentionMs,
    retentionBytes: p["log.retention.bytes"],
    flushMessages: p["log.flush.interval.messages"],
    flushMs: p["log.flush.interval.ms"] ?? DEFAULT_LOG_CONFIG.flushMs,
    maxMessageBytes: p["message.max.bytes"],
    messageTimestampType: p["log.message.timestamp.type"],
    indexIntervalBytes: p["log.index.interval.bytes"],
    cleanupPolicy: p["log.cleanup.policy"].split(",").map((s) => s.trim()).join(","),
  };
}

export function readPropertiesFile(path: string): Map<string, string> {
  try {
    return parseProperties(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError(`config: cannot read ${path}: ${(e as Error).message}`);
  }
}
