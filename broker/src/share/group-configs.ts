import { ConfigType } from "../config-def.js";
import type { BrokerConfig } from "../config.js";
import type { ConfigEntry } from "../cluster/config-catalog.js";

/**
 * Group configs (the GROUP resource of DescribeConfigs and IncrementalAlterConfigs, KIP-848/932/1071):
 * streams groups use `streams.session.timeout.ms`, `streams.heartbeat.interval.ms` and
 * `streams.num.standby.replicas` (each within the broker's group.streams.* bounds); share groups use `share.auto.offset.reset` (where a share-partition starts when it has no state:
 * latest, earliest, or by_duration:<ISO-8601 duration>, the first record no older than that) and `share.record.lock.duration.ms` (within the
 * broker's group.share.min/max.record.lock.duration.ms). They are kept per group in the cluster metadata.
 */

export const GROUP_RESOURCE = 32;
/** DescribeConfigs' ConfigSource for a value set on the group. */
const GROUP_CONFIG_SOURCE = 8;
const DEFAULT_CONFIG_SOURCE = 5;

interface GroupKey {
  readonly type: ConfigType;
  readonly doc: string;
  readonly default: (c: BrokerConfig) => string;
  readonly check: (value: string, c: BrokerConfig) => string | undefined;
}

/** An ISO-8601 duration of days, hours, minutes and seconds (PnDTnHnMn.nS) in milliseconds. */
export function durationMs(text: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (m === null) return undefined;
  const [, d, h, min, sec] = m;
  return (
    ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Math.round(Number(sec ?? 0) * 1000)
  );
}

/** An int group config whose default is a broker key, within broker-set bounds (a bound key, or a number). */
function boundedInt(
  name: string,
  doc: string,
  defaultKey: keyof BrokerConfig["props"],
  min: keyof BrokerConfig["props"] | number,
  max: keyof BrokerConfig["props"],
): GroupKey {
  const bound = (b: keyof BrokerConfig["props"] | number, c: BrokerConfig) =>
    typeof b === "number" ? b : Number(c.props[b]);
  return {
    type: ConfigType.INT,
    doc,
    default: (c) => String(c.props[defaultKey]),
    check: (v, c) => {
      const n = Number(v);
      if (!/^-?\d+$/.test(v)) return `Invalid value ${v} for configuration ${name}: Not a number of type INT`;
      const [lo, hi] = [bound(min, c), bound(max, c)];
      // Kafka 4.4's words: a range between two broker keys, else the bound crossed.
      if (typeof min !== "number" && (n < lo || n > hi))
        return `${name} must be in the range ${lo} to ${hi} inclusive.`;
      if (n < lo) return `${name} must be greater than or equal to ${lo}`;
      if (n > hi) return `${name} must be less than or equal to ${hi}`;
      return undefined;
    },
  };
}

const GROUP_KEYS: Readonly<Record<string, GroupKey>> = {
  "share.auto.offset.reset": {
    type: ConfigType.STRING,
    doc: "Where a share-partition without state starts: latest, earliest or by_duration:<duration>.",
    default: () => "latest",
    check: (v) =>
      v === "latest" || v === "earliest" || (v.startsWith("by_duration:") && durationMs(v.slice(12)) !== undefined)
        ? undefined
        : `Invalid value ${v} for configuration share.auto.offset.reset: must be latest, earliest or by_duration:<ISO-8601 duration>`,
  },
  "share.record.lock.duration.ms": {
    type: ConfigType.INT,
    doc: "How long a member holds the records it acquired.",
    default: (c) => String(c.props["group.share.record.lock.duration.ms"]),
    check: (v, c) => {
      const n = Number(v);
      const min = c.props["group.share.min.record.lock.duration.ms"];
      const max = c.props["group.share.max.record.lock.duration.ms"];
      if (!/^-?\d+$/.test(v))
        return `Invalid value ${v} for configuration share.record.lock.duration.ms: Not a number of type INT`;
      if (n < min) return `share.record.lock.duration.ms must be greater than or equal to ${min}`;
      if (n > max) return `share.record.lock.duration.ms must be less than or equal to ${max}`;
      return undefined;
    },
  },
  "streams.session.timeout.ms": boundedInt(
    "streams.session.timeout.ms",
    "Session timeout of the streams group's members.",
    "group.streams.session.timeout.ms",
    "group.streams.min.session.timeout.ms",
    "group.streams.max.session.timeout.ms",
  ),
  "streams.heartbeat.interval.ms": boundedInt(
    "streams.heartbeat.interval.ms",
    "Heartbeat interval given to the streams group's members.",
    "group.streams.heartbeat.interval.ms",
    "group.streams.min.heartbeat.interval.ms",
    "group.streams.max.heartbeat.interval.ms",
  ),
  "streams.num.standby.replicas": boundedInt(
    "streams.num.standby.replicas",
    "Standby tasks per stateful task of the streams group.",
    "group.streams.num.standby.replicas",
    0,
    "group.streams.max.standby.replicas",
  ),
};

/** Why these group configs cannot be set, or undefined. */
export function invalidGroupConfigs(
  configs: Readonly<Record<string, string | null>>,
  c: BrokerConfig,
): string | undefined {
  for (const [name, value] of Object.entries(configs)) {
    const key = GROUP_KEYS[name];
    if (key === undefined) return `Unknown group config name: ${name}`;
    const why = key.check((value ?? "").trim(), c);
    if (why !== undefined) return why;
  }
  return undefined;
}

/** Every group config with its value: the group's own, else the broker's default. */
export function describeGroupConfigs(set: Readonly<Record<string, string>>, c: BrokerConfig): ConfigEntry[] {
  return Object.entries(GROUP_KEYS).map(([name, key]) => {
    const own = set[name];
    const value = own ?? key.default(c);
    return {
      name,
      value,
      source: own === undefined ? DEFAULT_CONFIG_SOURCE : GROUP_CONFIG_SOURCE,
      readOnly: false,
      sensitive: false,
      type: key.type,
      doc: key.doc,
      synonyms: [],
    } as ConfigEntry;
  });
}

/** The value of group config `name` for a group with these configs. */
export function groupConfig(set: Readonly<Record<string, string>>, name: string, c: BrokerConfig): string {
  return set[name] ?? GROUP_KEYS[name]!.default(c);
}
