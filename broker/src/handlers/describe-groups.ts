import { ApiKey, createDescribeGroupsResponse, type DescribeGroupsResponseDescribedGroup } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

const EMPTY = Buffer.alloc(0);

/**
 * DescribeGroups v0-6. A group that does not exist is described as Dead, with no error before v6 and
 * GROUP_ID_NOT_FOUND from v6 (KIP-1043). Member metadata and assignments are shown only once the group
 * is Stable.
 */
export const describeGroupsHandler = defineHandler({
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 6,
  handle(request, ctx) {
    const groups: DescribeGroupsResponseDescribedGroup[] = request.groups.map((groupId) => {
      const base = { errorCode: ErrorCode.NONE, errorMessage: null, groupId, authorizedOperations: -2147483648 };
      const g = ctx.broker.groups.groups.get(groupId);
      if (g === undefined || g.state === "Dead") {
        const dead = { ...base, groupState: "Dead", protocolType: "", protocolData: "", members: [] };
        if (ctx.apiVersion < 6) return dead;
        return { ...dead, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.` };
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
      return { ...base, groupState: g.state, protocolType: g.protocolType ?? "", protocolData: stable ? (g.protocolName ?? "") : "", members };
    });
    return createDescribeGroupsResponse({ groups });
  },
});
