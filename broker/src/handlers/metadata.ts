import {
  ApiKey,
  createMetadataResponse,
  createMetadataResponseMetadataResponsePartition,
  createMetadataResponseMetadataResponseTopic,
  type MetadataResponseMetadataResponseTopic,
  ZERO_UUID,
} from "@tskafka/protocol";
import { controllerId, liveBrokers, partitionView, topicPartitionStates } from "../cluster/cluster-view.js";
import { ErrorCode } from "../errors.js";
import { AclOperation, CLUSTER_RESOURCE, ResourceType } from "../security/acl.js";
import { allowed, allowedNames, authorizedOperations, clusterAllowed, NOT_REQUESTED } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

/**
 * Metadata v0-13: the live brokers of the cluster at their address on the request's listener, the
 * controller, and each partition's leader, leader epoch, replicas, ISR and offline replicas
 * (cluster-view.ts has Kafka's rules for dead leaders and replicas).
 * Unknown topics are created when `auto.create.topics.enable` and the request allows it (always
 * before v4). From v10 topics may be named by id: as in Kafka, a non-zero id is what is looked up,
 * whatever the name says (the Java client sends an empty name beside the id), and an unknown id is
 * UNKNOWN_TOPIC_ID, never auto-created; a request naming any topic by id is answered for its ids only,
 * as Kafka 4.4 does. As Kafka authorizes: a topic the session may not DESCRIBE is left out of a
 * listing of all topics and TOPIC_AUTHORIZATION_FAILED when named (by id, the id is kept); auto-creation
 * needs CREATE on the cluster or the topic; the authorized operations of topics (v8+) and of the cluster
 * (v8-10, 0 without DESCRIBE on it) are reported when asked for.
 */
export const metadataHandler = defineHandler({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 13,
  async handle(request, ctx) {
    const services = ctx.services;
    const cfg = services.config;
    const brokers = liveBrokers(services, ctx.session?.listener);
    const live = new Set(brokers.map((b) => b.nodeId));
    const topics: MetadataResponseMetadataResponseTopic[] = [];
    // v0 sends an empty list for "all topics"; later versions send null.
    const all = request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0);
    const allowCreate = ctx.apiVersion < 4 || request.allowAutoTopicCreation;
    const asked = (request.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId }));
    // As Kafka 4.4: once one topic is named by id, the request is by ids, and the topics named only
    // by name are not answered.
    const byIds = asked.some((t) => t.topicId !== ZERO_UUID);
    const names: { name: string | null; topicId: string }[] = all
      ? services.metadata.topics().map((t) => ({ name: t.name, topicId: t.id }))
      : byIds
        ? asked.filter((t, i) => t.topicId !== ZERO_UUID && asked.findIndex((o) => o.topicId === t.topicId) === i)
        : asked;
    const describable = allowedNames(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, !all);
    const withOperations = ctx.apiVersion >= 8 && request.includeTopicAuthorizedOperations;
    for (const want of names) {
      const byId = want.topicId !== ZERO_UUID;
      let info = byId
        ? services.metadata.topicById(want.topicId)
        : want.name !== null
          ? services.metadata.topic(want.name)
          : undefined;
      const name = info?.name ?? (byId ? null : want.name);
      if (name !== null && !describable(name)) {
        // Kafka does not say whether a topic named by name exists; an id is not a secret.
        if (!all) topics.push(refused(ctx.apiVersion, byId ? null : name, byId ? want.topicId : ZERO_UUID));
        continue;
      }
      if (info === undefined && !byId && want.name !== null && allowCreate && cfg.props["auto.create.topics.enable"]) {
        if (!mayCreate(ctx, want.name)) {
          topics.push(refused(ctx.apiVersion, want.name, ZERO_UUID));
          continue;
        }
        const created = await services.topics.autoCreate(want.name);
        if (typeof created === "number") {
          topics.push(
            createMetadataResponseMetadataResponseTopic({
              name: want.name,
              errorCode: created,
              topicAuthorizedOperations: withOperations ? topicOperations(ctx, want.name) : NOT_REQUESTED,
            }),
          );
          continue;
        }
        info = created;
      }
      if (info === undefined) {
        topics.push(
          createMetadataResponseMetadataResponseTopic({
            // The name is nullable from v12, as Kafka answers an unknown id.
            name: byId ? (ctx.apiVersion >= 12 ? null : "") : want.name,
            topicId: want.topicId,
            errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            topicAuthorizedOperations:
              withOperations && !byId && want.name !== null ? topicOperations(ctx, want.name) : NOT_REQUESTED,
          }),
        );
        continue;
      }
      const partitions = topicPartitionStates(services, info.name, info.partitions).map((state, p) =>
        createMetadataResponseMetadataResponsePartition({
          partitionIndex: p,
          ...partitionView(state, live, ctx.apiVersion === 0),
        }),
      );
      topics.push(
        createMetadataResponseMetadataResponseTopic({
          name: info.name,
          topicId: info.id,
          isInternal: info.name === "__consumer_offsets" || info.name === "__transaction_state",
          partitions,
          topicAuthorizedOperations: withOperations ? topicOperations(ctx, info.name) : NOT_REQUESTED,
        }),
      );
    }
    return createMetadataResponse({
      brokers,
      clusterId: services.metadata.clusterId,
      controllerId: controllerId(services),
      topics,
      clusterAuthorizedOperations: clusterOperations(ctx, request.includeClusterAuthorizedOperations),
    });
  },
});

function refused(version: number, name: string | null, topicId: string): MetadataResponseMetadataResponseTopic {
  return createMetadataResponseMetadataResponseTopic({
    // The name is nullable from v12; a topic asked by id is answered with its id only.
    name: name ?? (version >= 12 ? null : ""),
    topicId,
    errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  });
}

/** Auto-creation, as Kafka allows it: CREATE on the cluster, or on the topic. */
function mayCreate(ctx: RequestContext, topic: string): boolean {
  return (
    clusterAllowed(ctx, AclOperation.CREATE, false) || allowed(ctx, AclOperation.CREATE, ResourceType.TOPIC, topic)
  );
}

function topicOperations(ctx: RequestContext, topic: string): number {
  return authorizedOperations(ctx, ResourceType.TOPIC, topic);
}

/** v8-10 may ask for the cluster's operations (later versions ask DescribeCluster): 0 without DESCRIBE. */
function clusterOperations(ctx: RequestContext, asked: boolean): number {
  if (ctx.apiVersion < 8 || ctx.apiVersion > 10 || !asked) return NOT_REQUESTED;
  if (!clusterAllowed(ctx, AclOperation.DESCRIBE)) return 0;
  return authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_RESOURCE);
}
