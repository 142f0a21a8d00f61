import { DynamicConfigStore } from "./dynamic-configs.js";
import { FeaturesFile, withFeatureLevels } from "./features.js";
import {
  ABSENT,
  type ClusterMetadata,
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
import { ScramCredentialsFile } from "./scram-credentials.js";
import { ProducerIdsFile } from "./producer-ids.js";
import { TopicsFile, newTopicId } from "./topics.js";

const stale = (version: number): Stale => ({ stale: true, version });

const scopeKey = (scope: DynamicScope): string => (scope.kind === "default" ? "" : String(scope.nodeId));

/**
 * The cluster metadata of a single node, in files of its data directory (the topics file, the dynamic
 * broker configs file, the producer ids file, the finalized features file, the SCRAM credentials file; their formats are those of
 * earlier releases, a missing features file meaning a new cluster's levels). This node is
 * the only writer, so a conditional write is checked against memory before its first await, and versions
 * come from one counter of this run, as etcd's revisions do.
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

  private constructor(
    private readonly topicsFile: TopicsFile,
    private readonly configs: DynamicConfigStore,
    private readonly producerIdsFile: ProducerIdsFile,
    private readonly featuresFile: FeaturesFile,
    private readonly scramFile: ScramCredentialsFile,
  ) {}

  static async open(dir: string): Promise<FileClusterMetadata> {
    const m = new FileClusterMetadata(
      await TopicsFile.load(dir),
      await DynamicConfigStore.load(dir),
      new ProducerIdsFile(dir),
      new FeaturesFile(dir),
      await ScramCredentialsFile.load(dir),
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

  createTopic(name: string, partitions: number, configs: Readonly<Record<string, string>>): Promise<TopicInfo | Stale> {
    const before = this.byName.get(name);
    if (before !== undefined) return Promise.resolve(stale(before.version));
    return this.writeTopic(name, { name, id: newTopicId(), partitions, configs, version: ++this.revision });
  }

  updateTopic(name: string, change: TopicChange, expectedVersion?: number): Promise<TopicInfo | Stale> {
    const before = this.byName.get(name);
    if (before === undefined || (expectedVersion !== undefined && before.version !== expectedVersion)) {
      return Promise.resolve(stale(before?.version ?? ABSENT));
    }
    return this.writeTopic(name, { ...before, ...change, version: ++this.revision });
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
    await this.track(this.topicsFile.save(this.byName.values()));
    this.emit({ kind: "topic", name, before, after });
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
