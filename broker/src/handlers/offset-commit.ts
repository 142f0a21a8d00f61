import {
  ApiKey,
  createOffsetCommitResponse,
  ZERO_UUID,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, allowedNames } from "./authz.js";
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
  errorResponse: (request, errorCode, version) => everyPartition(request.topics, errorCode, version),
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return everyPartition(request.topics, ErrorCode.GROUP_AUTHORIZATION_FAILED, v);
    const byId = v >= 10;
    const metadata = ctx.services.metadata;
    const readable = allowedNames(ctx, AclOperation.READ);
    const asked = request.topics.map((t) => ({ t, name: byId ? metadata.topicById(t.topicId)?.name : t.name }));
    const refused = asked.filter((a) => a.name !== undefined && !readable(a.name));
    const kept = refused.length === 0 ? asked : asked.filter((a) => !refused.includes(a));
    const denied = everyPartition(
      refused.map((a) => a.t),
      ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      v,
    ).topics;
    if (kept.length === 0) return createOffsetCommitResponse({ topics: denied });
    const results = await ctx.services.groups.commitOffsets({
      groupId: request.groupId,
      generationIdOrMemberEpoch: v >= 1 ? request.generationIdOrMemberEpoch : -1,
      memberId: v >= 1 ? request.memberId : "",
      groupInstanceId: v >= 7 ? request.groupInstanceId : null,
      retentionTimeMs: v >= 2 && v <= 4 ? request.retentionTimeMs : -1n,
      topics: kept.map((a) => ({ ...a.t, name: a.name ?? "" })),
      apiVersion: v,
    });
    const topics = results.map((r, i) => {
      const partitions =
        kept[i]!.name === undefined
          ? r.partitions.map((p) => ({ ...p, errorCode: ErrorCode.UNKNOWN_TOPIC_ID }))
          : r.partitions;
      return { name: r.name, topicId: byId ? kept[i]!.t.topicId : ZERO_UUID, partitions };
    });
    return createOffsetCommitResponse({ topics: [...denied, ...topics] });
  },
});

/** Kafka's getErrorResponse: every partition named, with the error. */
function everyPartition(
  topics: OffsetCommitRequest["topics"],
  errorCode: number,
  version: number,
): OffsetCommitResponse {
  return createOffsetCommitResponse({
    topics: topics.map((t) => ({
      name: t.name,
      topicId: version >= 10 ? t.topicId : ZERO_UUID,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
    })),
  });
}
