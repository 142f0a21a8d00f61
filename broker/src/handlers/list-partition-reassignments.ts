import {
  ApiKey,
  createListPartitionReassignmentsResponse,
  createListPartitionReassignmentsResponseOngoingPartitionReassignment,
  createListPartitionReassignmentsResponseOngoingTopicReassignment,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * ListPartitionReassignments v0: the partitions being moved (of every topic, or of those named), each
 * with its replicas and the ones being added and removed (cluster/reassignments.ts); a single node never
 * has one. Without DESCRIBE on the cluster: CLUSTER_AUTHORIZATION_FAILED.
 */
export const listPartitionReassignmentsHandler = defineHandler({
  apiKey: ApiKey.ListPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return createListPartitionReassignmentsResponse({
        errorCode,
        errorMessage: AUTHORIZATION_MESSAGE[errorCode]!,
        topics: [],
      });
    }
    const asked = request.topics?.map((t) => ({ name: t.name, partitions: t.partitionIndexes })) ?? null;
    return createListPartitionReassignmentsResponse({
      errorMessage: null,
      topics: ctx.services.reassignments.list(asked).map((t) =>
        createListPartitionReassignmentsResponseOngoingTopicReassignment({
          name: t.name,
          partitions: t.partitions.map((p) =>
            createListPartitionReassignmentsResponseOngoingPartitionReassignment({
              partitionIndex: p.partition,
              replicas: [...p.replicas],
              addingReplicas: [...p.adding],
              removingReplicas: [...p.removing],
            }),
          ),
        }),
      ),
    });
  },
});
