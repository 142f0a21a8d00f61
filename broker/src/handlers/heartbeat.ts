import { ApiKey, createHeartbeatResponse } from "@tskafka/protocol";
import { defineHandler } from "./handler.js";

/** Heartbeat v0-4 (classic protocol): keeps a member's session and tells it when to rejoin. */
export const heartbeatHandler = defineHandler({
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    const instanceId = ctx.apiVersion >= 3 ? request.groupInstanceId : null;
    return createHeartbeatResponse({
      errorCode: ctx.services.groups.heartbeat(request.groupId, request.memberId, instanceId, request.generationId),
    });
  },
});
