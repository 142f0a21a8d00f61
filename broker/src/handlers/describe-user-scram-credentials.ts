import {
  ApiKey,
  createDescribeUserScramCredentialsResponse,
  createDescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult,
  type DescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult,
} from "@tskafka/protocol";
import type { ClusterMetadata } from "../cluster/metadata.js";
import { ErrorCode } from "../errors.js";
import { SCRAM_MECHANISM_TYPES } from "../security/scram.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

type Result = DescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult;

/**
 * DescribeUserScramCredentials v0 (KIP-554, `kafka-configs.sh --describe --entity-type users`): the
 * mechanisms and iteration counts of each user's SCRAM credentials, never their keys or salts. No users
 * (or null) asks for every user that has a credential; a user named twice is DUPLICATE_RESOURCE and a user
 * without credentials RESOURCE_NOT_FOUND, per user, as Kafka's metadata image answers them. DESCRIBE on
 * the cluster is needed, else the answer and each user named are CLUSTER_AUTHORIZATION_FAILED.
 */
export const describeUserScramCredentialsHandler = defineHandler({
  apiKey: ApiKey.DescribeUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE)) {
      const refused = {
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: AUTHORIZATION_MESSAGE[ErrorCode.CLUSTER_AUTHORIZATION_FAILED]!,
      };
      // As Kafka's getErrorResponse: one result per user named, without the name.
      const results = (request.users ?? []).map(() =>
        createDescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult(refused),
      );
      return createDescribeUserScramCredentialsResponse({ ...refused, results });
    }
    const metadata = ctx.services.metadata;
    const named = request.users?.map((u) => u.name) ?? [];
    const all = named.length === 0;
    const users = all ? [...new Set(metadata.scramCredentials().map((c) => c.user))] : [...new Set(named)];
    const results = users.map((user) =>
      !all && named.indexOf(user) !== named.lastIndexOf(user)
        ? createDescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult({
            user,
            errorCode: ErrorCode.DUPLICATE_RESOURCE,
            errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
          })
        : describeUser(metadata, user),
    );
    return createDescribeUserScramCredentialsResponse({ errorCode: ErrorCode.NONE, errorMessage: null, results });
  },
});

function describeUser(metadata: ClusterMetadata, user: string): Result {
  const credentialInfos = metadata.scramCredentials(user).map(({ credential }) => ({
    mechanism: SCRAM_MECHANISM_TYPES[credential.mechanism],
    iterations: credential.iterations,
  }));
  if (credentialInfos.length > 0) {
    return createDescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult({ user, credentialInfos });
  }
  return createDescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult({
    user,
    errorCode: ErrorCode.RESOURCE_NOT_FOUND,
    errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
  });
}
