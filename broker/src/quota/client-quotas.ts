import type { ClientQuotaEntry } from "../cluster/metadata.js";
import type { RequestPrincipal } from "../security/authorizer.js";
import { SampledRate, throttleTimeMs } from "./rate.js";

/** Which levels have quotas of a kind (Kafka's quotaTypesEnabled bits). */
const CLIENT_ID_LEVEL = 1;
const USER_LEVEL = 2;
const USER_CLIENT_ID_LEVEL = 4;

/** An entity's part: absent, the default (`<default>`), or a name. */
type Part = string | null | undefined;
const partKey = (p: Part): string => (p === undefined ? "\u0001" : p === null ? "\u0002" : `=${p}`);
const levelKey = (user: Part, clientId: Part): string => `${partKey(user)}/${partKey(clientId)}`;

/** The user of a session as quotas name it: its principal without `User:`. */
export function quotaUser(who: RequestPrincipal): string {
  const p = who.principal;
  return p.startsWith("User:") ? p.slice(5) : p;
}

/**
 * One kind of client quota (a key such as producer_byte_rate), enforced as Kafka's ClientQuotaManager with
 * its default callback: a client's usage is kept per quota id, the (user, client-id) pair cut down to the
 * levels that have quotas, and its limit is the most specific quota that applies, in Kafka's order:
 * /users/<u>/clients/<c>, /users/<u>/clients/<default>, /users/<u>, /users/<default>/clients/<c>,
 * /users/<default>/clients/<default>, /users/<default>, /clients/<c>, /clients/<default>.
 */
export class ClientQuota {
  private limits = new Map<string, number>();
  private levels = 0;
  private readonly usage = new Map<string, SampledRate>();
  private lastSweep = 0;

  constructor(
    readonly key: string,
    private readonly samples: number,
    private readonly windowMs: number,
    /** The longest throttle (the request quota's is one window, as Kafka's); none for byte rates. */
    private readonly maxThrottleMs = Infinity,
  ) {}

  /** Takes the quotas of this kind from the cluster's entries. */
  update(entries: readonly ClientQuotaEntry[]): void {
    const limits = new Map<string, number>();
    let levels = 0;
    for (const { entity, values } of entries) {
      const value = values[this.key];
      if (value === undefined || "ip" in entity) continue;
      const hasUser = "user" in entity;
      const hasClient = "client-id" in entity;
      limits.set(levelKey(entity.user, entity["client-id"]), value);
      levels |= hasUser && hasClient ? USER_CLIENT_ID_LEVEL : hasUser ? USER_LEVEL : CLIENT_ID_LEVEL;
    }
    this.limits = limits;
    this.levels = levels;
  }

  get enabled(): boolean {
    return this.levels !== 0;
  }

  /** Records `value` for the client; answers how long to throttle it (0: within its quota). */
  record(who: RequestPrincipal, clientId: string | null, value: number, now = Date.now()): number {
    if (!this.enabled) return 0;
    const [user, client] = this.quotaId(quotaUser(who), clientId ?? "");
    const rate = this.rateOf(user, client, now);
    rate.record(value, now);
    const limit = this.limit(user, client);
    return limit === undefined ? 0 : throttleTimeMs(rate, limit, now, this.maxThrottleMs);
  }

  /** Takes back what `record` added (a throttled fetch sends nothing). */
  unrecord(who: RequestPrincipal, clientId: string | null, value: number, now = Date.now()): void {
    if (!this.enabled) return;
    const [user, client] = this.quotaId(quotaUser(who), clientId ?? "");
    this.rateOf(user, client, now).record(-value, now);
  }

  /** Kafka's maxValueInQuotaWindow: the most one request may take before it is surely throttled. */
  maxValueInWindow(who: RequestPrincipal, clientId: string | null): number {
    if (!this.enabled) return Infinity;
    const limit = this.limit(...this.quotaId(quotaUser(who), clientId ?? ""));
    return limit === undefined ? Infinity : (limit * (this.samples - 1) * this.windowMs) / 1000;
  }

  /** The quota id (Kafka's metric tags) of a client: "" for a level cut away. */
  private quotaId(user: string, clientId: string): [string, string] {
    switch (this.levels) {
      case CLIENT_ID_LEVEL:
        return ["", clientId];
      case USER_LEVEL:
        return [user, ""];
      case USER_CLIENT_ID_LEVEL:
        return [user, clientId];
    }
    const has = (u: Part, c: Part): boolean => this.limits.has(levelKey(u, c));
    if (has(user, clientId) || has(user, null)) return [user, clientId];
    if (has(user, undefined)) return [user, ""];
    if (has(null, clientId) || has(null, null)) return [user, clientId];
    if (has(null, undefined)) return [user, ""];
    return ["", clientId];
  }

  /** The quota that applies to a quota id, most specific first (Kafka's DefaultQuotaCallback.quotaLimit). */
  private limit(user: string, clientId: string): number | undefined {
    const get = (u: Part, c: Part): number | undefined => this.limits.get(levelKey(u, c));
    if (user !== "" && clientId !== "")
      return get(user, clientId) ?? get(user, null) ?? get(null, clientId) ?? get(null, null);
    if (user !== "") return get(user, undefined) ?? get(null, undefined);
    if (clientId !== "") return get(undefined, clientId) ?? get(undefined, null);
    return undefined;
  }

  private rateOf(user: string, clientId: string, now: number): SampledRate {
    this.sweep(now);
    const id = `${user}\u0000${clientId}`;
    let rate = this.usage.get(id);
    if (rate === undefined) this.usage.set(id, (rate = new SampledRate(this.samples, this.windowMs)));
    return rate;
  }

  /** Forgets clients idle for a whole window, now and then (Kafka expires their sensors after an hour). */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.samples * this.windowMs) return;
    this.lastSweep = now;
    for (const [id, rate] of this.usage) if (rate.idle(now)) this.usage.delete(id);
  }
}

/** 100% is one thread busy all the time: a millisecond of handling counts 0.1 percent-seconds. */
const PERCENT_PER_MS = 100 / 1000;

/**
 * The client quotas of the broker (Kafka's produce, fetch and request ClientQuotaManagers), following
 * the cluster's quotas as they change. Produce counts request bytes, fetch response bytes, request the
 * time spent handling requests (request_percentage: 100 is one thread's worth per window).
 */
export class ClientQuotas {
  readonly produce: ClientQuota;
  readonly fetch: ClientQuota;
  private readonly request: ClientQuota;

  constructor(samples: number, windowSeconds: number) {
    const windowMs = windowSeconds * 1000;
    this.produce = new ClientQuota("producer_byte_rate", samples, windowMs);
    this.fetch = new ClientQuota("consumer_byte_rate", samples, windowMs);
    this.request = new ClientQuota("request_percentage", samples, windowMs, windowMs);
  }

  update(entries: readonly ClientQuotaEntry[]): void {
    this.produce.update(entries);
    this.fetch.update(entries);
    this.request.update(entries);
  }

  /** Records the time a request took to handle; answers how long to throttle the client. */
  recordRequestTime(who: RequestPrincipal, clientId: string | null, ms: number): number {
    return this.request.record(who, clientId, ms * PERCENT_PER_MS);
  }
}
