import { int, string } from "./config-def.js";

/** Kafka's max.connections.per.ip.overrides: `host:count` pairs, comma-separated. */
export function parseIpOverrides(value: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of value.split(",")) {
    const pair = item.trim();
    if (pair === "") continue;
    const at = pair.lastIndexOf(":");
    const count = Number(pair.slice(at + 1));
    if (at <= 0 || !/^\d+$/.test(pair.slice(at + 1).trim()) || count > 2 ** 31 - 1)
      throw new Error(`${pair} is not host:count`);
    out.set(pair.slice(0, at).trim(), count);
  }
  return out;
}

function overridesProblem(value: string): string | undefined {
  try {
    parseIpOverrides(value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const INT_MAX = String(2 ** 31 - 1);
const connections = { importance: "medium", dynamic: "cluster-wide", appliedIn: "connection limits" } as const;

/**
 * Kafka's quota keys of server.properties: the sampling of client quota rates (the quotas themselves are
 * cluster metadata, set with AlterClientQuotas) and the connection limits (Kafka's ConnectionQuotas).
 * `max.connections` and `max.connection.creation.rate` may also be given per listener as
 * `listener.name.<name>.<key>`.
 */
export const QUOTA_KEYS = {
  "quota.window.num": int({
    default: "11",
    min: 1,
    importance: "low",
    doc: "Samples a client quota's rate is measured over.",
    dynamic: "read-only",
    appliedIn: "client quotas",
  }),
  "quota.window.size.seconds": int({
    default: "1",
    min: 1,
    importance: "low",
    doc: "Length of each sample of a client quota's rate, in seconds; also the longest request-quota throttle.",
    dynamic: "read-only",
    appliedIn: "client quotas",
  }),
  "max.connections": int({
    default: INT_MAX,
    min: 0,
    doc: "Most connections the broker keeps open (listener.name.<l>.max.connections for one listener); one more is closed at once.",
    ...connections,
  }),
  "max.connections.per.ip": int({
    default: INT_MAX,
    min: 0,
    doc: "Most connections from one IP address; one more is closed at once.",
    ...connections,
  }),
  "max.connections.per.ip.overrides": string({
    default: "",
    check: overridesProblem,
    doc: "Per-IP (or host name) limits over max.connections.per.ip, as host:count pairs, comma-separated.",
    ...connections,
  }),
  "max.connection.creation.rate": int({
    default: INT_MAX,
    min: 0,
    doc: "Most new connections per second the broker accepts (per listener as listener.name.<l>.max.connection.creation.rate); one more is closed at once.",
    ...connections,
  }),
} as const;

/** The keys that may also be given per listener (`listener.name.<name>.<key>`). */
export const LISTENER_QUOTA_KEYS: ReadonlySet<string> = new Set(["max.connections", "max.connection.creation.rate"]);
