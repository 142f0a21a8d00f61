import {
  ApiKey,
  createAlterPartitionReassignmentsResponse,
  createAlterPartitionReassignmentsResponseReassignablePartitionResponse,
  createAlterPartitionReassignmentsResponseReassignableTopicResponse,
} from "@tskafka/protocol";
import { hasPartition, type TopicInfo } from "../cluster/metadata.js";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

interface Answer {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

const NONE: Answer = { errorCode: ErrorCode.NONE, errorMessage: null };

/**
 * One partition's reassignment as Kafka's controller checks it (ReplicationControlManager): the topic
 * and partition must exist, a null list cancels (and nothing is in progress here), and the replicas
 * must be registered brokers, each once. This node is the only broker, so the one valid target is
 * this node alone: the partition's current replica, a reassignment that completes at once.
 */
function reassign(
  topicName: string,
  topic: TopicInfo | undefined,
  partition: number,
  replicas: number[] | null,
  nodeId: number,
): Answer {
  if (topic === undefined)
    return {
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `Unable to find a topic named ${topicName}.`,
    };
  if (!hasPartition(topic, partition)) {
    return {
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `Unable to find partition ${topicName}:${partition}.`,
    };
  }
  if (replicas === null) return { errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, errorMessage: null };
  const invalid = (message: string): Answer => ({
    errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
    errorMessage: `The manual partition assignment includes ${message}`,
  });
  if (replicas.length === 0) return invalid("an empty replica list.");
  const sorted = [...replicas].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    const id = sorted[i]!;
    if (id !== nodeId) return invalid(`broker ${id}, but no such broker is registered.`);
    if (i > 0 && sorted[i - 1] === id) return invalid(`the broker ${id} more than once.`);
  }
  return NONE;
}

const CLUSTER_REFUSED: Answer = {
  errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  errorMessage: AUTHORIZATION_MESSAGE[ErrorCode.CLUSTER_AUTHORIZATION_FAILED]!,
};

/**
 * AlterPartitionReassignments v0-1 on a single node: the only assignment a partition can have is this
 * node, its current one, so a valid reassignment is a no-op that is complete when answered (and
 * ListPartitionReassignments never lists one). kafka-reassign-partitions.sh uses it together with
 * AlterReplicaLogDirs for the `log_dirs` of its plan. Errors and messages are Kafka's controller's; without
 * ALTER on the cluster, CLUSTER_AUTHORIZATION_FAILED at the top and for every partition (Kafka's error response).
 */
export const alterPartitionReassignmentsHandler = defineHandler({
  apiKey: ApiKey.AlterPartitionReassignments,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const { metadata, config } = ctx.services;
    const refused = clusterAllowed(ctx, AclOperation.ALTER) ? undefined : CLUSTER_REFUSED;
    return createAlterPartitionReassignmentsResponse({
      allowReplicationFactorChange: request.allowReplicationFactorChange,
      ...(refused ?? { errorMessage: null }),
      responses: request.topics.map((t) => {
        const topic = metadata.topic(t.name);
        return createAlterPartitionReassignmentsResponseReassignableTopicResponse({
          name: t.name,
          partitions: t.partitions.map((p) =>
            createAlterPartitionReassignmentsResponseReassignablePartitionResponse({
              partitionIndex: p.partitionIndex,
              ...(refused ?? reassign(t.name, topic, p.partitionIndex, p.replicas, config.nodeId)),
            }),
          ),
        });
      }),
    });
  },
});
