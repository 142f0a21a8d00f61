import { ApiKey, createOffsetCommitResponse, ZERO_UUID } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * OffsetCommit v0-10. Commits from a group member are checked against its generation (classic) or
 * member epoch (KIP-848, v9+); commits with no generation go to an empty or new ("simple") group.
 * v2-4 may carry a retention time that overrides offsets.retention.minutes. v10 names topics by id
 * (an id we do not know is UNKNOWN_TOPIC_ID); offsets are kept by topic name either way.
 */
export const offsetCommitHandler = defineHandler({
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 10,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    const byId = v >= 10;
    const metadata = ctx.services.metadata;
    const names = request.topics.map((t) => (byId ? metadata.topicById(t.topicId)?.name : t.name));
    const results = await ctx.services.groups.commitOffsets({
      groupId: request.groupId,
      generationIdOrMemberEpoch: v >= 1 ? request.generationIdOrMemberEpoch : -1,
      memberId: v >= 1 ? request.memberId : "",
      groupInstanceId: v >= 7 ? request.groupInstanceId : null,
      retentionTimeMs: v >= 2 && v <= 4 ? request.retentionTimeMs : -1n,
      topics: request.topics.map((t, i) => ({ ...t, name: names[i] ?? "" })),
      apiVersion: v,
    });
    const topics = results.map((r, i) => {
      const partitions =
        names[i] === undefined
          ? r.partitions.map((p) => ({ ...p, errorCode: ErrorCode.UNKNOWN_TOPIC_ID }))
          : r.partitions;
      return { name: r.name, topicId: byId ? request.topics[i]!.topicId : ZERO_UUID, partitions };
    });
    return createOffsetCommitResponse({ topics });
  },
});
