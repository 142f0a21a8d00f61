import { ApiKey, createConsumerGroupDescribeResponse, type ConsumerGroupDescribeResponseDescribedGroup } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import type { Assignment } from "../group/assignors.js";
import { defineHandler } from "./handler.js";

/** Member types of ConsumerGroupDescribe v1: every member of ours speaks the consumer protocol. */
const CONSUMER_MEMBER = 1;

/**
 * ConsumerGroupDescribe v0-1 (KIP-848): members with their current and target assignments, their
 * subscribed names or regular expression; v1 adds the member type.
 */
export const consumerGroupDescribeHandler = defineHandler({
  apiKey: ApiKey.ConsumerGroupDescribe,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const broker = ctx.broker;
    const describe = (a: Assignment) => ({
      topicPartitions: [...a].map(([topicId, partitions]) => ({ topicId, topicName: broker.topics.byId(topicId)?.name ?? "", partitions })),
    });
    const groups: ConsumerGroupDescribeResponseDescribedGroup[] = request.groupIds.map((groupId) => {
      const g = broker.groups.groups.get(groupId);
      const base = { groupId, authorizedOperations: -2147483648, groupEpoch: -1, assignmentEpoch: -1, assignorName: "", members: [] };
      if (g === undefined || g.state === "Dead") {
        return { ...base, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.`, groupState: "Dead" };
      }
      if (g.kind !== "consumer") {
        return { ...base, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a consumer group.`, groupState: g.state };
      }
      return {
        ...base,
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
