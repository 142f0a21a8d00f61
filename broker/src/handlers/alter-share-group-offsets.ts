import { ApiKey, createAlterShareGroupOffsetsResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, allowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * AlterShareGroupOffsets v0 (KIP-932): an empty share group's share-partitions start again at the
 * offsets given (`kafka-share-groups.sh --reset-offsets`); a group with members is NON_EMPTY_GROUP.
 */
export const alterShareGroupOffsetsHandler = defineHandler({
  apiKey: ApiKey.AlterShareGroupOffsets,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      const errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return createAlterShareGroupOffsetsResponse({ errorCode, errorMessage: AUTHORIZATION_MESSAGE[errorCode]! });
    }
    const r = await ctx.services.shareGroups.alterOffsets(request.groupId, request.topics);
    if ("groupError" in r)
      return createAlterShareGroupOffsetsResponse({ errorCode: ErrorCode[r.groupError], errorMessage: r.message });
    return createAlterShareGroupOffsetsResponse({
      responses: r.map((t) => ({
        topicName: t.topic,
        topicId: t.topicId,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition,
          errorCode: ErrorCode[p.error],
          errorMessage: null,
        })),
      })),
    });
  },
});
