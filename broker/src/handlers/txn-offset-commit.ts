import {
  ApiKey,
  createTxnOffsetCommitResponse,
  ZERO_UUID,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, allowedNames } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * TxnOffsetCommit v0-6: a transactional producer's offsets for a group, written to the group's
 * `__consumer_offsets` partition as part of its transaction and visible to OffsetFetch only once the
 * transaction commits. v3+ name the group member (generation or KIP-848 member epoch, member id,
 * instance id) and are checked against the group; v5 is the transactions v2 form (the offsets partition
 * joins the transaction implicitly); v6 names topics by id (an unknown id is UNKNOWN_TOPIC_ID) and
 * answers GROUP_ID_NOT_FOUND and STALE_MEMBER_EPOCH where older versions say ILLEGAL_GENERATION.
 * Unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers them before the group.
 * As Kafka authorizes: WRITE on the transactional id, then READ on the group (else every partition has
 * TRANSACTIONAL_ID_ or GROUP_AUTHORIZATION_FAILED), and READ on each topic (TOPIC_AUTHORIZATION_FAILED).
 */
export const txnOffsetCommitHandler = defineHandler({
  apiKey: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 6,
  errorResponse: (request, errorCode, version) => everyPartition(request.topics, errorCode, version),
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    if (!allowed(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId))
      return everyPartition(request.topics, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, v);
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return everyPartition(request.topics, ErrorCode.GROUP_AUTHORIZATION_FAILED, v);
    const byId = v >= 6;
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
    if (kept.length === 0) return createTxnOffsetCommitResponse({ topics: denied });
    const results = await ctx.services.groups.commitTxnOffsets({
      transactionalId: request.transactionalId,
      groupId: request.groupId,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      generationIdOrMemberEpoch: v >= 3 ? request.generationIdOrMemberEpoch : -1,
      memberId: v >= 3 ? request.memberId : "",
      groupInstanceId: v >= 3 ? request.groupInstanceId : null,
      topics: kept.map((a) => ({ name: a.name ?? "", partitions: a.t.partitions })),
      apiVersion: v,
    });
    const topics = results.map((r, i) => {
      const partitions = r.partitions.map((p) => {
        if (kept[i]!.name === undefined) return { ...p, errorCode: ErrorCode.UNKNOWN_TOPIC_ID };
        // Clients before 2.0 (v0-1) fail on COORDINATOR_LOAD_IN_PROGRESS (KAFKA-7296), as Kafka notes.
        if (v < 2 && p.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
          return { ...p, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
        return p;
      });
      return { name: r.name, topicId: byId ? kept[i]!.t.topicId : ZERO_UUID, partitions };
    });
    return createTxnOffsetCommitResponse({ topics: [...denied, ...topics] });
  },
});

/** Kafka's getErrorResponse: every partition named, with the error. */
function everyPartition(
  topics: TxnOffsetCommitRequest["topics"],
  errorCode: number,
  version: number,
): TxnOffsetCommitResponse {
  return createTxnOffsetCommitResponse({
    topics: topics.map((t) => ({
      name: t.name,
      topicId: version >= 6 ? t.topicId : ZERO_UUID,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
    })),
  });
}
