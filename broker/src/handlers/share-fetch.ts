import {
  ApiKey,
  createShareFetchResponse,
  createShareFetchResponsePartitionData,
  type ShareFetchResponsePartitionData,
  type ShareFetchResponseShareFetchableTopicResponse,
} from "@tskafka/protocol";
import { FetchWaiters } from "../cluster/fetch-waiters.js";
import { ErrorCode } from "../errors.js";
import { readAcquired } from "../share/record-reader.js";
import { acknowledgePartition, closeIfFinal, startShareRequest } from "../share/share-requests.js";
import {
  FINAL_SHARE_EPOCH,
  INITIAL_SHARE_EPOCH,
  type SessionPartition,
  type ShareSession,
} from "../share/share-sessions.js";
import type { Services } from "../services.js";
import { defineHandler } from "./handler.js";

/** MaxRecords of a request that states none. */
const DEFAULT_MAX_RECORDS = 500;

/**
 * ShareFetch v1-2 (KIP-932): a share group member fetches from the partitions of its share session and
 * acknowledges what it got before, in the same request. Epoch 0 opens the session with the partitions
 * named; later epochs add partitions and forget others; -1 only acknowledges and closes the session
 * (the member's acquired records become available again). Records are acquired for the member under a
 * lock of the group's share.record.lock.duration.ms, at most MaxRecords across partitions; the answer
 * holds the stored batches and the AcquiredRecords ranges with their delivery counts. With nothing to
 * acquire the request waits up to MaxWaitMs for appends or released records. v2 adds the RENEW
 * acknowledgement and IsRenewAck (acknowledge only, fetch nothing). As Kafka authorizes it: READ on the
 * group (GROUP_AUTHORIZATION_FAILED for the whole request), READ on each topic (TOPIC_AUTHORIZATION_FAILED
 * for its partitions, fetched or acknowledged).
 */
export const shareFetchHandler = defineHandler({
  apiKey: ApiKey.ShareFetch,
  minVersion: 1,
  maxVersion: 2,
  async handle(request, ctx) {
    const started = startShareRequest(ctx, request, true);
    if ("error" in started) return createShareFetchResponse(started.error);
    const scope = started.scope;
    const { session, epoch } = scope;
    const answer = new Answer();

    // Session membership first, so that acknowledged partitions belong to it.
    if (epoch !== FINAL_SHARE_EPOCH) {
      for (const t of request.topics) for (const p of t.partitions) session.add(t.topicId, p.partitionIndex);
      for (const f of request.forgottenTopicsData) for (const p of f.partitions) session.forget(f.topicId, p);
    }
    if (epoch === INITIAL_SHARE_EPOCH)
      for (const t of request.topics) for (const p of t.partitions) answer.partition(t.topicId, p.partitionIndex);

    // Each partition's acknowledgements apply at once, in request order; their writes are awaited together.
    const acks: Promise<void>[] = [];
    for (const t of request.topics) {
      const topic = ctx.services.metadata.topicById(t.topicId);
      for (const p of t.partitions) {
        if (p.acknowledgementBatches.length === 0) continue;
        const out = answer.partition(t.topicId, p.partitionIndex);
        acks.push(
          acknowledgePartition(scope, topic, p).then((r) => {
            out.acknowledgeErrorCode = r.errorCode;
            out.acknowledgeErrorMessage = r.errorMessage;
          }),
        );
      }
    }
    await Promise.all(acks);
    const lockMs = scope.shares.lockDurationMs(scope.groupId);
    closeIfFinal(scope);
    if (epoch === FINAL_SHARE_EPOCH || (scope.allowRenew && request.isRenewAck)) return answer.response(lockMs);
    await fetchRecords(
      ctx.services,
      session,
      answer,
      { maxRecords: request.maxRecords > 0 ? request.maxRecords : DEFAULT_MAX_RECORDS, maxBytes: request.maxBytes },
      request.maxWaitMs,
      ctx.closed,
      scope.readable,
    );
    return answer.response(lockMs);
  },
});

/** The partitions of the answer, by topic, in the order they were first named. */
class Answer {
  private readonly topics = new Map<string, Map<number, ShareFetchResponsePartitionData>>();

  partition(topicId: string, partition: number): ShareFetchResponsePartitionData {
    let byPartition = this.topics.get(topicId);
    if (byPartition === undefined) this.topics.set(topicId, (byPartition = new Map()));
    let out = byPartition.get(partition);
    if (out === undefined) {
      out = createShareFetchResponsePartitionData({
        partitionIndex: partition,
        records: Buffer.alloc(0),
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
      });
      byPartition.set(partition, out);
    }
    return out;
  }

  response(lockMs: number) {
    const responses: ShareFetchResponseShareFetchableTopicResponse[] = [...this.topics].map(([topicId, parts]) => ({
      topicId,
      partitions: [...parts.values()],
    }));
    return createShareFetchResponse({ acquisitionLockTimeoutMs: lockMs, responses });
  }
}

/** What one share fetch asks for, read by each round of acquisition. */
interface FetchLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

/**
 * Acquires and reads records of the session's partitions until some are found, an error is to be told,
 * or `maxWaitMs` passed: appends and released records wake the wait.
 */
async function fetchRecords(
  services: Services,
  session: ShareSession,
  answer: Answer,
  limits: FetchLimits,
  maxWaitMs: number,
  closed: Promise<void>,
  readable: (topic: string) => boolean,
): Promise<void> {
  const deadline = Date.now() + Math.max(0, maxWaitMs);
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  for (;;) {
    const parts = [...session.partitions.values()];
    if ((await acquireRound(services, session, parts, answer, limits, readable)) || parts.length === 0) return;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || isClosed) return;
    const keys = parts.map((p) => FetchWaiters.key(services.metadata.topicById(p.topicId)?.name ?? "", p.partition));
    await services.fetchWaiters.wait(keys, remaining, closed);
  }
}

/**
 * One round over the partitions, up to `maxRecords` in all, from a partition that moves with each
 * request so that none starves. Answers whether there is something to answer (records or an error).
 */
async function acquireRound(
  services: Services,
  session: ShareSession,
  parts: readonly SessionPartition[],
  answer: Answer,
  limits: FetchLimits,
  readable: (topic: string) => boolean,
): Promise<boolean> {
  const shares = services.shareGroups;
  let left = limits.maxRecords;
  let bytesLeft = limits.maxBytes;
  let got = false;
  const start = parts.length === 0 ? 0 : session.epoch % parts.length;
  for (let i = 0; i < parts.length && left > 0 && bytesLeft > 0; i++) {
    const { topicId, partition } = parts[(start + i) % parts.length]!;
    const topic = services.metadata.topicById(topicId);
    const log = services.partitions.logOf(topic, partition);
    if (topic === undefined || typeof log === "number" || !readable(topic.name)) {
      const out = answer.partition(topicId, partition);
      out.errorCode =
        topic === undefined
          ? ErrorCode.UNKNOWN_TOPIC_ID
          : typeof log === "number"
            ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      session.forget(topicId, partition);
      got = true;
      continue;
    }
    const notLeader = services.replication.leaderError(topic.name, partition, -1);
    if (notLeader !== ErrorCode.NONE) {
      // The partition moved: the client finds its new leader (and its share-partition's state there).
      const out = answer.partition(topicId, partition);
      out.errorCode = notLeader;
      out.currentLeader = services.replication.currentLeader(topic.name, partition);
      session.forget(topicId, partition);
      got = true;
      continue;
    }
    const ranges = await shares.acquire(session.groupId, session.memberId, topic, partition, left);
    if (ranges === undefined || ranges.length === 0) continue;
    const read = await readAcquired(log, ranges, bytesLeft);
    if (read.unsent.length > 0) shares.unacquire(session.groupId, topic, partition, read.unsent);
    if (read.errorCode !== ErrorCode.NONE) {
      answer.partition(topicId, partition).errorCode = read.errorCode;
      got = true;
      continue;
    }
    if (read.sent.length === 0) continue;
    const out = answer.partition(topicId, partition);
    out.records = read.records;
    out.acquiredRecords = read.sent.map((r) => ({
      firstOffset: BigInt(r.first),
      lastOffset: BigInt(r.last),
      deliveryCount: r.deliveryCount,
    }));
    for (const r of read.sent) left -= r.last - r.first + 1;
    bytesLeft -= read.records.length;
    got = true;
  }
  return got;
}
