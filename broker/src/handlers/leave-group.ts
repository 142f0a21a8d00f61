import { ApiKey, createLeaveGroupResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * LeaveGroup v0-5; from v3 several members (static ones by instance id) leave at once. READ on the group
 * is needed (GROUP_AUTHORIZATION_FAILED).
 */
export const leaveGroupHandler = defineHandler({
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return createLeaveGroupResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
    const batched = ctx.apiVersion >= 3;
    const leaving = batched
      ? request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
      : [{ memberId: request.memberId, groupInstanceId: null }];
    const r = ctx.services.groups.leave(request.groupId, leaving);
    if (batched) return createLeaveGroupResponse({ errorCode: r.errorCode, members: r.members });
    // Before v3 the one member's error is the response's.
    const memberError = r.members[0]?.errorCode ?? ErrorCode.NONE;
    return createLeaveGroupResponse({ errorCode: r.errorCode !== ErrorCode.NONE ? r.errorCode : memberError });
  },
});
