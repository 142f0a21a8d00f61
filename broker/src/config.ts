import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { invalidReason, parseValue, type KeyDef } from "./config-def.js";
import {
  BROKER_KEYS,
  BROKER_KEY_NAMES,
  TOPIC_KEY_NAMES,
  brokerKey,
  brokerSynonymsOf,
  toTopicUnit,
  topicKey,
  type BrokerKeyDef,
  type BrokerProperties,
} from "./config-keys.js";
import { LISTENER_QUOTA_KEYS } from "./config-quota-keys.js";
import { parseProperties } from "./properties.js";
import { listenerOverrideKey, resolveListeners, ListenerProblem, type ListenerConfig } from "./config-listeners.js";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "./log/config.js";

export { parseProperties };

/**
 * Broker configuration: Kafka's own `server.properties` keys for what this broker supports (the table
 * in config-keys.ts), parsed with zod so that a bad value stops start-up naming the key. Command-line
 * flags override the file.
 */

export type { BrokerProperties };

/** One key's schema: its default, when it has one, goes through the same rules as a given value. */
function keySchema(def: KeyDef) {
  const text = def.default === null ? z.string().optional() : z.string().default(def.default);
  return text.transform((value, ctx) => {
    if (value === undefined) return undefined;
    const why = invalidReason(def, value);
    if (why === undefined) return parseValue(def, value);
    ctx.issues.push({ code: "custom", message: why, input: value });
    return z.NEVER;
  });
}

const properties = z.object(Object.fromEntries(BROKER_KEY_NAMES.map((k) => [k, keySchema(BROKER_KEYS[k])])));

export const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(properties.shape));

export interface BrokerConfig {
  readonly nodeId: number;
  /** Every listener, in `listeners` order; host, port and the advertised ones below are the first's. */
  readonly listeners: readonly ListenerConfig[];
  /**
   * The `listener.name.<name>.<key>` settings as given (name as written), over the broker-wide keys;
   * with the per-broker dynamic ones (key stores) over those of server.properties.
   */
  readonly listenerSettings: Readonly<Record<string, string>>;
  /** The `listener.name.*` settings of server.properties alone. */
  readonly staticListenerSettings: Readonly<Record<string, string>>;
  readonly host: string;
  readonly port: number;
  readonly advertisedHost: string;
  readonly advertisedPort: number;
  /** The log directories (log.dirs, else log.dir), absolute, in configuration order. */
  readonly logDirs: readonly string[];
  /** Where the cluster metadata files live (metadata.log.dir, else the first log directory), absolute. */
  readonly dataDir: string;
  readonly props: BrokerProperties;
  /** The values the file and flags set, as given (the rest are defaults), for DescribeConfigs. */
  readonly staticText: Readonly<Record<string, string>>;
  /** The values from the file, flags and defaults, before dynamic broker configs. */
  readonly staticProps: BrokerProperties;
  /** Dynamic broker configs in force (already in `props`): this node's own and the cluster-wide defaults. */
  readonly dynamic: DynamicLayers;
}

export interface DynamicLayers {
  readonly perBroker: Readonly<Record<string, string>>;
  readonly clusterDefault: Readonly<Record<string, string>>;
}

const NO_DYNAMIC: DynamicLayers = { perBroker: {}, clusterDefault: {} };

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface ConfigInputs {
  /** Raw key/values from a properties file, if one was given. */
  readonly file?: Map<string, string>;
  readonly host?: string;
  readonly port?: number;
  readonly dataDir?: string;
  readonly nodeId?: number;
  /** --http-port: the HTTP listener's port on --host (127.0.0.1 without it); empty for none. */
  readonly httpPort?: string;
  readonly warn?: (message: string) => void;
}

/** The keys Kafka also takes per SASL mechanism: `listener.name.<name>.<mechanism>.<key>`. */
function isMechanismKey(key: string): boolean {
  return (
    key === "sasl.jaas.config" ||
    key === "sasl.server.callback.handler.class" ||
    key === "connections.max.reauth.ms" ||
    key.startsWith("sasl.oauthbearer.")
  );
}

/** A key without its SASL mechanism prefix (`oauthbearer.sasl.jaas.config` is sasl.jaas.config). */
export function withoutMechanism(key: string): string {
  const m = /^[a-z0-9-]+\.((?:sasl|connections)\..+)$/i.exec(key);
  return m !== null && isMechanismKey(m[1]!) ? m[1]! : key;
}

/**
 * The broker key a `listener.name.<name>.<rest>` setting stands for: an ssl.* or sasl.* key,
 * connections.max.reauth.ms (also with a mechanism prefix, as `<mechanism>.sasl.jaas.config`), or a
 * connection limit; undefined when it is none of them.
 */
export function listenerSettingKey(rest: string): string | undefined {
  const key = withoutMechanism(rest);
  if (LISTENER_QUOTA_KEYS.has(key)) return key;
  const allowed = key.startsWith("ssl.") || key.startsWith("sasl.") || key === "connections.max.reauth.ms";
  return allowed && KNOWN_KEYS.has(key) ? key : undefined;
}

/** Checks the `listener.name.*` settings with their keys' rules; returns them as given. */
function listenerSettings(inputs: ConfigInputs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of inputs.file ?? []) {
    const o = listenerOverrideKey(k);
    if (o === undefined) continue;
    const key = listenerSettingKey(o.rest);
    if (key === undefined) {
      inputs.warn?.(`config: unknown key ${k} is ignored`);
      continue;
    }
    const why = invalidReason(brokerKey(key)!, v);
    if (why !== undefined) throw new ConfigError(`config: ${k}=${JSON.stringify(v)}: ${why}`);
    out[k] = v.trim();
  }
  return out;
}

/** The known keys the file and flags set, as text; unknown keys are warned about and dropped. */
function givenText(inputs: ConfigInputs): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const [k, v] of inputs.file ?? []) {
    if (listenerOverrideKey(k) !== undefined) continue;
    if (!KNOWN_KEYS.has(k)) inputs.warn?.(`config: unknown key ${k} is ignored`);
    else raw[k] = v;
  }
  if (inputs.nodeId !== undefined) raw["node.id"] = String(inputs.nodeId);
  if (inputs.dataDir !== undefined) {
    if (inputs.dataDir.includes(",")) {
      throw new ConfigError(`--data-dir ${inputs.dataDir}: one directory (log.dirs in --config lists several)`);
    }
    raw["log.dirs"] = inputs.dataDir;
  }
  if (inputs.httpPort !== undefined) {
    const host = inputs.host ?? "127.0.0.1";
    const shown = host.includes(":") ? `[${host}]` : host;
    raw["http.listener"] = inputs.httpPort === "" ? "" : `http://${shown}:${inputs.httpPort}`;
  }
  return raw;
}

/** Kafka's choice of log directories and of the metadata directory, as absolute paths. */
function logDirectories(props: BrokerProperties): { logDirs: string[]; dataDir: string } {
  const logDirs = (props["log.dirs"] ?? props["log.dir"]).split(",").map((d) => resolve(d.trim()));
  const metadataDir = props["metadata.log.dir"];
  return { logDirs, dataDir: metadataDir === undefined ? logDirs[0]! : resolve(metadataDir) };
}

/** Builds the broker config; throws ConfigError naming the offending key. */
export function buildConfig(inputs: ConfigInputs): BrokerConfig {
  const raw = givenText(inputs);
  const parsed = properties.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? "?");
    throw new ConfigError(`config: ${key}=${JSON.stringify(raw[key] ?? "")}: ${issue.message}`);
  }
  const props = parsed.data as BrokerProperties;
  const listeners = resolveListeners({
    listeners: props.listeners,
    advertised: props["advertised.listeners"],
    protocolMap: props["listener.security.protocol.map"],
    interBrokerName: props["inter.broker.listener.name"],
    ...(inputs.host !== undefined ? { host: inputs.host } : {}),
    ...(inputs.port !== undefined ? { port: inputs.port } : {}),
  });
  if (listeners instanceof ListenerProblem) {
    throw new ConfigError(`config: ${listeners.key}=${JSON.stringify(raw[listeners.key] ?? "")}: ${listeners.message}`);
  }
  const first = listeners[0]!;
  const perListener = listenerSettings(inputs);
  return {
    nodeId: props["node.id"],
    listeners,
    listenerSettings: perListener,
    staticListenerSettings: perListener,
    host: first.host,
    port: first.port,
    advertisedHost: first.advertisedHost,
    advertisedPort: first.advertisedPort,
    ...logDirectories(props),
    props,
    staticText: Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.trim()])),
    staticProps: props,
    dynamic: NO_DYNAMIC,
  };
}

/**
 * The config in force once dynamic broker configs apply: per-broker values over cluster-wide defaults
 * over the static ones. A stored value the table does not allow at runtime (left by another version,
 * say) is skipped rather than stopping the broker.
 */
export function withDynamicConfigs(base: BrokerConfig, dynamic: DynamicLayers): BrokerConfig {
  const props: Record<string, unknown> = { ...base.staticProps };
  for (const [key, value] of Object.entries({ ...dynamic.clusterDefault, ...dynamic.perBroker })) {
    const def = brokerKey(key);
    if (def?.dynamic === "cluster-wide" && invalidReason(def, value) === undefined) props[key] = parseValue(def, value);
  }
  const perListener: Record<string, string> = { ...base.staticListenerSettings };
  for (const [name, value] of Object.entries(dynamic.perBroker)) {
    const def = dynamicBrokerKey(name);
    if (def?.listener === true && def.def.dynamic === "per-broker" && invalidReason(def.def, value) === undefined) {
      // The dynamic value replaces the static one however its listener name was written.
      for (const k of Object.keys(perListener)) if (k.toLowerCase() === name.toLowerCase()) delete perListener[k];
      perListener[name] = value.trim();
    }
  }
  return { ...base, props: props as BrokerProperties, listenerSettings: perListener, dynamic };
}

/**
 * The table's key of a dynamic broker config name: the key itself, or (listener: true) the key under a
 * `listener.name.<name>.` prefix; undefined when the table has no such key.
 */
export function dynamicBrokerKey(name: string): { def: BrokerKeyDef; listener: boolean } | undefined {
  const o = listenerOverrideKey(name);
  const key = o === undefined ? name : listenerSettingKey(o.rest);
  const def = key === undefined ? undefined : brokerKey(key);
  return def === undefined ? undefined : { def, listener: o !== undefined };
}

/** The first of a topic config's broker synonyms that has a value, in the topic config's unit. */
function brokerValue(synonyms: readonly string[], props: BrokerProperties): unknown {
  for (const key of synonyms) {
    const value: unknown = props[key as keyof BrokerProperties];
    if (value === undefined) continue;
    const scale = brokerKey(key)!.topic!.scale;
    return typeof value === "number" ? toTopicUnit(value, scale) : value;
  }
  return undefined;
}

/**
 * The log settings a broker config gives topics without their own overrides: every log setting that
 * has broker synonyms, their value or else the topic config's default (so that a removed dynamic value
 * falls back).
 */
export function brokerLogDefaults(config: BrokerConfig): Partial<LogConfig> {
  const out: Record<string, unknown> = {};
  for (const name of TOPIC_KEY_NAMES) {
    const field = topicKey(name)!.log as keyof LogConfig | undefined;
    const synonyms = brokerSynonymsOf(name);
    if (field === undefined || synonyms.length === 0) continue;
    out[field] = brokerValue(synonyms, config.props) ?? DEFAULT_LOG_CONFIG[field];
  }
  return out as Partial<LogConfig>;
}

export function readPropertiesFile(path: string): Map<string, string> {
  try {
    return parseProperties(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError(`config: cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * A listener's value of an ssl.* or sasl.* key as text: its `listener.name.<name>.<key>` setting, else
 * the broker-wide one, else the key's default (undefined when there is none). `key` may carry a
 * mechanism prefix (`plain.sasl.jaas.config`) that the broker-wide key lacks.
 */
export function listenerSetting(config: BrokerConfig, listener: string, key: string): string | undefined {
  const own = (k: string): string | undefined => {
    const prefixed = `listener.name.${listener}.${k}`.toLowerCase();
    for (const [name, v] of Object.entries(config.listenerSettings)) if (name.toLowerCase() === prefixed) return v;
    return undefined;
  };
  const base = withoutMechanism(key);
  return (
    own(key) ??
    (base !== key ? own(base) : undefined) ??
    config.staticText[base] ??
    brokerKey(base)?.default ??
    undefined
  );
}

/**
 * The address clients of `listener` are told (Metadata, DescribeCluster, FindCoordinator): its
 * advertised one; the first listener's when the name is unknown or not given.
 */
export function advertisedAddress(config: BrokerConfig, listener: string | undefined): { host: string; port: number } {
  const l = config.listeners.find((x) => x.name === listener);
  return l === undefined
    ? { host: config.advertisedHost, port: config.advertisedPort }
    : { host: l.advertisedHost, port: l.advertisedPort };
}
