import { ApiKey, createShareGroupDescribeResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/** ShareGroupDescribe v1: each share group's state, epochs, assignor and members with their assignments. */
export const shareGroupDescribeHandler = defineHandler({
  apiKey: ApiKey.ShareGroupDescribe,
  minVersion: 1,
  maxVersion: 1,
  handle(request, ctx) {
    const services = ctx.services;
    const groups = request.groupIds.map((groupId) => {
      const g = services.shareGroups.group(groupId);
      if (g === undefined) {
        const other = services.groups.group(groupId) !== undefined;
        return {
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: other ? `Group ${groupId} is not a share group.` : `Group ${groupId} not found.`,
          groupId,
          groupState: "",
          groupEpoch: 0,
          assignmentEpoch: 0,
          assignorName: "",
          members: [],
          authorizedOperations: -2147483648,
        };
      }
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupId,
        groupState: g.state,
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        assignorName: "simple",
        authorizedOperations: -2147483648,
        members: [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: m.subscribedTopics,
          assignment: {
            topicPartitions: [...m.assignment].map(([topicId, partitions]) => ({
              topicId,
              topicName: services.metadata.topicById(topicId)?.name ?? "",
              partitions,
            })),
          },
        })),
      };
    });
    return createShareGroupDescribeResponse({ groups });
  },
});
