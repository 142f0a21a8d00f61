import { ApiKey, createWriteShareGroupStateResponse, type WriteShareGroupStateRequest } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";
import { everySharePartition, perSharePartition } from "../share/state-requests.js";
import { stateBatchFromWire } from "../share/state-records.js";

/**
 * WriteShareGroupState v0-1 (KIP-932, between brokers): a share-partition leader writes its start offset
 * (-1: unchanged) and the state batches that changed; the share coordinator merges them into the state and
 * answers once the record is in its `__share_group_state` partition's ISR. A write from an older leader
 * epoch is FENCED_LEADER_EPOCH, of an older state epoch FENCED_STATE_EPOCH, to a share-partition never
 * initialized INVALID_REQUEST. Elsewhere NOT_COORDINATOR, while loading COORDINATOR_LOAD_IN_PROGRESS. As
 * Kafka authorizes: CLUSTER_ACTION on the cluster.
 */
export const writeShareGroupStateHandler = defineHandler({
  apiKey: ApiKey.WriteShareGroupState,
  minVersion: 0,
  maxVersion: 1,
  errorResponse: everyPartition,
  async handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.CLUSTER_ACTION))
      return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    if (request.groupId === "") return createWriteShareGroupStateResponse();
    const coordinator = ctx.services.shareState;
    const results = await perSharePartition(request.groupId, request.topics, async (key, p) => ({
      partition: p.partition,
      ...(await coordinator.write(key, {
        stateEpoch: p.stateEpoch,
        leaderEpoch: p.leaderEpoch,
        startOffset: Number(p.startOffset),
        batches: p.stateBatches.map(stateBatchFromWire),
      })),
    }));
    return createWriteShareGroupStateResponse({ results });
  },
});

function everyPartition(request: WriteShareGroupStateRequest, errorCode: number) {
  return createWriteShareGroupStateResponse({
    results: everySharePartition(request.topics, (partition) => ({ partition, errorCode, errorMessage: null })),
  });
}
