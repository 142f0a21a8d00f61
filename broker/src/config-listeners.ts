/**
 * Listeners as Kafka configures them: `listeners=NAME://host:port,...`, the security protocol of each
 * name from `listener.security.protocol.map`, the addresses clients are told from
 * `advertised.listeners`, and per-listener settings `listener.name.<name>.<key>` over the broker-wide
 * `<key>`. Parsing here is pure; config.ts turns its complaints into start-up errors naming the key.
 */

export const SECURITY_PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

export interface ListenerAddress {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/** One listener as the broker runs it. */
export interface ListenerConfig {
  readonly name: string;
  readonly protocol: SecurityProtocol;
  /** Where it binds ("0.0.0.0" for an empty host) and the address Metadata gives its clients. */
  readonly host: string;
  readonly port: number;
  readonly advertisedHost: string;
  readonly advertisedPort: number;
}

const ONE = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:,\s]*):(\d+)$/;

/** The listeners of a `listeners`-style list, or why the text is not one. */
export function parseListenerList(value: string): ListenerAddress[] | string {
  const out: ListenerAddress[] = [];
  for (const item of value.split(",").map((s) => s.trim())) {
    const m = ONE.exec(item);
    if (m === null) return `"${item}" is not a listener such as PLAINTEXT://127.0.0.1:9092`;
    const port = Number(m[3]);
    if (port > 65535) return `port ${port} is out of range`;
    const name = m[1]!.toUpperCase();
    if (out.some((l) => l.name === name)) return `listener name ${name} appears twice`;
    out.push({ name, host: m[2]!.replace(/^\[(.*)\]$/, "$1"), port });
  }
  return out;
}

/** The validator of `listeners` (`needHost`: advertised addresses must name a host). */
export const listenerList =
  (needHost: boolean) =>
  (value: string): string | undefined => {
    const parsed = parseListenerList(value);
    if (typeof parsed === "string") return parsed;
    if (needHost && parsed.some((l) => l.host === "" || l.host === "0.0.0.0"))
      return "an advertised listener must name a host";
    return undefined;
  };

/** `listener.security.protocol.map`: NAME:PROTOCOL pairs. */
export function parseProtocolMap(value: string): Map<string, SecurityProtocol> | string {
  const out = new Map<string, SecurityProtocol>();
  for (const item of value.split(",").map((s) => s.trim())) {
    if (item === "") continue;
    const [name, protocol, ...rest] = item.split(":").map((s) => s.trim());
    const p = protocol?.toUpperCase() as SecurityProtocol;
    if (rest.length > 0 || !name || !SECURITY_PROTOCOLS.includes(p))
      return `"${item}" is not NAME:PROTOCOL with a protocol of ${SECURITY_PROTOCOLS.join(", ")}`;
    out.set(name.toUpperCase(), p);
  }
  return out;
}

export function protocolMapCheck(value: string): string | undefined {
  const parsed = parseProtocolMap(value);
  return typeof parsed === "string" ? parsed : undefined;
}

/** A listener problem: the key to name and why. */
export class ListenerProblem {
  constructor(
    readonly key: string,
    readonly message: string,
  ) {}
}

export interface ListenerInputs {
  readonly listeners: string;
  readonly advertised: string | undefined;
  readonly protocolMap: string;
  readonly interBrokerName: string | undefined;
  /** --host / --port: they set the first listener's address. */
  readonly host?: string;
  readonly port?: number;
}

/** The listeners to run, or the first problem found. */
export function resolveListeners(inputs: ListenerInputs): ListenerConfig[] | ListenerProblem {
  const bound = parseListenerList(inputs.listeners);
  if (typeof bound === "string") return new ListenerProblem("listeners", bound);
  const map = parseProtocolMap(inputs.protocolMap);
  if (typeof map === "string") return new ListenerProblem("listener.security.protocol.map", map);
  const adv = inputs.advertised === undefined ? [] : parseListenerList(inputs.advertised);
  if (typeof adv === "string") return new ListenerProblem("advertised.listeners", adv);
  const out: ListenerConfig[] = [];
  for (const [i, l] of bound.entries()) {
    const protocol = map.get(l.name);
    if (protocol === undefined)
      return new ListenerProblem("listener.security.protocol.map", `no security protocol for listener ${l.name}`);
    const first = i === 0;
    const hostGiven = first && inputs.host !== undefined ? inputs.host : l.host;
    const host = hostGiven === "" ? "0.0.0.0" : hostGiven;
    const port = first && inputs.port !== undefined ? inputs.port : l.port;
    if (port > 65535) return new ListenerProblem("listeners", `port ${port} is out of range`);
    const a = adv.find((x) => x.name === l.name);
    const wildcard = host === "0.0.0.0" || host === "::";
    out.push({
      name: l.name,
      protocol,
      host,
      port,
      advertisedHost: a?.host ?? (wildcard ? "127.0.0.1" : host),
      advertisedPort: a?.port ?? port,
    });
  }
  return crossChecks(out, adv, inputs.interBrokerName) ?? out;
}

function crossChecks(
  listeners: readonly ListenerConfig[],
  advertised: readonly ListenerAddress[],
  interBroker: string | undefined,
): ListenerProblem | undefined {
  const unknown = advertised.find((a) => !listeners.some((l) => l.name === a.name));
  if (unknown !== undefined)
    return new ListenerProblem("advertised.listeners", `listener ${unknown.name} is not one of listeners`);
  const ports = new Set<number>();
  for (const l of listeners) {
    if (l.port !== 0 && ports.has(l.port)) return new ListenerProblem("listeners", `port ${l.port} is used twice`);
    ports.add(l.port);
  }
  if (interBroker !== undefined && !listeners.some((l) => l.name === interBroker.toUpperCase()))
    return new ListenerProblem("inter.broker.listener.name", `listener ${interBroker} is not one of listeners`);
  return undefined;
}

/** `listener.name.<name>.<rest>` split, the name upper-cased; undefined for other keys. */
export function listenerOverrideKey(key: string): { listener: string; rest: string } | undefined {
  const m = /^listener\.name\.([A-Za-z0-9_]+)\.(.+)$/.exec(key);
  return m === null ? undefined : { listener: m[1]!.toUpperCase(), rest: m[2]! };
}
