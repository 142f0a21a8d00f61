import {
  ApiKey,
  createDeleteRecordsResponse,
  createDeleteRecordsResponseDeleteRecordsPartitionResult,
  type DeleteRecordsResponseDeleteRecordsTopicResult,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import type { Services } from "../services.js";
import { AclOperation } from "../security/acl.js";
import { allowedNames } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * DeleteRecords v0-2, on each partition's leader (NOT_LEADER_OR_FOLLOWER elsewhere): moves its log start
 * offset up to the given offset (-1: the high watermark); segments wholly below it are deleted. Offsets
 * beyond the high watermark are OFFSET_OUT_OF_RANGE. With other replicas, the answer waits (as Kafka's
 * DelayedDeleteRecords) until every live follower's log start, which it moves when its fetches tell it
 * the leader's, reached the offset too: the low watermark answered is their smallest; REQUEST_TIMED_OUT
 * after the request's timeout. A topic the session may not DELETE is TOPIC_AUTHORIZATION_FAILED, as
 * Kafka checks.
 */
export const deleteRecordsHandler = defineHandler({
  apiKey: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  errorResponse(request, errorCode) {
    return createDeleteRecordsResponse({
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => result(p.partitionIndex, errorCode, -1n)),
      })),
    });
  },
  async handle(request, ctx) {
    const deletable = allowedNames(ctx, AclOperation.DELETE);
    const topics = request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) =>
        deletable(t.name)
          ? deleteOne(ctx.services, t.name, p.partitionIndex, p.offset, request.timeoutMs)
          : result(p.partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1n),
      ),
    }));
    // Every partition deleted here first, then the answer waits for the slowest one's followers.
    return createDeleteRecordsResponse({
      topics: await Promise.all(
        topics.map(async (t): Promise<DeleteRecordsResponseDeleteRecordsTopicResult> => ({
          name: t.name,
          partitions: await Promise.all(t.partitions),
        })),
      ),
    });
  },
});

// Kafka answers an invalid low watermark (-1) with any error.
const result = (partitionIndex: number, errorCode: number, lowWatermark: bigint) =>
  createDeleteRecordsResponseDeleteRecordsPartitionResult({
    partitionIndex,
    lowWatermark: errorCode === ErrorCode.NONE ? lowWatermark : -1n,
    errorCode,
  });

async function deleteOne(services: Services, topic: string, partition: number, offset: bigint, timeoutMs: number) {
  const log = services.partitions.partitionLog(topic, partition);
  if (typeof log === "number") return result(partition, log, -1n);
  const notLeader = services.replication.leaderError(topic, partition, -1);
  if (notLeader !== ErrorCode.NONE) return result(partition, notLeader, -1n);
  const required = offset === -1n ? log.highWatermark : offset;
  const deleted = await log.deleteRecordsBefore(offset);
  if (deleted.errorCode !== ErrorCode.NONE) return result(partition, deleted.errorCode, -1n);
  const low = await services.replication.waitForLowWatermark(topic, partition, log, required, timeoutMs);
  // As Kafka's DelayedDeleteRecords, a time-out still names the low watermark it had.
  return createDeleteRecordsResponseDeleteRecordsPartitionResult({ partitionIndex: partition, ...low });
}
