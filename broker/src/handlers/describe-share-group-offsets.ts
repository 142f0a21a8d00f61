import {
  ApiKey,
  createDescribeShareGroupOffsetsResponse,
  type DescribeShareGroupOffsetsResponseDescribeShareGroupOffsetsResponseTopic as TopicOffsets,
} from "@tskafka/protocol";
import { LEADER_EPOCH } from "../cluster/partition-logs.js";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, allowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * DescribeShareGroupOffsets v0-1 (KIP-932): a share group's start offset per share-partition (v1: and its
 * lag), for the partitions named or (topics null) every partition the group has started; what
 * `kafka-share-groups.sh --describe --offsets` shows. A group that is not a share group is
 * GROUP_ID_NOT_FOUND.
 */
export const describeShareGroupOffsetsHandler = defineHandler({
  apiKey: ApiKey.DescribeShareGroupOffsets,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const shares = ctx.services.shareGroups;
    const groups = await Promise.all(
      request.groups.map(async (g) => {
        if (!allowed(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId)) {
          const errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
          return { groupId: g.groupId, topics: [], errorCode, errorMessage: AUTHORIZATION_MESSAGE[errorCode]! };
        }
        if (shares.group(g.groupId) === undefined)
          return {
            groupId: g.groupId,
            topics: [],
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: `Group ${g.groupId} not found.`,
          };
        const byTopic = new Map<string, TopicOffsets>();
        for (const o of await shares.offsets(g.groupId, g.topics)) {
          let t = byTopic.get(o.topic);
          if (t === undefined) byTopic.set(o.topic, (t = { topicName: o.topic, topicId: o.topicId, partitions: [] }));
          t.partitions.push({
            partitionIndex: o.partition,
            startOffset: BigInt(o.startOffset),
            leaderEpoch: o.startOffset < 0 ? -1 : LEADER_EPOCH,
            lag: BigInt(o.lag),
            errorCode: ErrorCode.NONE,
            errorMessage: null,
          });
        }
        return { groupId: g.groupId, topics: [...byTopic.values()], errorCode: ErrorCode.NONE, errorMessage: null };
      }),
    );
    return createDescribeShareGroupOffsetsResponse({ groups });
  },
});
