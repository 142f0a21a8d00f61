import {
  ApiKey,
  createMetadataResponse,
  createMetadataResponseMetadataResponsePartition,
  createMetadataResponseMetadataResponseTopic,
  type MetadataResponseMetadataResponseTopic,
  ZERO_UUID,
} from "@tskafka/protocol";
import { LEADER_EPOCH } from "../cluster/partition-logs.js";
import { advertisedAddress } from "../config.js";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * Metadata v0-13. This node is the only broker, the controller, and the leader of every partition.
 * Unknown topics are created when `auto.create.topics.enable` and the request allows it (always
 * before v4). From v10 topics may be named by id: as in Kafka, a non-zero id is what is looked up,
 * whatever the name says (the Java client sends an empty name beside the id), and an unknown id is
 * UNKNOWN_TOPIC_ID, never auto-created; a request naming any topic by id is answered for its ids only,
 * as Kafka 4.4 does. v13's top-level error code is for authorization failures of
 * the whole request, which cannot happen without an authorizer.
 */
export const metadataHandler = defineHandler({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 13,
  async handle(request, ctx) {
    const services = ctx.services;
    const cfg = services.config;
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
    for (const want of names) {
      const byId = want.topicId !== ZERO_UUID;
      let info = byId
        ? services.metadata.topicById(want.topicId)
        : want.name !== null
          ? services.metadata.topic(want.name)
          : undefined;
      if (info === undefined && !byId && want.name !== null && allowCreate && cfg.props["auto.create.topics.enable"]) {
        const created = await services.topics.autoCreate(want.name);
        if (typeof created === "number") {
          topics.push(createMetadataResponseMetadataResponseTopic({ name: want.name, errorCode: created }));
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
          }),
        );
        continue;
      }
      const partitions = [];
      for (let p = 0; p < info.partitions; p++) {
        partitions.push(
          createMetadataResponseMetadataResponsePartition({
            partitionIndex: p,
            leaderId: cfg.nodeId,
            leaderEpoch: LEADER_EPOCH,
            replicaNodes: [cfg.nodeId],
            isrNodes: [cfg.nodeId],
          }),
        );
      }
      topics.push(
        createMetadataResponseMetadataResponseTopic({
          name: info.name,
          topicId: info.id,
          isInternal: info.name === "__consumer_offsets" || info.name === "__transaction_state",
          partitions,
        }),
      );
    }
    return createMetadataResponse({
      brokers: [{ nodeId: cfg.nodeId, ...advertisedAddress(cfg, ctx.session?.listener), rack: null }],
      clusterId: services.metadata.clusterId,
      controllerId: cfg.nodeId,
      topics,
    });
  },
});
