import type { AclBinding, AclBindingFilter } from "../security/acl.js";
import type { ScramCredential } from "../security/sasl-mechanism.js";

/**
 * The one seam for cluster state: the cluster id, topics, dynamic broker and group configs, producer id blocks,
 * finalized features, SCRAM credentials, client quotas, ACLs, the live brokers, the controller and each partition's
 * leader and ISR are read, changed and watched through `ClusterMetadata`, whatever keeps them: files in the
 * data directory for a single node (file-metadata.ts), etcd for several brokers (etcd-metadata.ts).
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

/** The entity types a client quota is set for (Kafka's ClientQuotaEntity). */
export type QuotaEntityType = "user" | "client-id" | "ip";

/**
 * A client quota entity: a name per entity type it has (user, client-id or both; or ip alone); a null
 * name is the type's default entity (`<default>` in kafka-configs).
 */
export type QuotaEntity = Readonly<Partial<Record<QuotaEntityType, string | null>>>;

/** An entity's quota values by key (producer_byte_rate, request_percentage, ...). */
export interface ClientQuotaEntry {
  readonly entity: QuotaEntity;
  readonly values: Readonly<Record<string, number>>;
}

/** Changes to one entity's quotas: keys set to values, keys removed. The caller validates. */
export interface ClientQuotaChange {
  readonly entity: QuotaEntity;
  readonly set: Readonly<Record<string, number>>;
  readonly remove: readonly string[];
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
  | { readonly kind: "scramCredentials"; readonly users: readonly string[] }
  | {
      readonly kind: "broker";
      readonly nodeId: number;
      readonly before: BrokerInfo | undefined;
      readonly after: BrokerInfo | undefined;
    }
  | { readonly kind: "controller"; readonly controller: ControllerInfo | undefined }
  /** A topic's partition states changed (undefined: the topic is gone). */
  | { readonly kind: "partitions"; readonly topic: string; readonly states: readonly PartitionState[] | undefined }
  /** Client quotas changed (read them again with `clientQuotas()`). */
  | { readonly kind: "clientQuotas" }
  /** ACLs were added or removed (read the whole set again with `acls()`). */
  | { readonly kind: "acls"; readonly added: readonly AclBinding[]; readonly removed: readonly AclBinding[] };

export type MetadataListener<K extends MetadataEvent["kind"]> = (event: Extract<MetadataEvent, { kind: K }>) => void;

/** A listener of a registered broker, where clients reach it. */
export interface BrokerEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: string;
}

/** A live broker of the cluster. */
export interface BrokerInfo {
  readonly nodeId: number;
  readonly listeners: readonly BrokerEndpoint[];
  readonly rack: string | null;
  /** Kafka's broker epoch: new with every registration, so a restarted broker is told from its old self. */
  readonly epoch: number;
  /** In controlled shutdown: the controller moves its leaderships away and takes it out of every ISR. */
  readonly shuttingDown?: boolean;
}

/** The broker that is the controller, and the epoch of its term (grows with every election). */
export interface ControllerInfo {
  readonly nodeId: number;
  readonly epoch: number;
}

/**
 * This process' registration as a broker. It lasts while the process renews it (etcd: a lease with a
 * time to live), so a broker that dies or hangs leaves the cluster by itself, as a ZooKeeper ephemeral
 * node did.
 */
export interface BrokerRegistration {
  readonly nodeId: number;
  readonly epoch: number;
  /** Resolves when the registration ends without `unregister` (the lease expired): stop acting as leader. */
  readonly lost: Promise<void>;
  /** Competes for the controller role for as long as the registration lasts. */
  campaign(): void;
  /**
   * Marks this broker as shutting down (Kafka's controlled shutdown): the controller moves its leaderships
   * to other ISR members; the registration lasts until `unregister`.
   */
  enterControlledShutdown(): Promise<void>;
  /** Ends the registration now (a clean shutdown), giving up the controller role if held. */
  unregister(): Promise<void>;
  /** Stops renewing without ending it: it ends when its lease expires, as a hung broker's does (tests, simulation). */
  abandon(): void;
}

/** No leader: every replica of the ISR is gone (Kafka's -1). */
export const NO_LEADER = -1;

/** A partition's replicas, leader and ISR, as Kafka's PartitionRegistration. A change replaces the object. */
export interface PartitionState {
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** A member of `isr`, or NO_LEADER. */
  readonly leader: number;
  /** Grows when the leader changes: what fences the old leader's requests. */
  readonly leaderEpoch: number;
  /** Grows with every change of the state: what a change names to be applied (compare-and-swap). */
  readonly partitionEpoch: number;
  /**
   * A reassignment in progress (KIP-455): the replicas it adds (fetching, not all in the ISR yet) and those
   * it removes once they are; `replicas` is then the target followed by the removing ones. Absent when none.
   */
  readonly adding?: readonly number[];
  readonly removing?: readonly number[];
}

/**
 * A change of one partition's state, applied only if the partition is still at `partitionEpoch`
 * (partition-state.ts has the rules, those of Kafka's controller):
 *  - "isr": Kafka's AlterPartition, a new ISR sent by the leader `brokerId` at `leaderEpoch`;
 *  - "leader": the controller's election or fencing: a new leader (NO_LEADER for none) and ISR; a
 *    different leader bumps the leader epoch;
 *  - "reassign": AlterPartitionReassignments, a new target replica list (the caller checked it names
 *    registered brokers once each), or null to cancel the reassignment in progress.
 */
export type PartitionChange =
  | {
      readonly kind: "isr";
      readonly partition: number;
      readonly brokerId: number;
      readonly leaderEpoch: number;
      readonly partitionEpoch: number;
      readonly isr: readonly number[];
    }
  | {
      readonly kind: "leader";
      readonly partition: number;
      readonly partitionEpoch: number;
      readonly leader: number;
      readonly isr: readonly number[];
    }
  | {
      readonly kind: "reassign";
      readonly partition: number;
      readonly partitionEpoch: number;
      readonly target: readonly number[] | null;
    };

/** What became of one change: NONE with the new state, or Kafka's error code of AlterPartition. */
export interface PartitionChangeResult {
  readonly partition: number;
  readonly errorCode: number;
  readonly state?: PartitionState;
}

/** The changes of one topic's partitions: a write of many topics is batched (a few etcd transactions). */
export interface TopicPartitionChanges {
  readonly topic: string;
  readonly changes: readonly PartitionChange[];
}

export interface TopicChange {
  readonly partitions?: number;
  readonly configs?: Readonly<Record<string, string>>;
  /** The replicas of each partition added by `partitions` (the first leads); this node alone when absent. */
  readonly newReplicas?: readonly (readonly number[])[];
}

export interface ClusterMetadata {
  readonly clusterId: string;

  topic(name: string): TopicInfo | undefined;
  topicById(id: string): TopicInfo | undefined;
  topics(): TopicInfo[];
  /**
   * Creates a topic with a new id; Stale when the name is taken. `replicas` lists each partition's
   * replicas (the first is its leader); by default every partition is on this node.
   */
  createTopic(
    name: string,
    partitions: number,
    configs: Readonly<Record<string, string>>,
    replicas?: readonly (readonly number[])[],
  ): Promise<TopicInfo | Stale>;
  /**
   * Changes a topic's partition count or configs (new partitions on `newReplicas`); Stale when it is
   * missing or not at `expectedVersion`.
   */
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

  /**
   * Registers this process as broker `nodeId`; Stale when a live broker holds that id. The registration
   * ends with the process (etcd: its lease expires) or with `unregister`.
   */
  registerBroker(
    nodeId: number,
    listeners: readonly BrokerEndpoint[],
    rack: string | null,
  ): Promise<BrokerRegistration | Stale>;
  /** The live brokers, by node id. */
  brokers(): BrokerInfo[];
  /**
   * The brokers registered once and not live now (stopped, or their session ended), as last registered:
   * Kafka's fenced brokers, which DescribeCluster v2 lists when asked.
   */
  fencedBrokers(): BrokerInfo[];
  /** The controller, when one is elected. */
  controller(): ControllerInfo | undefined;

  /** A topic's partition states, by partition; undefined when the topic does not exist. */
  partitionStates(topic: string): readonly PartitionState[] | undefined;
  /**
   * Applies partition changes, each only if its partition is still at the partition epoch it names
   * (Kafka's AlterPartition rules); answers each change's result, by topic in the order given.
   */
  alterPartitions(batch: readonly TopicPartitionChanges[]): Promise<PartitionChangeResult[][]>;
  /** Every entity that has client quotas, with its values. */
  clientQuotas(): ClientQuotaEntry[];
  /** Applies the changes at once (an entity left without values is gone). */
  alterClientQuotas(changes: readonly ClientQuotaChange[]): Promise<void>;
  /** Every ACL of the cluster, in the order they were created. */
  acls(): readonly AclBinding[];
  /**
   * Stores the bindings (validated by the caller) that are not stored yet: creating an existing ACL
   * adds nothing, as in Kafka.
   */
  createAcls(bindings: readonly AclBinding[]): Promise<void>;
  /**
   * Removes every ACL one of the filters selects; answers, per filter in order, the ACLs it selected
   * (an ACL two filters select is in both answers, removed once).
   */
  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[][]>;

  /** Calls `listener` for every later change of `kind`; the returned function stops it. */
  watch<K extends MetadataEvent["kind"]>(kind: K, listener: MetadataListener<K>): () => void;
  /** Waits for the writes in flight. */
  close(): Promise<void>;
}

/** Whether `partition` is one of the topic's: the check before any partition's log or offsets. */
export function hasPartition(topic: TopicInfo | undefined, partition: number): topic is TopicInfo {
  return topic !== undefined && partition >= 0 && partition < topic.partitions;
}
