import {
  AclOperation,
  AclPermission,
  CLUSTER_RESOURCE,
  PatternType,
  ResourceType,
  codeName,
  knownCode,
  type AclBinding,
  type AclBindingFilter,
  type AclOperationCode,
  type AclPermissionCode,
  type PatternTypeCode,
  type ResourceTypeCode,
} from "./acl.js";
import { cidrProblem, isCidr } from "./acl-host.js";

/**
 * The checks Kafka makes on the ACL APIs' input before the store sees it (the broker's AclApis, the
 * controller's AclControlManager.validateNewAcl and validateFilter): each answers Kafka's message for
 * INVALID_REQUEST, or the checked value.
 */

/** One ACL of a CreateAcls request, its codes as sent. */
export interface AclCreation {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly resourcePatternType: number;
  readonly principal: string;
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

/** Why a request cannot even be read (Kafka fails its parsing and closes the connection): a code 0 (UNKNOWN). */
export function unknownCodeInCreation(c: AclCreation): boolean {
  return c.resourceType === 0 || c.resourcePatternType === 0 || c.operation === 0 || c.permissionType === 0;
}

/** The same for a DescribeAcls or DeleteAcls filter. */
export function unknownCodeInFilter(f: {
  resourceTypeFilter: number;
  patternTypeFilter: number;
  operation: number;
  permissionType: number;
}): boolean {
  return f.resourceTypeFilter === 0 || f.patternTypeFilter === 0 || f.operation === 0 || f.permissionType === 0;
}

/**
 * A creation Kafka cannot even turn into a binding (its ResourcePattern and AccessControlEntry refuse ANY,
 * and MATCH as a pattern type): the whole request then fails with UNKNOWN_SERVER_ERROR, not per ACL.
 */
export function unbindableCreation(c: AclCreation): boolean {
  return (
    c.resourceType === ResourceType.ANY ||
    c.resourcePatternType === PatternType.ANY ||
    c.resourcePatternType === PatternType.MATCH ||
    c.operation === AclOperation.ANY ||
    c.permissionType === AclPermission.ANY
  );
}

export class InvalidAcl {
  constructor(readonly message: string) {}
}

/** A creation as a binding to store, or why Kafka refuses it (INVALID_REQUEST), in Kafka's order of checks. */
export function validateCreation(c: AclCreation): AclBinding | InvalidAcl {
  const resourceType = knownCode<ResourceTypeCode>(ResourceType, c.resourceType);
  const patternType = knownCode<PatternTypeCode>(PatternType, c.resourcePatternType);
  const operation = knownCode<AclOperationCode>(AclOperation, c.operation);
  const permission = knownCode<AclPermissionCode>(AclPermission, c.permissionType);
  // The broker's own checks first (AclApis), then the controller's.
  if (resourceType === ResourceType.CLUSTER && c.resourceName !== CLUSTER_RESOURCE)
    return new InvalidAcl(`The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE}`);
  if (c.resourceName === "") return new InvalidAcl("Invalid empty resource name");
  if (resourceType === ResourceType.UNKNOWN || resourceType === ResourceType.ANY)
    return new InvalidAcl(`Invalid resourceType ${codeName(ResourceType, resourceType)}`);
  if (patternType !== PatternType.LITERAL && patternType !== PatternType.PREFIXED)
    return new InvalidAcl(`Invalid patternType ${codeName(PatternType, patternType)}`);
  if (operation === AclOperation.UNKNOWN || operation === AclOperation.ANY)
    return new InvalidAcl(`Invalid operation ${codeName(AclOperation, operation)}`);
  if (permission !== AclPermission.ALLOW && permission !== AclPermission.DENY)
    return new InvalidAcl(`Invalid permissionType ${codeName(AclPermission, permission)}`);
  if (!c.principal.includes(":"))
    return new InvalidAcl(
      `Could not parse principal from \`${c.principal}\` (no colon is present separating the principal type from the principal name)`,
    );
  if (c.host === "") return new InvalidAcl("Host pattern cannot be null or empty");
  const cidr = isCidr(c.host) ? cidrProblem(c.host) : undefined;
  if (cidr !== undefined) return new InvalidAcl(`Invalid CIDR notation '${c.host}': ${cidr}`);
  return {
    resourceType,
    resourceName: c.resourceName,
    patternType,
    principal: c.principal,
    host: c.host,
    operation,
    permission,
  };
}

/** One filter of DescribeAcls or DeleteAcls, its codes as sent. */
export interface AclFilterFields {
  readonly resourceTypeFilter: number;
  readonly resourceNameFilter: string | null;
  readonly patternTypeFilter: number;
  readonly principalFilter: string | null;
  readonly hostFilter: string | null;
  readonly operation: number;
  readonly permissionType: number;
}

/** The filter with its codes read as Kafka reads them (a code it does not know is UNKNOWN). */
export function toFilter(f: AclFilterFields): AclBindingFilter {
  return {
    resourceType: knownCode<ResourceTypeCode>(ResourceType, f.resourceTypeFilter),
    resourceName: f.resourceNameFilter,
    patternType: knownCode<PatternTypeCode>(PatternType, f.patternTypeFilter),
    principal: f.principalFilter,
    host: f.hostFilter,
    operation: knownCode<AclOperationCode>(AclOperation, f.operation),
    permission: knownCode<AclPermissionCode>(AclPermission, f.permissionType),
  };
}

/** Why DeleteAcls refuses a filter (Kafka's validateFilter), or undefined. */
export function invalidDeleteFilter(f: AclBindingFilter): InvalidAcl | undefined {
  if (f.resourceType === ResourceType.UNKNOWN || f.patternType === PatternType.UNKNOWN)
    return new InvalidAcl("Unknown patternFilter.");
  if (f.operation === AclOperation.UNKNOWN || f.permission === AclPermission.UNKNOWN)
    return new InvalidAcl("Unknown entryFilter.");
  return undefined;
}
