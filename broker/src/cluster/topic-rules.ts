import type { ClusterMetadata } from "./metadata.js";

/** Kafka's rules for topic names and replica assignments, as CreateTopics and CreatePartitions apply them. */

const MAX_NAME_LENGTH = 249;

/** A guard of this broker (Kafka has none): a topic has at most this many partitions. */
export const MAX_PARTITIONS = 100_000;

/** Kafka's topic name rule; returns the reason a name is invalid, or undefined. */
export function invalidTopicName(name: string): string | undefined {
  if (name.length === 0) return "the empty string is not allowed";
  if (name === "." || name === "..") return `"${name}" is not allowed`;
  if (name.length > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return "only ASCII alphanumerics, '.', '_' and '-' are allowed";
  return undefined;
}

/** Kafka's check that two names do not map to the same metric name ('.' and '_' are interchangeable there). */
export function collidingTopic(metadata: ClusterMetadata, name: string): string | undefined {
  const folded = name.replaceAll(".", "_");
  if (folded === name && !name.includes("_")) return undefined;
  return metadata.topics().find((t) => t.name !== name && t.name.replaceAll(".", "_") === folded)?.name;
}

/** Kafka's replica assignment rules: each partition's replicas are registered brokers, each named once. */
export function invalidAssignment(brokerIds: readonly number[], isBroker: (id: number) => boolean): string | undefined {
  if (brokerIds.length === 0) return "The manual partition assignment includes an empty replica list.";
  if (new Set(brokerIds).size !== brokerIds.length)
    return "The manual partition assignment includes duplicate replicas.";
  const stranger = brokerIds.find((id) => !isBroker(id));
  if (stranger !== undefined)
    return `The manual partition assignment includes broker ${stranger}, but no such broker is registered.`;
  return undefined;
}
