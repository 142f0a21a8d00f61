import type { BrokerConfig } from "../config.js";
import { offsetsPartitionFor } from "../group/java-hash.js";
import { NO_LEADER, type ClusterMetadata } from "./metadata.js";

/**
 * Where a coordinator's key lives, as in Kafka: a group's state in one partition of `__consumer_offsets`,
 * a transactional id's in one of `__transaction_state`, a share-partition's ("group:topicId:partition")
 * in one of `__share_group_state` (the key's Java hash modulo the partition count), and the broker leading
 * that partition coordinates the key.
 */

export const OFFSETS_TOPIC = "__consumer_offsets";
export const TRANSACTION_STATE_TOPIC = "__transaction_state";
export const SHARE_STATE_TOPIC = "__share_group_state";

export type CoordinatorKind = "group" | "transaction" | "share";

const TOPIC_OF: Readonly<Record<CoordinatorKind, string>> = {
  group: OFFSETS_TOPIC,
  transaction: TRANSACTION_STATE_TOPIC,
  share: SHARE_STATE_TOPIC,
};

const COUNT_KEY = {
  group: "offsets.topic.num.partitions",
  transaction: "transaction.state.log.num.partitions",
  share: "share.coordinator.state.topic.num.partitions",
} as const;

/** The partition owning `key`: of the topic as it is, or as it will be created. */
export function coordinatorPartition(
  kind: CoordinatorKind,
  key: string,
  metadata: Pick<ClusterMetadata, "topic">,
  config: BrokerConfig,
): { topic: string; partition: number } {
  const topic = TOPIC_OF[kind];
  const count = metadata.topic(topic)?.partitions ?? config.props[COUNT_KEY[kind]];
  return { topic, partition: offsetsPartitionFor(key, count) };
}

/** The node coordinating `key`: the leader of its partition, NO_LEADER when it has none (or no topic yet). */
export function coordinatorNode(
  kind: CoordinatorKind,
  key: string,
  metadata: Pick<ClusterMetadata, "topic" | "partitionStates">,
  config: BrokerConfig,
): number {
  const { topic, partition } = coordinatorPartition(kind, key, metadata, config);
  return metadata.partitionStates(topic)?.[partition]?.leader ?? NO_LEADER;
}
