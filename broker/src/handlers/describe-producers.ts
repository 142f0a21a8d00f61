import {
  ApiKey,
  createDescribeProducersResponse,
  createDescribeProducersResponsePartitionResponse,
  createDescribeProducersResponseProducerState,
  type DescribeProducersResponsePartitionResponse,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import type { Services } from "../services.js";
import { AclOperation } from "../security/acl.js";
import { allowedNames } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * DescribeProducers v0 (KIP-664, what `kafka-transactions.sh describe-producers` and `find-hanging` ask):
 * for each partition named, the producers its log remembers, from the partition's producer state: epoch,
 * last sequence, timestamp of the last batch or marker, coordinator epoch of the last marker (-1 before
 * any) and the first offset of the ongoing transaction (-1 when none). A topic or partition we do not have
 * is UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers it. A topic the session may not READ is
 * TOPIC_AUTHORIZATION_FAILED.
 */
export const describeProducersHandler = defineHandler({
  apiKey: ApiKey.DescribeProducers,
  minVersion: 0,
  maxVersion: 0,
  errorResponse(request, errorCode) {
    return createDescribeProducersResponse({
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) =>
          createDescribeProducersResponsePartitionResponse({ partitionIndex, errorCode }),
        ),
      })),
    });
  },
  handle(request, ctx) {
    const readable = allowedNames(ctx, AclOperation.READ);
    return createDescribeProducersResponse({
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) =>
          readable(t.name)
            ? describePartition(ctx.services, t.name, partitionIndex)
            : createDescribeProducersResponsePartitionResponse({
                partitionIndex,
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                errorMessage: "Topic authorization failed.",
              }),
        ),
      })),
    });
  },
});

function describePartition(
  services: Services,
  topic: string,
  partitionIndex: number,
): DescribeProducersResponsePartitionResponse {
  const log = services.partitions.partitionLog(topic, partitionIndex);
  if (typeof log === "number")
    return createDescribeProducersResponsePartitionResponse({ partitionIndex, errorCode: log });
  const activeProducers = log.activeProducers().map((p) =>
    createDescribeProducersResponseProducerState({
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      lastSequence: p.lastSequence,
      lastTimestamp: p.lastTimestamp,
      coordinatorEpoch: p.coordinatorEpoch,
      currentTxnStartOffset: p.currentTxnStartOffset,
    }),
  );
  return createDescribeProducersResponsePartitionResponse({ partitionIndex, activeProducers });
}
