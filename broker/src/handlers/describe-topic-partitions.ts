import {
  ApiKey,
  createDescribeTopicPartitionsResponse,
  createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponsePartition,
  createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic,
  type DescribeTopicPartitionsResponseCursor,
  type DescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic,
} from "@tskafka/protocol";
import type { TopicInfo } from "../cluster/topics.js";
import { liveBrokers, partitionView, topicPartitionStates } from "../cluster/cluster-view.js";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowedNames, authorizedOperations } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * DescribeTopicPartitions v0 (KIP-966): the named topics (all when none are named), in name order,
 * paged by `responsePartitionLimit` partitions with a cursor to continue from. Each partition's leader,
 * epoch, replicas, ISR and offline replicas come from the cluster's partition states (cluster-view.ts);
 * there is no eligible-leader-replica state, so those lists are empty. As Kafka 4.4: topics
 * the session may not DESCRIBE are left out, or when named answered TOPIC_AUTHORIZATION_FAILED after the
 * others; each topic described carries its authorized operations.
 */
export const describeTopicPartitionsHandler = defineHandler({
  apiKey: ApiKey.DescribeTopicPartitions,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const services = ctx.services;
    const live = new Set(liveBrokers(services, ctx.session?.listener).map((b) => b.nodeId));
    const all = request.topics.length === 0;
    const describable = allowedNames(ctx, AclOperation.DESCRIBE);
    const asked = all ? services.metadata.topics().map((t) => t.name) : [...new Set(request.topics.map((t) => t.name))];
    const names = asked.filter((name) => describable(name)).sort();
    const refused = all
      ? []
      : asked
          .filter((name) => !describable(name))
          .map((name) =>
            createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic({
              name,
              errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            }),
          );
    const cursor = request.cursor;
    let budget = Math.max(1, request.responsePartitionLimit);
    const topics: DescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic[] = [];
    let nextCursor: DescribeTopicPartitionsResponseCursor | null = null;
    for (const name of names) {
      if (cursor !== null && name < cursor.topicName) continue;
      const info: TopicInfo | undefined = services.metadata.topic(name);
      if (info === undefined) {
        topics.push(
          createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic({
            name,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            topicAuthorizedOperations: authorizedOperations(ctx, ResourceType.TOPIC, name),
          }),
        );
        continue;
      }
      if (budget === 0) {
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const first = cursor !== null && name === cursor.topicName ? Math.max(0, cursor.partitionIndex) : 0;
      const partitions = [];
      const states = topicPartitionStates(services, info.name, info.partitions);
      let p = first;
      for (; p < info.partitions && budget > 0; p++, budget--) {
        partitions.push(
          createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponsePartition({
            partitionIndex: p,
            ...partitionView(states[p]!, live),
            eligibleLeaderReplicas: [],
            lastKnownElr: [],
          }),
        );
      }
      topics.push(
        createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic({
          name: info.name,
          topicId: info.id,
          isInternal: info.name.startsWith("__"),
          partitions,
          topicAuthorizedOperations: authorizedOperations(ctx, ResourceType.TOPIC, info.name),
        }),
      );
      if (p < info.partitions) {
        nextCursor = { topicName: name, partitionIndex: p };
        break;
      }
    }
    return createDescribeTopicPartitionsResponse({ topics: [...topics, ...refused], nextCursor });
  },
});
