import { ApiKey, createWriteTxnMarkersResponse } from "@tskafka/protocol";
import { defineHandler } from "./handler.js";

/**
 * WriteTxnMarkers v0-2: a transaction coordinator asks this broker, the leader of the partitions named,
 * to append commit or abort markers; each partition is answered on its own (UNKNOWN_TOPIC_OR_PARTITION
 * for one this broker does not have). On one node the coordinator writes its markers directly through the
 * same local writer (txn/local-markers.ts); the API is here for a cluster's coordinators and for tools.
 */
export const writeTxnMarkersHandler = defineHandler({
  apiKey: ApiKey.WriteTxnMarkers,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
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
