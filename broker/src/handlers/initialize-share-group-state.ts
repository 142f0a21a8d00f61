import {
  ApiKey,
  createInitializeShareGroupStateResponse,
  type InitializeShareGroupStateRequest,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";
import { everySharePartition, perSharePartition } from "../share/state-requests.js";

/**
 * InitializeShareGroupState v0 (KIP-932, between brokers): the share coordinator of each share-partition
 * (the leader of its `__share_group_state` partition) starts its state again at a start offset (-1:
 * none yet), under a state epoch not older than the stored one (FENCED_STATE_EPOCH). Elsewhere
 * NOT_COORDINATOR, while loading COORDINATOR_LOAD_IN_PROGRESS. As Kafka authorizes: CLUSTER_ACTION on
 * the cluster, else CLUSTER_AUTHORIZATION_FAILED for every partition; an empty group id is answered with
 * no results.
 */
export const initializeShareGroupStateHandler = defineHandler({
  apiKey: ApiKey.InitializeShareGroupState,
  minVersion: 0,
  maxVersion: 0,
  errorResponse: everyPartition,
  async handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.CLUSTER_ACTION))
      return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    if (request.groupId === "") return createInitializeShareGroupStateResponse();
    const coordinator = ctx.services.shareState;
    const results = await perSharePartition(request.groupId, request.topics, async (key, p) => ({
      partition: p.partition,
      ...(await coordinator.initialize(key, p.stateEpoch, Number(p.startOffset))),
    }));
    return createInitializeShareGroupStateResponse({ results });
  },
});

function everyPartition(request: InitializeShareGroupStateRequest, errorCode: number) {
  return createInitializeShareGroupStateResponse({
    results: everySharePartition(request.topics, (partition) => ({ partition, errorCode, errorMessage: null })),
  });
}
