import { ApiKey, createListPartitionReassignmentsResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * ListPartitionReassignments v0: none is ever in progress on a single node (a reassignment completes
 * when AlterPartitionReassignments answers it), so the answer lists no topic, whichever were asked for.
 * Without DESCRIBE on the cluster: CLUSTER_AUTHORIZATION_FAILED.
 */
export const listPartitionReassignmentsHandler = defineHandler({
  apiKey: ApiKey.ListPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  handle(_request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return createListPartitionReassignmentsResponse({
        errorCode,
        errorMessage: AUTHORIZATION_MESSAGE[errorCode]!,
        topics: [],
      });
    }
    return createListPartitionReassignmentsResponse({ errorMessage: null, topics: [] });
  },
});
