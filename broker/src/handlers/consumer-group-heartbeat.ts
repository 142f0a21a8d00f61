import { ApiKey, createConsumerGroupHeartbeatResponse } from "@tskafka/protocol";
import { fromAssignment } from "../group/consumer-group.js";
import { clientHost } from "../group/client-host.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * ConsumerGroupHeartbeat v0-1 (KIP-848): join, stay, reconcile towards the target assignment, leave.
 * v1 adds regular expression subscriptions and requires the client to choose its member id (KIP-1082).
 */
export const consumerGroupHeartbeatHandler = defineHandler({
  apiKey: ApiKey.ConsumerGroupHeartbeat,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
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
    const r = ctx.services.groups.consumerHeartbeat(request, ctx.clientId ?? "", clientHost(ctx.remote));
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
