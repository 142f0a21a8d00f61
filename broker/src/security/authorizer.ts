import { SUPPORTED_OPERATIONS, type AclOperationCode, type ResourceTypeCode } from "./acl.js";

/** Who is asking: the session's principal and the client's IP address. */
export interface RequestPrincipal {
  /** `User:<name>` (User:ANONYMOUS when not authenticated). */
  readonly principal: string;
  /** The client's IP address, as ACL hosts name it. */
  readonly host: string;
}

/**
 * The decisions handlers ask for (Kafka's Authorizer as KafkaApis uses it). With no authorizer configured
 * (`authorizer.class.name` empty) everything is allowed, as in Kafka.
 */
export interface Authorizer {
  /** False when no authorizer is configured. */
  readonly enabled: boolean;
  /**
   * Whether `operation` on the resource is allowed (deny wins; implied operations count; super users pass).
   * A denial is logged at INFO, as Kafka's audit log does, unless `logIfDenied` is false: a filter over
   * resources the client did not name (Metadata of all topics, say), as Kafka's Action.logIfDenied.
   */
  authorize(
    who: RequestPrincipal,
    operation: AclOperationCode,
    resourceType: ResourceTypeCode,
    name: string,
    logIfDenied?: boolean,
  ): boolean;
  /**
   * Kafka's authorizeByResourceType: whether `operation` could be allowed on some resource of the type
   * (used where a request names no resource yet, as InitProducerId without a transactional id).
   */
  authorizeByResourceType(who: RequestPrincipal, operation: AclOperationCode, resourceType: ResourceTypeCode): boolean;
  /**
   * The authorized-operations bit set of a resource (bit n set: operation code n is allowed), as
   * Metadata, DescribeCluster, DescribeGroups and ConsumerGroupDescribe report it.
   */
  authorizedOperations(who: RequestPrincipal, resourceType: ResourceTypeCode, name: string): number;
}

/** No authorizer: every request is allowed, and a resource reports every operation of its type. */
export const ALLOW_ALL: Authorizer = {
  enabled: false,
  authorize: () => true,
  authorizeByResourceType: () => true,
  authorizedOperations: (_who, resourceType) => SUPPORTED_OPERATIONS[resourceType] ?? 0,
};
