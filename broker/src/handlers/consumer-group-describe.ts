import {
  ApiKey,
  createConsumerGroupDescribeResponse,
  type ConsumerGroupDescribeResponseDescribedGroup,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import type { Assignment } from "../group/assignors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, allowedNames, authorizedOperations, NOT_REQUESTED } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

/** Member types of ConsumerGroupDescribe v1: every member of ours speaks the consumer protocol. */
const CONSUMER_MEMBER = 1;

/**
 * ConsumerGroupDescribe v0-1 (KIP-848): members with their current and target assignments, their
 * subscribed names or regular expression; v1 adds the member type. A group that is missing or not a
 * consumer group gets GROUP_ID_NOT_FOUND with every other field at its default, as Kafka answers. As
 * Kafka 4.4 authorizes: DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED), the authorized operations of
 * a described group when asked for, and a group whose assignments name a topic the session may not
 * DESCRIBE is TOPIC_AUTHORIZATION_FAILED and shows nothing.
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
      if (!allowed(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId))
        return { ...base, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null };
      const notHere = services.groups.coordinatorError(groupId);
      if (notHere !== ErrorCode.NONE) return { ...base, errorCode: notHere, errorMessage: null };
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
        authorizedOperations: request.includeAuthorizedOperations
          ? authorizedOperations(ctx, ResourceType.GROUP, groupId)
          : NOT_REQUESTED,
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
    return createConsumerGroupDescribeResponse({ groups: groups.map((g) => hideUndescribable(ctx, g)) });
  },
});

/** Kafka 4.4: a group assigning a topic the session may not DESCRIBE is answered with an error only. */
function hideUndescribable(
  ctx: RequestContext,
  g: ConsumerGroupDescribeResponseDescribedGroup,
): ConsumerGroupDescribeResponseDescribedGroup {
  if (!ctx.services.authorizer.enabled) return g;
  const describable = allowedNames(ctx, AclOperation.DESCRIBE);
  const hidden = g.members.some((m) =>
    [m.assignment, m.targetAssignment].some((a) => a.topicPartitions.some((t) => !describable(t.topicName))),
  );
  if (!hidden) return g;
  return {
    groupId: g.groupId,
    errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    errorMessage: "The group has described topic(s) that the client is not authorized to describe.",
    authorizedOperations: NOT_REQUESTED,
    groupState: "",
    groupEpoch: 0,
    assignmentEpoch: 0,
    assignorName: "",
    members: [],
  };
}
