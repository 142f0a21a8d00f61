import { ApiKey, createSyncGroupResponse } from "@tskafka/protocol";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed } from "./authz.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * SyncGroup v0-5: the leader hands in the assignment; every member waits for its own part. As Kafka:
 * v5 without a protocol type or name is INCONSISTENT_GROUP_PROTOCOL, then READ on the group is needed
 * (GROUP_AUTHORIZATION_FAILED).
 */
export const syncGroupHandler = defineHandler({
  apiKey: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    // As Kafka: v5 must name the protocol type and name, checked before anything else.
    if (v >= 5 && (request.protocolType === null || request.protocolName === null))
      return createSyncGroupResponse({ errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL });
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
