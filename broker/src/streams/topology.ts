import type { StreamsGroupHeartbeatRequestTopology, StreamsGroupTopologyValue } from "@tskafka/protocol";
import { invalidTopicName } from "../cluster/topic-rules.js";

/**
 * A streams group's topology (KIP-1071) as the group coordinator checks and configures it: the
 * topology a joining member sends is validated (STREAMS_INVALID_TOPOLOGY); then, against the topics
 * that exist, each subtopology's task count is found, the partition counts of repartition topics are
 * derived from the topics that feed them and of changelog topics from their subtopology's tasks, and
 * copartitioned topics are checked. What is missing or wrong is reported as the heartbeat's status
 * (MISSING_SOURCE_TOPICS, MISSING_INTERNAL_TOPICS, INCORRECTLY_PARTITIONED_TOPICS); internal topics
 * that do not exist yet are named for the coordinator to create.
 */

export type Topology = StreamsGroupTopologyValue;
export type Subtopology = Topology["subtopologies"][number];

/** Status codes of StreamsGroupHeartbeat. */
export const Status = {
  STALE_TOPOLOGY: 0,
  MISSING_SOURCE_TOPICS: 1,
  INCORRECTLY_PARTITIONED_TOPICS: 2,
  MISSING_INTERNAL_TOPICS: 3,
  SHUTDOWN_APPLICATION: 4,
  ASSIGNMENT_DELAYED: 5,
} as const;

export interface StatusEntry {
  statusCode: number;
  statusDetail: string;
}

/** A topic as the topology sees it: its partition count, or undefined when it does not exist. */
export type TopicPartitions = (name: string) => number | undefined;

/** An internal topic to create. */
export interface InternalTopic {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/** The outcome of configuring a topology against the topics that exist. */
export interface ConfiguredTopology {
  /** Task count per subtopology id; only when the topology is ready (nothing missing or wrong). */
  tasks: Map<string, number> | undefined;
  /** Subtopologies with state (a changelog topic): their tasks get standbys. */
  stateful: Set<string>;
  status: StatusEntry[];
  /** Internal topics to create (missing ones with a partition count known). */
  toCreate: InternalTopic[];
}

/** The request's topology in the record's form (what is stored and described). */
export function fromRequest(t: StreamsGroupHeartbeatRequestTopology): Topology {
  const info = (
    i:
      | Subtopology["stateChangelogTopics"][number]
      | { name: string; partitions: number; replicationFactor: number; topicConfigs: { key: string; value: string }[] },
  ) => ({
    name: i.name,
    partitions: i.partitions,
    replicationFactor: i.replicationFactor,
    topicConfigs: i.topicConfigs.map((c) => ({ key: c.key, value: c.value })),
  });
  return {
    epoch: t.epoch,
    subtopologies: t.subtopologies.map((s) => ({
      subtopologyId: s.subtopologyId,
      sourceTopics: [...s.sourceTopics],
      sourceTopicRegex: [...s.sourceTopicRegex],
      stateChangelogTopics: s.stateChangelogTopics.map(info),
      repartitionSinkTopics: [...s.repartitionSinkTopics],
      repartitionSourceTopics: s.repartitionSourceTopics.map(info),
      copartitionGroups: s.copartitionGroups.map((g) => ({
        sourceTopics: [...g.sourceTopics],
        sourceTopicRegex: [...g.sourceTopicRegex],
        repartitionSourceTopics: [...g.repartitionSourceTopics],
      })),
    })),
  };
}

/** Why a joining member's topology is invalid (STREAMS_INVALID_TOPOLOGY), or undefined. */
export function invalidTopology(t: Topology): string | undefined {
  if (t.epoch < 0) return "Topology epoch must be non-negative.";
  const ids = new Set<string>();
  const repartitionSources = new Set(t.subtopologies.flatMap((s) => s.repartitionSourceTopics.map((r) => r.name)));
  for (const s of t.subtopologies) {
    if (ids.has(s.subtopologyId)) return `Subtopology ${s.subtopologyId} is defined more than once.`;
    ids.add(s.subtopologyId);
    if (s.sourceTopics.length + s.sourceTopicRegex.length + s.repartitionSourceTopics.length === 0)
      return "Subtopology does not contain any source topics";
    for (const c of s.stateChangelogTopics) {
      if (c.partitions !== 0)
        return `Changelog topic ${c.name} must have an undefined partition count, but it is set to ${c.partitions}.`;
    }
    for (const i of [...s.stateChangelogTopics, ...s.repartitionSourceTopics]) {
      const why = invalidTopicName(i.name);
      if (why !== undefined) return `Topic name ${i.name} is invalid: ${why}.`;
      if (i.partitions < 0) return `Number of partitions must be positive.`;
    }
    for (const sink of s.repartitionSinkTopics)
      if (!repartitionSources.has(sink)) return `Repartition sink topic ${sink} is not a repartition source topic.`;
    for (const regex of s.sourceTopicRegex) {
      try {
        new RegExp(regex);
      } catch (e) {
        return `SourceTopicRegex ${regex} is not a valid regular expression: ${(e as Error).message}.`;
      }
    }
    for (const g of s.copartitionGroups) {
      const out =
        g.sourceTopics.some((i) => i < 0 || i >= s.sourceTopics.length) ||
        g.sourceTopicRegex.some((i) => i < 0 || i >= s.sourceTopicRegex.length) ||
        g.repartitionSourceTopics.some((i) => i < 0 || i >= s.repartitionSourceTopics.length);
      if (out) return `Copartition group of subtopology ${s.subtopologyId} refers to a topic that does not exist.`;
    }
  }
  return undefined;
}

/** The topics a source regex names (Java's `matches`: the whole name). */
function regexTopics(regex: string, topicNames: readonly string[]): string[] {
  const re = new RegExp(`^(?:${regex})$`);
  return topicNames.filter((n) => re.test(n) && !n.startsWith("__"));
}

/** The external (not internal) source topics of a subtopology, regexes resolved. */
export function externalSources(s: Subtopology, topicNames: readonly string[]): string[] {
  return [...new Set([...s.sourceTopics, ...s.sourceTopicRegex.flatMap((r) => regexTopics(r, topicNames))])].sort();
}

/** Every topic the topology reads or keeps state in (for the metadata hash). */
export function topologyTopics(t: Topology, topicNames: readonly string[]): string[] {
  const all = new Set<string>();
  for (const s of t.subtopologies) {
    for (const n of externalSources(s, topicNames)) all.add(n);
    for (const r of s.repartitionSourceTopics) all.add(r.name);
    for (const c of s.stateChangelogTopics) all.add(c.name);
  }
  return [...all].sort();
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

/**
 * Configures the topology against the topics there are now: the task count of each subtopology, the
 * partition counts of the internal topics, and the status to report.
 */
export function configureTopology(
  t: Topology,
  partitionsOf: TopicPartitions,
  topicNames: readonly string[],
): ConfiguredTopology {
  const stateful = new Set(
    t.subtopologies.filter((s) => s.stateChangelogTopics.length > 0).map((s) => s.subtopologyId),
  );
  const notReady = (status: StatusEntry): ConfiguredTopology => ({
    tasks: undefined,
    stateful,
    status: [status],
    toCreate: [],
  });

  // Source topics must exist, and each regex must name some topic.
  const missing: string[] = [];
  for (const s of t.subtopologies) {
    for (const n of s.sourceTopics) if (partitionsOf(n) === undefined) missing.push(n);
    for (const r of s.sourceTopicRegex) if (regexTopics(r, topicNames).length === 0) missing.push(r);
  }
  if (missing.length > 0)
    return notReady({
      statusCode: Status.MISSING_SOURCE_TOPICS,
      statusDetail: `Source topics ${sorted(missing).join(", ")} are missing.`,
    });

  const repartition = repartitionCounts(t, partitionsOf, topicNames);
  if (typeof repartition === "string")
    return notReady({ statusCode: Status.INCORRECTLY_PARTITIONED_TOPICS, statusDetail: repartition });
  const copartitioned = enforceCopartitioning(t, partitionsOf, topicNames, repartition);
  if (copartitioned !== undefined)
    return notReady({ statusCode: Status.INCORRECTLY_PARTITIONED_TOPICS, statusDetail: copartitioned });

  // Each subtopology has as many tasks as its largest source topic has partitions.
  const tasks = new Map<string, number>();
  for (const s of t.subtopologies) {
    const counts = [
      ...externalSources(s, topicNames).map((n) => partitionsOf(n) ?? 0),
      ...s.repartitionSourceTopics.map((r) => repartition.get(r.name) ?? 0),
    ];
    tasks.set(s.subtopologyId, Math.max(0, ...counts));
  }

  // The internal topics with the partition counts they must have.
  const internal: InternalTopic[] = [];
  for (const s of t.subtopologies) {
    for (const r of s.repartitionSourceTopics)
      internal.push(
        internalTopic(r, repartition.get(r.name) ?? 0, { "cleanup.policy": "delete", "retention.ms": "-1" }),
      );
    for (const c of s.stateChangelogTopics)
      internal.push(internalTopic(c, tasks.get(s.subtopologyId) ?? 0, { "cleanup.policy": "compact" }));
  }
  const wrong: string[] = [];
  const toCreate: InternalTopic[] = [];
  const seen = new Set<string>();
  for (const i of internal) {
    if (seen.has(i.name)) continue;
    seen.add(i.name);
    const have = partitionsOf(i.name);
    if (have === undefined) toCreate.push(i);
    else if (have !== i.partitions) wrong.push(i.name);
  }
  if (wrong.length > 0)
    return notReady({
      statusCode: Status.INCORRECTLY_PARTITIONED_TOPICS,
      statusDetail: `Internal topics ${sorted(wrong).join(", ")} have the wrong number of partitions.`,
    });
  if (toCreate.length > 0)
    return {
      tasks: undefined,
      stateful,
      status: [
        {
          statusCode: Status.MISSING_INTERNAL_TOPICS,
          statusDetail: `Internal topics are missing: ${sorted(toCreate.map((i) => i.name)).join(", ")}`,
        },
      ],
      toCreate,
    };
  return { tasks, stateful, status: [], toCreate: [] };
}

function internalTopic(
  i: Subtopology["repartitionSourceTopics"][number],
  partitions: number,
  defaults: Record<string, string>,
): InternalTopic {
  const configs: Record<string, string> = { ...defaults };
  for (const c of i.topicConfigs) configs[c.key] = c.value;
  return { name: i.name, partitions, replicationFactor: i.replicationFactor, configs };
}

/**
 * The partition count of every repartition topic: its own when the topology fixes one, else the largest
 * of the source topics of the subtopologies writing to it (found by repeated passes: a repartition topic
 * may be fed by another one). A message when some cannot be found.
 */
function repartitionCounts(
  t: Topology,
  partitionsOf: TopicPartitions,
  topicNames: readonly string[],
): Map<string, number> | string {
  const counts = new Map<string, number>();
  const pending = new Set<string>();
  for (const s of t.subtopologies)
    for (const r of s.repartitionSourceTopics) {
      if (r.partitions > 0) counts.set(r.name, r.partitions);
      else pending.add(r.name);
    }
  // Repartition topics in a copartition group with an external topic take its count (set there).
  for (let pass = 0; pending.size > 0 && pass <= t.subtopologies.length + 1; pass++) {
    for (const name of [...pending]) {
      const writers = t.subtopologies.filter((s) => s.repartitionSinkTopics.includes(name));
      if (writers.length === 0) {
        // Only copartitioning can size it (done later); 0 until then.
        continue;
      }
      let max = 0;
      let known = true;
      for (const w of writers) {
        for (const n of externalSources(w, topicNames)) max = Math.max(max, partitionsOf(n) ?? 0);
        for (const r of w.repartitionSourceTopics) {
          const c = counts.get(r.name);
          if (c === undefined) known = false;
          else max = Math.max(max, c);
        }
      }
      if (known && max > 0) {
        counts.set(name, max);
        pending.delete(name);
      }
    }
  }
  for (const name of pending) {
    const inGroup = t.subtopologies.some((s) =>
      s.copartitionGroups.some((g) =>
        g.repartitionSourceTopics.some((i) => s.repartitionSourceTopics[i]?.name === name),
      ),
    );
    if (!inGroup)
      return "Failed to compute number of partitions for all repartition topics. There may be loops in the topology that cannot be resolved.";
  }
  return counts;
}

/**
 * Copartition groups: their external source topics must have one partition count, which the group's
 * repartition topics of unfixed count then take (the largest count in the group when none is external).
 */
function enforceCopartitioning(
  t: Topology,
  partitionsOf: TopicPartitions,
  topicNames: readonly string[],
  repartition: Map<string, number>,
): string | undefined {
  for (const s of t.subtopologies) {
    for (const g of s.copartitionGroups) {
      const external = [
        ...g.sourceTopics.map((i) => s.sourceTopics[i]!),
        ...g.sourceTopicRegex.flatMap((i) => regexTopics(s.sourceTopicRegex[i]!, topicNames)),
      ];
      const counts = new Set(external.map((n) => partitionsOf(n)));
      if (counts.size > 1) {
        const listed = sorted(external).map((n) => `${n}=${partitionsOf(n)}`);
        return `Following topics do not have the same number of partitions: [{${listed.join(", ")}}]`;
      }
      const internal = g.repartitionSourceTopics.map((i) => s.repartitionSourceTopics[i]!);
      const fixed = internal.filter((r) => r.partitions > 0);
      const target =
        counts.size === 1
          ? [...counts][0]!
          : Math.max(0, ...internal.map((r) => repartition.get(r.name) ?? 0), ...fixed.map((r) => r.partitions));
      for (const r of fixed)
        if (target !== undefined && r.partitions !== target)
          return `Number of partitions [${r.partitions}] of repartition topic [${r.name}] doesn't match number of partitions [${target}] of the source topic.`;
      if (target !== undefined && target > 0)
        for (const r of internal) if (r.partitions === 0) repartition.set(r.name, target);
    }
  }
  return undefined;
}
