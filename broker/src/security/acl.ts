/**
 * Access control entries as Kafka's wire protocol carries them (CreateAcls, DescribeAcls, DeleteAcls):
 * the numeric codes are Kafka's (org.apache.kafka.common.resource.ResourceType, acl.AclOperation,
 * acl.AclPermissionType, resource.PatternType), so they pass between the codecs and the authorizer as is.
 */

export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;
export type ResourceTypeCode = (typeof ResourceType)[keyof typeof ResourceType];

export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
  TWO_PHASE_COMMIT: 15,
} as const;
export type AclOperationCode = (typeof AclOperation)[keyof typeof AclOperation];

export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export type PatternTypeCode = (typeof PatternType)[keyof typeof PatternType];

export const AclPermission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;
export type AclPermissionCode = (typeof AclPermission)[keyof typeof AclPermission];

/** The name of the one cluster resource. */
export const CLUSTER_RESOURCE = "kafka-cluster";
/** The resource name and the principal/host that match every one in a literal binding. */
export const WILDCARD = "*";

/** One stored ACL: a concrete resource pattern (LITERAL or PREFIXED) and a concrete entry. */
export interface AclBinding {
  readonly resourceType: ResourceTypeCode;
  readonly resourceName: string;
  readonly patternType: typeof PatternType.LITERAL | typeof PatternType.PREFIXED;
  /** `User:<name>`, or `User:*`. */
  readonly principal: string;
  /** An IP address, or `*`. */
  readonly host: string;
  readonly operation: AclOperationCode;
  readonly permission: typeof AclPermission.ALLOW | typeof AclPermission.DENY;
}

/**
 * What DescribeAcls and DeleteAcls select with: null strings and ANY codes match anything; pattern
 * type MATCH selects the bindings that would apply to the named resource (literal, wildcard, prefixes).
 */
export interface AclBindingFilter {
  readonly resourceType: ResourceTypeCode;
  readonly resourceName: string | null;
  readonly patternType: PatternTypeCode;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: AclOperationCode;
  readonly permission: AclPermissionCode;
}

const bits = (ops: readonly AclOperationCode[]): number => ops.reduce<number>((set, op) => set | (1 << op), 0);
const op = AclOperation;

/**
 * The operations each resource type has (Kafka's AclEntry.supportedOperations), as an authorized-operations
 * bit set: what a resource reports when no authorizer is configured, and the bits an authorizer checks.
 */
export const SUPPORTED_OPERATIONS: Readonly<Partial<Record<ResourceTypeCode, number>>> = {
  [ResourceType.TOPIC]: bits([
    op.READ,
    op.WRITE,
    op.CREATE,
    op.DESCRIBE,
    op.DELETE,
    op.ALTER,
    op.DESCRIBE_CONFIGS,
    op.ALTER_CONFIGS,
  ]),
  [ResourceType.GROUP]: bits([op.READ, op.DESCRIBE, op.DELETE, op.DESCRIBE_CONFIGS, op.ALTER_CONFIGS]),
  [ResourceType.CLUSTER]: bits([
    op.CREATE,
    op.CLUSTER_ACTION,
    op.DESCRIBE_CONFIGS,
    op.ALTER_CONFIGS,
    op.IDEMPOTENT_WRITE,
    op.ALTER,
    op.DESCRIBE,
  ]),
  [ResourceType.TRANSACTIONAL_ID]: bits([op.DESCRIBE, op.WRITE, op.TWO_PHASE_COMMIT]),
  [ResourceType.DELEGATION_TOKEN]: bits([op.DESCRIBE]),
  [ResourceType.USER]: bits([op.CREATE_TOKENS, op.DESCRIBE_TOKENS]),
};

/** Kafka's enum name of a code (`UNKNOWN` for a code the table lacks, as Kafka's fromCode maps it). */
export function codeName(table: Readonly<Record<string, number>>, code: number): string {
  for (const [name, c] of Object.entries(table)) if (c === code) return name;
  return "UNKNOWN";
}

/** A code as Kafka reads it off the wire: one the table lacks is UNKNOWN (0). */
export function knownCode<T extends number>(table: Readonly<Record<string, T>>, code: number): T {
  return (Object.values(table).includes(code as T) ? code : 0) as T;
}

/** How Kafka's logs name a resource type (SecurityUtils.resourceTypeName): `Topic`, `TransactionalId`. */
export const RESOURCE_TYPE_LOG_NAME: Readonly<Partial<Record<ResourceTypeCode, string>>> = {
  [ResourceType.TOPIC]: "Topic",
  [ResourceType.GROUP]: "Group",
  [ResourceType.CLUSTER]: "Cluster",
  [ResourceType.TRANSACTIONAL_ID]: "TransactionalId",
  [ResourceType.DELEGATION_TOKEN]: "DelegationToken",
  [ResourceType.USER]: "User",
};

/** Whether two bindings are the same ACL (a create of an existing one adds nothing). */
export function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.patternType === b.patternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permission === b.permission
  );
}

/**
 * Whether `filter` selects `binding` (Kafka's AclBindingFilter.matches): ANY codes and null strings
 * match anything; pattern type MATCH with a name selects the literal binding of that name, the literal
 * wildcard and every prefix of the name; ANY (or the binding's own pattern type) wants the exact name.
 */
export function filterMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  if (filter.resourceType !== ResourceType.ANY && filter.resourceType !== binding.resourceType) return false;
  const anyPattern = filter.patternType === PatternType.ANY;
  if (!anyPattern && filter.patternType !== PatternType.MATCH && filter.patternType !== binding.patternType)
    return false;
  if (!nameMatches(filter, binding)) return false;
  if (filter.principal !== null && filter.principal !== binding.principal) return false;
  if (filter.host !== null && filter.host !== binding.host) return false;
  if (filter.operation !== AclOperation.ANY && filter.operation !== binding.operation) return false;
  return filter.permission === AclPermission.ANY || filter.permission === binding.permission;
}

function nameMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  const name = filter.resourceName;
  if (name === null) return true;
  if (filter.patternType !== PatternType.MATCH) return name === binding.resourceName;
  return binding.patternType === PatternType.LITERAL
    ? name === binding.resourceName || binding.resourceName === WILDCARD
    : name.startsWith(binding.resourceName);
}
