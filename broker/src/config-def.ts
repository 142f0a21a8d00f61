/**
 * How one configuration key is defined, after Kafka's ConfigDef: type, default, valid values,
 * importance and documentation, plus the one set of rules that checks and parses its values. The keys
 * themselves are in config-keys.ts; start-up parsing, DescribeConfigs, AlterConfigs and the log layer
 * all read them through these rules, so that a value means the same everywhere.
 */

/** DescribeConfigs' ConfigType (Kafka's ids). */
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

export type Importance = "high" | "medium" | "low";

/** What every key states; the type and the parser come from the helper that makes the definition. */
export interface KeySpec {
  /** The default as text, as DescribeConfigs shows it and start-up parses it; null when there is none. */
  readonly default: string | null;
  readonly min?: number;
  readonly max?: number;
  /** Allowed values (of each item, for lists). */
  readonly oneOf?: readonly string[];
  /** A rule beyond type and range (this broker's own limits): why a trimmed value is refused. */
  readonly check?: (value: string) => string | undefined;
  readonly importance: Importance;
  /** What the key does, in a sentence or two. */
  readonly doc: string;
}

export interface KeyDef<T = unknown> extends KeySpec {
  readonly type: ConfigType;
  /** Turns a valid (trimmed) value into what the broker uses. */
  readonly parse: (value: string) => T;
}

/** What a key's values parse to: undefined too when the key has no default. */
export type ValueOf<D> = D extends { readonly parse: (value: string) => infer T }
  ? D extends { readonly default: null }
    ? T | undefined
    : T
  : never;

const toNumber = (v: string): number => Number(v);
const listItems = (v: string): string[] => (v === "" ? [] : v.split(",").map((s) => s.trim()));

export const int = <const S extends KeySpec>(spec: S) => ({ ...spec, type: ConfigType.INT, parse: toNumber });
export const long = <const S extends KeySpec>(spec: S) => ({ ...spec, type: ConfigType.LONG, parse: toNumber });
export const double = <const S extends KeySpec>(spec: S) => ({ ...spec, type: ConfigType.DOUBLE, parse: toNumber });
export const bool = <const S extends KeySpec>(spec: S) => ({
  ...spec,
  type: ConfigType.BOOLEAN,
  parse: (v: string) => v.toLowerCase() === "true",
});
export const string = <const S extends KeySpec>(spec: S) => ({
  ...spec,
  type: ConfigType.STRING,
  parse: (v: string) => v,
});
/** A Java class name (Kafka's CLASS type); the broker checks which ones it implements. */
export const className = <const S extends KeySpec>(spec: S) => ({
  ...spec,
  type: ConfigType.CLASS,
  parse: (v: string) => v,
});
/** A secret (a password, a key, a JAAS text): DescribeConfigs marks it sensitive and never shows it. */
export const password = <const S extends KeySpec>(spec: S) => ({
  ...spec,
  type: ConfigType.PASSWORD,
  parse: (v: string) => v,
});
/** A string that must be one of `oneOf`; it parses to that union. */
export const choice = <const S extends KeySpec & { readonly oneOf: readonly string[] }>(spec: S) => ({
  ...spec,
  type: ConfigType.STRING,
  parse: (v: string) => v as S["oneOf"][number],
});
/** A comma-separated list; it parses to its items, trimmed, joined by commas. */
export const list = <const S extends KeySpec>(spec: S) => ({
  ...spec,
  type: ConfigType.LIST,
  parse: (v: string) => listItems(v).join(","),
});

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;

function parseLong(v: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = BigInt(v);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

/** Kafka's Range validator's words (the bound that is crossed, also when there are two). */
function outOfRange(def: KeySpec, n: number | bigint): string | undefined {
  const { min, max } = def;
  if (min !== undefined && n < min) return `Value must be at least ${min}`;
  if (max !== undefined && n > max) return `Value must be no more than ${max}`;
  return undefined;
}

function notOneOf(def: KeySpec, values: readonly string[]): string | undefined {
  const allowed = def.oneOf;
  if (allowed === undefined || values.every((v) => allowed.includes(v))) return undefined;
  return `String must be one of: ${allowed.join(", ")}`;
}

/** Why a trimmed value does not fit the key's type, range or allowed values, in Kafka's words. */
function typeProblem(def: KeyDef, v: string): string | undefined {
  switch (def.type) {
    case ConfigType.INT: {
      const n = parseLong(v);
      if (n === undefined || n < INT_MIN || n > INT_MAX) return "Not a number of type INT";
      return outOfRange(def, n);
    }
    case ConfigType.LONG: {
      const n = parseLong(v);
      return n === undefined ? "Not a number of type LONG" : outOfRange(def, n);
    }
    case ConfigType.DOUBLE: {
      const n = Number(v);
      return v === "" || !Number.isFinite(n) ? "Not a number of type DOUBLE" : outOfRange(def, n);
    }
    case ConfigType.BOOLEAN:
      return /^(true|false)$/i.test(v) ? undefined : "Expected value to be either true or false";
    case ConfigType.LIST:
      return notOneOf(def, listItems(v));
    default:
      return notOneOf(def, [v]);
  }
}

/** Why `value` is refused for the key (Kafka trims values first), or undefined when it is good. */
export function invalidReason(def: KeyDef, value: string): string | undefined {
  const v = value.trim();
  return typeProblem(def, v) ?? def.check?.(v);
}

/** Kafka's ConfigException message for a refused value, or undefined when it is good. */
export function invalidValueMessage(name: string, def: KeyDef, value: string): string | undefined {
  const why = invalidReason(def, value);
  return why === undefined ? undefined : `Invalid value ${value} for configuration ${name}: ${why}`;
}

/** The value a valid text stands for. */
export function parseValue<T>(def: KeyDef<T>, value: string): T {
  return def.parse(value.trim());
}

/** The key's default as the broker uses it, or undefined when it has none. */
export function defaultValue<T>(def: KeyDef<T>): T | undefined {
  return def.default === null ? undefined : parseValue(def, def.default);
}
