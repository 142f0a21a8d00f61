import {
  ApiKey,
  createOffsetFetchResponse,
  ZERO_UUID,
  type OffsetFetchResponseOffsetFetchResponseGroup,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import type { FetchedOffsets } from "../group/offset-store.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, allowedNames } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

/**
 * OffsetFetch v0-10: committed offsets of named partitions (-1 where none), or of every partition when
 * topics is null (v2+). v7+ may require stable offsets: a partition with a transactional offset not yet
 * committed or aborted answers UNSTABLE_OFFSET_COMMIT (the client retries). From v8 one request asks
 * for several groups; v9 names the KIP-848 member; v10 names topics by id (an unknown id is
 * UNKNOWN_TOPIC_ID for its partitions). As Kafka authorizes: DESCRIBE on the group (else the group is
 * GROUP_AUTHORIZATION_FAILED); a named topic the session may not DESCRIBE has TOPIC_AUTHORIZATION_FAILED
 * partitions, and such topics are left out when all are asked for.
 */
export const offsetFetchHandler = defineHandler({
  apiKey: ApiKey.OffsetFetch,
  minVersion: 0,
  maxVersion: 10,
  handle(request, ctx) {
    const metadata = ctx.services.metadata;
    const v = ctx.apiVersion;
    const requireStable = v >= 7 && request.requireStable;
    if (v >= 8) {
      const byId = v >= 10;
      const out: OffsetFetchResponseOffsetFetchResponseGroup[] = request.groups.map((g) => {
        const member = v >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : null;
        const names = g.topics?.map((t) => (byId ? metadata.topicById(t.topicId)?.name : t.name)) ?? null;
        const asked =
          g.topics?.map((t, i) => ({ name: names![i] ?? "", partitionIndexes: t.partitionIndexes })) ?? null;
        const r = fetchGroup(ctx, g.groupId, asked, member, requireStable);
        const topics = r.topics.map((t, i) => {
          const unknownId = names !== null && names[i] === undefined;
          const topicId = byId ? (g.topics?.[i]?.topicId ?? metadata.topic(t.name)?.id ?? ZERO_UUID) : ZERO_UUID;
          const partitions = unknownId
            ? t.partitions.map((p) => ({ ...p, errorCode: ErrorCode.UNKNOWN_TOPIC_ID }))
            : t.partitions;
          return { ...t, topicId, partitions };
        });
        return { groupId: g.groupId, errorCode: r.errorCode, topics };
      });
      return createOffsetFetchResponse({ groups: out });
    }
    const r = fetchGroup(ctx, request.groupId, v >= 2 ? request.topics : (request.topics ?? []), null, requireStable);
    if (v < 2 && r.errorCode !== ErrorCode.NONE) {
      // v0-1 have no top-level error: each partition carries it.
      for (const t of r.topics) for (const p of t.partitions) p.errorCode = r.errorCode;
    }
    return createOffsetFetchResponse({
      topics: r.topics.map((t) => ({ ...t, topicId: ZERO_UUID })),
      errorCode: r.errorCode,
    });
  },
});

/** One group's offsets as the session may see them. */
function fetchGroup(
  ctx: RequestContext,
  groupId: string,
  asked: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
  member: { memberId: string | null; memberEpoch: number } | null,
  requireStable: boolean,
): FetchedOffsets {
  if (!allowed(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
    // v0-1 have no group error: Kafka answers every partition asked for with it (the caller copies it).
    const topics = ctx.apiVersion >= 2 ? [] : (asked ?? []).map((t) => withError(t.name, t.partitionIndexes, 0));
    return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics };
  }
  const r = ctx.services.groups.fetchOffsets(groupId, asked, member, requireStable);
  if (!ctx.services.authorizer.enabled || r.errorCode !== ErrorCode.NONE) return r;
  const describable = allowedNames(ctx, AclOperation.DESCRIBE);
  // An unknown id (asked as "") is answered UNKNOWN_TOPIC_ID by the caller, before any authorization.
  if (asked === null) return { ...r, topics: r.topics.filter((t) => describable(t.name)) };
  const topics = r.topics.map((t) =>
    t.name === "" || describable(t.name)
      ? t
      : {
          ...t,
          ...withError(
            t.name,
            t.partitions.map((p) => p.partitionIndex),
            ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          ),
        },
  );
  return { ...r, topics };
}

/** A topic's partitions answered with an error and no offset. */
function withError(name: string, partitionIndexes: readonly number[], errorCode: number) {
  return {
    name,
    partitions: partitionIndexes.map((partitionIndex) => ({
      partitionIndex,
      committedOffset: -1n,
      committedLeaderEpoch: -1,
      metadata: "",
      errorCode,
    })),
  };
}
