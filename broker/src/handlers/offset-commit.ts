import { ApiKey, createOffsetCommitResponse } from "@tskafka/protocol";
import { defineHandler } from "./handler.js";

/**
 * OffsetCommit v0-9. Commits from a group member are checked against its generation (classic) or
 * member epoch (KIP-848, v9); commits with no generation go to an empty or new ("simple") group.
 * v2-4 may carry a retention time that overrides offsets.retention.minutes.
 */
export const offsetCommitHandler = defineHandler({
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    const topics = await ctx.broker.groups.commitOffsets({
      groupId: request.groupId,
      generationIdOrMemberEpoch: v >= 1 ? request.generationIdOrMemberEpoch : -1,
      memberId: v >= 1 ? request.memberId : "",
      groupInstanceId: v >= 7 ? request.groupInstanceId : null,
      retentionTimeMs: v >= 2 && v <= 4 ? request.retentionTimeMs : -1n,
      topics: request.topics,
      apiVersion: v,
    });
    return createOffsetCommitResponse({ topics });
  },
});
