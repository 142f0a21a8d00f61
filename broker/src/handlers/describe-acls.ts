import {
  ApiKey,
  createDescribeAclsResponse,
  createDescribeAclsResponseAclDescription,
  createDescribeAclsResponseDescribeAclsResource,
  type DescribeAclsResponseDescribeAclsResource,
} from "@tskafka/protocol";
import { filterMatches, type AclBinding } from "../security/acl.js";
import { toFilter, unknownCodeInFilter } from "../security/acl-validation.js";
import { aclApiRefusal } from "./authz.js";
import { defineHandler } from "./handler.js";

/** The bindings grouped by resource pattern, in the order the patterns first appear (Kafka's aclsResources). */
function byResource(bindings: readonly AclBinding[]): DescribeAclsResponseDescribeAclsResource[] {
  const groups = new Map<string, DescribeAclsResponseDescribeAclsResource>();
  for (const b of bindings) {
    const key = `${b.resourceType}\u0000${b.patternType}\u0000${b.resourceName}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = createDescribeAclsResponseDescribeAclsResource({
        resourceType: b.resourceType,
        resourceName: b.resourceName,
        patternType: b.patternType,
        acls: [],
      });
      groups.set(key, group);
    }
    group.acls.push(
      createDescribeAclsResponseAclDescription({
        principal: b.principal,
        host: b.host,
        operation: b.operation,
        permissionType: b.permission,
      }),
    );
  }
  return [...groups.values()];
}

/**
 * DescribeAcls v1-v3 (`kafka-acls.sh --list`): the ACLs one filter selects, grouped by resource pattern.
 * As Kafka: DESCRIBE on the cluster is needed (CLUSTER_AUTHORIZATION_FAILED); with no authorizer
 * configured the answer is SECURITY_DISABLED; a code 0 (UNKNOWN) closes the connection (Kafka cannot
 * parse the request); a code Kafka does not know selects nothing.
 */
export const describeAclsHandler = defineHandler({
  apiKey: ApiKey.DescribeAcls,
  minVersion: 1,
  maxVersion: 3,
  handle(request, ctx) {
    if (unknownCodeInFilter(request)) {
      ctx.session.closeReason = "DescribeAcls with an UNKNOWN code (Kafka cannot parse such a request)";
      return null;
    }
    const refused = aclApiRefusal(ctx, "DescribeAcls");
    if (refused !== undefined) return createDescribeAclsResponse(refused);
    const filter = toFilter(request);
    return createDescribeAclsResponse({
      resources: byResource(ctx.services.metadata.acls().filter((b) => filterMatches(filter, b))),
    });
  },
});
