import { ApiKey, createStreamsGroupHeartbeatResponse, type StreamsGroupHeartbeatResponse } from "@tskafka/protocol";
import { STREAMS_VERSION, featureLevel } from "../cluster/features.js";
import { ErrorCode } from "../errors.js";
import { clientHost } from "../group/client-host.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { Status, type InternalTopic, type StatusEntry } from "../streams/topology.js";
import { toWire } from "../streams/tasks.js";
import { AUTHORIZATION_MESSAGE, allowed, allowedNames, clusterAllowed } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

/** v0 clients do not know the MISSING_CLIENT_TAGS status; v1 adds TopologyDescriptionRequired and AcceptableRecoveryLag. */
const fail = (errorCode: number, errorMessage: string | null): StreamsGroupHeartbeatResponse =>
  createStreamsGroupHeartbeatResponse({ errorCode, errorMessage });

/**
 * StreamsGroupHeartbeat v0-1 (KIP-1071): a Kafka Streams member joins with its topology (epoch 0),
 * heartbeats with the tasks it owns, and leaves (epoch -1, or -2 for a static member). The answer carries
 * its epoch, the group's status (missing or wrongly partitioned topics, a delayed assignment, a requested
 * shutdown), its active, standby and warm-up tasks when they changed, and the members' endpoints for
 * Interactive Queries. Refused while streams.version is not finalized at 1. As Kafka 4.4 authorizes it:
 * READ on the group; DESCRIBE on every topic of a topology sent; the internal topics the group lacks are
 * created here when the session may CREATE them (on the cluster, else on each topic), else the status says so.
 */
export const streamsGroupHeartbeatHandler = defineHandler({
  apiKey: ApiKey.StreamsGroupHeartbeat,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const services = ctx.services;
    if (featureLevel(services.metadata.finalizedFeatures(), STREAMS_VERSION) < 1)
      return fail(ErrorCode.UNSUPPORTED_VERSION, "Streams groups are not enabled (streams.version is 0).");
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, AUTHORIZATION_MESSAGE[ErrorCode.GROUP_AUTHORIZATION_FAILED]!);
    const unauthorized = undescribableTopics(ctx, request.topology);
    if (unauthorized.length > 0)
      return fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `Unauthorized topics: ${unauthorized.join(", ")}`);
    // One namespace for every group type.
    if (services.shareGroups.group(request.groupId) !== undefined)
      return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${request.groupId} is not a streams group.`);
    const r = await services.groups.streamsHeartbeat(request, ctx.clientId ?? "", clientHost(ctx.remote));
    if (r.errorCode !== ErrorCode.NONE) return fail(r.errorCode, r.errorMessage);
    const status = [...r.status];
    if (r.creatableTopics.length > 0) {
      const refused = await createInternalTopics(ctx, r.creatableTopics);
      if (refused.length > 0)
        status.push({
          statusCode: Status.MISSING_INTERNAL_TOPICS,
          statusDetail: `Unauthorized to CREATE on topics ${refused.join(", ")}.`,
        });
    }
    const props = services.config.props;
    const tasks = r.tasks;
    return createStreamsGroupHeartbeatResponse({
      memberId: request.memberId,
      memberEpoch: r.memberEpoch,
      heartbeatIntervalMs: r.heartbeatIntervalMs,
      ...(ctx.apiVersion === 0
        ? { acceptableRecoveryLagLegacy: clampInt(props["group.streams.acceptable.recovery.lag"]) }
        : { acceptableRecoveryLag: BigInt(props["group.streams.acceptable.recovery.lag"]) }),
      taskOffsetIntervalMs: props["group.streams.task.offset.interval.ms"],
      status: statusFor(status, ctx.apiVersion),
      activeTasks: tasks === null ? null : toWire(tasks.active),
      standbyTasks: tasks === null ? null : toWire(tasks.standby),
      warmupTasks: tasks === null ? null : toWire(tasks.warmup),
      endpointInformationEpoch: r.endpointInformationEpoch,
      partitionsByUserEndpoint:
        r.endpoints === null
          ? null
          : r.endpoints.map((e) => ({
              userEndpoint: { host: e.endpoint.host, port: e.endpoint.port },
              activePartitions: [...e.active].map(([topic, partitions]) => ({ topic, partitions })),
              standbyPartitions: [...e.standby].map(([topic, partitions]) => ({ topic, partitions })),
            })),
    });
  },
});

const clampInt = (n: number): number => Math.min(n, 2147483647);

/** MISSING_CLIENT_TAGS (6) only from v1, as Kafka 4.4 answers. */
function statusFor(status: StatusEntry[], version: number): StatusEntry[] {
  return version >= 1 ? status : status.filter((s) => s.statusCode !== 6);
}

/** The topics of a topology sent that the session may not DESCRIBE (sorted). */
function undescribableTopics(
  ctx: RequestContext,
  topology: {
    subtopologies: readonly {
      sourceTopics: readonly string[];
      repartitionSinkTopics: readonly string[];
      repartitionSourceTopics: readonly { name: string }[];
      stateChangelogTopics: readonly { name: string }[];
    }[];
  } | null,
): string[] {
  if (topology === null || !ctx.services.authorizer.enabled) return [];
  const describable = allowedNames(ctx, AclOperation.DESCRIBE);
  const names = new Set<string>();
  for (const s of topology.subtopologies) {
    for (const n of [...s.sourceTopics, ...s.repartitionSinkTopics]) names.add(n);
    for (const t of [...s.repartitionSourceTopics, ...s.stateChangelogTopics]) names.add(t.name);
  }
  return [...names].filter((n) => !describable(n)).sort();
}

/** Creates the internal topics the session may create; answers those it may not (sorted). */
async function createInternalTopics(ctx: RequestContext, topics: readonly InternalTopic[]): Promise<string[]> {
  const mayCreate = clusterAllowed(ctx, AclOperation.CREATE, false)
    ? () => true
    : allowedNames(ctx, AclOperation.CREATE);
  const refused: string[] = [];
  for (const t of topics) {
    if (!mayCreate(t.name)) {
      refused.push(t.name);
      continue;
    }
    if (ctx.services.metadata.topic(t.name) !== undefined) continue;
    const created = await ctx.services.topics.create(t.name, t.partitions, t.configs);
    if (typeof created === "number" && created !== ErrorCode.TOPIC_ALREADY_EXISTS)
      ctx.services.log.warn(`streams group internal topic ${t.name}: creation failed with error ${created}`);
  }
  return refused.sort();
}
