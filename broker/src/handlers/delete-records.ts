import {
  ApiKey,
  createDeleteRecordsResponse,
  createDeleteRecordsResponseDeleteRecordsPartitionResult,
  type DeleteRecordsResponseDeleteRecordsTopicResult,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { allowedNames } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * DeleteRecords v0-2: moves each partition's log start offset up to the given offset (-1: the high
 * watermark); segments wholly below it are deleted. Offsets beyond the high watermark are
 * OFFSET_OUT_OF_RANGE. A topic the session may not DELETE is TOPIC_AUTHORIZATION_FAILED, as Kafka checks.
 */
export const deleteRecordsHandler = defineHandler({
  apiKey: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  errorResponse(request, errorCode) {
    return createDeleteRecordsResponse({
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) =>
          createDeleteRecordsResponseDeleteRecordsPartitionResult({
            partitionIndex: p.partitionIndex,
            lowWatermark: -1n,
            errorCode,
          }),
        ),
      })),
    });
  },
  async handle(request, ctx) {
    const topics: DeleteRecordsResponseDeleteRecordsTopicResult[] = [];
    const deletable = allowedNames(ctx, AclOperation.DELETE);
    for (const t of request.topics) {
      const partitions = [];
      for (const p of t.partitions) {
        const log = deletable(t.name)
          ? ctx.services.partitions.partitionLog(t.name, p.partitionIndex)
          : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        if (typeof log === "number") {
          partitions.push(
            createDeleteRecordsResponseDeleteRecordsPartitionResult({
              partitionIndex: p.partitionIndex,
              lowWatermark: -1n,
              errorCode: log,
            }),
          );
          continue;
        }
        const { errorCode, lowWatermark } = await log.deleteRecordsBefore(p.offset);
        partitions.push(
          createDeleteRecordsResponseDeleteRecordsPartitionResult({
            partitionIndex: p.partitionIndex,
            // Kafka answers an invalid low watermark (-1) with any error.
            lowWatermark: errorCode === ErrorCode.NONE ? lowWatermark : -1n,
            errorCode,
          }),
        );
      }
      topics.push({ name: t.name, partitions });
    }
    return createDeleteRecordsResponse({ topics });
  },
});
