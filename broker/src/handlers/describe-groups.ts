import { ApiKey, createDescribeGroupsResponse, type DescribeGroupsResponseDescribedGroup } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

const EMPTY = Buffer.alloc(0);

/** Kafka's AclOperation codes a group supports (READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS); without an authorizer every one is allowed. */
const GROUP_OPERATIONS = [3, 6, 8, 10, 11].reduce((bits, op) => bits | (1 << op), 0);
/** AuthorizedOperations when they were not asked for (or the group was not found). */
const NOT_REQUESTED = -2147483648;

/**
 * DescribeGroups v0-6. A group that does not exist is described as Dead, with no error before v6 and
 * GROUP_ID_NOT_FOUND from v6 (KIP-1043). Member metadata and assignments are shown only once the group
 * is Stable. The authorized operations (v3+, when asked for) of a group described without error are
 * all a group has.
 */
export const describeGroupsHandler = defineHandler({
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 6,
  handle(request, ctx) {
    const groups: DescribeGroupsResponseDescribedGroup[] = request.groups.map((groupId) => {
      const authorizedOperations = request.includeAuthorizedOperations ? GROUP_OPERATIONS : NOT_REQUESTED;
      const base = { errorCode: ErrorCode.NONE, errorMessage: null, groupId, authorizedOperations };
      const g = ctx.services.groups.group(groupId);
      if (g === undefined || g.state === "Dead") {
        const dead = { ...base, groupState: "Dead", protocolType: "", protocolData: "", members: [] };
        if (ctx.apiVersion < 6) return dead;
        return {
          ...dead,
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          // A share group is not described here (ShareGroupDescribe is), as Kafka 4.4 answers.
          errorMessage:
            ctx.services.shareGroups.group(groupId) === undefined
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
