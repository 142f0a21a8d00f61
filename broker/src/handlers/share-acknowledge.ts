import {
  ApiKey,
  createShareAcknowledgeResponse,
  type ShareAcknowledgeResponseShareAcknowledgeTopicResponse,
} from "@tskafka/protocol";
import { SHARE_VERSION, featureLevel } from "../cluster/features.js";
import { ErrorCode } from "../errors.js";
import { acknowledgePartition, checkSession } from "../share/share-requests.js";
import { FINAL_SHARE_EPOCH } from "../share/share-sessions.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, allowedNames } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * ShareAcknowledge v1-2 (KIP-932): a member acknowledges records it acquired (ACCEPT, RELEASE, REJECT;
 * RENEW from v2) within its share session, without fetching; epoch -1 acknowledges and closes the
 * session, releasing what the member still holds. Each partition answers once its change is written to
 * `__share_group_state`.
 */
export const shareAcknowledgeHandler = defineHandler({
  apiKey: ApiKey.ShareAcknowledge,
  minVersion: 1,
  maxVersion: 2,
  async handle(request, ctx) {
    const services = ctx.services;
    const shares = services.shareGroups;
    const groupId = request.groupId ?? "";
    const memberId = request.memberId ?? "";
    const fail = (errorCode: number, errorMessage: string | null) =>
      createShareAcknowledgeResponse({ errorCode, errorMessage });
    if (featureLevel(services.metadata.finalizedFeatures(), SHARE_VERSION) < 1)
      return fail(ErrorCode.UNSUPPORTED_VERSION, "Share groups are not enabled (share.version is 0).");
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, groupId))
      return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    if (groupId === "") return fail(ErrorCode.INVALID_GROUP_ID, "GroupId can't be empty.");
    if (memberId === "") return fail(ErrorCode.UNKNOWN_MEMBER_ID, "MemberId can't be empty.");
    const epoch = request.shareSessionEpoch;
    const max = services.config.props["group.share.max.share.sessions"];
    const checked = checkSession(shares, groupId, memberId, epoch, false, max);
    if ("errorCode" in checked) return fail(checked.errorCode, checked.errorMessage);
    // Each partition's acknowledgements apply at once, in request order; their writes are awaited together.
    const readable = allowedNames(ctx, AclOperation.READ);
    const responses: ShareAcknowledgeResponseShareAcknowledgeTopicResponse[] = await Promise.all(
      request.topics.map(async (t) => {
        const topic = services.metadata.topicById(t.topicId);
        const partitions = await Promise.all(
          t.partitions.map(async (p) => {
            const r =
              topic !== undefined && !readable(topic.name)
                ? { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null }
                : await acknowledgePartition(shares, groupId, memberId, topic, p, ctx.apiVersion >= 2);
            return {
              partitionIndex: p.partitionIndex,
              errorCode: r.errorCode,
              errorMessage: r.errorMessage,
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
            };
          }),
        );
        return { topicId: t.topicId, partitions };
      }),
    );
    if (epoch === FINAL_SHARE_EPOCH) shares.closeSession(groupId, memberId);
    return createShareAcknowledgeResponse({ acquisitionLockTimeoutMs: shares.lockDurationMs(groupId), responses });
  },
});
