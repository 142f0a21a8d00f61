import { ApiKey, createHeartbeatResponse } from "@tskafka/protocol";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed } from "./authz.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * Heartbeat v0-4 (classic protocol): keeps a member's session and tells it when to rejoin. READ on the
 * group is needed (GROUP_AUTHORIZATION_FAILED).
 */
export const heartbeatHandler = defineHandler({
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return createHeartbeatResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
    const instanceId = ctx.apiVersion >= 3 ? request.groupInstanceId : null;
    return createHeartbeatResponse({
      errorCode: ctx.services.groups.heartbeat(request.groupId, request.memberId, instanceId, request.generationId),
    });
  },
});
