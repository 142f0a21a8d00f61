import { ApiKey, createSyncGroupResponse } from "@tskafka/protocol";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed } from "./authz.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * SyncGroup v0-5: the leader hands in the assignment; every member waits for its own part. READ on the
 * group is needed (GROUP_AUTHORIZATION_FAILED).
 */
export const syncGroupHandler = defineHandler({
  apiKey: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return createSyncGroupResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
    const assignments = new Map(request.assignments.map((a) => [a.memberId, a.assignment]));
    const r = await ctx.services.groups.sync(
      request.groupId,
      request.memberId,
      v >= 3 ? request.groupInstanceId : null,
      request.generationId,
      v >= 5 ? request.protocolType : null,
      v >= 5 ? request.protocolName : null,
      assignments,
    );
    return createSyncGroupResponse({
      errorCode: r.errorCode,
      protocolType: r.protocolType,
      protocolName: r.protocolName,
      assignment: r.assignment,
    });
  },
});
