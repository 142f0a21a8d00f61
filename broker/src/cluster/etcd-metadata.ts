/*
 * The etcd client is `etcd3` (npm; Microsoft's, now maintained by its author): the one Node client of
 * etcd's v3 API in wide use (about 100k downloads a week; 1.1.x released 2024-2025), in TypeScript, over
 * @grpc/grpc-js (no native code). It covers what the cluster needs: raw KV transactions (compare on mod
 * and create revisions, several puts and deletes, ranges in the failure branch), leases with automatic
 * keep-alive and a `lost` event, prefix watches that reconnect by themselves, and elections and locks
 * (unused: the controller is a key under the broker's own lease, see below). The alternatives: `node-etcd`
 * speaks only the v2 API (off by default since etcd 3.4, removed in 3.6); the rest (`@hkube/etcd`,
 * `@nestcloud/etcd`) are small wrappers over etcd3 or framework plugins.
 */
import { randomBytes } from "node:crypto";
import {
  CompareResult,
  CompareTarget,
  Etcd3,
  GRPCDeadlineExceededError,
  type ICompare,
  type IKeyValue,
  type IOptions,
  type IRequestOp,
  type ITxnResponse,
  type IWatchResponse,
  type Lease,
  type Watcher,
} from "etcd3";
import { ErrorCode } from "../errors.js";
import type { AclBinding, AclBindingFilter } from "../security/acl.js";
import type { ScramCredential } from "../security/sasl-mechanism.js";
import {
  CLUSTER_ID,
  CONTROLLER,
  DEFAULT_PREFIX,
  FEATURES,
  PRODUCER_IDS,
  brokerKey,
  registeredKey,
  configsKey,
  decodeBroker,
  decodeController,
  decodeFeatures,
  decodePartitions,
  decodeScram,
  decodeTopic,
  encodeBroker,
  encodeController,
  encodeFeatures,
  encodePartitions,
  encodeScram,
  encodeTopic,
  parseKey,
  aclKey,
  groupConfigsKey,
  partitionsKey,
  quotaKey,
  scramKey,
  topicKey,
} from "./etcd-layout.js";
import { anySelects, bindingChanges, bindingsToAdd, selectedBy, unselected } from "./acl-changes.js";
import { applyCredentialChanges, listCredentials, usersChanged } from "./scram-changes.js";
import { applyQuotaChanges, changesByEntity } from "./client-quota-changes.js";
import { FINALIZED_FEATURES, FINALIZED_FEATURES_EPOCH, withFeatureLevels } from "./features.js";
import {
  ABSENT,
  isStale,
  type BrokerEndpoint,
  type BrokerInfo,
  type BrokerRegistration,
  type ClientQuotaChange,
  type ClientQuotaEntry,
  type ClusterMetadata,
  type ControllerInfo,
  type DynamicScope,
  type FinalizedFeatures,
  type MetadataEvent,
  type MetadataListener,
  type PartitionChangeResult,
  type PartitionState,
  type ProducerIdBlock,
  type ScramCredentialDeletion,
  type Stale,
  type TopicChange,
  type TopicInfo,
  type TopicPartitionChanges,
  type UserScramCredential,
  type VersionedConfigs,
} from "./metadata.js";
import { applyTopicChanges, initialPartitionState } from "./partition-state.js";
import { newTopicId } from "./topics.js";

export interface EtcdMetadataOptions {
  /** etcd client URLs (`etcd.endpoints`). */
  readonly endpoints: readonly string[];
  /** This broker's node id: where new partitions go when no assignment is given. */
  readonly nodeId: number;
  /** The key prefix of this cluster's metadata (several clusters, or tests, can share one etcd). */
  readonly prefix?: string;
  /** Seconds a broker registration outlives its last renewal (the lease's TTL; etcd's minimum is 2). */
  readonly sessionTtlSeconds?: number;
  /**
   * Milliseconds a write may take, etcd's answer and this view's watch reaching it included, before it
   * fails with an EtcdWriteTimeout (default 30 s, Kafka clients' request.timeout.ms).
   */
  readonly writeTimeoutMs?: number;
}

/**
 * A write etcd did not answer, or that this view's watch did not reach, in time: it may still be made
 * (etcd answering late), so the caller cannot tell whether it took effect.
 */
export class EtcdWriteTimeout extends Error {
  override readonly name = "EtcdWriteTimeout";
}

/** When a write must be done by (Date.now() time), and the keys it writes, for the error. */
interface WriteBound {
  readonly deadline: number;
  readonly what: string;
}

/** The etcd requests this instance made: what the simulation counts. */
export interface EtcdOps {
  txns: number;
  puts: number;
  deletes: number;
  ranges: number;
}

/** A key's value as etcd has it; `create` and `mod` are its create and mod revisions. */
interface Entry {
  readonly value: string;
  readonly create: number;
  readonly mod: number;
}

/** A read-modify-write: the writes to make (with the answer once they are in), or an answer without writing. */
type Plan<T> = { readonly write: IRequestOp[]; readonly result: (revision: number) => T } | { readonly answer: T };

/** etcd's default --max-txn-ops: the most operations in a transaction's branch. */
const MAX_TXN_OPS = 128;
/** Bytes of values per transaction, under etcd's default 1.5 MiB request limit. */
const MAX_TXN_BYTES = 1024 * 1024;
/** Lost compares before a write gives up: each one means another broker wrote the same keys meanwhile. */
const MAX_ATTEMPTS = 50;
/** How long a write waits for etcd and the watch, by default. */
const DEFAULT_WRITE_TIMEOUT_MS = 30_000;
/** How long a clean shutdown waits for etcd to end a registration before leaving it to expire. */
const REVOKE_TIMEOUT_MS = 5000;
/** The first and the longest wait before the watch connects again after losing etcd. */
const WATCH_FIRST_RETRY_MS = 100;
const WATCH_MAX_RETRY_MS = 2000;
/** Keys per range request when loading the view. */
const PAGE = 1000;
const DEFAULT_FEATURES: FinalizedFeatures = { epoch: FINALIZED_FEATURES_EPOCH, levels: FINALIZED_FEATURES };

const stale = (version: number): Stale => ({ stale: true, version });

/** etcd3's reconnection delays of a watch. */
type Backoff = NonNullable<NonNullable<IOptions["faultHandling"]>["watchBackoff"]>;

/**
 * Doubling up to WATCH_MAX_RETRY_MS: etcd3's default grows to 30 s, so a watch could stay away that long
 * after etcd is back (every broker's view frozen meanwhile).
 */
const watchBackoff = (duration: number): Backoff => ({
  duration,
  next: () => watchBackoff(Math.min(duration * 2, WATCH_MAX_RETRY_MS)),
});
const entryOf = (kv: IKeyValue | undefined): Entry | undefined =>
  kv === undefined
    ? undefined
    : { value: kv.value.toString(), create: Number(kv.create_revision), mod: Number(kv.mod_revision) };
const scopeId = (scope: DynamicScope): string => (scope.kind === "default" ? "" : String(scope.nodeId));

/** The end of the range of keys starting with `prefix`. */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/**
 * The cluster metadata in etcd (the key layout is etcd-layout.ts's). Reads answer from an in-memory view
 * that one prefix watch keeps current; nothing waits on etcd in a read. Writes are transactions that
 * compare the mod revisions of the keys they read (an entry's version is its key's mod revision), so
 * a write computed from an outdated value loses and is computed again from what etcd answered, or answers
 * Stale when the caller named the version it expected. A write's promise resolves once the watch has
 * applied its revision: watchers have seen it (after etcd made it durable, in revision order), and reads
 * see it.
 *
 * After a lost connection (etcd restarted) the watch resumes from the revision after the last one this
 * view applied: etcd replays what happened meanwhile, and a revision already applied is skipped, so no
 * change is lost or seen twice. (etcd3 itself resumes from the header revision of the last response,
 * which skips the rest of a catch-up that was cut off; this class sets the resume point itself.) When
 * etcd compacted past that revision, the view is read again whole and the differences are announced.
 */
export class EtcdClusterMetadata implements ClusterMetadata {
  readonly ops: EtcdOps = { txns: 0, puts: 0, deletes: 0, ranges: 0 };
  private readonly prefixBytes: Buffer;
  /** Every key of the prefix (relative), as etcd has it at revision `applied`. */
  private readonly kv = new Map<string, Entry>();
  private applied = 0;
  private readonly byName = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  private readonly states = new Map<string, PartitionState[]>();
  private readonly brokersById = new Map<number, BrokerInfo>();
  /** Every broker's last registration, live or not. */
  private readonly registeredById = new Map<number, BrokerInfo>();
  private controllerInfo: ControllerInfo | undefined;
  private readonly configs = new Map<string, VersionedConfigs>();
  private features: FinalizedFeatures = DEFAULT_FEATURES;
  private readonly scram = new Map<string, Map<ScramCredential["mechanism"], ScramCredential>>();
  /** ACLs by resource pattern key (etcd-layout.ts `aclKey`, without the prefix), with the key's create revision. */
  private readonly aclsByKey = new Map<string, { readonly create: number; readonly bindings: readonly AclBinding[] }>();
  /** The configs set on each group, by group id. */
  private readonly groupConfigsById = new Map<string, VersionedConfigs>();
  /** Client quotas by entity text (client-quota-changes.ts `entityKey`). */
  private readonly quotas = new Map<string, ClientQuotaEntry>();
  /** The mod revision of producer-ids after each block this instance reserved, by the block's first id. */
  private readonly reservations = new Map<bigint, number>();
  private readonly listeners = new Map<MetadataEvent["kind"], Set<(e: MetadataEvent) => void>>();
  /** Writes waiting for the view to show them (`done` also ends their timer). */
  private readonly waiters: { ready: () => boolean; done: () => void }[] = [];
  private readonly registrations = new Set<EtcdRegistration>();
  /** Leases of this process' registrations that were lost, by id: revoked before registering again. */
  private readonly lostLeases = new Map<string, Lease>();
  private watcher: Watcher | undefined;
  private closed = false;

  private constructor(
    private readonly client: Etcd3,
    /** The key prefix of this cluster's metadata. */
    readonly prefix: string,
    private readonly nodeId: number,
    private readonly ttlSeconds: number,
    private readonly writeTimeoutMs: number,
  ) {
    this.prefixBytes = Buffer.from(prefix);
  }

  static async open(options: EtcdMetadataOptions): Promise<EtcdClusterMetadata> {
    const client = new Etcd3({
      hosts: [...options.endpoints],
      dialTimeout: 10_000,
      faultHandling: { watchBackoff: watchBackoff(WATCH_FIRST_RETRY_MS) },
      // A catch-up watch response or a page of the view can exceed grpc's default 4 MiB.
      grpcOptions: { "grpc.max_receive_message_length": 256 * 1024 * 1024 },
    });
    const m = new EtcdClusterMetadata(
      client,
      options.prefix ?? DEFAULT_PREFIX,
      options.nodeId,
      options.sessionTtlSeconds ?? 9,
      options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS,
    );
    try {
      await m.ensureClusterId();
      await m.startWatch(await m.load(false));
    } catch (e) {
      client.close();
      throw e;
    }
    return m;
  }

  get clusterId(): string {
    return this.kv.get(CLUSTER_ID)?.value ?? "";
  }

  /** The last revision this view applied. */
  get revision(): number {
    return this.applied;
  }

  private key(rel: string): Buffer {
    return Buffer.from(this.prefix + rel);
  }

  private rel(key: Buffer): string {
    return key.subarray(this.prefixBytes.length).toString();
  }

  private put(rel: string, value: string, lease?: string): IRequestOp {
    return { request_put: { key: this.key(rel), value: Buffer.from(value), ...(lease ? { lease } : {}) } };
  }

  private del(rel: string): IRequestOp {
    return { request_delete_range: { key: this.key(rel) } };
  }

  /**
   * A transaction whose answer is awaited until the bound's deadline (by default one of its own, naming
   * the keys it writes).
   */
  private async txn(
    compare: ICompare[],
    success: IRequestOp[],
    failure: IRequestOp[],
    bound: WriteBound = this.bound(this.keysOf(success)),
  ): Promise<ITxnResponse> {
    this.ops.txns++;
    for (const op of success) {
      if (op.request_put !== undefined) this.ops.puts++;
      else if (op.request_delete_range !== undefined) this.ops.deletes++;
    }
    try {
      return await this.client.kv.txn({ compare, success, failure }, { deadline: bound.deadline });
    } catch (e) {
      // etcd3 retries a call past its deadline (and counts the failures toward its circuit breaker).
      if (e instanceof GRPCDeadlineExceededError || Date.now() >= bound.deadline)
        throw this.timedOut(bound, `etcd did not answer (${(e as Error).message})`);
      throw e;
    }
  }

  /** The keys (relative) that operations write. */
  private keysOf(ops: readonly IRequestOp[]): string {
    const keys = ops.map((op) => op.request_put?.key ?? op.request_delete_range?.key);
    return keys.flatMap((k) => (k === undefined ? [] : [this.rel(k)])).join(", ");
  }

  /** A bound of `writeTimeoutMs` from now for a write of `what`. */
  private bound(what: string): WriteBound {
    return { deadline: Date.now() + this.writeTimeoutMs, what };
  }

  private timedOut(bound: WriteBound, why: string): EtcdWriteTimeout {
    return new EtcdWriteTimeout(
      `etcd: the write of ${bound.what} did not complete within ${this.writeTimeoutMs} ms: ${why}`,
    );
  }

  private async ensureClusterId(): Promise<void> {
    const key = this.key(CLUSTER_ID);
    const absent = { key, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 };
    await this.txn([absent], [this.put(CLUSTER_ID, randomBytes(16).toString("base64url"))], []);
  }

  /** Reads every key of the prefix at one revision into the view; answers that revision. */
  private async load(announce: boolean): Promise<number> {
    const fresh = new Map<string, Entry>();
    let revision: string | undefined;
    let from = this.prefixBytes;
    const end = prefixEnd(this.prefixBytes);
    for (;;) {
      this.ops.ranges++;
      const page = await this.client.kv.range({
        key: from,
        range_end: end,
        limit: PAGE,
        ...(revision !== undefined ? { revision } : {}),
      });
      revision ??= page.header.revision;
      for (const kv of page.kvs) fresh.set(this.rel(kv.key), entryOf(kv)!);
      if (!page.more || page.kvs.length === 0) break;
      from = Buffer.concat([page.kvs[page.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    const changes: [string, Entry | undefined][] = [];
    for (const [k, e] of fresh) if (this.kv.get(k)?.mod !== e.mod) changes.push([k, e]);
    for (const k of this.kv.keys()) if (!fresh.has(k)) changes.push([k, undefined]);
    this.applyRevision(Number(revision), changes, announce);
    return Number(revision);
  }

  private async startWatch(after: number): Promise<void> {
    const w = this.client
      .watch()
      .prefix(this.prefix)
      .startRevision(String(after + 1))
      .watcher();
    this.watcher = w;
    // The resume point is this view's, set after etcd3's own bookkeeping (its listeners come first).
    const resumeHere = (): void => {
      (w as unknown as { request: { start_revision?: string } }).request.start_revision = String(this.applied + 1);
    };
    w.on("data", (res: IWatchResponse) => {
      this.onWatch(res);
      resumeHere();
    });
    w.on("connected", resumeHere);
    w.on("disconnected", resumeHere);
    w.on("error", () => void this.resync(w));
    await new Promise<void>((resolve, reject) => {
      w.once("connected", () => resolve());
      w.once("error", reject);
    });
  }

  /** The watch was cancelled (etcd compacted past this view): read everything again and watch from there. */
  private async resync(old: Watcher): Promise<void> {
    if (this.closed || this.watcher !== old) return;
    this.watcher = undefined;
    for (let delay = 100; !this.closed; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.startWatch(await this.load(true));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private onWatch(res: IWatchResponse): void {
    let revision = 0;
    let changes: [string, Entry | undefined][] = [];
    for (const ev of res.events) {
      const r = Number(ev.kv.mod_revision);
      if (r <= this.applied) continue; // replayed after a reconnect: already applied
      if (r !== revision && changes.length > 0) {
        this.applyRevision(revision, changes, true);
        changes = [];
      }
      revision = r;
      const deleted = String(ev.type).toUpperCase() === "DELETE";
      changes.push([this.rel(ev.kv.key), deleted ? undefined : entryOf(ev.kv)]);
    }
    if (changes.length > 0) this.applyRevision(revision, changes, true);
  }

  /** Applies the changes of one revision to the view, then tells the watchers and the waiting writes. */
  private applyRevision(revision: number, changes: readonly [string, Entry | undefined][], announce: boolean): void {
    const events: MetadataEvent[] = [];
    const users: string[] = [];
    let quotasChanged = false;
    const aclsAdded: AclBinding[] = [];
    const aclsRemoved: AclBinding[] = [];
    for (const [key, entry] of changes) {
      if (entry === undefined) this.kv.delete(key);
      else this.kv.set(key, entry);
      const e = this.applyKey(key, entry);
      if (e === "scram") users.push(parseKeyName(key));
      else if (e === "quota") quotasChanged = true;
      else if (e === "acl") this.applyAcls(key, entry, aclsAdded, aclsRemoved);
      else if (e !== undefined) events.push(e);
    }
    if (users.length > 0) events.push({ kind: "scramCredentials", users });
    if (quotasChanged) events.push({ kind: "clientQuotas" });
    if (aclsAdded.length + aclsRemoved.length > 0)
      events.push({ kind: "acls", added: aclsAdded, removed: aclsRemoved });
    this.applied = Math.max(this.applied, revision);
    if (announce) for (const e of events) this.emit(e);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.ready()) {
        this.waiters.splice(i, 1);
        w.done();
      }
    }
    if (events.some((e) => e.kind === "controller" && e.controller === undefined))
      for (const r of this.registrations) r.elect();
  }

  /** Updates the typed view from one key; answers the event to announce ("scram", "quota": one per revision). */
  private applyKey(key: string, entry: Entry | undefined): MetadataEvent | "scram" | "quota" | "acl" | undefined {
    const k = parseKey(key);
    switch (k.kind) {
      case "topic": {
        const before = this.byName.get(k.name);
        if (before !== undefined) {
          this.byName.delete(k.name);
          this.byId.delete(before.id);
        }
        const after =
          entry === undefined ? undefined : { name: k.name, ...decodeTopic(entry.value), version: entry.mod };
        if (after !== undefined) {
          this.byName.set(k.name, after);
          this.byId.set(after.id, after);
        }
        return { kind: "topic", name: k.name, before, after };
      }
      case "partitions": {
        const states = entry === undefined ? undefined : decodePartitions(entry.value);
        if (states === undefined) this.states.delete(k.name);
        else this.states.set(k.name, states);
        return { kind: "partitions", topic: k.name, states };
      }
      case "broker": {
        const before = this.brokersById.get(k.nodeId);
        const after = entry === undefined ? undefined : decodeBroker(k.nodeId, entry.value, entry.create);
        if (after === undefined) this.brokersById.delete(k.nodeId);
        else this.brokersById.set(k.nodeId, after);
        return { kind: "broker", nodeId: k.nodeId, before, after };
      }
      case "registered":
        if (entry === undefined) this.registeredById.delete(k.nodeId);
        else this.registeredById.set(k.nodeId, decodeBroker(k.nodeId, entry.value, entry.create));
        return undefined;
      case "controller":
        this.controllerInfo = entry === undefined ? undefined : decodeController(entry.value, entry.create);
        return { kind: "controller", controller: this.controllerInfo };
      case "configs": {
        const configs = entry === undefined ? {} : (JSON.parse(entry.value) as Record<string, string>);
        this.configs.set(scopeId(k.scope), { configs, version: entry?.mod ?? ABSENT });
        return { kind: "brokerConfigs", scope: k.scope, version: entry?.mod ?? ABSENT };
      }
      case "features":
        this.features = entry === undefined ? DEFAULT_FEATURES : decodeFeatures(entry.value);
        return { kind: "features", features: this.features };
      case "scram":
        if (entry === undefined) this.scram.delete(k.name);
        else this.scram.set(k.name, decodeScram(entry.value));
        return "scram";
      case "quota":
        if (entry === undefined) this.quotas.delete(k.name);
        else this.quotas.set(k.name, JSON.parse(entry.value) as ClientQuotaEntry);
        return "quota";
      case "acl":
        return "acl";
      case "groupConfigs":
        if (entry === undefined) this.groupConfigsById.delete(k.name);
        else this.groupConfigsById.set(k.name, { configs: JSON.parse(entry.value), version: entry.mod });
        return undefined;
      default:
        return undefined;
    }
  }

  /** Updates the ACLs of one resource pattern, collecting what was added and removed. */
  private applyAcls(key: string, entry: Entry | undefined, added: AclBinding[], removed: AclBinding[]): void {
    const name = parseKeyName(key);
    const before = this.aclsByKey.get(name)?.bindings ?? [];
    const after = entry === undefined ? [] : (JSON.parse(entry.value) as AclBinding[]);
    if (entry === undefined) this.aclsByKey.delete(name);
    else this.aclsByKey.set(name, { create: entry.create, bindings: after });
    const changes = bindingChanges(before, after);
    added.push(...changes.added);
    removed.push(...changes.removed);
  }

  /**
   * Resolves once the view shows what `ready` checks (at once when closed); with a bound, rejects with
   * `timeout()` when that has not happened by its deadline.
   */
  private waitUntil(ready: () => boolean, bound?: { deadline: number; timeout: () => Error }): Promise<void> {
    if (this.closed || ready()) return Promise.resolve();
    return new Promise((done, fail) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        ready,
        done: () => {
          clearTimeout(timer);
          done();
        },
      };
      this.waiters.push(waiter);
      if (bound === undefined) return;
      timer = setTimeout(
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i < 0) return;
          this.waiters.splice(i, 1);
          fail(bound.timeout());
        },
        Math.max(0, bound.deadline - Date.now()),
      );
    });
  }

  /**
   * Resolves once the view has applied `revision`; rejects when it has not by the write's deadline (by
   * default one of its own).
   */
  private waitApplied(revision: number, bound: WriteBound = this.bound(`revision ${revision}`)): Promise<void> {
    return this.waitUntil(() => this.applied >= revision, {
      deadline: bound.deadline,
      timeout: () => this.timedOut(bound, `the watch had not reached revision ${revision} (at ${this.applied})`),
    });
  }

  /**
   * A read-modify-write of `keys` (relative): `plan` sees their entries (this view's first, etcd's after a
   * lost compare) and answers the writes, made only if no key changed since; or an answer without writing.
   */
  private async rmw<T>(
    keys: readonly string[],
    plan: (current: (key: string) => Entry | undefined) => Plan<T>,
  ): Promise<T> {
    let current = (key: string): Entry | undefined => this.kv.get(key);
    const bound = this.bound(keys.join(", "));
    for (let attempt = 1; ; attempt++) {
      const p = plan(current);
      if ("answer" in p) {
        // A caller that reads again after Stale sees the entry it lost to.
        if (typeof p.answer === "object" && p.answer !== null && isStale(p.answer))
          await this.waitApplied(p.answer.version, bound);
        return p.answer;
      }
      const compare = keys.map((k) => ({
        key: this.key(k),
        target: CompareTarget.Mod,
        result: CompareResult.Equal,
        mod_revision: current(k)?.mod ?? 0,
      }));
      const failure = keys.map((k) => ({ request_range: { key: this.key(k) } }));
      const res = await this.txn(compare, p.write, failure, bound);
      if (res.succeeded) {
        const revision = Number(res.header.revision);
        await this.waitApplied(revision, bound);
        return p.result(revision);
      }
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`etcd: ${keys.join(", ")} kept changing; gave up after ${attempt} tries`);
      const fresh = new Map(keys.map((k, i) => [k, entryOf(res.responses[i]?.response_range.kvs[0])]));
      current = (key) => fresh.get(key);
    }
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

  /** The view's topic when it is at `version` (the same object watchers got), else one built from `value`. */
  private topicAt(name: string, version: number, value: Omit<TopicInfo, "name" | "version">): TopicInfo {
    const t = this.byName.get(name);
    return t !== undefined && t.version === version ? t : { name, ...value, version };
  }

  createTopic(
    name: string,
    partitions: number,
    configs: Readonly<Record<string, string>>,
    replicas?: readonly (readonly number[])[],
  ): Promise<TopicInfo | Stale> {
    const tk = topicKey(name);
    const pk = partitionsKey(name);
    const value = { id: newTopicId(), partitions, configs };
    const states = Array.from({ length: partitions }, (_, p) => initialPartitionState(replicas?.[p] ?? [this.nodeId]));
    return this.rmw<TopicInfo | Stale>([tk, pk], (current) => {
      const existing = current(tk);
      if (existing !== undefined) return { answer: stale(existing.mod) };
      return {
        write: [this.put(tk, encodeTopic(value)), this.put(pk, encodePartitions(states))],
        result: (revision) => this.topicAt(name, revision, value),
      };
    });
  }

  updateTopic(name: string, change: TopicChange, expectedVersion?: number): Promise<TopicInfo | Stale> {
    const tk = topicKey(name);
    const pk = partitionsKey(name);
    return this.rmw<TopicInfo | Stale>([tk, pk], (current) => {
      const t = current(tk);
      if (t === undefined || (expectedVersion !== undefined && t.mod !== expectedVersion))
        return { answer: stale(t?.mod ?? ABSENT) };
      const { newReplicas, ...topicChange } = change;
      const value = { ...decodeTopic(t.value), ...topicChange };
      const write = [this.put(tk, encodeTopic(value))];
      const p = current(pk);
      const states = p === undefined ? [] : decodePartitions(p.value);
      if (states.length < value.partitions) {
        const first = states.length;
        for (let i = first; i < value.partitions; i++)
          states.push(initialPartitionState(newReplicas?.[i - first] ?? [this.nodeId]));
        write.push(this.put(pk, encodePartitions(states)));
      }
      return { write, result: (revision) => this.topicAt(name, revision, value) };
    });
  }

  deleteTopic(name: string, expectedVersion?: number): Promise<TopicInfo | Stale> {
    const tk = topicKey(name);
    const pk = partitionsKey(name);
    return this.rmw<TopicInfo | Stale>([tk, pk], (current) => {
      const t = current(tk);
      if (t === undefined || (expectedVersion !== undefined && t.mod !== expectedVersion))
        return { answer: stale(t?.mod ?? ABSENT) };
      const before = this.topicAt(name, t.mod, decodeTopic(t.value));
      const write = [this.del(tk)];
      if (current(pk) !== undefined) write.push(this.del(pk));
      return { write, result: () => before };
    });
  }

  brokerConfigs(scope: DynamicScope): VersionedConfigs {
    return this.configs.get(scopeId(scope)) ?? { configs: {}, version: ABSENT };
  }

  setBrokerConfigs(
    scope: DynamicScope,
    configs: Readonly<Record<string, string>>,
    expectedVersion?: number,
  ): Promise<number | Stale> {
    const key = configsKey(scope);
    return this.rmw<number | Stale>([key], (current) => {
      const version = current(key)?.mod ?? ABSENT;
      if (expectedVersion !== undefined && version !== expectedVersion) return { answer: stale(version) };
      return { write: [this.put(key, JSON.stringify(configs))], result: (revision) => revision };
    });
  }

  groupConfigs(groupId: string): VersionedConfigs {
    return this.groupConfigsById.get(groupId) ?? { configs: {}, version: ABSENT };
  }

  setGroupConfigs(
    groupId: string,
    configs: Readonly<Record<string, string>>,
    expectedVersion?: number,
  ): Promise<number | Stale> {
    const key = groupConfigsKey(groupId);
    return this.rmw<number | Stale>([key], (current) => {
      const e = current(key);
      const version = e?.mod ?? ABSENT;
      if (expectedVersion !== undefined && version !== expectedVersion) return { answer: stale(version) };
      if (Object.keys(configs).length > 0)
        return { write: [this.put(key, JSON.stringify(configs))], result: (revision) => revision };
      return e === undefined ? { answer: ABSENT } : { write: [this.del(key)], result: (revision) => revision };
    });
  }

  /** Atomic across brokers: the block is taken by a compare-and-swap of the next free id. */
  reserveProducerIds(size: bigint): Promise<ProducerIdBlock> {
    return this.rmw([PRODUCER_IDS], (current) => {
      const firstId = BigInt(current(PRODUCER_IDS)?.value ?? "0");
      return {
        write: [this.put(PRODUCER_IDS, String(firstId + size))],
        result: (revision) => {
          this.reservations.set(firstId, revision);
          return { firstId, size };
        },
      };
    });
  }

  /** Gives ids back only if nobody reserved since this instance's reservation of `block`. */
  releaseProducerIds(block: ProducerIdBlock, firstUnused: bigint): Promise<void> {
    const reservedAt = this.reservations.get(block.firstId);
    return this.rmw<void>([PRODUCER_IDS], (current) => {
      const e = current(PRODUCER_IDS);
      if (e === undefined || e.mod !== reservedAt || e.value !== String(block.firstId + block.size))
        return { answer: undefined };
      return { write: [this.put(PRODUCER_IDS, String(firstUnused))], result: () => undefined };
    });
  }

  finalizedFeatures(): FinalizedFeatures {
    return this.features;
  }

  updateFinalizedFeatures(updates: readonly { name: string; level: number }[]): Promise<FinalizedFeatures> {
    return this.rmw([FEATURES], (current) => {
      const e = current(FEATURES);
      const features = withFeatureLevels(e === undefined ? DEFAULT_FEATURES : decodeFeatures(e.value), updates);
      return { write: [this.put(FEATURES, encodeFeatures(features))], result: () => features };
    });
  }

  scramCredentials(user?: string): UserScramCredential[] {
    return listCredentials(this.scram, user);
  }

  alterScramCredentials(
    upserts: readonly UserScramCredential[],
    deletions: readonly ScramCredentialDeletion[],
  ): Promise<void> {
    const users = usersChanged(upserts, deletions);
    const keys = users.map(scramKey);
    return this.rmw<void>(keys, (current) => {
      const write: IRequestOp[] = [];
      users.forEach((user, i) => {
        const e = current(keys[i]!);
        const before = e === undefined ? undefined : decodeScram(e.value);
        const { credentials: creds, changed } = applyCredentialChanges(user, before, upserts, deletions);
        if (!changed) return;
        if (creds.size > 0) write.push(this.put(keys[i]!, encodeScram(creds.values())));
        else if (e !== undefined) write.push(this.del(keys[i]!));
      });
      return write.length === 0 ? { answer: undefined } : { write, result: () => undefined };
    });
  }

  acls(): readonly AclBinding[] {
    return [...this.aclsByKey.values()].sort((a, b) => a.create - b.create).flatMap((e) => e.bindings);
  }

  createAcls(bindings: readonly AclBinding[]): Promise<void> {
    const keys = [...new Set(bindings.map(aclKey))];
    return this.rmw<void>(keys, (current) => {
      const write: IRequestOp[] = [];
      for (const key of keys) {
        const e = current(key);
        const stored = e === undefined ? [] : (JSON.parse(e.value) as AclBinding[]);
        const added = bindingsToAdd(
          stored,
          bindings.filter((b) => aclKey(b) === key),
        );
        if (added.length > 0) write.push(this.put(key, JSON.stringify([...stored, ...added])));
      }
      return write.length === 0 ? { answer: undefined } : { write, result: () => undefined };
    });
  }

  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[][]> {
    const keys = [...this.aclsByKey]
      .filter(([, e]) => e.bindings.some((b) => anySelects(filters, b)))
      .map(([name]) => `acls/${name}`);
    return this.rmw<AclBinding[][]>(keys, (current) => {
      const stored = keys.map((key) => {
        const e = current(key);
        return e === undefined ? [] : (JSON.parse(e.value) as AclBinding[]);
      });
      const perFilter = selectedBy(filters, stored.flat());
      const write: IRequestOp[] = [];
      keys.forEach((key, i) => {
        const left = unselected(filters, stored[i]!);
        if (left.length === stored[i]!.length) return;
        write.push(left.length === 0 ? this.del(key) : this.put(key, JSON.stringify(left)));
      });
      return write.length === 0 ? { answer: perFilter } : { write, result: () => perFilter };
    });
  }

  clientQuotas(): ClientQuotaEntry[] {
    return [...this.quotas.values()];
  }

  alterClientQuotas(changes: readonly ClientQuotaChange[]): Promise<void> {
    const byEntity = changesByEntity(changes);
    const names = [...byEntity.keys()];
    const keys = names.map(quotaKey);
    return this.rmw<void>(keys, (current) => {
      const write: IRequestOp[] = [];
      names.forEach((name, i) => {
        const e = current(keys[i]!);
        const before = e === undefined ? undefined : (JSON.parse(e.value) as ClientQuotaEntry);
        const after = applyQuotaChanges(before, byEntity.get(name)!);
        if (!after.changed) return;
        if (after.entry !== undefined) write.push(this.put(keys[i]!, JSON.stringify(after.entry)));
        else write.push(this.del(keys[i]!));
      });
      return write.length === 0 ? { answer: undefined } : { write, result: () => undefined };
    });
  }

  async registerBroker(
    nodeId: number,
    listeners: readonly BrokerEndpoint[],
    rack: string | null,
  ): Promise<BrokerRegistration | Stale> {
    const key = brokerKey(nodeId);
    const bound = this.bound(key);
    // A registration this process lost may still be in etcd (a restarted etcd renews every lease): it
    // goes first, with whatever it held (the controller key), rather than waiting for it to expire.
    for (const [id, old] of this.lostLeases) {
      await old.revoke({ deadline: bound.deadline });
      this.lostLeases.delete(id);
    }
    const lease = this.client.lease(this.ttlSeconds, { autoKeepAlive: true, deadline: bound.deadline });
    const leaseId = await lease.grant();
    let epoch: number;
    try {
      const res = await this.txn(
        [{ key: this.key(key), target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }],
        [
          this.put(key, encodeBroker({ listeners, rack }), leaseId),
          this.put(registeredKey(nodeId), encodeBroker({ listeners, rack })),
        ],
        [{ request_range: { key: this.key(key) } }],
        bound,
      );
      if (!res.succeeded) {
        await lease.revoke();
        return stale(Number(res.responses[0]?.response_range.kvs[0]?.mod_revision ?? ABSENT));
      }
      epoch = Number(res.header.revision);
      await this.waitApplied(epoch, bound);
    } catch (e) {
      // Not renewed, the lease expires with whatever registration etcd may have made.
      lease.release();
      throw e;
    }
    const registration = new EtcdRegistration(
      nodeId,
      epoch,
      lease,
      leaseId,
      (r) => this.elect(r),
      (r) => this.markShuttingDown(r, listeners, rack),
      () => {
        this.registrations.delete(registration);
        // Ended when this view no longer has it (the lease's keys go in one revision).
        return this.waitUntil(() => this.kv.get(key)?.create !== epoch);
      },
    );
    this.registrations.add(registration);
    void registration.lost.then(() => this.lostLeases.set(leaseId, lease));
    return registration;
  }

  /** Rewrites `r`'s broker key (same lease, only if it is still this registration's) as shutting down. */
  private async markShuttingDown(
    r: EtcdRegistration,
    listeners: readonly BrokerEndpoint[],
    rack: string | null,
  ): Promise<void> {
    const key = brokerKey(r.nodeId);
    const res = await this.txn(
      [{ key: this.key(key), target: CompareTarget.Create, result: CompareResult.Equal, create_revision: r.epoch }],
      [this.put(key, encodeBroker({ listeners, rack, shuttingDown: true }), r.leaseId)],
      [],
    );
    if (res.succeeded) await this.waitApplied(Number(res.header.revision));
  }

  /** One try at the controller key: taken under `r`'s lease only if nobody holds it. */
  private async elect(r: EtcdRegistration): Promise<void> {
    if (this.controllerInfo !== undefined || this.closed) return;
    const bound = this.bound(CONTROLLER);
    const res = await this.txn(
      [{ key: this.key(CONTROLLER), target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }],
      [this.put(CONTROLLER, encodeController(r.nodeId), r.leaseId)],
      [],
      bound,
    );
    if (res.succeeded) await this.waitApplied(Number(res.header.revision), bound);
  }

  brokers(): BrokerInfo[] {
    return [...this.brokersById.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  fencedBrokers(): BrokerInfo[] {
    return [...this.registeredById.values()]
      .filter((b) => !this.brokersById.has(b.nodeId))
      .sort((a, b) => a.nodeId - b.nodeId);
  }

  controller(): ControllerInfo | undefined {
    return this.controllerInfo;
  }

  partitionStates(topic: string): readonly PartitionState[] | undefined {
    return this.states.get(topic);
  }

  /** One transaction per batch of topics (up to etcd's limits), one key written per topic changed. */
  async alterPartitions(batch: readonly TopicPartitionChanges[]): Promise<PartitionChangeResult[][]> {
    const results: PartitionChangeResult[][] = [];
    for (const group of this.txnGroups(batch)) results.push(...(await this.alterGroup(group)));
    return results;
  }

  /** Splits a batch into groups that each fit in one transaction. */
  private *txnGroups(batch: readonly TopicPartitionChanges[]): Generator<TopicPartitionChanges[]> {
    let group: TopicPartitionChanges[] = [];
    let bytes = 0;
    for (const t of batch) {
      const size = this.kv.get(partitionsKey(t.topic))?.value.length ?? 0;
      if (group.length > 0 && (group.length >= MAX_TXN_OPS || bytes + size > MAX_TXN_BYTES)) {
        yield group;
        group = [];
        bytes = 0;
      }
      group.push(t);
      bytes += size;
    }
    if (group.length > 0) yield group;
  }

  private alterGroup(group: readonly TopicPartitionChanges[]): Promise<PartitionChangeResult[][]> {
    const keys = group.map((t) => partitionsKey(t.topic));
    const isBroker = (id: number): boolean => this.brokersById.has(id);
    return this.rmw(keys, (current) => {
      const write: IRequestOp[] = [];
      const results = group.map(({ changes }, i) => {
        const e = current(keys[i]!);
        if (e === undefined)
          return changes.map((c) => ({ partition: c.partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }));
        const applied = applyTopicChanges(decodePartitions(e.value), changes, isBroker);
        if (applied.results.some((r) => r.state !== undefined))
          write.push(this.put(keys[i]!, encodePartitions(applied.states!)));
        return applied.results;
      });
      return write.length === 0 ? { answer: results } : { write, result: () => results };
    });
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

  /** Ends this process' registrations (a clean shutdown), stops the watch and the client. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const r of [...this.registrations]) await r.unregister().catch(() => undefined);
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.done();
    const w = this.watcher;
    this.watcher = undefined;
    await w?.cancel().catch(() => undefined);
    this.client.close();
  }
}

function parseKeyName(key: string): string {
  const k = parseKey(key);
  return "name" in k ? k.name : key;
}

/** A broker's registration: its key and (when elected) the controller key live under its lease. */
class EtcdRegistration implements BrokerRegistration {
  readonly lost: Promise<void>;
  private campaigning = false;
  private ended = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    readonly nodeId: number,
    readonly epoch: number,
    private readonly lease: Lease,
    readonly leaseId: string,
    private readonly tryElect: (r: EtcdRegistration) => Promise<void>,
    private readonly markShuttingDown: (r: EtcdRegistration) => Promise<void>,
    private readonly forget: () => Promise<void>,
  ) {
    this.lost = new Promise((resolve) =>
      lease.once("lost", () => {
        if (this.ended) return;
        void this.end();
        resolve();
      }),
    );
  }

  campaign(): void {
    this.campaigning = true;
    this.elect();
  }

  enterControlledShutdown(): Promise<void> {
    return this.ended ? Promise.resolve() : this.markShuttingDown(this);
  }

  /** Tries for the controller key now; etcd being away retries until it answers. */
  elect(): void {
    if (!this.campaigning || this.ended) return;
    this.tryElect(this).catch(() => {
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.elect(), 500);
      this.retry.unref();
    });
  }

  private end(): Promise<void> {
    this.ended = true;
    this.campaigning = false;
    clearTimeout(this.retry);
    return this.forget();
  }

  /** Revokes the lease; when etcd does not answer in time, stops renewing it so that it expires. */
  async unregister(): Promise<void> {
    if (this.ended) return;
    const gone = this.end();
    try {
      await this.lease.revoke({ deadline: Date.now() + REVOKE_TIMEOUT_MS });
    } catch {
      this.lease.release();
      return;
    }
    await gone;
  }

  abandon(): void {
    if (this.ended) return;
    void this.end();
    this.lease.release();
  }
}
