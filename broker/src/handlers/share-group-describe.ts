import { ApiKey, createShareGroupDescribeResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, allowed, authorizedOperations, NOT_REQUESTED } from "./authz.js";
import { defineHandler } from "./handler.js";

/** A group answered with an error and nothing else. */
const notDescribed = (groupId: string, errorCode: number, errorMessage: string) => ({
  errorCode,
  errorMessage,
  groupId,
  groupState: "",
  groupEpoch: 0,
  assignmentEpoch: 0,
  assignorName: "",
  members: [],
  authorizedOperations: NOT_REQUESTED,
});

/**
 * ShareGroupDescribe v1: each share group's state, epochs, assignor and members with their assignments;
 * a group the session may not DESCRIBE is GROUP_AUTHORIZATION_FAILED, as Kafka answers.
 */
export const shareGroupDescribeHandler = defineHandler({
  apiKey: ApiKey.ShareGroupDescribe,
  minVersion: 1,
  maxVersion: 1,
  handle(request, ctx) {
    const services = ctx.services;
    const groups = request.groupIds.map((groupId) => {
      const g = services.shareGroups.group(groupId);
      if (!allowed(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
        const errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        return notDescribed(groupId, errorCode, AUTHORIZATION_MESSAGE[errorCode]!);
      }
      const notHere = services.groups.coordinatorError(groupId);
      if (notHere !== ErrorCode.NONE) {
        return {
          errorCode: notHere,
          errorMessage: null,
          groupId,
          groupState: "",
          groupEpoch: 0,
          assignmentEpoch: 0,
          assignorName: "",
          members: [],
          authorizedOperations: NOT_REQUESTED,
        };
      }
      if (g === undefined) {
        const other = services.groups.group(groupId) !== undefined;
        const message = other ? `Group ${groupId} is not a share group.` : `Group ${groupId} not found.`;
        return notDescribed(groupId, ErrorCode.GROUP_ID_NOT_FOUND, message);
      }
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupId,
        groupState: g.state,
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        assignorName: "simple",
        authorizedOperations: request.includeAuthorizedOperations
          ? authorizedOperations(ctx, ResourceType.GROUP, groupId)
          : NOT_REQUESTED,
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
