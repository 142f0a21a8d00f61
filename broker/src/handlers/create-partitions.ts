import {
  ApiKey,
  createCreatePartitionsResponse,
  createCreatePartitionsResponseCreatePartitionsTopicResult,
  type CreatePartitionsResponseCreatePartitionsTopicResult,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { MAX_PARTITIONS, invalidAssignment } from "../cluster/topic-rules.js";
import { AclOperation } from "../security/acl.js";
import { allowedNames } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * CreatePartitions v0-3: raises a topic's partition count (never lowers it), the new partitions placed
 * with the topic's replication factor over the live brokers or by manual assignments (of registered
 * brokers), and `validateOnly`. A topic the
 * session may not ALTER is TOPIC_AUTHORIZATION_FAILED (without a message, as Kafka's controller answers).
 */
export const createPartitionsHandler = defineHandler({
  apiKey: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    const services = ctx.services;
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const results: CreatePartitionsResponseCreatePartitionsTopicResult[] = [];
    const alterable = allowedNames(ctx, AclOperation.ALTER);
    for (const t of request.topics) {
      const failed = (errorCode: number, errorMessage: string | null): void => {
        results.push(
          createCreatePartitionsResponseCreatePartitionsTopicResult({ name: t.name, errorCode, errorMessage }),
        );
      };
      if ((counts.get(t.name) ?? 0) > 1) {
        failed(ErrorCode.INVALID_REQUEST, "Duplicate topic name.");
        continue;
      }
      if (!alterable(t.name)) {
        failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED, null);
        continue;
      }
      const info = services.metadata.topic(t.name);
      if (info === undefined) {
        failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${t.name}' does not exist.`);
        continue;
      }
      if (t.count < info.partitions) {
        failed(
          ErrorCode.INVALID_PARTITIONS,
          `The topic ${t.name} currently has ${info.partitions} partition(s); ${t.count} would not be an increase.`,
        );
        continue;
      }
      if (t.count === info.partitions) {
        failed(ErrorCode.INVALID_PARTITIONS, `Topic already has ${info.partitions} partition(s).`);
        continue;
      }
      if (t.count > MAX_PARTITIONS) {
        failed(ErrorCode.INVALID_PARTITIONS, `This broker keeps at most ${MAX_PARTITIONS} partitions per topic.`);
        continue;
      }
      if (t.assignments !== null) {
        const added = t.count - info.partitions;
        if (t.assignments.length !== added) {
          failed(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Attempted to add ${added} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`,
          );
          continue;
        }
        const bad = t.assignments
          .map((a) => invalidAssignment(a.brokerIds, (id) => services.topics.isLiveBroker(id)))
          .find((m) => m !== undefined);
        if (bad !== undefined) {
          failed(ErrorCode.INVALID_REPLICA_ASSIGNMENT, bad);
          continue;
        }
      }
      if (!request.validateOnly) {
        const assignments = t.assignments?.map((a) => a.brokerIds);
        const errorCode = await services.topics.addPartitions(t.name, t.count, assignments);
        if (errorCode !== ErrorCode.NONE) {
          failed(errorCode, null);
          continue;
        }
      }
      results.push(createCreatePartitionsResponseCreatePartitionsTopicResult({ name: t.name, errorMessage: null }));
    }
    return createCreatePartitionsResponse({ results });
  },
});
