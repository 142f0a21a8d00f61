import { ApiKey, createOffsetDeleteResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, allowedNames } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * OffsetDelete v0: removes committed offsets of topics the group is not subscribed to. As Kafka
 * authorizes: DELETE on the group (GROUP_AUTHORIZATION_FAILED), READ on each topic (its partitions are
 * TOPIC_AUTHORIZATION_FAILED and keep their offsets).
 */
export const offsetDeleteHandler = defineHandler({
  apiKey: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    if (!allowed(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupId))
      return createOffsetDeleteResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
    const readable = allowedNames(ctx, AclOperation.READ);
    const kept = request.topics.filter((t) => readable(t.name));
    const denied = request.topics
      .filter((t) => !kept.includes(t))
      .map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        })),
      }));
    const r = await ctx.services.groups.deleteOffsets(request.groupId, kept);
    return createOffsetDeleteResponse({ errorCode: r.errorCode, topics: [...denied, ...r.topics] });
  },
});
