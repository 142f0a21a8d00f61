import {
  ApiKey,
  createOffsetForLeaderEpochResponse,
  createOffsetForLeaderEpochResponseEpochEndOffset,
  type OffsetForLeaderEpochResponseEpochEndOffset,
} from "@tskafka/protocol";
import { hasPartition } from "../cluster/metadata.js";
import { ErrorCode } from "../errors.js";
import type { Services } from "../services.js";
import { AclOperation } from "../security/acl.js";
import { allowedNames, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * OffsetForLeaderEpoch v0-4 (KIP-101, KIP-320): where a leader epoch ends in the leader's log, from its
 * leader epochs (log/leader-epoch-cache.ts): the latest epoch ends at the log end, an older one where the
 * next one starts (answered with the largest epoch at or below the one asked), one newer than any is
 * undefined (-1, -1). Consumers ask it to find out whether their position survived a leader change;
 * followers may ask it to find where to truncate (ours use the diverging epoch of Fetch v12+). Only the
 * leader answers, as Kafka's: NOT_LEADER_OR_FOLLOWER elsewhere, and a current leader epoch (v2+) other
 * than the leader's is FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH. A session with CLUSTER_ACTION may ask
 * of every topic, others need DESCRIBE on each (TOPIC_AUTHORIZATION_FAILED).
 */
export const offsetForLeaderEpochHandler = defineHandler({
  apiKey: ApiKey.OffsetForLeaderEpoch,
  minVersion: 0,
  maxVersion: 4,
  errorResponse(request, errorCode) {
    return createOffsetForLeaderEpochResponse({
      topics: request.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) =>
          createOffsetForLeaderEpochResponseEpochEndOffset({ partition: p.partition, errorCode }),
        ),
      })),
    });
  },
  handle(request, ctx) {
    const all = clusterAllowed(ctx, AclOperation.CLUSTER_ACTION, false);
    const describable = all ? () => true : allowedNames(ctx, AclOperation.DESCRIBE);
    const withEpoch = ctx.apiVersion >= 2;
    return createOffsetForLeaderEpochResponse({
      topics: request.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) =>
          describable(t.topic)
            ? endOffset(ctx.services, t.topic, p.partition, withEpoch ? p.currentLeaderEpoch : -1, p.leaderEpoch)
            : createOffsetForLeaderEpochResponseEpochEndOffset({
                partition: p.partition,
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              }),
        ),
      })),
    });
  },
});

function endOffset(
  services: Services,
  topic: string,
  partition: number,
  currentLeaderEpoch: number,
  leaderEpoch: number,
): OffsetForLeaderEpochResponseEpochEndOffset {
  const answer = (errorCode: number, epoch = -1, offset = -1n) =>
    createOffsetForLeaderEpochResponseEpochEndOffset({ partition, errorCode, leaderEpoch: epoch, endOffset: offset });
  const info = services.metadata.topic(topic);
  if (!hasPartition(info, partition)) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const log = services.partitions.logOf(info, partition);
  // A partition of the cluster that has no replica here.
  if (typeof log === "number") return answer(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const error = services.replication.leaderError(topic, partition, currentLeaderEpoch);
  if (error !== ErrorCode.NONE) return answer(error);
  const end = log.epochs.endOffsetFor(leaderEpoch, log.logEndOffset);
  return answer(ErrorCode.NONE, end.epoch, end.endOffset);
}
