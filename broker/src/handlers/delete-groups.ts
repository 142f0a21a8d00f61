import { ApiKey, createDeleteGroupsResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * DeleteGroups v0-3: only empty groups; their offsets and metadata are tombstoned (a share group's
 * membership records and share-partition state). v3 adds a message per group. A group the session may not DELETE is
 * GROUP_AUTHORIZATION_FAILED, as Kafka answers.
 */
export const deleteGroupsHandler = defineHandler({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    const results = [];
    for (const groupId of request.groupsNames) {
      const authorized = allowed(ctx, AclOperation.DELETE, ResourceType.GROUP, groupId);
      const share = !authorized || groupId === "" ? undefined : await ctx.services.shareGroups.deleteGroup(groupId);
      const errorCode = !authorized
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : groupId === ""
          ? ErrorCode.INVALID_GROUP_ID
          : share !== undefined
            ? ErrorCode[share]
            : await ctx.services.groups.deleteGroup(groupId);
      results.push({ groupId, errorCode, errorMessage: null });
    }
    return createDeleteGroupsResponse({ results });
  },
});
