import { ApiKey, createReadShareGroupStateResponse, type ReadShareGroupStateRequest } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";
import { everySharePartition, perSharePartition } from "../share/state-requests.js";
import { stateBatchToWire } from "../share/state-records.js";

/**
 * ReadShareGroupState v0 (KIP-932, between brokers): a share-partition leader reads the state its share
 * coordinator keeps (start offset, state batches, state epoch) when it takes the partition up; its leader
 * epoch becomes the state's, and one older than the stored one is FENCED_LEADER_EPOCH. A share-partition
 * never initialized is INVALID_REQUEST, as in Kafka. Elsewhere NOT_COORDINATOR, while loading
 * COORDINATOR_LOAD_IN_PROGRESS. As Kafka authorizes: CLUSTER_ACTION on the cluster.
 */
export const readShareGroupStateHandler = defineHandler({
  apiKey: ApiKey.ReadShareGroupState,
  minVersion: 0,
  maxVersion: 0,
  errorResponse: everyPartition,
  async handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.CLUSTER_ACTION))
      return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    if (request.groupId === "") return createReadShareGroupStateResponse();
    const coordinator = ctx.services.shareState;
    const results = await perSharePartition(request.groupId, request.topics, async (key, p) => {
      const r = await coordinator.read(key, p.leaderEpoch);
      if (!("batches" in r)) return failed(p.partition, r.errorCode, r.errorMessage);
      return {
        partition: p.partition,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        stateEpoch: r.stateEpoch,
        startOffset: BigInt(r.startOffset),
        stateBatches: r.batches.map(stateBatchToWire),
      };
    });
    return createReadShareGroupStateResponse({ results });
  },
});

const failed = (partition: number, errorCode: number, errorMessage: string | null) => ({
  partition,
  errorCode,
  errorMessage,
  stateEpoch: 0,
  startOffset: -1n,
  stateBatches: [],
});

function everyPartition(request: ReadShareGroupStateRequest, errorCode: number) {
  return createReadShareGroupStateResponse({
    results: everySharePartition(request.topics, (partition) => failed(partition, errorCode, null)),
  });
}
