import {
  ApiKey,
  createFetchResponse,
  createFetchResponsePartitionData,
  recordBatchesToMessageSet,
  type FetchRequest,
  type FetchResponse,
  type FetchResponseFetchableTopicResponse,
  type FetchResponsePartitionData,
} from "@tskafka/protocol";
import type { Services } from "../services.js";
import { FetchSession, type SessionPartition } from "../cluster/fetch-sessions.js";
import { FetchWaiters } from "../cluster/fetch-waiters.js";
import { ErrorCode } from "../errors.js";
import type { PartitionLog, ReadOptions } from "../log/partition-log.js";
import { readBuffers, type ReadLease } from "../log/read-buffers.js";
import { AclOperation } from "../security/acl.js";
import { allowedNames, clusterAllowed } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

interface Wanted {
  /** How the request names the topic: its name before v13, its id from v13. */
  readonly topicKey: string;
  readonly name: string;
  readonly topicId: string;
  readonly partition: number;
  readonly fetchOffset: bigint;
  readonly maxBytes: number;
  readonly log: PartitionLog | undefined;
  readonly out: FetchResponsePartitionData;
  /** The partition's session entry, when the fetch belongs to a session. */
  readonly cached: SessionPartition | undefined;
  /** A follower whose log left the leader's history: answered with the diverging epoch, no records. */
  readonly diverged: boolean;
  /** A consumer sent to another replica (KIP-392): answered with it and the offsets, no records. */
  readonly redirected: boolean;
}

/** Session epochs with a meaning of their own (KIP-227). */
const INITIAL_EPOCH = 0;
const FINAL_EPOCH = -1;

/** Record sets at least this large are written to the socket as read, not copied into the frame. */
const ZERO_COPY_MIN_BYTES = 4096;

/** The pooled read buffers each answer holds until it is written. */
const leases = new WeakMap<FetchResponse, ReadLease>();

/**
 * Fetch v0-18. Replication: a follower (replica id, or v15+ ReplicaState) fetches from the leader up to
 * its log end, the offset it names is its log end (replication/leader-partition.ts), and from v12 a last
 * fetched epoch this log ends earlier answers with the diverging epoch instead of records. Consumers read
 * up to the high watermark, from the leader (from v11 also from a follower, KIP-392: a follower reads up to
 * the high watermark it learned from its leader, and with replica.selector.class the leader answers a
 * consumer in another replica's rack with that replica as preferred_read_replica, no records), at the partition's
 * leader epoch (KIP-320: FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH; from v16 refusals name the current
 * leader and its endpoint). From v7 clients may open an incremental fetch session
 * (KIP-227): a full fetch with session id 0 and epoch 0 creates one; later fetches carry its id and the next epoch, name only the
 * partitions that changed (or are to be forgotten), and get back only partitions with news. Epoch -1
 * closes a session. A fetch that finds fewer than MinBytes waits up to MaxWaitMs and is woken by
 * appends to its partitions. Stored batches are sent as they are on disk; v0-3 clients get them
 * down-converted to the message format they read (magic 0 or 1). From v4, isolation_level read_committed
 * reads only below each partition's last stable offset and gets the aborted transactions overlapping what
 * it reads (read_uncommitted gets null there); every partition reports its last stable offset. A fetch
 * waiting for MinBytes is woken by appends and by transaction markers (which move the last stable offset)
 * alike. As Kafka 4.4 does, a negative MaxBytes or PartitionMaxBytes is answered per partition with
 * UNKNOWN_SERVER_ERROR and no offsets; a negative MinBytes or MaxWaitMs answers at once. A consumer
 * needs READ on each topic (TOPIC_AUTHORIZATION_FAILED, after an unknown id and before an unknown topic);
 * a fetch from a replica (replica id 0 or more) needs CLUSTER_ACTION, else every partition is refused. A
 * client over its consumer_byte_rate quota gets an empty answer with the throttle time (its connection is
 * then muted).
 */
export const fetchHandler = defineHandler({
  apiKey: ApiKey.Fetch,
  minVersion: 0,
  maxVersion: 18,
  errorResponse(request, errorCode, version) {
    // Kafka's FetchRequest.getErrorResponse: the error at the top (v7+) and on every partition named.
    return createFetchResponse({
      errorCode: version >= 7 ? errorCode : 0,
      responses: request.topics.map((t) => ({
        topic: t.topic,
        topicId: t.topicId,
        partitions: t.partitions.map((p) =>
          createFetchResponsePartitionData({
            partitionIndex: p.partition,
            errorCode,
            highWatermark: -1n,
            records: null,
          }),
        ),
      })),
    });
  },
  written(response) {
    leases.get(response)?.release();
  },
  zeroCopyBuffers(response) {
    let set: Set<Uint8Array> | undefined;
    for (const t of response.responses) {
      for (const p of t.partitions) {
        const r = p.records;
        if (r !== null && r.length >= ZERO_COPY_MIN_BYTES) (set ??= new Set()).add(r);
      }
    }
    return set;
  },
  async handle(request, ctx) {
    const services = ctx.services;
    const version = ctx.apiVersion;
    let session: FetchSession | undefined;
    let incremental = false;
    if (version >= 7) {
      const sessions = services.fetchSessions;
      const epoch = request.sessionEpoch;
      if (epoch === INITIAL_EPOCH || epoch === FINAL_EPOCH) {
        // A full fetch ends any session it names; epoch 0 asks for a new one.
        if (request.sessionId !== 0) sessions.remove(request.sessionId);
        if (epoch === INITIAL_EPOCH) {
          session = sessions.create();
          if (services.log.enabled("debug"))
            services.log.debug(`fetch session ${session.id} created for ${ctx.remote}`);
        }
      } else {
        session = sessions.get(request.sessionId);
        if (session === undefined) return createFetchResponse({ errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
        if (session.epoch !== epoch) return createFetchResponse({ errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH });
        session.advance();
        incremental = true;
      }
    }
    const replicaId = version >= 15 ? request.replicaState.replicaId : request.replicaId;
    const follower = replicaId >= 0;
    const scope: FetchScope = {
      services,
      version,
      readCommitted: version >= 4 && request.isolationLevel === READ_COMMITTED,
      badMaxBytes: version >= 3 && request.maxBytes < 0,
      readable: follower ? () => true : allowedNames(ctx, AclOperation.READ),
      replicaRefused: follower && !clusterAllowed(ctx, AclOperation.CLUSTER_ACTION),
      replicaId,
      // Without a rack the rack-aware selector keeps the consumer on the leader: nothing to ask.
      clientRack: version >= 11 && !follower && request.rackId !== "" ? request.rackId : null,
      listener: ctx.session?.listener,
    };
    const wanted = incremental ? updateSession(session!, request, scope) : fullFetch(session, request, scope);

    const deadline = Date.now() + request.maxWaitMs;
    const keys = wanted.map((w) => FetchWaiters.key(w.name, w.partition));
    // As Kafka: never more than the client's consumer_byte_rate lets through in one quota window.
    const quotaBytes = services.quotas.fetch.maxValueInWindow(ctx.session, ctx.clientId);
    const maxBytes = Math.min(version >= 3 ? request.maxBytes : Number.MAX_SAFE_INTEGER, quotaBytes);
    let closed = false;
    void ctx.closed.then(() => (closed = true));
    let read;
    let lease: ReadLease;
    for (;;) {
      lease = readBuffers.lease();
      read = await readAll(wanted, maxBytes, scope, lease);
      const remaining = deadline - Date.now();
      if (read.bytes >= request.minBytes || read.errors || remaining <= 0 || wanted.length === 0) break;
      // Java's consumer sends one fetch per broker at a time and leaves out the partitions it is still
      // reading: waiting out MaxWaitMs here would stop it fetching those (against Apache Kafka a consumer
      // catching up next to an idle partition reads 1 MiB per fetch.max.wait.ms). MaxWaitMs is an upper
      // bound, so such a fetch is answered at once (FetchSession.takeEarlyAnswer).
      if (!follower && session?.takeEarlyAnswer()) break;
      // What was read is read again after the wait.
      lease.release();
      const waitStarted = Date.now();
      await services.fetchWaiters.wait(keys, remaining, ctx.closed);
      if (ctx.accounting !== undefined) ctx.accounting.waitedMs += Date.now() - waitStarted;
      if (closed) return null;
    }
    const throttleMs = services.quotas.fetch.record(ctx.session, ctx.clientId, read.bytes);
    if (throttleMs > 0) {
      lease.release();
      return throttled(ctx, session, incremental, read.bytes, throttleMs);
    }
    const responses = respond(wanted, incremental);
    const response = createFetchResponse({
      sessionId: session?.id ?? 0,
      responses,
      nodeEndpoints: leaderEndpoints(ctx, wanted),
    });
    leases.set(response, lease);
    return response;
  },
});

/**
 * From v16 (KIP-951) the brokers named as current leader of a partition answered NOT_LEADER_OR_FOLLOWER or
 * FENCED_LEADER_EPOCH, on the client's listener (Kafka 4.4 names neither before v16).
 */
function leaderEndpoints(ctx: RequestContext, wanted: readonly Wanted[]) {
  if (ctx.apiVersion < 16) return [];
  const leaders = new Set<number>();
  for (const w of wanted) if (w.out.currentLeader.leaderId >= 0) leaders.add(w.out.currentLeader.leaderId);
  if (leaders.size === 0) return [];
  return ctx.services.replication.endpoints(leaders, ctx.session.listener);
}

/**
 * Kafka's answer to a fetch over its consumer_byte_rate: nothing (what was read is not counted), with the
 * throttle time; a session the fetch would have created is not made, an existing one stays as it was.
 */
function throttled(
  ctx: RequestContext,
  session: FetchSession | undefined,
  incremental: boolean,
  bytes: number,
  throttleMs: number,
): FetchResponse {
  const services = ctx.services;
  services.quotas.fetch.unrecord(ctx.session, ctx.clientId, bytes);
  if (ctx.accounting !== undefined) ctx.accounting.throttleMs = throttleMs;
  if (session !== undefined && !incremental) services.fetchSessions.remove(session.id);
  return createFetchResponse({ sessionId: incremental ? session!.id : 0, responses: [] });
}

/** What every partition of one fetch is read with. */
interface FetchScope {
  readonly services: Services;
  readonly version: number;
  readonly readCommitted: boolean;
  /** The request's MaxBytes is negative: as Kafka, every partition is answered UNKNOWN_SERVER_ERROR. */
  readonly badMaxBytes: boolean;
  /** Whether the session may read a topic (a consumer's READ). */
  readonly readable: (topic: string) => boolean;
  /** A replica's fetch without CLUSTER_ACTION: every partition is TOPIC_AUTHORIZATION_FAILED. */
  readonly replicaRefused: boolean;
  /** The fetching follower's node id, -1 for a consumer. */
  readonly replicaId: number;
  /** A consumer's rack (Fetch v11+ rack_id), null for a follower, before v11 or without one: the replica selector's input. */
  readonly clientRack: string | null;
  /** The listener the request came on: a preferred read replica is named by its endpoint there. */
  readonly listener: string | undefined;
}

const READ_COMMITTED = 1;

/** A full fetch reads what the request names; with a new session, those partitions become its content. */
function fullFetch(session: FetchSession | undefined, request: FetchRequest, scope: FetchScope): Wanted[] {
  const wanted: Wanted[] = [];
  for (const t of request.topics) {
    const topicKey = scope.version >= 13 ? t.topicId : t.topic;
    for (const p of t.partitions) {
      const cached = session?.upsert(topicKey, p.partition, p.fetchOffset, p.partitionMaxBytes);
      const epoch = scope.version >= 9 ? p.currentLeaderEpoch : -1;
      const lastFetchedEpoch = scope.version >= 12 ? p.lastFetchedEpoch : -1;
      const logStart = scope.version >= 5 ? p.logStartOffset : -1n;
      wanted.push(
        want(
          scope,
          topicKey,
          p.partition,
          p.fetchOffset,
          p.partitionMaxBytes,
          cached,
          epoch,
          lastFetchedEpoch,
          logStart,
        ),
      );
    }
  }
  return wanted;
}

/** An incremental fetch adds, moves and forgets partitions, then reads every partition of the session. */
function updateSession(session: FetchSession, request: FetchRequest, scope: FetchScope): Wanted[] {
  const version = scope.version;
  for (const t of request.topics) {
    const topicKey = version >= 13 ? t.topicId : t.topic;
    for (const p of t.partitions) session.upsert(topicKey, p.partition, p.fetchOffset, p.partitionMaxBytes);
  }
  for (const f of request.forgottenTopicsData) {
    const topicKey = version >= 13 ? f.topicId : f.topic;
    for (const partition of f.partitions) session.forget(topicKey, partition);
  }
  const wanted: Wanted[] = [];
  for (const c of session.partitions.values())
    wanted.push(want(scope, c.topicKey, c.partition, c.fetchOffset, c.maxBytes, c));
  return wanted;
}

function want(
  scope: FetchScope,
  topicKey: string,
  partition: number,
  fetchOffset: bigint,
  maxBytes: number,
  cached: SessionPartition | undefined,
  currentLeaderEpoch = -1,
  lastFetchedEpoch = -1,
  logStartOffset = -1n,
): Wanted {
  const { services, version } = scope;
  const info = version >= 13 ? services.metadata.topicById(topicKey) : services.metadata.topic(topicKey);
  // read_committed (v4+) gets a list of aborted transactions, empty without transactions; the others get
  // null, except for an unknown topic or partition, which Kafka answers with an empty list either way.
  const abortedTransactions = scope.readCommitted ? [] : null;
  const out = createFetchResponsePartitionData({
    partitionIndex: partition,
    records: Buffer.alloc(0),
    abortedTransactions,
  });
  const found = services.partitions.logOf(info, partition);
  let log = typeof found === "number" ? undefined : found;
  const unknownId = info === undefined && version >= 13;
  if (scope.replicaRefused || (!unknownId && !scope.readable(info?.name ?? topicKey))) {
    log = undefined;
    out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    out.abortedTransactions = [];
  } else if (log === undefined) {
    out.errorCode = unknownId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    out.abortedTransactions = [];
  } else if (maxBytes < 0 || scope.badMaxBytes) {
    // Kafka refuses a negative byte limit in its log read, answering the partition UNKNOWN_SERVER_ERROR.
    log = undefined;
    out.errorCode = ErrorCode.UNKNOWN_SERVER_ERROR;
  } else {
    // Only a client at the partition's leader epoch is served (KIP-320). Followers fetch from the leader;
    // consumers too before v11, from v11 (KIP-392, as Kafka 4.4 does) also from a follower, up to its
    // high watermark. From v16 a refusal names the current leader.
    const replication = services.replication;
    const followerMay = scope.replicaId < 0 && version >= 11;
    out.errorCode = replication.leaderError(info!.name, partition, currentLeaderEpoch, followerMay);
    if (out.errorCode !== ErrorCode.NONE) {
      log = undefined;
      const refused =
        out.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || out.errorCode === ErrorCode.FENCED_LEADER_EPOCH;
      if (version >= 16 && refused) out.currentLeader = { ...replication.currentLeader(info!.name, partition) };
    }
  }
  let diverged = false;
  if (log !== undefined && scope.replicaId >= 0) {
    diverged = divergingEpoch(log, lastFetchedEpoch, fetchOffset, out);
    // The follower's fetch offset is its log end: the leader's view of its progress (and the ISR) follows.
    if (!diverged)
      services.replication.followerFetched(info!.name, partition, scope.replicaId, fetchOffset, logStartOffset);
  }
  let redirected = false;
  if (log !== undefined && scope.clientRack !== null) {
    // KIP-392: the leader names a closer in-sync replica instead of reading (Kafka skips the read then).
    const preferred = services.replication.preferredReadReplica(
      info!.name,
      partition,
      scope.clientRack,
      fetchOffset,
      scope.listener,
    );
    if (preferred >= 0) {
      out.preferredReadReplica = preferred;
      redirected = true;
    }
  }
  if (log === undefined) out.highWatermark = -1n;
  const name = info?.name ?? (version >= 13 ? "" : topicKey);
  const topicId = info?.id ?? topicKey;
  return { topicKey, name, topicId, partition, fetchOffset, maxBytes, log, out, cached, diverged, redirected };
}

/**
 * A follower's check against the leader's epochs (Fetch v12+, as Kafka's leader does it): when the epoch of
 * its last batch ends earlier here, or is one this log never had, the answer names the diverging epoch
 * and where it ends, and the follower truncates to there. True when it diverged (`out` then says so).
 */
function divergingEpoch(
  log: PartitionLog,
  lastFetchedEpoch: number,
  fetchOffset: bigint,
  out: FetchResponsePartitionData,
): boolean {
  if (lastFetchedEpoch < 0) return false;
  const end = log.epochs.endOffsetFor(lastFetchedEpoch, log.logEndOffset);
  if (end.epoch >= lastFetchedEpoch && end.endOffset >= fetchOffset) return false;
  out.divergingEpoch = { epoch: end.epoch, endOffset: end.endOffset };
  return true;
}

/**
 * Groups the partitions to answer by topic. An incremental answer carries only partitions with records,
 * an error, or offsets the client has not been told yet; what is sent is remembered in the session.
 */
function respond(wanted: readonly Wanted[], incremental: boolean): FetchResponseFetchableTopicResponse[] {
  const byTopic = new Map<string, FetchResponseFetchableTopicResponse>();
  for (const w of wanted) {
    const out = w.out;
    const c = w.cached;
    if (c !== undefined) {
      const changed =
        out.highWatermark !== c.highWatermark ||
        out.lastStableOffset !== c.lastStableOffset ||
        out.logStartOffset !== c.logStartOffset;
      // A partition sent elsewhere is always answered (the client learns its replica from it, KIP-392).
      if (
        incremental &&
        !changed &&
        !w.redirected &&
        out.errorCode === ErrorCode.NONE &&
        (out.records === null || out.records.length === 0)
      )
        continue;
      c.highWatermark = out.highWatermark;
      c.lastStableOffset = out.lastStableOffset;
      c.logStartOffset = out.logStartOffset;
    }
    let topic = byTopic.get(w.topicKey);
    if (topic === undefined) {
      topic = { topic: w.name, topicId: w.topicId, partitions: [] };
      byTopic.set(w.topicKey, topic);
    }
    topic.partitions.push(out);
  }
  return [...byTopic.values()];
}

async function readAll(
  wanted: readonly Wanted[],
  maxBytes: number,
  scope: FetchScope,
  lease: ReadLease,
): Promise<{ bytes: number; errors: boolean }> {
  const version = scope.version;
  const options: ReadOptions = {
    minOneBatch: true,
    isolation: scope.readCommitted ? "read_committed" : "read_uncommitted",
    replica: scope.replicaId >= 0,
    alloc: lease.alloc,
  };
  let bytes = 0;
  let errors = false;
  const results = await Promise.all(
    // Reads run concurrently, so the response budget is split in order afterwards.
    wanted.map((w) =>
      w.log === undefined || w.diverged || w.redirected ? undefined : w.log.read(w.fetchOffset, w.maxBytes, options),
    ),
  );
  for (let i = 0; i < wanted.length; i++) {
    const r = results[i];
    const w = wanted[i]!;
    const out = w.out;
    if ((w.diverged || w.redirected) && w.log !== undefined) {
      // Answered at once: the offsets as they are, no records.
      errors = true;
      out.highWatermark = w.log.highWatermark;
      out.lastStableOffset = w.log.lastStableOffset;
      out.logStartOffset = w.log.logStartOffset;
      continue;
    }
    if (r === undefined) {
      errors = true;
      continue;
    }
    out.errorCode = r.errorCode;
    if (r.errorCode !== ErrorCode.NONE) {
      // As Kafka answers a partition in error: no offsets.
      errors = true;
      out.highWatermark = -1n;
      out.records = Buffer.alloc(0);
      continue;
    }
    out.highWatermark = r.highWatermark;
    out.lastStableOffset = r.lastStableOffset;
    out.logStartOffset = r.logStartOffset;
    let records = r.records;
    // Kafka's budget: the first non-empty partition may exceed it by one batch, later ones may not.
    if (bytes > 0 && bytes + records.length > maxBytes) records = Buffer.alloc(0);
    if (scope.readCommitted) out.abortedTransactions = records.length > 0 ? r.abortedTransactions : [];
    if (records.length > 0 && version <= 3) records = recordBatchesToMessageSet(records, version <= 1 ? 0 : 1);
    out.records = records;
    bytes += records.length;
  }
  return { bytes, errors };
}
