import { ClientQuotasFile } from "./client-quotas-file.js";
import type { AclBinding, AclBindingFilter } from "../security/acl.js";
import { AclsFile } from "./acls.js";
import { DynamicConfigStore } from "./dynamic-configs.js";
import { FeaturesFile, withFeatureLevels } from "./features.js";
import { ErrorCode } from "../errors.js";
import {
  ABSENT,
  type BrokerEndpoint,
  type BrokerInfo,
  type BrokerRegistration,
  type ClientQuotaChange,
  type ClientQuotaEntry,
  type ClusterMetadata,
  type ControllerInfo,
  type PartitionChangeResult,
  type PartitionState,
  type TopicPartitionChanges,
  type DynamicScope,
  type FinalizedFeatures,
  type MetadataEvent,
  type MetadataListener,
  type ProducerIdBlock,
  type ScramCredentialDeletion,
  type Stale,
  type TopicChange,
  type TopicInfo,
  type UserScramCredential,
  type VersionedConfigs,
} from "./metadata.js";
import { applyTopicChanges, initialPartitionState } from "./partition-state.js";
import { ScramCredentialsFile } from "./scram-credentials.js";
import { ProducerIdsFile } from "./producer-ids.js";
import { TopicsFile, newTopicId } from "./topics.js";

const stale = (version: number): Stale => ({ stale: true, version });

const scopeKey = (scope: DynamicScope): string => (scope.kind === "default" ? "" : String(scope.nodeId));

/**
 * The cluster metadata of a single node, in files of its data directory (the topics file, the dynamic
 * broker configs file, the producer ids file, the finalized features file, the SCRAM credentials file, the client quotas file, the ACLs file; their formats are those of
 * earlier releases, a missing features file meaning a new cluster's levels). This node is
 * the only writer, so a conditional write is checked against memory before its first await, and versions
 * come from one counter of this run, as etcd's revisions do.
 *
 * The node is the cluster's only broker and its controller: its registration and partition states live
 * in memory only (a restart starts them again: every partition on this node, which leads it).
 */
export class FileClusterMetadata implements ClusterMetadata {
  private readonly byName = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  private readonly configVersions = new Map<string, number>();
  private readonly listeners = new Map<MetadataEvent["kind"], Set<(e: MetadataEvent) => void>>();
  private revision = ABSENT;
  /** The first producer id never reserved. */
  private nextProducerId = 0n;
  private writes: Promise<unknown> = Promise.resolve();
  private features: FinalizedFeatures = { epoch: 0n, levels: [] };
  private readonly states = new Map<string, PartitionState[]>();
  private registered: BrokerInfo | undefined;
  /** The last registration, kept when it ends (a fenced broker, until this process registers again). */
  private lastRegistered: BrokerInfo | undefined;
  private controllerInfo: ControllerInfo | undefined;

  private constructor(
    private readonly nodeId: number,
    private readonly topicsFile: TopicsFile,
    private readonly configs: DynamicConfigStore,
    private readonly producerIdsFile: ProducerIdsFile,
    private readonly featuresFile: FeaturesFile,
    private readonly scramFile: ScramCredentialsFile,
    private readonly quotasFile: ClientQuotasFile,
    private readonly aclsFile: AclsFile,
  ) {}

  static async open(dir: string, nodeId = 1): Promise<FileClusterMetadata> {
    const m = new FileClusterMetadata(
      nodeId,
      await TopicsFile.load(dir),
      await DynamicConfigStore.load(dir),
      new ProducerIdsFile(dir),
      new FeaturesFile(dir),
      await ScramCredentialsFile.load(dir),
      await ClientQuotasFile.load(dir),
      await AclsFile.load(dir),
    );
    for (const t of m.topicsFile.topics) m.index({ ...t, configs: t.configs ?? {}, version: ++m.revision });
    m.nextProducerId = await m.producerIdsFile.load();
    m.features = await m.featuresFile.load();
    return m;
  }

  get clusterId(): string {
    return this.topicsFile.clusterId;
  }

  topic(name: string): TopicInfo | undefined {
    return this.byName.get(name);
  }

  topicById(id: string): TopicInfo | undefined {
    return this.byId.get(id);
  }

  topics(): TopicInfo[] {
    return [...this.byName.values()];
  }

  createTopic(
    name: string,
    partitions: number,
    configs: Readonly<Record<string, string>>,
    replicas?: readonly (readonly number[])[],
  ): Promise<TopicInfo | Stale> {
    const before = this.byName.get(name);
    if (before !== undefined) return Promise.resolve(stale(before.version));
    this.states.set(
      name,
      Array.from({ length: partitions }, (_, p) => initialPartitionState(replicas?.[p] ?? [this.nodeId])),
    );
    return this.writeTopic(name, { name, id: newTopicId(), partitions, configs, version: ++this.revision });
  }

  updateTopic(name: string, change: TopicChange, expectedVersion?: number): Promise<TopicInfo | Stale> {
    const before = this.byName.get(name);
    if (before === undefined || (expectedVersion !== undefined && before.version !== expectedVersion)) {
      return Promise.resolve(stale(before?.version ?? ABSENT));
    }
    // One node: new partitions are on it whatever `newReplicas` says.
    const { partitions, configs } = change;
    return this.writeTopic(name, {
      ...before,
      ...(partitions !== undefined ? { partitions } : {}),
      ...(configs !== undefined ? { configs } : {}),
      version: ++this.revision,
    });
  }

  async deleteTopic(name: string, expectedVersion?: number): Promise<TopicInfo | Stale> {
    const before = this.byName.get(name);
    if (before === undefined || (expectedVersion !== undefined && before.version !== expectedVersion))
      return stale(before?.version ?? ABSENT);
    await this.writeTopic(name, undefined);
    return before;
  }

  /** Replaces (or removes) a topic in memory, saves the file, then tells the watchers. */
  private async writeTopic<T extends TopicInfo | undefined>(name: string, after: T): Promise<T> {
    const before = this.byName.get(name);
    if (before !== undefined) {
      this.byName.delete(name);
      this.byId.delete(before.id);
    }
    if (after !== undefined) this.index(after);
    else this.states.delete(name);
    await this.track(this.topicsFile.save(this.byName.values()));
    this.emit({ kind: "topic", name, before, after });
    this.emit({ kind: "partitions", topic: name, states: this.partitionStates(name) });
    return after;
  }

  private index(t: TopicInfo): void {
    this.byName.set(t.name, t);
    this.byId.set(t.id, t);
  }

  brokerConfigs(scope: DynamicScope): VersionedConfigs {
    return { configs: this.configs.get(scope), version: this.configVersions.get(scopeKey(scope)) ?? ABSENT };
  }

  async setBrokerConfigs(
    scope: DynamicScope,
    configs: Readonly<Record<string, string>>,
    expectedVersion?: number,
  ): Promise<number | Stale> {
    const current = this.configVersions.get(scopeKey(scope)) ?? ABSENT;
    if (expectedVersion !== undefined && current !== expectedVersion) return stale(current);
    const version = ++this.revision;
    this.configVersions.set(scopeKey(scope), version);
    await this.track(this.configs.set(scope, configs));
    this.emit({ kind: "brokerConfigs", scope, version });
    return version;
  }

  groupConfigs(groupId: string): VersionedConfigs {
    return { configs: this.configs.group(groupId), version: this.configVersions.get(`group:${groupId}`) ?? ABSENT };
  }

  async setGroupConfigs(
    groupId: string,
    configs: Readonly<Record<string, string>>,
    expectedVersion?: number,
  ): Promise<number | Stale> {
    const key = `group:${groupId}`;
    const current = this.configVersions.get(key) ?? ABSENT;
    if (expectedVersion !== undefined && current !== expectedVersion) return stale(current);
    const version = ++this.revision;
    this.configVersions.set(key, version);
    await this.track(this.configs.setGroup(groupId, configs));
    return version;
  }

  async reserveProducerIds(size: bigint): Promise<ProducerIdBlock> {
    const block = { firstId: this.nextProducerId, size };
    this.nextProducerId += size;
    await this.track(this.producerIdsFile.save(this.nextProducerId));
    return block;
  }

  async releaseProducerIds(block: ProducerIdBlock, firstUnused: bigint): Promise<void> {
    if (this.nextProducerId !== block.firstId + block.size) return;
    this.nextProducerId = firstUnused;
    await this.track(this.producerIdsFile.save(firstUnused));
  }

  finalizedFeatures(): FinalizedFeatures {
    return this.features;
  }

  async updateFinalizedFeatures(updates: readonly { name: string; level: number }[]): Promise<FinalizedFeatures> {
    const features = withFeatureLevels(this.features, updates);
    this.features = features;
    await this.track(this.featuresFile.save(features));
    this.emit({ kind: "features", features });
    return features;
  }

  scramCredentials(user?: string): UserScramCredential[] {
    return this.scramFile.list(user);
  }

  async alterScramCredentials(
    upserts: readonly UserScramCredential[],
    deletions: readonly ScramCredentialDeletion[],
  ): Promise<void> {
    const users = this.scramFile.apply(upserts, deletions);
    await this.track(this.scramFile.save());
    if (users.length > 0) this.emit({ kind: "scramCredentials", users });
  }

  registerBroker(
    nodeId: number,
    listeners: readonly BrokerEndpoint[],
    rack: string | null,
  ): Promise<BrokerRegistration | Stale> {
    if (this.registered !== undefined) return Promise.resolve(stale(this.registered.epoch));
    const info: BrokerInfo = { nodeId, listeners, rack, epoch: ++this.revision };
    this.registered = info;
    this.lastRegistered = info;
    this.emit({ kind: "broker", nodeId, before: undefined, after: info });
    return Promise.resolve({
      nodeId,
      epoch: info.epoch,
      lost: new Promise<void>(() => {}),
      campaign: () => {
        if (this.registered !== info || this.controllerInfo !== undefined) return;
        this.controllerInfo = { nodeId, epoch: ++this.revision };
        this.emit({ kind: "controller", controller: this.controllerInfo });
      },
      // One node: there is no one to move leaderships to.
      enterControlledShutdown: () => Promise.resolve(),
      unregister: () => {
        if (this.registered !== info) return Promise.resolve();
        this.registered = undefined;
        if (this.controllerInfo?.nodeId === nodeId) {
          this.controllerInfo = undefined;
          this.emit({ kind: "controller", controller: undefined });
        }
        this.emit({ kind: "broker", nodeId, before: info, after: undefined });
        return Promise.resolve();
      },
      // One process: nothing renews the registration, so nothing stops.
      abandon: () => undefined,
    });
  }

  brokers(): BrokerInfo[] {
    return this.registered === undefined ? [] : [this.registered];
  }

  fencedBrokers(): BrokerInfo[] {
    return this.registered === undefined && this.lastRegistered !== undefined ? [this.lastRegistered] : [];
  }

  controller(): ControllerInfo | undefined {
    return this.controllerInfo;
  }

  /** The states of a topic: those kept in memory, new partitions (and topics from the file) on this node. */
  partitionStates(topic: string): readonly PartitionState[] | undefined {
    const t = this.byName.get(topic);
    if (t === undefined) return undefined;
    const states = this.states.get(topic) ?? [];
    if (states.length === t.partitions) return states;
    const sized = Array.from({ length: t.partitions }, (_, p) => states[p] ?? initialPartitionState([this.nodeId]));
    this.states.set(topic, sized);
    return sized;
  }

  alterPartitions(batch: readonly TopicPartitionChanges[]): Promise<PartitionChangeResult[][]> {
    const isBroker = (id: number): boolean => this.registered?.nodeId === id;
    return Promise.resolve(
      batch.map(({ topic, changes }) => {
        const current = this.partitionStates(topic);
        if (current === undefined)
          return changes.map((c) => ({ partition: c.partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }));
        const { states, results } = applyTopicChanges(current, changes, isBroker);
        if (results.some((r) => r.state !== undefined)) {
          this.states.set(topic, states!);
          this.emit({ kind: "partitions", topic, states });
        }
        return results;
      }),
    );
  }

  clientQuotas(): ClientQuotaEntry[] {
    return this.quotasFile.list();
  }

  async alterClientQuotas(changes: readonly ClientQuotaChange[]): Promise<void> {
    if (!this.quotasFile.apply(changes)) return;
    await this.track(this.quotasFile.save());
    this.emit({ kind: "clientQuotas" });
  }

  acls(): readonly AclBinding[] {
    return this.aclsFile.acls;
  }

  async createAcls(bindings: readonly AclBinding[]): Promise<void> {
    const added = this.aclsFile.add(bindings);
    if (added.length === 0) return;
    await this.track(this.aclsFile.save());
    this.emit({ kind: "acls", added, removed: [] });
  }

  async deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[][]> {
    const perFilter = this.aclsFile.remove(filters);
    const removed = [...new Set(perFilter.flat())];
    if (removed.length > 0) {
      await this.track(this.aclsFile.save());
      this.emit({ kind: "acls", added: [], removed });
    }
    return perFilter;
  }

  watch<K extends MetadataEvent["kind"]>(kind: K, listener: MetadataListener<K>): () => void {
    let set = this.listeners.get(kind);
    if (set === undefined) this.listeners.set(kind, (set = new Set()));
    const l = listener as (e: MetadataEvent) => void;
    set.add(l);
    return () => void set.delete(l);
  }

  private emit(e: MetadataEvent): void {
    for (const l of this.listeners.get(e.kind) ?? []) l(e);
  }

  /** Remembers the last write, which (each file chaining its own saves) ends after the earlier ones. */
  private track(write: Promise<void>): Promise<void> {
    this.writes = Promise.all([this.writes, write.catch(() => undefined)]);
    return write;
  }

  async close(): Promise<void> {
    await this.writes;
  }
}
