import { ApiKey, createListGroupsResponse } from "@tskafka/protocol";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowedNames, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * ListGroups v0-5, with the v4 state filter and the v5 type filter (both case-insensitive); share groups
 * are listed with protocol type and group type "share", as Kafka 4.4 lists them. As Kafka
 * authorizes: every group with DESCRIBE on the cluster, else only the groups the session may DESCRIBE.
 */
export const listGroupsHandler = defineHandler({
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const v = ctx.apiVersion;
    const states = new Set((v >= 4 ? request.statesFilter : []).map((s) => s.toLowerCase()));
    const types = new Set((v >= 5 ? request.typesFilter : []).map((s) => s.toLowerCase()));
    const describable = clusterAllowed(ctx, AclOperation.DESCRIBE, false)
      ? () => true
      : allowedNames(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, false);
    const groups = [...ctx.services.groups.list(), ...ctx.services.shareGroups.list()]
      .filter((g) => describable(g.groupId))
      .filter(
        (g) => (states.size === 0 || states.has(g.state.toLowerCase())) && (types.size === 0 || types.has(g.type)),
      )
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: g.type }));
    return createListGroupsResponse({ groups });
  },
});
