import { ApiKey, createDeleteShareGroupStateResponse, type DeleteShareGroupStateRequest } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";
import { everySharePartition, perSharePartition } from "../share/state-requests.js";

/**
 * DeleteShareGroupState v0 (KIP-932, between brokers): the share coordinator forgets share-partitions'
 * state (their records are tombstoned; one without state is answered NONE). Elsewhere NOT_COORDINATOR,
 * while loading COORDINATOR_LOAD_IN_PROGRESS. As Kafka authorizes: CLUSTER_ACTION on the cluster.
 */
export const deleteShareGroupStateHandler = defineHandler({
  apiKey: ApiKey.DeleteShareGroupState,
  minVersion: 0,
  maxVersion: 0,
  errorResponse: everyPartition,
  async handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.CLUSTER_ACTION))
      return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    if (request.groupId === "") return createDeleteShareGroupStateResponse();
    const coordinator = ctx.services.shareState;
    const results = await perSharePartition(request.groupId, request.topics, async (key, p) => ({
      partition: p.partition,
      ...(await coordinator.delete(key)),
    }));
    return createDeleteShareGroupStateResponse({ results });
  },
});

function everyPartition(request: DeleteShareGroupStateRequest, errorCode: number) {
  return createDeleteShareGroupStateResponse({
    results: everySharePartition(request.topics, (partition) => ({ partition, errorCode, errorMessage: null })),
  });
}
