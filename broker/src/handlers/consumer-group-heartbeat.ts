import { ApiKey, createConsumerGroupHeartbeatResponse } from "@tskafka/protocol";
import { fromAssignment } from "../group/consumer-group.js";
import { clientHost } from "../group/client-host.js";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, allowedNames } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

/**
 * ConsumerGroupHeartbeat v0-1 (KIP-848): join, stay, reconcile towards the target assignment, leave.
 * v1 adds regular expression subscriptions and requires the client to choose its member id (KIP-1082).
 * As Kafka 4.4: READ on the group (GROUP_AUTHORIZATION_FAILED), then DESCRIBE on every topic subscribed
 * by name (TOPIC_AUTHORIZATION_FAILED); an expression subscribes only to the topics it may describe.
 */
export const consumerGroupHeartbeatHandler = defineHandler({
  apiKey: ApiKey.ConsumerGroupHeartbeat,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    // Authorization comes first, as Kafka's KafkaApis checks it before its coordinator checks the request.
    const refused = authorizationError(ctx, request.groupId, request.subscribedTopicNames);
    if (refused !== ErrorCode.NONE) return createConsumerGroupHeartbeatResponse({ errorCode: refused });
    if (ctx.apiVersion >= 1 && request.memberId === "") {
      return createConsumerGroupHeartbeatResponse({
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: "MemberId can't be empty.",
      });
    }
    // One namespace for every group type: a share group's id is not a consumer group's, as Kafka answers.
    if (ctx.services.shareGroups.group(request.groupId) !== undefined) {
      return createConsumerGroupHeartbeatResponse({
        errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
        errorMessage: `Group ${request.groupId} is not a consumer group.`,
      });
    }
    // Expression matches are filtered by DESCRIBE too, with this heartbeat's principal.
    const describable = ctx.services.authorizer.enabled ? allowedNames(ctx, AclOperation.DESCRIBE) : undefined;
    const r = ctx.services.groups.consumerHeartbeat(request, ctx.clientId ?? "", clientHost(ctx.remote), describable);
    return createConsumerGroupHeartbeatResponse({
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      memberId: r.memberId,
      memberEpoch: r.memberEpoch,
      heartbeatIntervalMs: r.heartbeatIntervalMs,
      assignment: r.assignment === null ? null : { topicPartitions: fromAssignment(r.assignment) },
    });
  },
});

function authorizationError(ctx: RequestContext, groupId: string, subscribed: readonly string[] | null): number {
  if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, groupId)) return ErrorCode.GROUP_AUTHORIZATION_FAILED;
  const describable = allowedNames(ctx, AclOperation.DESCRIBE);
  if (subscribed !== null && !subscribed.every(describable)) return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
  return ErrorCode.NONE;
}
