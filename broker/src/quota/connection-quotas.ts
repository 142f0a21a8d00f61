import type { ClientQuotaEntry } from "../cluster/metadata.js";
import type { BrokerConfig } from "../config.js";
import { parseIpOverrides } from "../config-quota-keys.js";
import { SampledRate } from "./rate.js";

/** The value of a connection limit for a listener: its listener.name.<l>.<key> setting, else the broker's. */
function listenerLimit(
  config: BrokerConfig,
  listener: string,
  key: "max.connections" | "max.connection.creation.rate",
) {
  const own = `listener.name.${listener}.${key}`.toLowerCase();
  for (const [k, v] of Object.entries(config.listenerSettings)) if (k.toLowerCase() === own) return Number(v);
  return undefined;
}

/**
 * Kafka's ConnectionQuotas: how many connections are open, broker-wide, per listener and per IP address,
 * and how fast they are made, against max.connections (and its per-listener form), max.connections.per.ip
 * (and its overrides), max.connection.creation.rate (and its per-listener form) and the ip entities'
 * connection_creation_rate quota (the default ip entity for addresses without their own). The keys are
 * read at each new connection, so dynamic changes apply to the next one. Unlike Kafka, which makes a
 * client over the broker or listener limits wait, every refusal here is a close at once.
 */
export class ConnectionQuotas {
  private total = 0;
  private readonly perListener = new Map<string, number>();
  private readonly perIp = new Map<string, number>();
  private readonly rates = new Map<string, SampledRate>();
  private ipRates = new Map<string | null, number>();
  private lastSweep = 0;

  constructor(
    private readonly config: () => BrokerConfig,
    private readonly samples: number,
    private readonly windowMs: number,
  ) {}

  /** Takes the ip entities' connection_creation_rate from the cluster's quotas. */
  update(entries: readonly ClientQuotaEntry[]): void {
    const rates = new Map<string | null, number>();
    for (const { entity, values } of entries) {
      const rate = values.connection_creation_rate;
      if ("ip" in entity && rate !== undefined) rates.set(entity.ip ?? null, rate);
    }
    this.ipRates = rates;
  }

  /** Counts a new connection, or answers why it is refused (then nothing is counted). */
  admit(listener: string, ip: string, now = Date.now()): string | undefined {
    const why = this.refusal(listener, ip, now);
    if (why !== undefined) return why;
    this.total++;
    this.perListener.set(listener, (this.perListener.get(listener) ?? 0) + 1);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    return undefined;
  }

  /** A counted connection closed. */
  release(listener: string, ip: string): void {
    this.total--;
    decrement(this.perListener, listener);
    decrement(this.perIp, ip);
  }

  private refusal(listener: string, ip: string, now: number): string | undefined {
    const config = this.config();
    const p = config.props;
    if (this.total >= p["max.connections"])
      return `the broker has the configured maximum of ${p["max.connections"]} connections (max.connections)`;
    const listenerMax = listenerLimit(config, listener, "max.connections");
    if (listenerMax !== undefined && (this.perListener.get(listener) ?? 0) >= listenerMax)
      return `listener ${listener} has the configured maximum of ${listenerMax} connections`;
    const ipMax = parseIpOverrides(p["max.connections.per.ip.overrides"]).get(ip) ?? p["max.connections.per.ip"];
    if ((this.perIp.get(ip) ?? 0) >= ipMax)
      return `address already has the configured maximum of ${ipMax} connections (max.connections.per.ip)`;
    return (
      this.overRate("", p["max.connection.creation.rate"], now, "max.connection.creation.rate") ??
      this.overRate(`L${listener}`, listenerLimit(config, listener, "max.connection.creation.rate"), now, "listener") ??
      this.overRate(`I${ip}`, this.ipRates.get(ip) ?? this.ipRates.get(null), now, "connection_creation_rate")
    );
  }

  /** Records one connection on the rate `id`; why it is refused when that goes over `limit` per second. */
  private overRate(id: string, limit: number | undefined, now: number, name: string): string | undefined {
    if (limit === undefined || limit >= 2 ** 31 - 1) return undefined;
    this.sweep(now);
    let rate = this.rates.get(id);
    if (rate === undefined) this.rates.set(id, (rate = new SampledRate(this.samples, this.windowMs)));
    rate.record(1, now);
    const measured = rate.measure(now);
    if (measured <= limit) return undefined;
    return `connection rate ${measured.toFixed(2)}/s is over ${limit}/s (${name})`;
  }

  /** Forgets the rates of addresses that made no connection for a whole window, now and then. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.samples * this.windowMs) return;
    this.lastSweep = now;
    for (const [id, rate] of this.rates) if (rate.idle(now)) this.rates.delete(id);
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
