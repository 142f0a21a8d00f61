import type { ScramCredential } from "../security/sasl-mechanism.js";

/**
 * The one seam for cluster state: the cluster id, topics, dynamic broker and group configs, producer id blocks,
 * finalized features and SCRAM credentials are read, changed and watched through `ClusterMetadata`,
 * whatever keeps them (today files in the data directory; an etcd store for several brokers later).
 *
 * Reads answer from memory and never wait: produce and fetch look topics up on every request. Writes are
 * durable when their promise resolves. Each entry carries a version (etcd's mod revision: 0 when the entry
 * does not exist); a write given `expectedVersion` happens only if the entry is still at that version, so
 * that a read-check-write by one broker cannot overwrite what another wrote in between.
 */

/** A topic as the cluster knows it. A snapshot: a change replaces the object, it never mutates it. */
export interface TopicInfo {
  readonly name: string;
  /** Kafka's topic id: 16 random bytes, as 22 characters of base64url. */
  readonly id: string;
  readonly partitions: number;
  /** The topic's config overrides. */
  readonly configs: Readonly<Record<string, string>>;
  /** Changes with every write of the topic; what a conditional write names. */
  readonly version: number;
}

/** The version of an entry that does not exist: a create is a write expecting it. */
export const ABSENT = 0;

/** Whose dynamic broker configs: the cluster-wide default (resource name "") or one node. */
export type DynamicScope = { readonly kind: "default" } | { readonly kind: "broker"; readonly nodeId: number };

/** A set of dynamic broker configs with its version. */
export interface VersionedConfigs {
  readonly configs: Readonly<Record<string, string>>;
  readonly version: number;
}

/** Producer ids [firstId, firstId + size) reserved for one broker, never handed out again. */
export interface ProducerIdBlock {
  readonly firstId: bigint;
  readonly size: bigint;
}

/** The finalized level of each feature (KIP-584) and the epoch of that set. */
export interface FinalizedFeatures {
  readonly epoch: bigint;
  readonly levels: readonly { readonly name: string; readonly level: number }[];
}

/** One SCRAM credential of a user (a user has at most one per mechanism). */
export interface UserScramCredential {
  readonly user: string;
  readonly credential: ScramCredential;
}

/** The removal of a user's credential for one mechanism. */
export interface ScramCredentialDeletion {
  readonly user: string;
  readonly mechanism: ScramCredential["mechanism"];
}

/** A conditional write that lost: the entry is at `version` now (ABSENT when missing), not the expected one. */
export interface Stale {
  readonly stale: true;
  readonly version: number;
}

export function isStale(r: object | number): r is Stale {
  return typeof r === "object" && "stale" in r;
}

/** What changed, delivered to watchers after the change is durable, in the order of the writes. */
export type MetadataEvent =
  | {
      readonly kind: "topic";
      readonly name: string;
      readonly before: TopicInfo | undefined;
      readonly after: TopicInfo | undefined;
    }
  | { readonly kind: "brokerConfigs"; readonly scope: DynamicScope; readonly version: number }
  | { readonly kind: "features"; readonly features: FinalizedFeatures }
  /** The users whose SCRAM credentials changed (read them again with `scramCredentials(user)`). */
  | { readonly kind: "scramCredentials"; readonly users: readonly string[] };

export type MetadataListener<K extends MetadataEvent["kind"]> = (event: Extract<MetadataEvent, { kind: K }>) => void;

export interface TopicChange {
  readonly partitions?: number;
  readonly configs?: Readonly<Record<string, string>>;
}

export interface ClusterMetadata {
  readonly clusterId: string;

  topic(name: string): TopicInfo | undefined;
  topicById(id: string): TopicInfo | undefined;
  topics(): TopicInfo[];
  /** Creates a topic with a new id; Stale when the name is taken. */
  createTopic(name: string, partitions: number, configs: Readonly<Record<string, string>>): Promise<TopicInfo | Stale>;
  /** Changes a topic's partition count or configs; Stale when it is missing or not at `expectedVersion`. */
  updateTopic(name: string, change: TopicChange, expectedVersion?: number): Promise<TopicInfo | Stale>;
  /** Removes a topic and answers what it was; Stale when it is missing or not at `expectedVersion`. */
  deleteTopic(name: string, expectedVersion?: number): Promise<TopicInfo | Stale>;

  brokerConfigs(scope: DynamicScope): VersionedConfigs;
  /** Replaces the whole set of `scope`; answers the new version. */
  setBrokerConfigs(
    scope: DynamicScope,
    configs: Readonly<Record<string, string>>,
    expectedVersion?: number,
  ): Promise<number | Stale>;

  /** The configs set on a group (GROUP resource: share.auto.offset.reset, ...), empty when none are. */
  groupConfigs(groupId: string): VersionedConfigs;
  /** Replaces the whole set of a group's configs (empty: none left); answers the new version. */
  setGroupConfigs(
    groupId: string,
    configs: Readonly<Record<string, string>>,
    expectedVersion?: number,
  ): Promise<number | Stale>;

  /** Reserves the next `size` producer ids for this broker. */
  reserveProducerIds(size: bigint): Promise<ProducerIdBlock>;
  /** Gives back ids [firstUnused, end of block) if no block was reserved after it (a clean shutdown). */
  releaseProducerIds(block: ProducerIdBlock, firstUnused: bigint): Promise<void>;

  finalizedFeatures(): FinalizedFeatures;
  /** Sets the finalized level of each named feature (0: no longer finalized); answers the new set. */
  updateFinalizedFeatures(updates: readonly { name: string; level: number }[]): Promise<FinalizedFeatures>;

  /** Every SCRAM credential, or those of `user` (none when it has none). */
  scramCredentials(user?: string): UserScramCredential[];
  /**
   * Removes and sets SCRAM credentials at once (deletions first; deleting a missing one does nothing; an
   * upsert replaces the user's credential of that mechanism). The caller validates.
   */
  alterScramCredentials(
    upserts: readonly UserScramCredential[],
    deletions: readonly ScramCredentialDeletion[],
  ): Promise<void>;

  /** Calls `listener` for every later change of `kind`; the returned function stops it. */
  watch<K extends MetadataEvent["kind"]>(kind: K, listener: MetadataListener<K>): () => void;
  /** Waits for the writes in flight. */
  close(): Promise<void>;
}

/** Whether `partition` is one of the topic's: the check before any partition's log or offsets. */
export function hasPartition(topic: TopicInfo | undefined, partition: number): topic is TopicInfo {
  return topic !== undefined && partition >= 0 && partition < topic.partitions;
}
