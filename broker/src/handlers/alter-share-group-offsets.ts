import { ApiKey, createAlterShareGroupOffsetsResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
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
