import {
  ApiKey,
  createWriteTxnMarkersResponse,
  type WriteTxnMarkersRequest,
  type WriteTxnMarkersResponse,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * WriteTxnMarkers v0-2: a transaction coordinator asks this broker, the leader of the partitions named,
 * to append commit or abort markers; each partition is answered on its own (UNKNOWN_TOPIC_OR_PARTITION
 * for one this broker does not have), by the epoch rules of the marker's transaction version (v2; 0 before:
 * an epoch older than the producer's is INVALID_PRODUCER_EPOCH; from 2, KIP-890, one not newer than the
 * producer's, unless it repeats the marker of a transaction already ended, as Kafka 4.4's partitions check).
 * On one node the coordinator writes its markers directly through the same local writer
 * (txn/local-markers.ts); the API is here for a cluster's coordinators and for tools
 * (`kafka-transactions.sh abort` sends markers of transaction version 0 with the producer's current epoch).
 * As Kafka authorizes: ALTER or CLUSTER_ACTION on the cluster, else every partition is
 * CLUSTER_AUTHORIZATION_FAILED.
 */
export const writeTxnMarkersHandler = defineHandler({
  apiKey: ApiKey.WriteTxnMarkers,
  minVersion: 0,
  maxVersion: 2,
  errorResponse: everyPartition,
  async handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.ALTER, false) && !clusterAllowed(ctx, AclOperation.CLUSTER_ACTION))
      return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const markers = await Promise.all(
      request.markers.map(async (m) => {
        const partitions = m.topics.flatMap((t) =>
          t.partitionIndexes.map((partition) => ({ topic: t.name, partition })),
        );
        const results = await ctx.services.transactions.writeMarkers(
          {
            producerId: m.producerId,
            producerEpoch: m.producerEpoch,
            committed: m.transactionResult,
            coordinatorEpoch: m.coordinatorEpoch,
            // v2: the version of the transaction (0 before v2). From 2 the partition refuses a marker whose
            // epoch is not newer than its producer's, unless it repeats the marker of an ended transaction.
            transactionVersion: m.transactionVersion,
          },
          partitions,
        );
        const topics = m.topics.map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({
            partitionIndex: p,
            errorCode: results.find((r) => r.topic === t.name && r.partition === p)!.errorCode,
          })),
        }));
        return { producerId: m.producerId, topics };
      }),
    );
    return createWriteTxnMarkersResponse({ markers });
  },
});

/** Kafka's getErrorResponse: every partition of every marker, with the error. */
function everyPartition(request: WriteTxnMarkersRequest, errorCode: number): WriteTxnMarkersResponse {
  return createWriteTxnMarkersResponse({
    markers: request.markers.map((m) => ({
      producerId: m.producerId,
      topics: m.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode })),
      })),
    })),
  });
}
