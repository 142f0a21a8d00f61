import { ApiKey, createDescribeGroupsResponse, type DescribeGroupsResponseDescribedGroup } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, authorizedOperations, NOT_REQUESTED } from "./authz.js";
import { defineHandler } from "./handler.js";

const EMPTY = Buffer.alloc(0);

/**
 * DescribeGroups v0-6. A group that does not exist is described as Dead, with no error before v6 and
 * GROUP_ID_NOT_FOUND from v6 (KIP-1043). Member metadata and assignments are shown only once the group
 * is Stable. As Kafka authorizes: a group the session may not DESCRIBE is GROUP_AUTHORIZATION_FAILED
 * (and described no further); the authorized operations (v3+, when asked for) are reported for a group
 * described without error.
 */
export const describeGroupsHandler = defineHandler({
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 6,
  handle(request, ctx) {
    const groups: DescribeGroupsResponseDescribedGroup[] = request.groups.map((groupId) => {
      if (!allowed(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) return refused(groupId);
      const operations = request.includeAuthorizedOperations
        ? authorizedOperations(ctx, ResourceType.GROUP, groupId)
        : NOT_REQUESTED;
      const base = { errorCode: ErrorCode.NONE, errorMessage: null, groupId, authorizedOperations: operations };
      const notHere = ctx.services.groups.coordinatorError(groupId);
      if (notHere !== ErrorCode.NONE)
        return { ...base, errorCode: notHere, groupState: "", protocolType: "", protocolData: "", members: [] };
      const found = ctx.services.groups.group(groupId);
      // A streams group is not described here (StreamsGroupDescribe is), as Kafka 4.4 answers.
      const g = found?.kind === "streams" ? undefined : found;
      if (g === undefined || g.state === "Dead") {
        const dead = { ...base, groupState: "Dead", protocolType: "", protocolData: "", members: [] };
        if (ctx.apiVersion < 6) return dead;
        return {
          ...dead,
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          // A share or streams group is not described here, as Kafka 4.4 answers.
          errorMessage:
            ctx.services.shareGroups.group(groupId) === undefined && found === undefined
              ? `Group ${groupId} not found.`
              : `Group ${groupId} is not a classic group.`,
          authorizedOperations: NOT_REQUESTED,
        };
      }
      if (g.kind === "consumer") {
        const members = [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.instanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: EMPTY,
          memberAssignment: EMPTY,
        }));
        return { ...base, groupState: g.state, protocolType: "consumer", protocolData: "", members };
      }
      const stable = g.state === "Stable";
      const members = [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadataFor(g.protocolName) : EMPTY,
        memberAssignment: stable ? m.assignment : EMPTY,
      }));
      return {
        ...base,
        groupState: g.state,
        protocolType: g.protocolType ?? "",
        protocolData: stable ? (g.protocolName ?? "") : "",
        members,
      };
    });
    return createDescribeGroupsResponse({ groups });
  },
});

/** Kafka's groupError: the id and the error, every other field empty. */
function refused(groupId: string): DescribeGroupsResponseDescribedGroup {
  return {
    errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
    errorMessage: null,
    groupId,
    groupState: "",
    protocolType: "",
    protocolData: "",
    members: [],
    authorizedOperations: NOT_REQUESTED,
  };
}
