import {
  ApiKey,
  createDescribeTopicPartitionsResponse,
  createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponsePartition,
  createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic,
  type DescribeTopicPartitionsResponseCursor,
  type DescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic,
} from "@tskafka/protocol";
import type { TopicInfo } from "../cluster/topics.js";
import { LEADER_EPOCH } from "../cluster/partition-logs.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/** Kafka's AclOperation codes a topic supports; without an authorizer every one is allowed. */
const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((bits, op) => bits | (1 << op), 0);

/**
 * DescribeTopicPartitions v0 (KIP-966): the named topics (all when none are named), in name order,
 * paged by `responsePartitionLimit` partitions with a cursor to continue from. This node leads every
 * partition; there is no eligible-leader-replica state, so those lists are empty.
 */
export const describeTopicPartitionsHandler = defineHandler({
  apiKey: ApiKey.DescribeTopicPartitions,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const services = ctx.services;
    const nodeId = services.config.nodeId;
    const names =
      request.topics.length > 0
        ? [...new Set(request.topics.map((t) => t.name))]
        : services.metadata.topics().map((t) => t.name);
    names.sort();
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
      let p = first;
      for (; p < info.partitions && budget > 0; p++, budget--) {
        partitions.push(
          createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponsePartition({
            partitionIndex: p,
            leaderId: nodeId,
            leaderEpoch: LEADER_EPOCH,
            replicaNodes: [nodeId],
            isrNodes: [nodeId],
            eligibleLeaderReplicas: [],
            lastKnownElr: [],
            offlineReplicas: [],
          }),
        );
      }
      topics.push(
        createDescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic({
          name: info.name,
          topicId: info.id,
          isInternal: info.name.startsWith("__"),
          partitions,
          topicAuthorizedOperations: TOPIC_OPERATIONS,
        }),
      );
      if (p < info.partitions) {
        nextCursor = { topicName: name, partitionIndex: p };
        break;
      }
    }
    return createDescribeTopicPartitionsResponse({ topics, nextCursor });
  },
});
