import { ApiKey, createShareGroupHeartbeatResponse, type ShareGroupHeartbeatResponse } from "@tskafka/protocol";
import { SHARE_VERSION, featureLevel } from "../cluster/features.js";
import { clientHost } from "../group/client-host.js";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, allowed, allowedNames } from "./authz.js";
import { COORDINATOR_MESSAGE } from "../group/coordinator.js";
import { defineHandler } from "./handler.js";

const fail = (errorCode: number, errorMessage: string): ShareGroupHeartbeatResponse =>
  createShareGroupHeartbeatResponse({ errorCode, errorMessage, memberId: null, memberEpoch: 0 });

/**
 * ShareGroupHeartbeat v1 (KIP-932; Kafka 4.4 serves only v1): a share group member joins (epoch 0, with
 * its own member id and a subscription), heartbeats, and leaves (epoch -1). The answer carries the
 * member's epoch, the heartbeat interval and, when it changed, the member's assignment of partitions,
 * which members of the group may share. Refused while share.version is not finalized at 1 or more. As
 * Kafka authorizes it: READ on the group, DESCRIBE on every subscribed topic.
 */
export const shareGroupHeartbeatHandler = defineHandler({
  apiKey: ApiKey.ShareGroupHeartbeat,
  minVersion: 1,
  maxVersion: 1,
  async handle(request, ctx) {
    const services = ctx.services;
    if (featureLevel(services.metadata.finalizedFeatures(), SHARE_VERSION) < 1)
      return fail(ErrorCode.UNSUPPORTED_VERSION, "Share groups are not enabled (share.version is 0).");
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, AUTHORIZATION_MESSAGE[ErrorCode.GROUP_AUTHORIZATION_FAILED]!);
    const describable = allowedNames(ctx, AclOperation.DESCRIBE);
    if ((request.subscribedTopicNames ?? []).some((t) => !describable(t))) {
      const code = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      return fail(code, AUTHORIZATION_MESSAGE[code]!);
    }
    if (request.groupId === "") return fail(ErrorCode.INVALID_REQUEST, "GroupId can't be empty.");
    if (request.memberId === "") return fail(ErrorCode.INVALID_REQUEST, "MemberId can't be empty.");
    if (request.rackId === "") return fail(ErrorCode.INVALID_REQUEST, "RackId can't be empty.");
    if (request.memberEpoch < -1)
      return fail(ErrorCode.INVALID_REQUEST, `MemberEpoch is invalid: ${request.memberEpoch}.`);
    if (
      request.memberEpoch === 0 &&
      (request.subscribedTopicNames === null || request.subscribedTopicNames.length === 0)
    )
      return fail(ErrorCode.INVALID_REQUEST, "SubscribedTopicNames must be set in first request.");
    // A share group is coordinated where its __consumer_offsets partition is led, as every group.
    const notHere = services.groups.coordinatorError(request.groupId);
    if (notHere !== ErrorCode.NONE) return fail(notHere, COORDINATOR_MESSAGE[notHere] ?? "");
    const r = await services.shareGroups.heartbeat(
      request.groupId,
      request.memberId,
      request.memberEpoch,
      request.rackId,
      request.subscribedTopicNames,
      ctx.clientId ?? "",
      clientHost(ctx.remote),
    );
    if (r === "NOT_SHARE_GROUP")
      return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${request.groupId} is not a share group.`);
    if (r.errorCode !== "NONE") return fail(ErrorCode[r.errorCode], r.errorMessage ?? "");
    const m = r.member;
    if (request.memberEpoch === -1 || m === undefined)
      return createShareGroupHeartbeatResponse({ memberId: request.memberId, memberEpoch: -1 });
    return createShareGroupHeartbeatResponse({
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      heartbeatIntervalMs: services.config.props["group.share.heartbeat.interval.ms"],
      assignment: r.sendAssignment
        ? {
            topicPartitions: [...m.assignment].map(([topicId, partitions]) => ({ topicId, partitions })),
          }
        : null,
    });
  },
});
