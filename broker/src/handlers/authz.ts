import { ErrorCode } from "../errors.js";
import {
  AclOperation,
  CLUSTER_RESOURCE,
  ResourceType,
  type AclOperationCode,
  type ResourceTypeCode,
} from "../security/acl.js";
import type { RequestContext } from "./handler.js";

/**
 * What handlers ask the authorizer, as Kafka's AuthHelper asks it: one resource, the cluster, or many
 * names of one type at once. Without an authorizer every answer is yes and nothing is looked up.
 * `logIfDenied` false keeps a denial out of the audit log where Kafka does (a check with a fallback, a
 * filter over resources the client did not name).
 */

/** Whether the session may do `operation` on the named resource. */
export function allowed(
  ctx: RequestContext,
  operation: AclOperationCode,
  resourceType: ResourceTypeCode,
  name: string,
  logIfDenied = true,
): boolean {
  const authorizer = ctx.services.authorizer;
  return !authorizer.enabled || authorizer.authorize(ctx.session, operation, resourceType, name, logIfDenied);
}

/** Whether the session may do `operation` on the cluster. */
export function clusterAllowed(ctx: RequestContext, operation: AclOperationCode, logIfDenied = true): boolean {
  return allowed(ctx, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE, logIfDenied);
}

const ALWAYS = (): boolean => true;

/**
 * A check of one operation on many names of a type (Kafka's filterByAuthorized): each name is asked
 * once per request however many partitions name it.
 */
export function allowedNames(
  ctx: RequestContext,
  operation: AclOperationCode,
  resourceType: ResourceTypeCode = ResourceType.TOPIC,
  logIfDenied = true,
): (name: string) => boolean {
  const authorizer = ctx.services.authorizer;
  if (!authorizer.enabled) return ALWAYS;
  const seen = new Map<string, boolean>();
  return (name) => {
    let ok = seen.get(name);
    if (ok === undefined)
      seen.set(name, (ok = authorizer.authorize(ctx.session, operation, resourceType, name, logIfDenied)));
    return ok;
  };
}

/** The authorized-operations bit set of a resource, as describe answers report it. */
export function authorizedOperations(ctx: RequestContext, resourceType: ResourceTypeCode, name: string): number {
  return ctx.services.authorizer.authorizedOperations(ctx.session, resourceType, name);
}

/** Authorized operations of a field the request did not ask for (the schemas' default, Integer.MIN_VALUE). */
export const NOT_REQUESTED = -2147483648;

/** Kafka's messages for the authorization errors, where an answer carries one. */
export const AUTHORIZATION_MESSAGE: Readonly<Record<number, string>> = {
  [ErrorCode.TOPIC_AUTHORIZATION_FAILED]: "Topic authorization failed.",
  [ErrorCode.GROUP_AUTHORIZATION_FAILED]: "Group authorization failed.",
  [ErrorCode.CLUSTER_AUTHORIZATION_FAILED]: "Cluster authorization failed.",
  [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]: "Transactional Id authorization failed.",
};

/** What each ACL API needs on the cluster, and Kafka's message when no authorizer is configured. */
const ACL_APIS = {
  CreateAcls: { operation: AclOperation.ALTER, needs: "ALTER", disabled: "No Authorizer is configured." },
  DeleteAcls: { operation: AclOperation.ALTER, needs: "ALTER", disabled: "No Authorizer is configured." },
  DescribeAcls: {
    operation: AclOperation.DESCRIBE,
    needs: "DESCRIBE",
    disabled: "No Authorizer is configured on the broker",
  },
} as const;

/**
 * Why an ACL request is refused as a whole, as Kafka refuses it: without its operation on the cluster
 * (CLUSTER_AUTHORIZATION_FAILED), or with no authorizer configured (SECURITY_DISABLED); undefined when it
 * may go on.
 */
export function aclApiRefusal(
  ctx: RequestContext,
  api: keyof typeof ACL_APIS,
): { errorCode: number; errorMessage: string } | undefined {
  const { operation, needs, disabled } = ACL_APIS[api];
  const authorizer = ctx.services.authorizer;
  if (!authorizer.authorize(ctx.session, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE))
    return {
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: `Request ${api} needs ${needs} permission.`,
    };
  if (!authorizer.enabled) return { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: disabled };
  return undefined;
}

/** Kafka's ConfigResource.Type codes that the authorizer knows. */
const CONFIG_TOPIC = 2;
const CONFIG_BROKER = 4;
const CONFIG_BROKER_LOGGER = 8;
const CONFIG_CLIENT_METRICS = 16;
const CONFIG_GROUP = 32;

/**
 * Describe or alter configs of a config resource, as Kafka authorizes it: brokers, loggers and client
 * metrics on the cluster, topics and groups on themselves. NONE when allowed (or the type is not one).
 */
export function configAuthorizationError(
  ctx: RequestContext,
  operation: AclOperationCode,
  configType: number,
  name: string,
): number {
  switch (configType) {
    case CONFIG_BROKER:
    case CONFIG_BROKER_LOGGER:
    case CONFIG_CLIENT_METRICS:
      return clusterAllowed(ctx, operation) ? ErrorCode.NONE : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
    case CONFIG_TOPIC:
      return allowed(ctx, operation, ResourceType.TOPIC, name) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    case CONFIG_GROUP:
      return allowed(ctx, operation, ResourceType.GROUP, name) ? ErrorCode.NONE : ErrorCode.GROUP_AUTHORIZATION_FAILED;
    default:
      return ErrorCode.NONE;
  }
}
