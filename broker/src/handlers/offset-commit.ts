import { ApiKey, createOffsetCommitResponse } from "@tskafka/protocol";
import { authorizedCommit, everyPartition } from "../group/commit-requests.js";
import { defineHandler } from "./handler.js";

/**
 * OffsetCommit v0-10. Commits from a group member are checked against its generation (classic) or
 * member epoch (KIP-848, v9+); commits with no generation go to an empty or new ("simple") group.
 * v2-4 may carry a retention time that overrides offsets.retention.minutes. v10 names topics by id
 * (an id we do not know is UNKNOWN_TOPIC_ID); offsets are kept by topic name either way. As Kafka: READ
 * on the group, else every partition is GROUP_AUTHORIZATION_FAILED; a topic the session may not READ is
 * TOPIC_AUTHORIZATION_FAILED and not committed (the group is not asked when no topic is left).
 */
export const offsetCommitHandler = defineHandler({
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 10,
  errorResponse: (request, errorCode, version) =>
    createOffsetCommitResponse({ topics: everyPartition(request.topics, errorCode, version >= 10) }),
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    const topics = await authorizedCommit(ctx, request.groupId, request.topics, v >= 10, (kept) =>
      ctx.services.groups.commitOffsets({
        groupId: request.groupId,
        generationIdOrMemberEpoch: v >= 1 ? request.generationIdOrMemberEpoch : -1,
        memberId: v >= 1 ? request.memberId : "",
        groupInstanceId: v >= 7 ? request.groupInstanceId : null,
        retentionTimeMs: v >= 2 && v <= 4 ? request.retentionTimeMs : -1n,
        topics: kept.map((k) => ({ ...k.topic, name: k.name })),
        apiVersion: v,
      }),
    );
    return createOffsetCommitResponse({ topics });
  },
});
