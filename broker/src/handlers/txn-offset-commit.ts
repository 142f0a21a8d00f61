import { ApiKey, createTxnOffsetCommitResponse, ZERO_UUID } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * TxnOffsetCommit v0-6: a transactional producer's offsets for a group, written to the group's
 * `__consumer_offsets` partition as part of its transaction and visible to OffsetFetch only once the
 * transaction commits. v3+ name the group member (generation or KIP-848 member epoch, member id,
 * instance id) and are checked against the group; v5 is the transactions v2 form (the offsets partition
 * joins the transaction implicitly); v6 names topics by id (an unknown id is UNKNOWN_TOPIC_ID) and
 * answers GROUP_ID_NOT_FOUND and STALE_MEMBER_EPOCH where older versions say ILLEGAL_GENERATION.
 * Unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers them before the group.
 */
export const txnOffsetCommitHandler = defineHandler({
  apiKey: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    const byId = v >= 6;
    const metadata = ctx.services.metadata;
    const names = request.topics.map((t) => (byId ? metadata.topicById(t.topicId)?.name : t.name));
    const results = await ctx.services.groups.commitTxnOffsets({
      transactionalId: request.transactionalId,
      groupId: request.groupId,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      generationIdOrMemberEpoch: v >= 3 ? request.generationIdOrMemberEpoch : -1,
      memberId: v >= 3 ? request.memberId : "",
      groupInstanceId: v >= 3 ? request.groupInstanceId : null,
      topics: request.topics.map((t, i) => ({ name: names[i] ?? "", partitions: t.partitions })),
      apiVersion: v,
    });
    const topics = results.map((r, i) => {
      const partitions = r.partitions.map((p) => {
        if (names[i] === undefined) return { ...p, errorCode: ErrorCode.UNKNOWN_TOPIC_ID };
        // Clients before 2.0 (v0-1) fail on COORDINATOR_LOAD_IN_PROGRESS (KAFKA-7296), as Kafka notes.
        if (v < 2 && p.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
          return { ...p, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
        return p;
      });
      return { name: r.name, topicId: byId ? request.topics[i]!.topicId : ZERO_UUID, partitions };
    });
    return createTxnOffsetCommitResponse({ topics });
  },
});
