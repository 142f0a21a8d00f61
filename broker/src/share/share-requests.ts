import type { TopicInfo } from "../cluster/metadata.js";
import { SHARE_VERSION, featureLevel } from "../cluster/features.js";
import { ErrorCode } from "../errors.js";
import { allowed, allowedNames } from "../handlers/authz.js";
import type { RequestContext } from "../handlers/handler.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import type { ShareService } from "./coordinator.js";
import { AckType } from "./share-partition.js";
import { FINAL_SHARE_EPOCH, INITIAL_SHARE_EPOCH, type ShareSession } from "./share-sessions.js";

/**
 * What ShareFetch and ShareAcknowledge share: the checks before their partitions (share.version, READ
 * on the group, the ids, the share session), acknowledgements applied partition by partition under READ
 * on their topic, and the close of a session at epoch -1.
 */

/** The fields both requests start from. */
export interface ShareRequestHead {
  readonly groupId: string | null;
  readonly memberId: string | null;
  readonly shareSessionEpoch: number;
}

/** A request past its checks: who asks, in which session, and what it may read. */
export interface ShareRequestScope {
  readonly shares: ShareService;
  readonly groupId: string;
  readonly memberId: string;
  readonly epoch: number;
  readonly session: ShareSession;
  /** READ on a topic, asked once per name. */
  readonly readable: (topic: string) => boolean;
  /** The RENEW acknowledgement (v2). */
  readonly allowRenew: boolean;
  /** NONE when this broker leads the partition (its share-partitions live here), else NOT_LEADER_OR_FOLLOWER. */
  readonly leaderError: (topic: string, partition: number) => number;
}

/** An error for the whole request. */
export interface ShareRequestError {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/**
 * The checks of a share request in Kafka's order; a scope to go on with, or the error that answers the
 * whole request. `mayOpen`: epoch 0 opens a session (ShareFetch only).
 */
export function startShareRequest(
  ctx: RequestContext,
  request: ShareRequestHead,
  mayOpen: boolean,
): { scope: ShareRequestScope } | { error: ShareRequestError } {
  const services = ctx.services;
  const groupId = request.groupId ?? "";
  const memberId = request.memberId ?? "";
  const fail = (errorCode: number, errorMessage: string | null) => ({ error: { errorCode, errorMessage } });
  if (featureLevel(services.metadata.finalizedFeatures(), SHARE_VERSION) < 1)
    return fail(ErrorCode.UNSUPPORTED_VERSION, "Share groups are not enabled (share.version is 0).");
  if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, groupId))
    return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
  if (groupId === "") return fail(ErrorCode.INVALID_GROUP_ID, "GroupId can't be empty.");
  if (memberId === "") return fail(ErrorCode.UNKNOWN_MEMBER_ID, "MemberId can't be empty.");
  const shares = services.shareGroups;
  const epoch = request.shareSessionEpoch;
  const max = services.config.props["group.share.max.share.sessions"];
  const checked = checkSession(shares, groupId, memberId, epoch, mayOpen, max);
  if ("errorCode" in checked) return { error: checked };
  const readable = allowedNames(ctx, AclOperation.READ);
  const scope = {
    shares,
    groupId,
    memberId,
    epoch,
    session: checked.session,
    readable,
    allowRenew: ctx.apiVersion >= 2,
    leaderError: (topic: string, partition: number) => services.replication.leaderError(topic, partition, -1),
  };
  return { scope };
}

/** Closes the session where the request's epoch (-1) says so; call once its acknowledgements are done. */
export function closeIfFinal(scope: ShareRequestScope): void {
  if (scope.epoch === FINAL_SHARE_EPOCH) scope.shares.closeSession(scope.groupId, scope.memberId);
}

type SessionCheck = { session: ShareSession } | { errorCode: number; errorMessage: string };

/**
 * The request's session: epoch 0 opens one (ShareFetch only), -1 names the one to close, any other epoch
 * must be the session's next (it then advances).
 */
function checkSession(
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

/**
 * One partition's acknowledgements: an error code and message (NONE, null when they all applied;
 * TOPIC_AUTHORIZATION_FAILED without READ on the topic).
 */
export async function acknowledgePartition(
  scope: ShareRequestScope,
  topic: TopicInfo | undefined,
  p: AckPartition,
): Promise<{ errorCode: number; errorMessage: string | null }> {
  if (topic !== undefined && !scope.readable(topic.name))
    return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
  if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions)
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
  const notLeader = scope.leaderError(topic.name, p.partitionIndex);
  if (notLeader !== ErrorCode.NONE) return { errorCode: notLeader, errorMessage: null };
  const batches = p.acknowledgementBatches.map((b) => ({
    first: Number(b.firstOffset),
    last: Number(b.lastOffset),
    types: b.acknowledgeTypes,
  }));
  if (!scope.allowRenew && batches.some((b) => b.types.includes(AckType.RENEW)))
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "The RENEW acknowledgement needs version 2." };
  const error = await scope.shares.acknowledge(scope.groupId, scope.memberId, topic, p.partitionIndex, batches);
  if (error === undefined) return { errorCode: ErrorCode.NONE, errorMessage: null };
  return { errorCode: ErrorCode[error as keyof typeof ErrorCode], errorMessage: null };
}
