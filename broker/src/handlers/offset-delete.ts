import { ApiKey, createOffsetDeleteResponse } from "@tskafka/protocol";
import { defineHandler } from "./handler.js";

/** OffsetDelete v0: removes committed offsets of topics the group is not subscribed to. */
export const offsetDeleteHandler = defineHandler({
  apiKey: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const r = await ctx.services.groups.deleteOffsets(request.groupId, request.topics);
    return createOffsetDeleteResponse({ errorCode: r.errorCode, topics: r.topics });
  },
});
