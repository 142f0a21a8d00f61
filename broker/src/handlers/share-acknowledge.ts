import {
  ApiKey,
  createShareAcknowledgeResponse,
  type ShareAcknowledgeResponseShareAcknowledgeTopicResponse,
} from "@tskafka/protocol";
import { acknowledgePartition, closeIfFinal, startShareRequest } from "../share/share-requests.js";
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
    const started = startShareRequest(ctx, request, false);
    if ("error" in started) return createShareAcknowledgeResponse(started.error);
    const scope = started.scope;
    // Each partition's acknowledgements apply at once, in request order; their writes are awaited together.
    const responses: ShareAcknowledgeResponseShareAcknowledgeTopicResponse[] = await Promise.all(
      request.topics.map(async (t) => {
        const topic = ctx.services.metadata.topicById(t.topicId);
        const partitions = await Promise.all(
          t.partitions.map(async (p) => {
            const r = await acknowledgePartition(scope, topic, p);
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
    closeIfFinal(scope);
    return createShareAcknowledgeResponse({
      acquisitionLockTimeoutMs: scope.shares.lockDurationMs(scope.groupId),
      responses,
    });
  },
});
