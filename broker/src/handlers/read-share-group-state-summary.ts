import {
  ApiKey,
  createReadShareGroupStateSummaryResponse,
  type ReadShareGroupStateSummaryRequest,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";
import { everySharePartition, perSharePartition } from "../share/state-requests.js";

/**
 * ReadShareGroupStateSummary v0-1 (KIP-932, between brokers): a share-partition's start offset, state and
 * leader epochs (v1: and how many records from the start offset on are done), what the group coordinator
 * describes offsets from; start offset -1 for one without state. Elsewhere NOT_COORDINATOR, while loading
 * COORDINATOR_LOAD_IN_PROGRESS. As Kafka authorizes: CLUSTER_ACTION on the cluster.
 */
export const readShareGroupStateSummaryHandler = defineHandler({
  apiKey: ApiKey.ReadShareGroupStateSummary,
  minVersion: 0,
  maxVersion: 1,
  errorResponse: everyPartition,
  async handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.CLUSTER_ACTION))
      return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    if (request.groupId === "") return createReadShareGroupStateSummaryResponse();
    const coordinator = ctx.services.shareState;
    const results = await perSharePartition(request.groupId, request.topics, (key, p) => {
      const r = coordinator.summary(key);
      if (!("deliveryComplete" in r)) return failed(p.partition, r.errorCode, r.errorMessage);
      return {
        partition: p.partition,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        stateEpoch: r.stateEpoch,
        leaderEpoch: r.leaderEpoch,
        startOffset: BigInt(r.startOffset),
        deliveryCompleteCount: r.deliveryComplete,
      };
    });
    return createReadShareGroupStateSummaryResponse({ results });
  },
});

const failed = (partition: number, errorCode: number, errorMessage: string | null) => ({
  partition,
  errorCode,
  errorMessage,
  stateEpoch: 0,
  leaderEpoch: 0,
  startOffset: -1n,
  deliveryCompleteCount: -1,
});

function everyPartition(request: ReadShareGroupStateSummaryRequest, errorCode: number) {
  return createReadShareGroupStateSummaryResponse({
    results: everySharePartition(request.topics, (partition) => failed(partition, errorCode, null)),
  });
}
