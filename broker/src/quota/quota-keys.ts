import type { QuotaEntity } from "../cluster/metadata.js";

/** The quota keys Kafka 4.4 knows (QuotaConfig), with the type that decides which values are valid. */
export const QUOTA_KEY_TYPES = {
  producer_byte_rate: "long",
  consumer_byte_rate: "long",
  request_percentage: "double",
  controller_mutation_rate: "double",
  connection_creation_rate: "int",
} as const;
export type QuotaKey = keyof typeof QUOTA_KEY_TYPES;

/** QuotaConfig.userAndClientQuotaConfigs(): what a user and/or client-id entity may have. */
const USER_AND_CLIENT_KEYS: readonly QuotaKey[] = [
  "producer_byte_rate",
  "consumer_byte_rate",
  "request_percentage",
  "controller_mutation_rate",
];
/** QuotaConfig.ipConfigs(). */
const IP_KEYS: readonly QuotaKey[] = ["connection_creation_rate"];

export const ENTITY_TYPES: ReadonlySet<string> = new Set(["user", "client-id", "ip"]);

/** Why an IP entity name is refused (Kafka resolves it with InetAddress.getByName: an address or a host name). */
function invalidIp(name: string | null | undefined): boolean {
  if (name === null || name === undefined) return false;
  return !/^[0-9A-Za-z.:%_-]+$/.test(name) || name.startsWith("-");
}

/**
 * Kafka's controller checks of one entity's changes (ClientQuotaControlManager): the entity, then each key
 * set, in request order; the first problem is the entity's INVALID_REQUEST message, undefined when it is good.
 */
export function quotaChangeProblem(
  entity: QuotaEntity,
  set: readonly { key: string; value: number }[],
): string | undefined {
  const types = Object.keys(entity);
  if (types.length === 0) return "Invalid empty client quota entity";
  for (const t of types) {
    if (!ENTITY_TYPES.has(t)) return `Unhandled client quota entity type: ${t}`;
    if (entity[t as keyof QuotaEntity] === "") return `Empty ${t} not supported`;
  }
  let keys: readonly QuotaKey[];
  if ("ip" in entity) {
    if ("user" in entity || "client-id" in entity)
      return "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId";
    if (invalidIp(entity.ip)) return `${entity.ip} is not a valid IP or resolvable host.`;
    keys = IP_KEYS;
  } else {
    keys = USER_AND_CLIENT_KEYS;
  }
  for (const { key, value } of set) {
    const problem = valueProblem(keys, key, value);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function valueProblem(keys: readonly QuotaKey[], key: string, value: number): string | undefined {
  if (!keys.includes(key as QuotaKey)) return `Invalid configuration key ${key}`;
  if (!(value > 0)) return `Quota ${key} must be greater than 0`;
  const type = QUOTA_KEY_TYPES[key as QuotaKey];
  if (type === "double") return undefined;
  if (type === "int" && value > 2 ** 31 - 1) return `Proposed value for ${key} is too large for an INT.`;
  if (type === "long" && value > 2 ** 63 - 1) return `Proposed value for ${key} is too large for a LONG.`;
  return Math.abs(value % 1) > 1e-6 ? `${key} cannot be a fractional value.` : undefined;
}
