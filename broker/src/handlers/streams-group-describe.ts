import {
  ApiKey,
  createStreamsGroupDescribeResponse,
  type StreamsGroupDescribeResponseDescribedGroup,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { toWire, type Tasks } from "../streams/tasks.js";
import { allowed, allowedNames, authorizedOperations, NOT_REQUESTED } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

/** TopologyDescriptionStatus of v1: not asked for, or none stored (we keep no topology descriptions). */
const DESCRIPTION_NOT_REQUESTED = 0;
const DESCRIPTION_NOT_STORED = 1;

/**
 * StreamsGroupDescribe v0-1 (KIP-1071): each streams group's state, epochs, topology (internal topics
 * with the partition counts the group coordinator decided) and members with their processes, endpoints,
 * task offsets, current and target tasks. v1 adds the assignor's name and the topology description
 * status (never stored here). A group that is missing or of another type is GROUP_ID_NOT_FOUND. As Kafka
 * 4.4 authorizes: DESCRIBE on the group, and a group whose topology names a topic the session may not
 * DESCRIBE is TOPIC_AUTHORIZATION_FAILED and shows nothing.
 */
export const streamsGroupDescribeHandler = defineHandler({
  apiKey: ApiKey.StreamsGroupDescribe,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const services = ctx.services;
    const assignment = (t: Tasks) => ({
      activeTasks: toWire(t.active),
      standbyTasks: toWire(t.standby),
      warmupTasks: toWire(t.warmup),
    });
    const groups: StreamsGroupDescribeResponseDescribedGroup[] = request.groupIds.map((groupId) => {
      const base = empty(groupId);
      if (!allowed(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId))
        return { ...base, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null };
      const g = services.groups.group(groupId);
      if (g === undefined || g.state === "Dead")
        return {
          ...base,
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage:
            services.shareGroups.group(groupId) === undefined
              ? `Group ${groupId} not found.`
              : `Group ${groupId} is not a streams group.`,
        };
      if (g.kind !== "streams")
        return {
          ...base,
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: `Group ${groupId} is not a streams group.`,
        };
      const partitionsOf = (name: string, given: number) => services.metadata.topic(name)?.partitions ?? given;
      const info = (i: {
        name: string;
        partitions: number;
        replicationFactor: number;
        topicConfigs: { key: string; value: string }[];
      }) => ({
        name: i.name,
        partitions: partitionsOf(i.name, i.partitions),
        replicationFactor: i.replicationFactor,
        topicConfigs: i.topicConfigs.map((c) => ({ key: c.key, value: c.value })),
      });
      const topology = g.topology;
      return {
        ...base,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupState: g.state,
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        authorizedOperations: request.includeAuthorizedOperations
          ? authorizedOperations(ctx, ResourceType.GROUP, groupId)
          : NOT_REQUESTED,
        topology:
          topology === undefined
            ? null
            : {
                epoch: topology.epoch,
                subtopologies: topology.subtopologies.map((s) => ({
                  subtopologyId: s.subtopologyId,
                  sourceTopics: s.sourceTopics,
                  repartitionSinkTopics: s.repartitionSinkTopics,
                  stateChangelogTopics: s.stateChangelogTopics.map(info),
                  repartitionSourceTopics: s.repartitionSourceTopics.map(info),
                })),
              },
        members: [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          memberEpoch: m.memberEpoch,
          instanceId: m.instanceId,
          rackId: m.rackId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          topologyEpoch: m.topologyEpoch,
          processId: m.processId,
          userEndpoint: m.userEndpoint,
          clientTags: m.clientTags,
          taskOffsets: m.taskOffsets,
          taskEndOffsets: m.taskEndOffsets,
          assignment: assignment(m.assigned),
          targetAssignment: assignment(g.targetOf(m.memberId)),
          isClassic: false,
        })),
        topologyDescriptionStatus: request.includeTopologyDescription
          ? DESCRIPTION_NOT_STORED
          : DESCRIPTION_NOT_REQUESTED,
        assignorName: "sticky",
      };
    });
    return createStreamsGroupDescribeResponse({ groups: groups.map((g) => hideUndescribable(ctx, g)) });
  },
});

function empty(groupId: string): StreamsGroupDescribeResponseDescribedGroup {
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    groupId,
    groupState: "",
    groupEpoch: 0,
    assignmentEpoch: 0,
    topology: null,
    members: [],
    authorizedOperations: NOT_REQUESTED,
    topologyDescription: null,
    topologyDescriptionStatus: DESCRIPTION_NOT_REQUESTED,
    assignorName: null,
  };
}

/** A group whose topology names a topic the session may not DESCRIBE is answered with an error only. */
function hideUndescribable(
  ctx: RequestContext,
  g: StreamsGroupDescribeResponseDescribedGroup,
): StreamsGroupDescribeResponseDescribedGroup {
  if (!ctx.services.authorizer.enabled || g.topology === null) return g;
  const describable = allowedNames(ctx, AclOperation.DESCRIBE);
  const hidden = (g.topology.subtopologies ?? []).some(
    (s) =>
      [...s.sourceTopics, ...s.repartitionSinkTopics].some((n) => !describable(n)) ||
      [...s.stateChangelogTopics, ...s.repartitionSourceTopics].some((t) => !describable(t.name)),
  );
  if (!hidden) return g;
  return {
    ...empty(g.groupId),
    errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    errorMessage: "The described group uses topics that the client is not authorized to describe.",
  };
}
