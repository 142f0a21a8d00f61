import {
  ApiKey,
  createListOffsetsResponse,
  createListOffsetsResponseListOffsetsPartitionResponse,
  type ListOffsetsResponseListOffsetsTopicResponse,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import type { PartitionLog } from "../log/partition-log.js";
import type { TimestampOffset } from "../log/segment.js";
import { AclOperation } from "../security/acl.js";
import { allowedNames } from "./authz.js";
import { defineHandler } from "./handler.js";

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;
const LATEST_TIERED = -5n;
const EARLIEST_PENDING_UPLOAD = -6n;

const READ_COMMITTED = 1;

/** A lookup's result if a consumer of that isolation level may fetch it: below the LSO, or the high watermark. */
function fetchable(found: TimestampOffset | null, log: PartitionLog, readCommitted: boolean): TimestampOffset | null {
  if (found === null) return null;
  return found.offset < (readCommitted ? log.lastStableOffset : log.highWatermark) ? found : null;
}

/** The first version each special timestamp may be asked in; another negative one is never valid. */
function firstVersionFor(ts: bigint): number {
  if (ts === LATEST || ts === EARLIEST) return 0;
  if (ts === MAX_TIMESTAMP) return 7;
  if (ts === EARLIEST_LOCAL) return 8;
  if (ts === LATEST_TIERED) return 9;
  if (ts === EARLIEST_PENDING_UPLOAD) return 11;
  return Number.POSITIVE_INFINITY;
}

/**
 * ListOffsets v0-11: latest (-1), earliest (-2), max timestamp (-3, v7+), earliest local (-4, the
 * earliest without tiered storage), latest tiered (-5) and earliest pending upload (-6, v11, KIP-1023:
 * both none without tiered storage, as Kafka answers), or the first offset whose timestamp is at or
 * after a given one, through the time index. Under isolation level read_committed (v2+) latest is the
 * last stable offset, and a timestamp or max-timestamp lookup that lands at or past it finds nothing, as
 * in Kafka (under read_uncommitted the bound is the high watermark, which here is the log end). v0
 * answers in its old offsets list. v10's timeout is for reads from remote storage, which we do not have.
 * Only the partition's leader answers (NOT_LEADER_OR_FOLLOWER elsewhere); a current leader epoch (v4+) newer
 * than the leader's is UNKNOWN_LEADER_EPOCH, an older one FENCED_LEADER_EPOCH (KIP-320). Latest is the high
 * watermark: a consumer is never told of records the ISR does not have yet. As Kafka 4.4, a special
 * timestamp asked in a version before its own, or a negative timestamp without a meaning, is
 * UNSUPPORTED_VERSION. A topic the session may not DESCRIBE is TOPIC_AUTHORIZATION_FAILED.
 */
export const listOffsetsHandler = defineHandler({
  apiKey: ApiKey.ListOffsets,
  minVersion: 0,
  maxVersion: 11,
  errorResponse(request, errorCode) {
    return createListOffsetsResponse({
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) =>
          createListOffsetsResponseListOffsetsPartitionResponse({ partitionIndex: p.partitionIndex, errorCode }),
        ),
      })),
    });
  },
  async handle(request, ctx) {
    const readCommitted = ctx.apiVersion >= 2 && request.isolationLevel === READ_COMMITTED;
    const topics: ListOffsetsResponseListOffsetsTopicResponse[] = [];
    const describable = allowedNames(ctx, AclOperation.DESCRIBE);
    for (const t of request.topics) {
      const partitions = [];
      const refused = !describable(t.name);
      for (const p of t.partitions) {
        const out = createListOffsetsResponseListOffsetsPartitionResponse({ partitionIndex: p.partitionIndex });
        const log = refused
          ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
          : ctx.services.partitions.partitionLog(t.name, p.partitionIndex);
        if (typeof log === "number") {
          out.errorCode = log;
        } else {
          const ts = p.timestamp;
          let offset = -1n;
          let timestamp = -1n;
          let epoch = -1;
          const replication = ctx.services.replication;
          const asked = ctx.apiVersion >= 4 ? p.currentLeaderEpoch : -1;
          const epochError = replication.leaderError(t.name, p.partitionIndex, asked);
          const leaderEpoch = replication.leaderEpoch(t.name, p.partitionIndex);
          if (epochError !== ErrorCode.NONE) {
            out.errorCode = epochError;
          } else if (ts < 0n && ctx.apiVersion < firstVersionFor(ts)) {
            out.errorCode = ErrorCode.UNSUPPORTED_VERSION;
          } else if (ts === LATEST) {
            // A follower asking (its replica id) learns the log end; consumers what is committed.
            offset =
              request.replicaId >= 0 ? log.logEndOffset : readCommitted ? log.lastStableOffset : log.latestOffset;
            epoch = leaderEpoch;
          } else if (ts === EARLIEST || ts === EARLIEST_LOCAL) {
            offset = log.earliestOffset;
            epoch = leaderEpoch;
          } else if (ts === MAX_TIMESTAMP) {
            const found = fetchable(await log.maxTimestampOffset(), log, readCommitted);
            if (found !== null) ({ offset, timestamp, leaderEpoch: epoch } = found);
          } else if (ts === EARLIEST_PENDING_UPLOAD || ts === LATEST_TIERED) {
            // Nothing is in tiered storage here: no offset, as Kafka answers without it.
          } else if (ts >= 0n) {
            const found = fetchable(await log.offsetForTimestamp(ts), log, readCommitted);
            if (found !== null) ({ offset, timestamp, leaderEpoch: epoch } = found);
          }
          // Each version carries only its own fields: v0 a list (empty for "none"), v1+ one offset.
          if (ctx.apiVersion === 0) {
            out.oldStyleOffsets = offset >= 0n ? [offset] : [];
          } else {
            out.offset = offset;
            out.timestamp = timestamp;
            if (ctx.apiVersion >= 4) out.leaderEpoch = epoch;
          }
        }
        partitions.push(out);
      }
      topics.push({ name: t.name, partitions });
    }
    return createListOffsetsResponse({ topics });
  },
});
