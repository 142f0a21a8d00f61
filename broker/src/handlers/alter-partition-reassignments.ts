import {
  ApiKey,
  createAlterPartitionReassignmentsResponse,
  createAlterPartitionReassignmentsResponseReassignablePartitionResponse,
  createAlterPartitionReassignmentsResponseReassignableTopicResponse,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * AlterPartitionReassignments v0-1 (kafka-reassign-partitions.sh): moves partitions to the replicas named,
 * or cancels a move in progress (null replicas), as Kafka's controller does (cluster/reassignments.ts):
 * the partition gets the new replicas at once, they fetch as followers, and the old ones go once the new
 * ones are in sync. The answer comes when the change is stored, not when the move is done
 * (ListPartitionReassignments follows it). Without ALTER on the cluster, CLUSTER_AUTHORIZATION_FAILED at
 * the top and for every partition (Kafka's error response).
 */
export const alterPartitionReassignmentsHandler = defineHandler({
  apiKey: ApiKey.AlterPartitionReassignments,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const refused = !clusterAllowed(ctx, AclOperation.ALTER);
    const topics = request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, replicas: p.replicas })),
    }));
    const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
    const answers = refused
      ? topics.map((t) =>
          t.partitions.map((p) => ({
            partition: p.partition,
            errorCode,
            errorMessage: AUTHORIZATION_MESSAGE[errorCode]!,
          })),
        )
      : await ctx.services.reassignments.alter(topics, request.allowReplicationFactorChange);
    return createAlterPartitionReassignmentsResponse({
      allowReplicationFactorChange: request.allowReplicationFactorChange,
      ...(refused ? { errorCode, errorMessage: AUTHORIZATION_MESSAGE[errorCode]! } : { errorMessage: null }),
      responses: topics.map((t, i) =>
        createAlterPartitionReassignmentsResponseReassignableTopicResponse({
          name: t.name,
          partitions: answers[i]!.map((a) =>
            createAlterPartitionReassignmentsResponseReassignablePartitionResponse({
              partitionIndex: a.partition,
              errorCode: a.errorCode,
              errorMessage: a.errorMessage,
            }),
          ),
        }),
      ),
    });
  },
});
