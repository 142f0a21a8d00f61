import {
  ApiKey,
  createCreateAclsResponse,
  createCreateAclsResponseAclCreationResult,
  type CreateAclsResponse,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import type { AclBinding } from "../security/acl.js";
import { InvalidAcl, unbindableCreation, unknownCodeInCreation, validateCreation } from "../security/acl-validation.js";
import { aclApiRefusal } from "./authz.js";
import { defineHandler } from "./handler.js";

/** Every creation answered with one error (Kafka's CreateAclsRequest.getErrorResponse). */
function allFailed(count: number, errorCode: number, errorMessage: string | null): CreateAclsResponse {
  const result = createCreateAclsResponseAclCreationResult({ errorCode, errorMessage });
  return createCreateAclsResponse({ results: Array.from({ length: count }, () => result) });
}

/**
 * CreateAcls v1-v3 (the versions Kafka 4.4 serves; `kafka-acls.sh --add`): stores ACLs in the cluster
 * metadata. As Kafka: ALTER on the cluster is needed (CLUSTER_AUTHORIZATION_FAILED for every ACL);
 * with no authorizer configured every ACL gets SECURITY_DISABLED; a code 0 (UNKNOWN) fails the request's
 * parsing, which closes the connection; an ANY code (or a MATCH pattern) cannot make a binding, which fails
 * the whole request with UNKNOWN_SERVER_ERROR; otherwise each ACL is checked on its own (INVALID_REQUEST
 * with Kafka's message) and the valid ones are stored, an ACL that exists already being a success.
 */
export const createAclsHandler = defineHandler({
  apiKey: ApiKey.CreateAcls,
  minVersion: 1,
  maxVersion: 3,
  // A failure of the store: every ACL with the error, as Kafka's getErrorResponse.
  errorResponse: (request, errorCode) => allFailed(request.creations.length, errorCode, null),
  async handle(request, ctx) {
    const creations = request.creations;
    if (creations.some(unknownCodeInCreation)) {
      ctx.session.closeReason = "CreateAcls with an UNKNOWN code (Kafka cannot parse such a request)";
      return null;
    }
    const refused = aclApiRefusal(ctx, "CreateAcls");
    if (refused !== undefined) return allFailed(creations.length, refused.errorCode, refused.errorMessage);
    if (creations.some(unbindableCreation)) return allFailed(creations.length, ErrorCode.UNKNOWN_SERVER_ERROR, null);
    const checked = creations.map(validateCreation);
    await ctx.services.metadata.createAcls(checked.filter((c): c is AclBinding => !(c instanceof InvalidAcl)));
    return createCreateAclsResponse({
      results: checked.map((c) =>
        c instanceof InvalidAcl
          ? createCreateAclsResponseAclCreationResult({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: c.message })
          : // Kafka leaves the field at its default, the empty string, on success.
            createCreateAclsResponseAclCreationResult({ errorCode: ErrorCode.NONE, errorMessage: "" }),
      ),
    });
  },
});
