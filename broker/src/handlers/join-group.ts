import { ApiKey, createJoinGroupResponse } from "@tskafka/protocol";
import { clientHost } from "../group/client-host.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed } from "./authz.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * JoinGroup v0-9 (classic protocol). v0 has no rebalance timeout: the session timeout stands in, as in
 * Kafka. From v4 a first join without member id is answered MEMBER_ID_REQUIRED (KIP-394); from v5
 * members may be static (KIP-345). The answer waits until the join phase of the rebalance completes.
 * READ on the group is needed (GROUP_AUTHORIZATION_FAILED).
 */
export const joinGroupHandler = defineHandler({
  apiKey: ApiKey.JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return createJoinGroupResponse({
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        generationId: -1,
        protocolName: v >= 7 ? null : "",
      });
    }
    const r = await ctx.services.groups.join(request.groupId, {
      memberId: request.memberId,
      groupInstanceId: v >= 5 ? request.groupInstanceId : null,
      clientId: ctx.clientId ?? "",
      clientHost: clientHost(ctx.remote),
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: v >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      requireKnownMemberId: v >= 4,
    });
    return createJoinGroupResponse({
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: r.protocolType,
      // Before v7 the protocol name is not nullable.
      protocolName: v >= 7 ? r.protocolName : (r.protocolName ?? ""),
      leader: r.leader,
      skipAssignment: v >= 9 && r.skipAssignment,
      memberId: r.memberId,
      members: r.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        metadata: m.metadata,
      })),
    });
  },
});
