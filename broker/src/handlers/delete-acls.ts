import {
  ApiKey,
  createDeleteAclsResponse,
  createDeleteAclsResponseDeleteAclsFilterResult,
  createDeleteAclsResponseDeleteAclsMatchingAcl,
  type DeleteAclsResponse,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import type { AclBinding } from "../security/acl.js";
import { invalidDeleteFilter, toFilter, unknownCodeInFilter } from "../security/acl-validation.js";
import { aclApiRefusal } from "./authz.js";
import { defineHandler } from "./handler.js";

/** Every filter answered with one error (Kafka's DeleteAclsRequest.getErrorResponse). */
function allFailed(count: number, errorCode: number, errorMessage: string | null): DeleteAclsResponse {
  const result = createDeleteAclsResponseDeleteAclsFilterResult({ errorCode, errorMessage });
  return createDeleteAclsResponse({ filterResults: Array.from({ length: count }, () => result) });
}

const matchingAcl = (b: AclBinding) =>
  createDeleteAclsResponseDeleteAclsMatchingAcl({
    // Kafka sets the messages of successes to null (their schema default is the empty string).
    errorMessage: null,
    resourceType: b.resourceType,
    resourceName: b.resourceName,
    patternType: b.patternType,
    principal: b.principal,
    host: b.host,
    operation: b.operation,
    permissionType: b.permission,
  });

/**
 * DeleteAcls v1-v3 (`kafka-acls.sh --remove`): removes what each filter selects and answers, per filter,
 * the ACLs it removed. As Kafka: ALTER on the cluster is needed (CLUSTER_AUTHORIZATION_FAILED); with no
 * authorizer configured every filter gets SECURITY_DISABLED; a code 0 (UNKNOWN) closes the connection; a
 * filter with a code Kafka does not know gets INVALID_REQUEST on its own.
 */
export const deleteAclsHandler = defineHandler({
  apiKey: ApiKey.DeleteAcls,
  minVersion: 1,
  maxVersion: 3,
  // A failure of the store: every filter with the error, as Kafka's getErrorResponse.
  errorResponse: (request, errorCode) => allFailed(request.filters.length, errorCode, null),
  async handle(request, ctx) {
    const filters = request.filters;
    if (filters.some(unknownCodeInFilter)) {
      ctx.session.closeReason = "DeleteAcls with an UNKNOWN code (Kafka cannot parse such a request)";
      return null;
    }
    const refused = aclApiRefusal(ctx, "DeleteAcls");
    if (refused !== undefined) return allFailed(filters.length, refused.errorCode, refused.errorMessage);
    const parsed = filters.map(toFilter);
    const problems = parsed.map(invalidDeleteFilter);
    const valid = parsed.filter((_, i) => problems[i] === undefined);
    const deleted = await ctx.services.metadata.deleteAcls(valid);
    let next = 0;
    return createDeleteAclsResponse({
      filterResults: problems.map((problem) =>
        problem !== undefined
          ? createDeleteAclsResponseDeleteAclsFilterResult({
              errorCode: ErrorCode.INVALID_REQUEST,
              errorMessage: problem.message,
            })
          : createDeleteAclsResponseDeleteAclsFilterResult({
              errorMessage: null,
              matchingAcls: deleted[next++]!.map(matchingAcl),
            }),
      ),
    });
  },
});
