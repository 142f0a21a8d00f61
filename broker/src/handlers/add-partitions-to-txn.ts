import {
  ApiKey,
  createAddPartitionsToTxnResponse,
  type AddPartitionsToTxnRequestAddPartitionsToTxnTopic,
  type AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
} from "@tskafka/protocol";
import { hasPartition } from "../cluster/metadata.js";
import { ErrorCode } from "../errors.js";
import type { TopicPartitionRef } from "../txn/marker.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, allowedNames, clusterAllowed } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

/**
 * AddPartitionsToTxn v0-5. v0-3 come from producers (transactions v1): one transaction, its partitions
 * join it. v4-5 come from brokers and batch transactions: `verifyOnly` asks whether the partitions are
 * already in the transaction (KIP-890 part 1) instead of adding them; an add from a broker is a
 * transactions v2 add. An unknown partition fails the whole transaction: it gets
 * UNKNOWN_TOPIC_OR_PARTITION, the others OPERATION_NOT_ATTEMPTED. Before v2 (KIP-588) a fenced producer
 * gets INVALID_PRODUCER_EPOCH. As Kafka authorizes: v4-5 (from brokers) need CLUSTER_ACTION, else the
 * request is CLUSTER_AUTHORIZATION_FAILED; v0-3 need WRITE on the transactional id (every partition
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and on each topic but the internal ones (TOPIC_AUTHORIZATION_FAILED,
 * failing the transaction as an unknown partition does).
 */
export const addPartitionsToTxnHandler = defineHandler({
  apiKey: ApiKey.AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (ctx.apiVersion >= 4 && !clusterAllowed(ctx, AclOperation.CLUSTER_ACTION))
      return createAddPartitionsToTxnResponse({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED });
    if (ctx.apiVersion < 4) {
      const topics = await addToTransaction(
        ctx,
        request.v3AndBelowTransactionalId,
        request.v3AndBelowProducerId,
        request.v3AndBelowProducerEpoch,
        request.v3AndBelowTopics,
        false,
      );
      return createAddPartitionsToTxnResponse({ resultsByTopicV3AndBelow: topics });
    }
    const resultsByTransaction = await Promise.all(
      request.transactions.map(async (t) => ({
        transactionalId: t.transactionalId,
        topicResults: await addToTransaction(
          ctx,
          t.transactionalId,
          t.producerId,
          t.producerEpoch,
          t.topics,
          t.verifyOnly,
        ),
      })),
    );
    return createAddPartitionsToTxnResponse({ resultsByTransaction });
  },
});

/** Topics a transaction may name without WRITE on them (Kafka's Topic.isInternal). */
const INTERNAL_TOPICS: ReadonlySet<string> = new Set(["__consumer_offsets", "__transaction_state"]);

async function addToTransaction(
  ctx: RequestContext,
  transactionalId: string,
  producerId: bigint,
  producerEpoch: number,
  topics: readonly AddPartitionsToTxnRequestAddPartitionsToTxnTopic[],
  verifyOnly: boolean,
): Promise<AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult[]> {
  const services = ctx.services;
  const partitions: TopicPartitionRef[] = topics.flatMap((t) =>
    t.partitions.map((partition) => ({ topic: t.name, partition })),
  );
  let codes: number[];
  const fromClient = ctx.apiVersion < 4;
  const writable = fromClient ? allowedNames(ctx, AclOperation.WRITE) : () => true;
  const failed = partitions.map((p) =>
    !INTERNAL_TOPICS.has(p.topic) && !writable(p.topic)
      ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
      : hasPartition(services.metadata.topic(p.topic), p.partition)
        ? ErrorCode.NONE
        : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  );
  if (fromClient && !allowed(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)) {
    codes = partitions.map(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  } else if (failed.some((c) => c !== ErrorCode.NONE)) {
    codes = failed.map((c) => (c === ErrorCode.NONE ? ErrorCode.OPERATION_NOT_ATTEMPTED : c));
  } else if (verifyOnly) {
    codes = services.transactions.verifyPartitions(transactionalId, producerId, producerEpoch, partitions);
  } else {
    const version = ctx.apiVersion >= 4 ? 2 : 0;
    const code = await services.transactions.addPartitions(
      transactionalId,
      producerId,
      producerEpoch,
      partitions,
      version,
    );
    codes = partitions.map(() =>
      ctx.apiVersion < 2 && code === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : code,
    );
  }
  const byTopic = new Map<string, AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult>();
  partitions.forEach((p, i) => {
    let t = byTopic.get(p.topic);
    if (t === undefined) byTopic.set(p.topic, (t = { name: p.topic, resultsByPartition: [] }));
    t.resultsByPartition.push({ partitionIndex: p.partition, partitionErrorCode: codes[i]! });
  });
  return [...byTopic.values()];
}
