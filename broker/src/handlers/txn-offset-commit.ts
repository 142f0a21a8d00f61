import { ApiKey, createTxnOffsetCommitResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { authorizedCommit, everyPartition } from "../group/commit-requests.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed } from "./authz.js";
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
  errorResponse: (request, errorCode, version) =>
    createTxnOffsetCommitResponse({ topics: everyPartition(request.topics, errorCode, version >= 6) }),
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    const byId = v >= 6;
    if (!allowed(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId))
      return createTxnOffsetCommitResponse({
        topics: everyPartition(request.topics, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, byId),
      });
    const topics = await authorizedCommit(ctx, request.groupId, request.topics, byId, async (kept) => {
      const results = await ctx.services.groups.commitTxnOffsets({
        transactionalId: request.transactionalId,
        groupId: request.groupId,
        producerId: request.producerId,
        producerEpoch: request.producerEpoch,
        generationIdOrMemberEpoch: v >= 3 ? request.generationIdOrMemberEpoch : -1,
        memberId: v >= 3 ? request.memberId : "",
        groupInstanceId: v >= 3 ? request.groupInstanceId : null,
        topics: kept.map((k) => ({ name: k.name, partitions: k.topic.partitions })),
        apiVersion: v,
      });
      // Clients before 2.0 (v0-1) fail on COORDINATOR_LOAD_IN_PROGRESS (KAFKA-7296), as Kafka notes.
      if (v >= 2) return results;
      return results.map((r) => ({ ...r, partitions: r.partitions.map(loadInProgressAsNotAvailable) }));
    });
    return createTxnOffsetCommitResponse({ topics });
  },
});

/** A partition's error as clients before 2.0 can take it. */
function loadInProgressAsNotAvailable(p: { partitionIndex: number; errorCode: number }) {
  return p.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
    ? { ...p, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }
    : p;
}
