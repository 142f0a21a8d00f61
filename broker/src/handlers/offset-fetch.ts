import {
  ApiKey,
  createOffsetFetchResponse,
  type OffsetFetchResponseOffsetFetchResponseGroup,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * OffsetFetch v0-9: committed offsets of named partitions (-1 where none), or of every partition when
 * topics is null (v2+). From v8 one request asks for several groups; v9 names the KIP-848 member.
 */
export const offsetFetchHandler = defineHandler({
  apiKey: ApiKey.OffsetFetch,
  minVersion: 0,
  maxVersion: 9,
  handle(request, ctx) {
    const groups = ctx.broker.groups;
    const v = ctx.apiVersion;
    if (v >= 8) {
      const out: OffsetFetchResponseOffsetFetchResponseGroup[] = request.groups.map((g) => {
        const member = v >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : null;
        const r = groups.fetchOffsets(g.groupId, g.topics, member);
        return { groupId: g.groupId, errorCode: r.errorCode, topics: r.topics };
      });
      return createOffsetFetchResponse({ groups: out });
    }
    const r = groups.fetchOffsets(request.groupId, v >= 2 ? request.topics : (request.topics ?? []), null);
    if (v < 2 && r.errorCode !== ErrorCode.NONE) {
      // v0-1 have no top-level error: each partition carries it.
      for (const t of r.topics) for (const p of t.partitions) p.errorCode = r.errorCode;
    }
    return createOffsetFetchResponse({ topics: r.topics, errorCode: r.errorCode });
  },
});
