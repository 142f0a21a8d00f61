import {
  ApiKey,
  createCreateTopicsResponse,
  createCreateTopicsResponseCreatableTopicConfigs,
  createCreateTopicsResponseCreatableTopicResult,
  type CreateTopicsRequestCreatableTopic,
  type CreateTopicsResponseCreatableTopicResult,
} from "@tskafka/protocol";
import type { Placement } from "../cluster/topic-admin.js";
import type { Services } from "../services.js";
import { describeTopicConfigs, invalidTopicConfigs } from "../cluster/config-catalog.js";
import { MAX_PARTITIONS, collidingTopic, invalidAssignment, invalidTopicName } from "../cluster/topic-rules.js";
import { newTopicId } from "../cluster/topics.js";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowedNames, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/** What a valid creation request resolves to. */
interface Plan {
  readonly partitions: number;
  readonly configs: Record<string, string>;
  readonly placement: Placement;
  readonly replicationFactor: number;
}

type Failure = { readonly errorCode: number; readonly message: string };

const fail = (errorCode: number, message: string): Failure => ({ errorCode, message });

function plan(t: CreateTopicsRequestCreatableTopic, services: Services): Plan | Failure {
  const why = invalidTopicName(t.name);
  if (why !== undefined) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic name "${t.name}" is illegal: ${why}`);
  if (services.metadata.topic(t.name) !== undefined)
    return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
  const collides = collidingTopic(services.metadata, t.name);
  if (collides !== undefined)
    return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${t.name}' collides with existing topic: ${collides}`);
  const props = services.config.props;
  let partitions: number;
  let placement: Placement;
  let replicationFactor: number;
  if (t.assignments.length > 0) {
    if (t.numPartitions !== -1) {
      return fail(
        ErrorCode.INVALID_REQUEST,
        "A manual partition assignment was specified, but numPartitions was not set to -1.",
      );
    }
    if (t.replicationFactor !== -1) {
      return fail(
        ErrorCode.INVALID_REQUEST,
        "A manual partition assignment was specified, but replicationFactor was not set to -1.",
      );
    }
    const indexes = t.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
    if (indexes.some((p, i) => p !== i)) {
      return fail(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        "Partitions of a manual assignment must be numbered 0 to n-1 without gaps or repeats.",
      );
    }
    const sorted = [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
    for (const a of sorted) {
      const bad = invalidAssignment(a.brokerIds, (id) => services.topics.isLiveBroker(id));
      if (bad !== undefined) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, bad);
    }
    replicationFactor = sorted[0]!.brokerIds.length;
    if (sorted.some((a) => a.brokerIds.length !== replicationFactor))
      return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "All partitions should have the same number of replicas.");
    partitions = t.assignments.length;
    placement = { assignments: sorted.map((a) => a.brokerIds) };
  } else {
    partitions = t.numPartitions === -1 ? props["num.partitions"] : t.numPartitions;
    if (partitions <= 0)
      return fail(ErrorCode.INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value.");
    const rf = t.replicationFactor === -1 ? props["default.replication.factor"] : t.replicationFactor;
    if (rf <= 0)
      return fail(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        "Replication factor must be larger than 0, or -1 to use the default value.",
      );
    const why = services.topics.invalidReplicationFactor(rf);
    if (why !== undefined)
      return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `Unable to replicate the partition ${rf} time(s): ${why}`);
    replicationFactor = rf;
    placement = { replicationFactor: rf };
  }
  if (partitions > MAX_PARTITIONS)
    return fail(ErrorCode.INVALID_PARTITIONS, `This broker creates at most ${MAX_PARTITIONS} partitions per topic.`);
  const raw: Record<string, string | null> = {};
  for (const c of t.configs) raw[c.name] = c.value;
  const problem = invalidTopicConfigs(raw);
  if (problem !== undefined) return fail(ErrorCode.INVALID_CONFIG, problem);
  return { partitions, configs: raw as Record<string, string>, placement, replicationFactor };
}

/**
 * CreateTopics v0-7 as Kafka's controller answers it: name, partition, replication-factor (against the
 * live brokers), assignment and config rules, replicas placed over brokers and racks (topic-admin.ts), `validateOnly` (v1+), and from v5 the resulting
 * configs, partition count and replication factor (and topic id from v7). As Kafka's controller
 * authorizes: CREATE on the cluster or the topic (TOPIC_AUTHORIZATION_FAILED), and the configs, count and
 * factor only with DESCRIBE_CONFIGS on the topic (else topicConfigErrorCode TOPIC_AUTHORIZATION_FAILED).
 */
export const createTopicsHandler = defineHandler({
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, ctx) {
    const services = ctx.services;
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const results: CreateTopicsResponseCreatableTopicResult[] = [];
    const creatable = clusterAllowed(ctx, AclOperation.CREATE, false)
      ? () => true
      : allowedNames(ctx, AclOperation.CREATE);
    const describable = allowedNames(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, false);
    for (const t of request.topics) {
      const result = createCreateTopicsResponseCreatableTopicResult({ name: t.name });
      results.push(result);
      const outcome: Plan | Failure =
        (counts.get(t.name) ?? 0) > 1
          ? fail(ErrorCode.INVALID_REQUEST, `Found multiple entries for topic ${t.name}.`)
          : !creatable(t.name)
            ? fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed.")
            : plan(t, services);
      if ("errorCode" in outcome) {
        result.errorCode = outcome.errorCode;
        result.errorMessage = outcome.message;
        // A failed topic keeps the empty configs list, as Kafka answers (not null).
        continue;
      }
      if (!request.validateOnly) {
        const created = await services.topics.create(t.name, outcome.partitions, outcome.configs, outcome.placement);
        if (typeof created === "number") {
          result.errorCode = created;
          result.errorMessage = created === ErrorCode.TOPIC_ALREADY_EXISTS ? `Topic '${t.name}' already exists.` : null;
          continue;
        }
        result.topicId = created.id;
      } else {
        // As Kafka: validateOnly answers a made-up id for the topic it does not create.
        result.topicId = newTopicId();
      }
      if (!describable(t.name)) {
        // As Kafka: created, but its configs are not shown to a session that may not describe them.
        result.topicConfigErrorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        continue;
      }
      result.numPartitions = outcome.partitions;
      result.replicationFactor = outcome.replicationFactor;
      result.configs = describeTopicConfigs(outcome.configs, services.config).map((e) =>
        createCreateTopicsResponseCreatableTopicConfigs({
          name: e.name,
          value: e.value,
          readOnly: e.readOnly,
          configSource: e.source,
          isSensitive: e.sensitive,
        }),
      );
    }
    return createCreateTopicsResponse({ topics: results });
  },
});
