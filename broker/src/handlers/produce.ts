import {
  ApiKey,
  messageSetToRecordBatches,
  createProduceResponse,
  createProduceResponsePartitionProduceResponse,
  DecodeError,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceResponsePartitionProduceResponse,
  type ProduceResponseTopicProduceResponse,
} from "@tskafka/protocol";
import type { TopicInfo } from "../cluster/metadata.js";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { checkTransactionalBatch, isTransactionalBatch } from "../txn/write-check.js";
import { allowed, allowedNames } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

/** Byte 16 of any record set is its magic: 2 for RecordBatch, 0 or 1 for the legacy MessageSet. */
const MAGIC_OFFSET = 16;

/** Errors Kafka answers with logStartOffset -1 (its ReplicaManager's "unknown append info"). */
const NO_LOG_START_OFFSET: ReadonlySet<number> = new Set([
  ErrorCode.CORRUPT_MESSAGE,
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.RECORD_LIST_TOO_LARGE,
]);

/**
 * Produce v0-13. Only the partition's leader appends (NOT_LEADER_OR_FOLLOWER elsewhere, naming the
 * current leader and its endpoint from v10, KIP-951), stamping its leader epoch. acks 0 (no response), 1
 * (the append has reached the operating system, or the disk when log.flush.interval.messages=1) and -1:
 * refused with NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas, else answered once the ISR
 * has the records (NOT_ENOUGH_REPLICAS_AFTER_APPEND when it shrank below meanwhile, REQUEST_TIMED_OUT at
 * the request's timeout); with one replica, as on a single node, -1 is 1. RecordBatch v2 is stored as
 * received; legacy v0/v1 message sets are up-converted to one v2 batch first, as Kafka does with
 * message format v2. Partitions of one request are appended concurrently. v13 (KIP-516) names topics
 * by id; an id we do not know is UNKNOWN_TOPIC_ID. A transactional batch goes in only when its
 * partition is in the producer's transaction (txn/write-check.ts): v12 (KIP-890) adds it there.
 * Authorization as Kafka's: WRITE on each topic (TOPIC_AUTHORIZATION_FAILED, after an unknown id and
 * before an unknown topic); a request carrying a transactional batch needs WRITE on its transactional
 * id, else the whole request is TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
export const produceHandler = defineHandler({
  apiKey: ApiKey.Produce,
  minVersion: 0,
  maxVersion: 13,
  errorResponse: everyPartition,
  async handle(request, ctx) {
    if (ctx.services.authorizer.enabled && !transactionalIdAllowed(request.transactionalId, request.topicData, ctx))
      return everyPartition(request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const acks = request.acks;
    const byId = ctx.apiVersion >= 13;
    const writable = allowedNames(ctx, AclOperation.WRITE);
    const responses: ProduceResponseTopicProduceResponse[] = [];
    const pending: Promise<void>[] = [];
    for (const topic of request.topicData) {
      const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
      responses.push({ name: topic.name, topicId: topic.topicId, partitionResponses });
      // Looked up once per topic, by id from v13; an id we do not know is UNKNOWN_TOPIC_ID.
      const metadata = ctx.services.metadata;
      const info = byId ? metadata.topicById(topic.topicId) : metadata.topic(topic.name);
      for (const p of topic.partitionData) {
        const r = unappended(p.index);
        partitionResponses.push(r);
        if (acks !== 0 && acks !== 1 && acks !== -1) r.errorCode = ErrorCode.INVALID_REQUIRED_ACKS;
        else if (byId && info === undefined) r.errorCode = ErrorCode.UNKNOWN_TOPIC_ID;
        else if (!writable(info?.name ?? topic.name)) r.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        else {
          const write = { acks, timeoutMs: request.timeoutMs, transactionalId: request.transactionalId };
          pending.push(appendPartition(ctx, info, p.index, p.records, r, write));
        }
      }
    }
    await Promise.all(pending);
    if (acks === 0) return null;
    return createProduceResponse({ responses, nodeEndpoints: leaderEndpoints(ctx, responses) });
  },
});

/** Kafka's getErrorResponse: every partition named, with the error. */
function everyPartition(request: ProduceRequest, errorCode: number): ProduceResponse {
  return createProduceResponse({
    responses: request.topicData.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      partitionResponses: t.partitionData.map((p) => unappended(p.index, errorCode)),
    })),
  });
}

/** Kafka's check of a request with transactional records: it names a transactional id the session may write. */
function transactionalIdAllowed(
  transactionalId: string | null,
  topics: readonly { partitionData: readonly { records: Buffer | null }[] }[],
  ctx: RequestContext,
): boolean {
  const transactional = topics.some((t) =>
    t.partitionData.some((p) => p.records !== null && isTransactionalBatch(p.records)),
  );
  if (!transactional) return true;
  return transactionalId !== null && allowed(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId);
}

/** A partition's answer before (or without) an append: no offsets. */
function unappended(index: number, errorCode: number = ErrorCode.NONE): ProduceResponsePartitionProduceResponse {
  return createProduceResponsePartitionProduceResponse({
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
  });
}

/** What a produce asks of every partition's write. */
interface WriteRequest {
  readonly acks: number;
  readonly timeoutMs: number;
  readonly transactionalId: string | null;
}

/**
 * From v10 (KIP-951) a partition answered NOT_LEADER_OR_FOLLOWER names the current leader, and the
 * response lists where those leaders are (on the client's listener), so the client need not ask Metadata.
 */
function leaderEndpoints(ctx: RequestContext, responses: readonly ProduceResponseTopicProduceResponse[]) {
  if (ctx.apiVersion < 10) return [];
  const leaders = new Set<number>();
  for (const t of responses)
    for (const p of t.partitionResponses)
      if (p.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER && p.currentLeader.leaderId >= 0)
        leaders.add(p.currentLeader.leaderId);
  if (leaders.size === 0) return [];
  return ctx.services.replication.endpoints(leaders, ctx.session.listener);
}

async function appendPartition(
  ctx: RequestContext,
  topic: TopicInfo | undefined,
  partition: number,
  records: Buffer | null,
  out: ProduceResponsePartitionProduceResponse,
  write: WriteRequest,
): Promise<void> {
  const services = ctx.services;
  const transactionalId = write.transactionalId;
  const log = services.partitions.logOf(topic, partition);
  if (typeof log === "number") {
    out.errorCode = log;
    return;
  }
  const replication = services.replication;
  const name = topic!.name;
  const refusal = replication.writeError(name, partition, write.acks);
  if (refusal !== ErrorCode.NONE) {
    out.errorCode = refusal;
    if (refusal === ErrorCode.NOT_LEADER_OR_FOLLOWER && ctx.apiVersion >= 10)
      out.currentLeader = { ...replication.currentLeader(name, partition) };
    return;
  }
  if (records === null || records.length < MAGIC_OFFSET + 1) {
    out.errorCode = ErrorCode.CORRUPT_MESSAGE;
    out.errorMessage = "the record set is empty or too short to hold a batch";
    return;
  }
  let batches = records;
  if (records[MAGIC_OFFSET]! < 2) {
    try {
      batches = messageSetToRecordBatches(records);
    } catch (e) {
      out.errorCode = ErrorCode.CORRUPT_MESSAGE;
      out.errorMessage = e instanceof DecodeError ? e.message : "invalid message set";
      return;
    }
  }
  if (isTransactionalBatch(batches)) {
    const name = topic!.name;
    const refused = await checkTransactionalBatch(
      services.transactions,
      transactionalId,
      ctx.apiVersion,
      name,
      partition,
      batches,
    );
    if (refused !== null) {
      out.errorCode = refused.errorCode;
      out.errorMessage = refused.errorMessage;
      return;
    }
  }
  const result = await log.append(batches, { leaderEpoch: replication.leaderEpoch(name, partition) });
  out.errorCode = result.errorCode;
  out.errorMessage = result.errorMessage;
  if (result.recordErrors !== undefined && result.recordErrors.length > 0) {
    out.recordErrors = result.recordErrors.map((e) => ({
      batchIndex: e.batchIndex,
      batchIndexErrorMessage: e.message,
    }));
  }
  out.baseOffset = result.baseOffset;
  out.logAppendTimeMs = result.logAppendTime;
  // As Kafka: a batch refused whole before validation (corrupt, too large) gets no log start offset;
  // other errors (invalid records, sequence and epoch errors) report the partition's.
  out.logStartOffset = NO_LOG_START_OFFSET.has(result.errorCode) ? -1n : result.logStartOffset;
  // A log was found, so the topic is known.
  if (result.errorCode !== ErrorCode.NONE) return;
  services.fetchWaiters.notify(name, partition);
  // acks=all: answered once the ISR has the records (Kafka's DelayedProduce).
  if (write.acks === -1)
    out.errorCode = await replication.waitForCommit(name, partition, result.lastOffset + 1n, write.timeoutMs);
}
