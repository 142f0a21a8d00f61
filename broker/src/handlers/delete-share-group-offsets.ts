import { ApiKey, createDeleteShareGroupOffsetsResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, allowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * DeleteShareGroupOffsets v0 (KIP-932): an empty share group forgets its share-partitions of the topics
 * named, which start again by share.auto.offset.reset (`kafka-share-groups.sh --delete-offsets`).
 */
export const deleteShareGroupOffsetsHandler = defineHandler({
  apiKey: ApiKey.DeleteShareGroupOffsets,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    if (!allowed(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupId)) {
      const errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return createDeleteShareGroupOffsetsResponse({ errorCode, errorMessage: AUTHORIZATION_MESSAGE[errorCode]! });
    }
    const names = request.topics.map((t) => t.topicName);
    const r = await ctx.services.shareGroups.deleteOffsets(request.groupId, names);
    if ("groupError" in r)
      return createDeleteShareGroupOffsetsResponse({ errorCode: ErrorCode[r.groupError], errorMessage: r.message });
    return createDeleteShareGroupOffsetsResponse({
      responses: r.map((t) => ({
        topicName: t.topic,
        topicId: t.topicId,
        errorCode: ErrorCode[t.error],
        errorMessage: null,
      })),
    });
  },
});
