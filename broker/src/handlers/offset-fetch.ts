import {
  ApiKey,
  createOffsetFetchResponse,
  ZERO_UUID,
  type OffsetFetchResponseOffsetFetchResponseGroup,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * OffsetFetch v0-10: committed offsets of named partitions (-1 where none), or of every partition when
 * topics is null (v2+). v7+ may require stable offsets: a partition with a transactional offset not yet
 * committed or aborted answers UNSTABLE_OFFSET_COMMIT (the client retries). From v8 one request asks
 * for several groups; v9 names the KIP-848 member; v10 names topics by id (an unknown id is
 * UNKNOWN_TOPIC_ID for its partitions).
 */
export const offsetFetchHandler = defineHandler({
  apiKey: ApiKey.OffsetFetch,
  minVersion: 0,
  maxVersion: 10,
  handle(request, ctx) {
    const groups = ctx.services.groups;
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
        const r = groups.fetchOffsets(g.groupId, asked, member, requireStable);
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
    const r = groups.fetchOffsets(
      request.groupId,
      v >= 2 ? request.topics : (request.topics ?? []),
      null,
      requireStable,
    );
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
