import { randomInt } from "node:crypto";

/**
 * Incremental fetch sessions (KIP-227). A session remembers which partitions a consumer fetches, at
 * which offsets, and what it was last told about each, so that later fetches only name what changed
 * and their answers only carry partitions with news. Sessions are not tied to a connection; the cache
 * is bounded and evicts the least recently used one.
 */

/** Kafka's max.incremental.fetch.session.cache.slots default. */
export const DEFAULT_MAX_FETCH_SESSIONS = 1000;

/** What a session holds per partition: the fetch position and what was last sent about it. */
export interface SessionPartition {
  /** The topic as the request names it: its name before Fetch v13, its id from v13. */
  readonly topicKey: string;
  readonly partition: number;
  fetchOffset: bigint;
  maxBytes: number;
  /** Last values sent to the client; -2n before anything was sent. */
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
}

/** How long a partition the client left out with records in hand is taken to be still held. */
const HOLD_MS = 1_000;
/**
 * How many fetches one such partition answers early: a client that stops reading a partition it
 * holds records of (paused, as Kafka Streams pauses full buffers) and polls meanwhile would otherwise
 * fetch in a tight loop until HOLD_MS passes.
 */
const HOLD_ANSWERS = 3;

export class FetchSession {
  /** The epoch the next incremental request must carry. */
  epoch = 1;
  /** In insertion order, which is the order of the answer's partitions. */
  readonly partitions = new Map<string, SessionPartition>();
  /**
   * Partitions the client forgot right after it was sent records of them, until when they count as
   * held: Java's consumer leaves out the partitions it still has records of and sends no other fetch
   * to this broker until this one is answered.
   */
  private readonly held = new Map<string, { until: number; answers: number }>();

  constructor(readonly id: number) {}

  static key(topicKey: string, partition: number): string {
    return `${topicKey}\u0000${partition}`;
  }

  /** Adds a partition or moves its fetch position; returns its entry. */
  upsert(topicKey: string, partition: number, fetchOffset: bigint, maxBytes: number): SessionPartition {
    const key = FetchSession.key(topicKey, partition);
    this.held.delete(key);
    const found = this.partitions.get(key);
    if (found !== undefined) {
      found.fetchOffset = fetchOffset;
      found.maxBytes = maxBytes;
      return found;
    }
    const entry: SessionPartition = {
      topicKey,
      partition,
      fetchOffset,
      maxBytes,
      highWatermark: -2n,
      lastStableOffset: -2n,
      logStartOffset: -2n,
    };
    this.partitions.set(key, entry);
    return entry;
  }

  forget(topicKey: string, partition: number, now = Date.now()): void {
    const key = FetchSession.key(topicKey, partition);
    const entry = this.partitions.get(key);
    // The last answer told the client of records past its fetch offset: it is reading them now.
    if (entry !== undefined && entry.highWatermark > entry.fetchOffset)
      this.held.set(key, { until: now + HOLD_MS, answers: HOLD_ANSWERS });
    this.partitions.delete(key);
  }

  /**
   * Whether this fetch should be answered without waiting, because the client holds records of
   * partitions it will fetch again soon (see `held`); each use counts against those partitions.
   */
  takeEarlyAnswer(now = Date.now()): boolean {
    for (const [key, h] of this.held) {
      if (h.until <= now || h.answers <= 0) this.held.delete(key);
      else h.answers--;
    }
    return this.held.size > 0;
  }

  /** Epochs run 1..Int32 max and wrap to 1 (0 and -1 have their own meaning). */
  advance(): void {
    this.epoch = this.epoch === 0x7fffffff ? 1 : this.epoch + 1;
  }
}

export class FetchSessionCache {
  /** Map order is recency order: a session used is moved to the end. */
  private readonly sessions = new Map<number, FetchSession>();

  constructor(readonly maxSessions = DEFAULT_MAX_FETCH_SESSIONS) {}

  get size(): number {
    return this.sessions.size;
  }

  /** A new session with a fresh non-zero id, evicting the least recently used one when full. */
  create(): FetchSession {
    if (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next();
      if (!oldest.done) this.sessions.delete(oldest.value);
    }
    let id: number;
    do id = randomInt(1, 0x7fffffff);
    while (this.sessions.has(id));
    const session = new FetchSession(id);
    this.sessions.set(id, session);
    return session;
  }

  /** The session with this id, marked as just used. */
  get(id: number): FetchSession | undefined {
    const session = this.sessions.get(id);
    if (session !== undefined) {
      this.sessions.delete(id);
      this.sessions.set(id, session);
    }
    return session;
  }

  remove(id: number): boolean {
    return this.sessions.delete(id);
  }
}
