import type { TopicInfo } from "../cluster/metadata.js";
import { ErrorCode } from "../errors.js";
import type { ShareService } from "./coordinator.js";
import { AckType } from "./share-partition.js";
import { FINAL_SHARE_EPOCH, INITIAL_SHARE_EPOCH, type ShareSession } from "./share-sessions.js";

/**
 * What ShareFetch and ShareAcknowledge share: the share session check of a request, and acknowledgements
 * applied partition by partition.
 */

export type SessionCheck = { session: ShareSession | undefined } | { errorCode: number; errorMessage: string };

/**
 * The request's session: epoch 0 opens one (ShareFetch only), -1 names the one to close, any other epoch
 * must be the session's next (it then advances).
 */
export function checkSession(
  shares: ShareService,
  groupId: string,
  memberId: string,
  epoch: number,
  mayOpen: boolean,
  maxSessions: number,
): SessionCheck {
  const sessions = shares.sessions;
  if (epoch === INITIAL_SHARE_EPOCH) {
    if (!mayOpen)
      return {
        errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH,
        errorMessage: "Share session epoch 0 only opens a session (ShareFetch).",
      };
    if (sessions.get(groupId, memberId) === undefined && sessions.size >= maxSessions)
      return {
        errorCode: ErrorCode.SHARE_SESSION_LIMIT_REACHED,
        errorMessage: "The limit of share sessions has been reached.",
      };
    return { session: sessions.open(groupId, memberId) };
  }
  const session = sessions.get(groupId, memberId);
  if (session === undefined)
    return { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND, errorMessage: "The share session was not found." };
  if (epoch === FINAL_SHARE_EPOCH) return { session };
  if (epoch !== session.epoch)
    return {
      errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH,
      errorMessage: `The share session epoch is invalid: expected ${session.epoch}, got ${epoch}.`,
    };
  session.advance();
  return { session };
}

export interface AckPartition {
  readonly partitionIndex: number;
  readonly acknowledgementBatches: readonly { firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: number[] }[];
}

/** One partition's acknowledgements: an error code and message (NONE, null when they all applied). */
export async function acknowledgePartition(
  shares: ShareService,
  groupId: string,
  memberId: string,
  topic: TopicInfo | undefined,
  p: AckPartition,
  allowRenew: boolean,
): Promise<{ errorCode: number; errorMessage: string | null }> {
  if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions)
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
  const batches = p.acknowledgementBatches.map((b) => ({
    first: Number(b.firstOffset),
    last: Number(b.lastOffset),
    types: b.acknowledgeTypes,
  }));
  if (!allowRenew && batches.some((b) => b.types.includes(AckType.RENEW)))
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "The RENEW acknowledgement needs version 2." };
  const error = await shares.acknowledge(groupId, memberId, topic, p.partitionIndex, batches);
  if (error === undefined) return { errorCode: ErrorCode.NONE, errorMessage: null };
  return { errorCode: ErrorCode[error as keyof typeof ErrorCode], errorMessage: null };
}
