import type { ClusterMetadata } from "../cluster/metadata.js";
import type { Logger } from "../logger.js";
import {
  AclOperation,
  AclPermission,
  PatternType,
  RESOURCE_TYPE_LOG_NAME,
  ResourceType,
  SUPPORTED_OPERATIONS,
  WILDCARD,
  codeName,
  type AclBinding,
  type AclOperationCode,
  type ResourceTypeCode,
} from "./acl.js";
import { hostMatcher, isCidr } from "./acl-host.js";
import type { Authorizer, RequestPrincipal } from "./authorizer.js";

/** The class name of Kafka's KRaft authorizer: `authorizer.class.name` naming it turns this one on. */
export const STANDARD_AUTHORIZER_CLASS = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

/** The principal an ACL names to match every one. */
const WILDCARD_PRINCIPAL = "User:*";

export interface StandardAuthorizerOptions {
  /** `super.users`: principals separated by semicolons, allowed everything. */
  readonly superUsers: string | undefined;
  /** `allow.everyone.if.no.acl.found`: the answer when no ACL names the resource at all. */
  readonly allowIfNoAcl: boolean;
  readonly log: Logger;
}

/** The principals of a `super.users` value (Kafka's StandardAuthorizer.getConfiguredSuperUsers). */
export function parseSuperUsers(value: string | undefined): Set<string> {
  return new Set((value ?? "").split(";").flatMap((v) => (v.trim() === "" ? [] : [v.trim()])));
}

/** Why a `super.users` value is refused (an entry that is not `Type:name`), or undefined. */
export function superUsersProblem(value: string): string | undefined {
  const bad = [...parseSuperUsers(value)].find((p) => !p.includes(":"));
  return bad === undefined ? undefined : `expected a string in format principalType:principalName but got ${bad}`;
}

/** The ACLs of one resource type, indexed so that a check reads only those that can apply. */
interface TypeIndex {
  /** Literal ACLs by resource name (the wildcard ones under `*`). */
  readonly literal: Map<string, AclBinding[]>;
  /** Prefixed ACLs by prefix. */
  readonly prefixed: Map<string, AclBinding[]>;
  /** The lengths of the prefixes, ascending: a check looks up only these slices of its name. */
  prefixLengths: number[];
}

/** Allow ACLs of these operations also allow DESCRIBE, and of ALTER_CONFIGS also DESCRIBE_CONFIGS (Kafka's rule). */
const IMPLIES_DESCRIBE = new Set<number>([
  AclOperation.DESCRIBE,
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.DELETE,
  AclOperation.ALTER,
]);
const IMPLIES_DESCRIBE_CONFIGS = new Set<number>([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

/** The CIDR blocks ACL hosts name, each parsed once. */
type CidrMatchers = ReadonlyMap<string, (clientHost: string) => boolean>;

/** Whether the ACL's host (`*`, an address, a CIDR block) covers the client's address. */
function hostMatches(aclHost: string, clientHost: string, cidrs: CidrMatchers): boolean {
  return aclHost === WILDCARD || aclHost === clientHost || (cidrs.get(aclHost)?.(clientHost) ?? false);
}

/** What an ACL says about the operation for this principal and host: allow, deny, or nothing (undefined). */
function aclResult(
  acl: AclBinding,
  who: RequestPrincipal,
  op: AclOperationCode,
  cidrs: CidrMatchers,
): boolean | undefined {
  if (acl.principal !== who.principal && acl.principal !== WILDCARD_PRINCIPAL) return undefined;
  if (!hostMatches(acl.host, who.host, cidrs)) return undefined;
  const allow = acl.permission === AclPermission.ALLOW;
  if (acl.operation !== AclOperation.ALL && acl.operation !== op) {
    // Implied operations come from allow ACLs only: a deny of READ does not deny DESCRIBE.
    const implied =
      (op === AclOperation.DESCRIBE && IMPLIES_DESCRIBE.has(acl.operation)) ||
      (op === AclOperation.DESCRIBE_CONFIGS && IMPLIES_DESCRIBE_CONFIGS.has(acl.operation));
    if (!allow || !implied) return undefined;
  }
  return allow;
}

/** A decision and what made it, for the log (Kafka's rule names; the ACL is formatted only when logged). */
interface Decision {
  readonly allowed: boolean;
  readonly rule: "SuperUser" | "DefaultAllow" | "DefaultDeny" | "MatchingAcl";
  readonly acl?: AclBinding;
}
const SUPER_USER: Decision = { allowed: true, rule: "SuperUser" };
const DENIED_WITH_ACLS: Decision = { allowed: false, rule: "DefaultDeny" };

const describeAcl = (a: AclBinding): string =>
  `${codeName(ResourceType, a.resourceType)}:${codeName(PatternType, a.patternType)}:${a.resourceName} ` +
  `${a.principal} from ${a.host} ${codeName(AclPermission, a.permission)} ${codeName(AclOperation, a.operation)}`;

/**
 * Kafka's StandardAuthorizer over the cluster's ACLs: super users may do anything; otherwise the ACLs
 * that apply to the resource (its literal name, the literal wildcard `*`, every prefix of the name) and
 * to the principal (or `User:*`) and host (or `*`, or a CIDR block) decide, a deny over any allow; implied operations
 * count for allows; when no ACL names the resource at all, `allow.everyone.if.no.acl.found` decides.
 * The index is rebuilt from the metadata store whenever its ACLs change, whoever changed them.
 */
export class StandardAuthorizer implements Authorizer {
  readonly enabled = true;
  private readonly superUsers: ReadonlySet<string>;
  private readonly defaultDecision: Decision;
  private readonly log: Logger;
  private index = new Map<ResourceTypeCode, TypeIndex>();
  private byType = new Map<ResourceTypeCode, AclBinding[]>();
  private cidrs: CidrMatchers = new Map();
  private readonly unwatch: () => void;

  constructor(
    private readonly metadata: ClusterMetadata,
    options: StandardAuthorizerOptions,
  ) {
    this.superUsers = parseSuperUsers(options.superUsers);
    this.defaultDecision = {
      allowed: options.allowIfNoAcl,
      rule: options.allowIfNoAcl ? "DefaultAllow" : "DefaultDeny",
    };
    this.log = options.log;
    this.rebuild();
    this.unwatch = metadata.watch("acls", () => this.rebuild());
    this.log.info(
      `authorizer: StandardAuthorizer with ${metadata.acls().length} ACLs, super.users=${[...this.superUsers].join(",")}, ` +
        `allow.everyone.if.no.acl.found=${options.allowIfNoAcl}`,
    );
  }

  /** Stops following the metadata store. */
  close(): void {
    this.unwatch();
  }

  private rebuild(): void {
    const index = new Map<ResourceTypeCode, TypeIndex>();
    const byType = new Map<ResourceTypeCode, AclBinding[]>();
    const cidrs = new Map<string, (clientHost: string) => boolean>();
    for (const acl of this.metadata.acls()) {
      if (isCidr(acl.host) && !cidrs.has(acl.host)) cidrs.set(acl.host, hostMatcher(acl.host));
      let ix = index.get(acl.resourceType);
      if (ix === undefined)
        index.set(acl.resourceType, (ix = { literal: new Map(), prefixed: new Map(), prefixLengths: [] }));
      const map = acl.patternType === PatternType.PREFIXED ? ix.prefixed : ix.literal;
      const list = map.get(acl.resourceName);
      if (list === undefined) map.set(acl.resourceName, [acl]);
      else list.push(acl);
      const all = byType.get(acl.resourceType);
      if (all === undefined) byType.set(acl.resourceType, [acl]);
      else all.push(acl);
    }
    for (const ix of index.values())
      ix.prefixLengths = [...new Set([...ix.prefixed.keys()].map((p) => p.length))].sort((a, b) => a - b);
    this.index = index;
    this.byType = byType;
    this.cidrs = cidrs;
  }

  authorize(
    who: RequestPrincipal,
    operation: AclOperationCode,
    resourceType: ResourceTypeCode,
    name: string,
    logIfDenied = true,
  ): boolean {
    const d = this.decide(who, operation, resourceType, name);
    // As Kafka's kafka.authorizer.logger: a denied request is logged at INFO (a denied filter only at its
    // finest level: debug here), an allowed one at DEBUG.
    if (!d.allowed && logIfDenied) this.log.info(this.auditLine(who, operation, resourceType, name, d));
    else if (this.log.enabled("debug")) this.log.debug(this.auditLine(who, operation, resourceType, name, d));
    return d.allowed;
  }

  private auditLine(
    who: RequestPrincipal,
    op: AclOperationCode,
    type: ResourceTypeCode,
    name: string,
    d: Decision,
  ): string {
    return (
      `authorizer: Principal = ${who.principal} is ${d.allowed ? "Allowed" : "Denied"} operation = ${codeName(AclOperation, op)} ` +
      `from host = ${who.host} on resource = ${RESOURCE_TYPE_LOG_NAME[type] ?? codeName(ResourceType, type)}:LITERAL:${name} ` +
      `based on rule ${d.acl === undefined ? d.rule : `MatchingAcl(acl=${describeAcl(d.acl)})`}`
    );
  }

  private decide(who: RequestPrincipal, op: AclOperationCode, type: ResourceTypeCode, name: string): Decision {
    if (this.superUsers.has(who.principal)) return SUPER_USER;
    const ix = this.index.get(type);
    if (ix === undefined) return this.defaultDecision;
    let found = false;
    let allow: AclBinding | undefined;
    const lists: (AclBinding[] | undefined)[] = [ix.literal.get(name)];
    if (name !== WILDCARD) lists.push(ix.literal.get(WILDCARD));
    for (const len of ix.prefixLengths) {
      if (len > name.length) break;
      lists.push(ix.prefixed.get(name.slice(0, len)));
    }
    for (const list of lists) {
      if (list === undefined) continue;
      found = true;
      for (const acl of list) {
        const r = aclResult(acl, who, op, this.cidrs);
        if (r === false) return { allowed: false, rule: "MatchingAcl", acl };
        if (r === true) allow ??= acl;
      }
    }
    if (allow !== undefined) return { allowed: true, rule: "MatchingAcl", acl: allow };
    return found ? DENIED_WITH_ACLS : this.defaultDecision;
  }

  authorizedOperations(who: RequestPrincipal, resourceType: ResourceTypeCode, name: string): number {
    const supported = SUPPORTED_OPERATIONS[resourceType] ?? 0;
    let allowed = 0;
    for (let op = 0; op < 32; op++) {
      if ((supported & (1 << op)) !== 0 && this.decide(who, op as AclOperationCode, resourceType, name).allowed)
        allowed |= 1 << op;
    }
    return allowed;
  }

  /**
   * Kafka's Authorizer.authorizeByResourceType: allowed when a resource of the type could be, i.e. an
   * allow ACL (of exactly this operation, or ALL) for the principal and host is not covered by a deny:
   * a literal allow by a deny of the same name or of a prefix of it, a prefixed allow by a deny of a
   * prefix of it; a wildcard deny denies, a wildcard allow allows. Super users, and a resource type
   * without ACLs under allow.everyone.if.no.acl.found, are allowed first (Kafka checks a made-up name).
   */
  authorizeByResourceType(who: RequestPrincipal, op: AclOperationCode, resourceType: ResourceTypeCode): boolean {
    if (op === AclOperation.ANY || op === AclOperation.UNKNOWN)
      throw new Error(`authorizeByResourceType: operation ${codeName(AclOperation, op)} is not a real one`);
    if (resourceType === ResourceType.ANY || resourceType === ResourceType.UNKNOWN)
      throw new Error(
        `authorizeByResourceType: resource type ${codeName(ResourceType, resourceType)} is not a real one`,
      );
    if (this.decide(who, op, resourceType, "hardcode").allowed) return true;
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allows: AclBinding[] = [];
    for (const acl of this.byType.get(resourceType) ?? []) {
      if (!hostMatches(acl.host, who.host, this.cidrs)) continue;
      if (acl.principal !== who.principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
      if (acl.operation !== op && acl.operation !== AclOperation.ALL) continue;
      const literal = acl.patternType === PatternType.LITERAL;
      if (acl.permission === AclPermission.DENY) {
        if (literal && acl.resourceName === WILDCARD) return false;
        (literal ? denyLiteral : denyPrefixed).add(acl.resourceName);
      } else allows.push(acl);
    }
    if (allows.some((a) => a.patternType === PatternType.LITERAL && a.resourceName === WILDCARD)) return true;
    return allows.some((a) => {
      if (a.patternType === PatternType.LITERAL && denyLiteral.has(a.resourceName)) return false;
      for (let i = 1; i <= a.resourceName.length; i++) if (denyPrefixed.has(a.resourceName.slice(0, i))) return false;
      return true;
    });
  }
}
