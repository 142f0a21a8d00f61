import {
  ApiKey,
  createConsumerGroupDescribeResponse,
  type ConsumerGroupDescribeResponseDescribedGroup,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import type { Assignment } from "../group/assignors.js";
import { defineHandler } from "./handler.js";

/** Member types of ConsumerGroupDescribe v1: every member of ours speaks the consumer protocol. */
const CONSUMER_MEMBER = 1;

/** Kafka's AclOperation codes a group supports (READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS); without an authorizer every one is allowed. */
const GROUP_OPERATIONS = [3, 6, 8, 10, 11].reduce((bits, op) => bits | (1 << op), 0);
/** AuthorizedOperations when they were not asked for. */
const NOT_REQUESTED = -2147483648;

/**
 * ConsumerGroupDescribe v0-1 (KIP-848): members with their current and target assignments, their
 * subscribed names or regular expression; v1 adds the member type. A group that is missing or not a
 * consumer group gets GROUP_ID_NOT_FOUND with every other field at its default, as Kafka answers; the
 * authorized operations of a described group are all a group has, when asked for.
 */
export const consumerGroupDescribeHandler = defineHandler({
  apiKey: ApiKey.ConsumerGroupDescribe,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const services = ctx.services;
    const describe = (a: Assignment) => ({
      topicPartitions: [...a].map(([topicId, partitions]) => ({
        topicId,
        topicName: services.metadata.topicById(topicId)?.name ?? "",
        partitions,
      })),
    });
    const groups: ConsumerGroupDescribeResponseDescribedGroup[] = request.groupIds.map((groupId) => {
      const g = services.groups.group(groupId);
      const base = {
        groupId,
        authorizedOperations: NOT_REQUESTED,
        groupState: "",
        groupEpoch: 0,
        assignmentEpoch: 0,
        assignorName: "",
        members: [],
      };
      if (g === undefined || g.state === "Dead") {
        return { ...base, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.` };
      }
      if (g.kind !== "consumer") {
        return {
          ...base,
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: `Group ${groupId} is not a consumer group.`,
        };
      }
      return {
        ...base,
        authorizedOperations: request.includeAuthorizedOperations ? GROUP_OPERATIONS : NOT_REQUESTED,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupState: g.state,
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        assignorName: [...g.members.values()].find((m) => m.serverAssignor !== null)?.serverAssignor ?? "uniform",
        members: [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: m.subscribedTopicNames,
          subscribedTopicRegex: m.subscribedTopicRegex,
          memberType: CONSUMER_MEMBER,
          assignment: describe(m.assigned),
          targetAssignment: describe(g.targetOf(m.memberId)),
        })),
      };
    });
    return createConsumerGroupDescribeResponse({ groups });
  },
});
