import { mkdir, open, readdir, statfs, unlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { maxTimestampRecord } from "./batch-records.js";
import { writeFileAtomic } from "../atomic-file.js";
import { formatOffsetsCheckpoint, readOffsetsCheckpoint } from "./checkpoint.js";
import { finishCleanerFiles } from "./cleaner-files.js";
import type { LogConfig } from "./config.js";
import { ErrorCode } from "./errors.js";
import type { TxnMarker } from "../txn/marker.js";
import { lastSequence, ProducerStateManager } from "./producer-state.js";
import type { CompletedTxn, OngoingTxn, ProducerSnapshot, ProducerUndo } from "./producer-state.js";
import {
  BatchAttributes,
  BatchOffsets,
  buildControlBatch,
  ControlRecordType,
  LOG_OVERHEAD,
  verifyBatchCrc,
} from "./records.js";
import { INDEX_SUFFIX, LOG_SUFFIX, LogSegment, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX } from "./segment.js";
import type { AbortedTxn } from "./txn-index.js";
import type { TimestampOffset } from "./segment.js";
import { assignOffsets, validateRecords, type RecordError } from "./validator.js";
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache } from "./leader-epoch-cache.js";
import type { AssignedBatch, ValidatedBatch } from "./validator.js";

/** Checkpoint of log start offset and recovery point, in the partition directory. */
export const CHECKPOINT_FILE = "log-offsets.checkpoint";
/** Present only after a clean close; its absence at open means the tail must be recovered. */
export const CLEAN_SHUTDOWN_FILE = ".clean-shutdown";

export interface AppendOptions {
  /** Stamped into each batch's partitionLeaderEpoch (default: the leader epoch replication set, else 0). */
  leaderEpoch?: number;
  /**
   * For `appendMarker`: the transaction version the transaction ran under (default 0). From 2 (KIP-890)
   * the coordinator bumps the epoch before writing markers, so a marker must carry an epoch newer than
   * the producer's (or the same one, repeating the marker of a transaction already ended).
   */
  transactionVersion?: number;
}

export interface AppendResult {
  errorCode: number;
  errorMessage: string | null;
  /** First and last offsets given to the batch (the original ones for a duplicate); -1n on error. */
  baseOffset: bigint;
  lastOffset: bigint;
  /** The batch timestamp under LogAppendTime, else -1n. */
  logAppendTime: bigint;
  logStartOffset: bigint;
  /** The records a batch was rejected for (INVALID_RECORD), when it was. */
  recordErrors?: readonly RecordError[];
}

export interface ReadOptions {
  /** Return the first batch whole even when it is larger than `maxBytes` (Kafka's minOneMessage). */
  minOneBatch: boolean;
  /** read_committed returns only batches below the last stable offset (default read_uncommitted). */
  isolation?: "read_committed" | "read_uncommitted";
  /** A follower's read: up to the log end, not only the high watermark as a consumer. */
  replica?: boolean;
  /** Where the bytes are read into (default: a new buffer per read; a fetch lends pooled ones). */
  alloc?: (len: number) => Buffer;
}

/** An aborted transaction as a read_committed fetch lists it. */
export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

export interface ReadResult {
  errorCode: number;
  /** Whole stored batches, as written; empty when there is nothing to return. */
  records: Buffer;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  /** read_committed: the aborted transactions overlapping the records returned; otherwise empty. */
  abortedTransactions: AbortedTransaction[];
}

export interface DeleteRecordsResult {
  errorCode: number;
  lowWatermark: bigint;
}

interface PendingAppend {
  records: Buffer;
  leaderEpoch: number;
  /** Set for a transaction marker (a control batch built here, not validated as a client's). */
  marker: TxnMarker | null;
  transactionVersion: number;
  resolve: (result: AppendResult) => void;
  /** A follower's copy of one of the leader's batches: offsets, epochs and producer fields kept as they are. */
  replica: boolean;
  /** Set once validated and given offsets; null for a duplicate acknowledged from producer state. */
  batch: ValidatedBatch | null;
  assigned: AssignedBatch | null;
  result: AppendResult | null;
  /** The transaction a marker ended, once placed (null for a marker ending none). */
  completed: CompletedTxn | null;
}

/** Placed appends written together: their buffers, and producer state as it was before them. */
interface WriteChunk {
  buffers: Buffer[];
  items: PendingAppend[];
  bytes: number;
  undo: ProducerUndo;
}

function newChunk(): WriteChunk {
  return { buffers: [], items: [], bytes: 0, undo: new Map() };
}

/** What `checkItem` answers for a retried batch already in the log. */
const DUPLICATE = Symbol("duplicate");

/** The validation facts of a control batch built by `appendMarker`. */
function markerBatch(records: Buffer): ValidatedBatch {
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    size: records.length,
    recordCount: 1,
    lastOffsetDelta: 0,
    producerId: records.readBigInt64BE(BatchOffsets.producerId),
    producerEpoch: records.readInt16BE(BatchOffsets.producerEpoch),
    baseSequence: -1,
    maxTimestamp: records.readBigInt64BE(BatchOffsets.maxTimestamp),
    transactional: true,
    recordErrors: [],
  };
}

const EMPTY = Buffer.alloc(0);
const NO_ABORTED: AbortedTransaction[] = [];

/** After a storage error, how often the log checks whether its disk works again. */
export const STORAGE_PROBE_INTERVAL_MS = 1000;
/** Free bytes the volume must have before a failed log takes appends again (so a nearly full disk does not flap). */
export const STORAGE_PROBE_MIN_FREE_BYTES = 1 << 20;

/** Told when a log's storage fails (once per failure) and when the log works again. */
export interface StorageListener {
  failed(log: PartitionLog, err: Error): void;
  recovered(log: PartitionLog): void;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function failure(
  errorCode: number,
  errorMessage: string,
  logStartOffset: bigint,
  recordErrors: readonly RecordError[] = [],
): AppendResult {
  return {
    errorCode,
    errorMessage,
    baseOffset: -1n,
    lastOffset: -1n,
    logAppendTime: -1n,
    logStartOffset,
    recordErrors,
  };
}

/**
 * The log of one topic-partition: a directory of segments, with appends serialized through a queue
 * (batches queued while a write is in flight go to disk together in one positional writev), reads
 * served from the files, and the checkpoints that let a restart skip or bound recovery.
 */
export class PartitionLog {
  /** `topic-N`, the directory's name, as Kafka names a partition in messages. */
  get name(): string {
    return basename(this.dir);
  }

  /** Oldest first; replaced, never mutated, so a reader can hold on to it across awaits. */
  private segments: LogSegment[];
  private logStart: bigint;
  /** Next offset to hand out; runs ahead of `logEnd` while a write is in flight. */
  private nextOffset: bigint;
  private logEnd: bigint;
  private recovery: bigint;
  private queue: PendingAppend[] = [];
  private draining: Promise<void> | null = null;
  private syncQueue: PendingAppend[] = [];
  /** The running group-commit loop, if any. */
  private syncing: Promise<void> | null = null;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  private flushChain: Promise<void> = Promise.resolve();
  private checkpointChain: Promise<void> = Promise.resolve();
  /** Content of the checkpoint file as last written. */
  private checkpointed = "";
  /**
   * Set when a write, sync, roll or checkpoint failed: appends are then answered KAFKA_STORAGE_ERROR at
   * once (Kafka takes the directory offline) while reads go on. Unlike Kafka, no restart is needed: a
   * probe (`probeStorage`) re-validates the tail and clears it once the disk takes writes again.
   */
  private storageFailure: Error | null = null;
  private lastProbeMs = 0;
  private probing: Promise<boolean> | null = null;
  /** First offset of the oldest ongoing transaction among the written batches; null when none is open. */
  private firstUnstable: bigint | null;
  /** Told of storage failures and recoveries (the log manager, which logs them per directory). */
  storageListener: StorageListener | null = null;
  private closed = false;
  /**
   * The high watermark when replication sets it (the leader from its followers' log ends, a follower from
   * its leader); null on a partition with no other replica, where everything written is committed.
   */
  private hw: bigint | null = null;
  /** Told after written batches became part of the log (the log end moved): a leader's high watermark. */
  appendListener: (() => void) | null = null;
  /** The epoch stamped on appends that name none (coordinators' records, markers): the leader's, once set. */
  private appendEpoch = 0;
  /** The leader-epoch-checkpoint content as last written. */
  private epochsWritten = "";
  /** Set while appends are held back (`withAppendsPaused`): queued appends wait for it. */
  private paused: Promise<void> | null = null;
  private dirPath: string;

  private constructor(
    dir: string,
    public config: LogConfig,
    segments: LogSegment[],
    logStartOffset: bigint,
    recoveryPoint: bigint,
    readonly producerState: ProducerStateManager,
    /** The first offset of each leader epoch in the log. */
    readonly epochs: LeaderEpochCache,
  ) {
    this.dirPath = dir;
    this.segments = segments;
    this.logStart = logStartOffset;
    this.recovery = recoveryPoint;
    this.logEnd = this.nextOffset = this.active.nextOffset;
    this.lastFlushMs = Date.now();
    this.firstUnstable = producerState.firstUnstableOffset();
  }

  /** The partition directory; it changes when AlterReplicaLogDirs moves the log to another log directory. */
  get dir(): string {
    return this.dirPath;
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1] as LogSegment;
  }

  get logStartOffset(): bigint {
    return this.logStart;
  }

  /** Offset the next appended record will get. */
  get logEndOffset(): bigint {
    return this.logEnd;
  }

  /** The offset below which records are committed (on every replica of the ISR); the log end without replication. */
  get highWatermark(): bigint {
    const hw = this.hw;
    return hw === null ? this.logEnd : hw;
  }

  /** Whether replication sets the high watermark (else it is the log end). */
  get replicated(): boolean {
    return this.hw !== null;
  }

  /**
   * Sets the high watermark (never past the log end, never back unless `allowDecrease`): replication
   * switches it on with the first call. True when it moved forward.
   */
  setHighWatermark(offset: bigint, allowDecrease = false): boolean {
    const target = offset > this.logEnd ? this.logEnd : offset;
    const before = this.hw;
    if (before !== null && target < before && !allowDecrease) return false;
    this.hw = target;
    return before === null || target > before;
  }

  /**
   * A new leader's epoch starts at the log end (Kafka's maybeAssignEpochStartOffset), so that a follower
   * asking where the previous epoch ends learns it before anything is written in the new one.
   */
  assignLeaderEpoch(epoch: number): void {
    this.appendEpoch = epoch;
    if (this.epochs.assign(epoch, this.nextOffset)) this.writeEpochs();
  }

  /** Back to one replica: the high watermark is the log end again. */
  followLogEnd(): void {
    this.hw = null;
  }

  /**
   * The last stable offset: the first offset of the oldest transaction still open (never below the log
   * start offset), else the high watermark. read_committed consumers read only below it.
   */
  get lastStableOffset(): bigint {
    const hw = this.highWatermark;
    const first = this.firstUnstable;
    if (first === null || first >= hw) return hw;
    return first > this.logStart ? first : this.logStart;
  }

  /** DescribeProducers: every producer this partition remembers, with its ongoing transaction if any. */
  activeProducers(): ProducerSnapshot[] {
    return this.producerState.activeProducers();
  }

  /** The ongoing transactions, oldest first. */
  ongoingTransactions(): OngoingTxn[] {
    return this.producerState.ongoingTransactions();
  }

  /** Why appends are refused, or null when the log is healthy. */
  get storageError(): Error | null {
    return this.storageFailure;
  }

  get recoveryPoint(): bigint {
    return this.recovery;
  }

  /** ListOffsets EARLIEST. */
  get earliestOffset(): bigint {
    return this.logStart;
  }

  /** ListOffsets LATEST: what a consumer may read up to. */
  get latestOffset(): bigint {
    return this.highWatermark;
  }

  /** Bytes of all segments. */
  get size(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** The segments that take no more appends (all but the active one), oldest first; for the cleaner. */
  get closedSegments(): readonly LogSegment[] {
    return this.segments.slice(0, -1);
  }

  /** Base offset of the active segment: where the cleaner must stop. */
  get activeBaseOffset(): bigint {
    return this.active.baseOffset;
  }

  /** For the cleaner: the aborted transactions overlapping [from, upTo), whole, as the `.txnindex` files hold them. */
  abortedTransactionsIn(from: bigint, upTo: bigint): AbortedTxn[] {
    const segments = this.segments;
    const found: AbortedTxn[] = [];
    for (let i = floorSegment(segments, from); i < segments.length; i++) {
      if ((segments[i] as LogSegment).txnIndex.collect(from, upTo, found)) break;
    }
    return found;
  }

  /**
   * The cleaner's swap: replaces the contiguous closed segments `old` by `cleaned`. `commitFiles` makes the same change on disk; it runs synchronously with the
   * in-memory swap, so no retention or close interleaves. False, with nothing done, when `old` is no
   * longer part of the log.
   */
  replaceSegments(old: readonly LogSegment[], cleaned: LogSegment, commitFiles: () => void): boolean {
    const segments = this.segments;
    const at = old.length === 0 ? -1 : segments.indexOf(old[0] as LogSegment);
    if (this.closed || this.paused !== null || at < 0 || at + old.length >= segments.length) return false;
    for (let i = 1; i < old.length; i++) if (segments[at + i] !== old[i]) return false;
    commitFiles();
    this.segments = [...segments.slice(0, at), cleaned, ...segments.slice(at + old.length)];
    // As Kafka's file.delete.delay.ms: a read that took the old list before the swap may still use them.
    const timer = setTimeout(() => {
      for (const seg of old) seg.markDeleted();
    }, this.config.fileDeleteDelayMs);
    timer.unref();
    return true;
  }

  /** Every segment, oldest first (the list is replaced, never changed): for copying the log elsewhere. */
  get allSegments(): readonly LogSegment[] {
    return this.segments;
  }

  /** Base offsets of the segments, oldest first. */
  get segmentBaseOffsets(): bigint[] {
    return this.segments.map((s) => s.baseOffset);
  }

  /**
   * Opens (creating if needed) the log in `dir`. After a clean close the segments are trusted; otherwise
   * every segment from the one holding the recovery point on is checked batch by batch and cut after the
   * last valid batch, and any damaged or missing index is rebuilt. Producer state is rebuilt from the
   * batch headers.
   */
  static async open(dir: string, config: LogConfig): Promise<PartitionLog> {
    await mkdir(dir, { recursive: true });
    await finishCleanerFiles(dir);
    const names = await readdir(dir);
    const bases = await segmentBases(dir, names);
    const checkpoint = await readOffsetsCheckpoint(join(dir, CHECKPOINT_FILE));
    const cleanMarker = join(dir, CLEAN_SHUTDOWN_FILE);
    const clean = names.includes(CLEAN_SHUTDOWN_FILE) && checkpoint !== null;
    // From here on the log is in use: a crash before the next clean close must recover.
    await unlink(cleanMarker).catch(() => undefined);

    const recoverFrom = clean ? null : (checkpoint?.recoveryPoint ?? -1n);
    const producerState = new ProducerStateManager();
    const epochs = new LeaderEpochCache();
    const now = Date.now();
    // A recovering segment rebuilds its transaction index from the aborted transactions its markers end.
    // The leader epochs are rebuilt from the batches too: each batch carries the epoch it was written in.
    const feed = (buf: Buffer, off: number): AbortedTxn | null => {
      epochs.assign(buf.readInt32BE(off + BatchOffsets.partitionLeaderEpoch), buf.readBigInt64BE(off));
      const done = producerState.loadBatch(buf, off, now);
      return done !== null && done.aborted ? done : null;
    };
    const segments: LogSegment[] = [];
    let recovered = false;
    try {
      for (let i = 0; i < bases.length; i++) {
        const base = bases[i] as bigint;
        const nextBase = bases[i + 1];
        const mustRecover = recoverFrom !== null && (nextBase === undefined || nextBase > recoverFrom);
        const opened = await LogSegment.open(dir, base, config, mustRecover, feed);
        segments.push(opened.segment);
        if (opened.recovered) recovered = true;
        else await opened.segment.scanHeaders(feed);
        if (opened.truncatedBytes > 0 && i + 1 < bases.length) {
          // Everything after a corrupt batch is unreliable: drop the later segments.
          for (const later of bases.slice(i + 1)) await removeSegmentFiles(dir, later);
          break;
        }
      }
      if (segments.length === 0) {
        segments.push(await LogSegment.create(dir, checkpoint?.logStartOffset ?? 0n, config));
      }
    } catch (err) {
      for (const s of segments) await s.close().catch(() => undefined);
      throw err;
    }
    const first = (segments[0] as LogSegment).baseOffset;
    const lastSegment = segments[segments.length - 1] as LogSegment;
    let logStartOffset = checkpoint?.logStartOffset ?? first;
    if (logStartOffset < first) logStartOffset = first;
    if (logStartOffset > lastSegment.nextOffset) logStartOffset = lastSegment.nextOffset;
    producerState.truncateHead(logStartOffset);
    epochs.truncateFromStart(logStartOffset);
    const log = new PartitionLog(
      dir,
      config,
      segments,
      logStartOffset,
      clean ? lastSegment.nextOffset : (checkpoint?.recoveryPoint ?? 0n),
      producerState,
      epochs,
    );
    if (recovered || !clean) await log.flush();
    return log;
  }

  /**
   * Appends the records of one produce request: validates them, checks the producer's sequence, assigns
   * offsets in place and writes them. Resolves once the write completed (and, when `flush.messages` is
   * reached, once it is synced); errors are reported as Kafka error codes, never thrown.
   */
  append(records: Buffer, opts: AppendOptions = {}): Promise<AppendResult> {
    return this.enqueue(records, opts, null);
  }

  /**
   * Appends a transaction marker: one control batch (transactional and control, the marker's producer id
   * and epoch, sequence -1) holding one COMMIT or ABORT record, through the same queue, checks against
   * producer state, sync rules and answers as `append`. The producer's ongoing transaction ends; an
   * aborted one goes into the active segment's transaction index. A marker for a producer with no
   * transaction open is written too (as Kafka does) and records nothing.
   */
  appendMarker(marker: TxnMarker, opts: AppendOptions = {}): Promise<AppendResult> {
    const records = buildControlBatch({
      type: marker.committed ? ControlRecordType.commit : ControlRecordType.abort,
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      coordinatorEpoch: marker.coordinatorEpoch,
      timestamp: Date.now(),
    });
    return this.enqueue(records, opts, marker);
  }

  /**
   * A follower's append (Kafka's appendAsFollower): the leader's batches, whole and with the offsets,
   * leader epochs and producer fields the leader gave them, written unchanged through the same queue. The
   * producer state and leader epochs follow them. Resolves with the first error, or the last batch's result.
   */
  async appendAsFollower(records: Buffer): Promise<AppendResult> {
    const pending: Promise<AppendResult>[] = [];
    for (const batch of splitBatches(records)) pending.push(this.enqueue(batch, {}, null, true));
    if (pending.length === 0) return failure(ErrorCode.CORRUPT_MESSAGE, "no whole batch to append", this.logStart);
    const results = await Promise.all(pending);
    return results.find((r) => r.errorCode !== ErrorCode.NONE) ?? results[results.length - 1]!;
  }

  /**
   * A follower cutting its log back to `offset`, where it diverged from its leader (Kafka's truncateTo):
   * the batch holding `offset` and everything after it are removed, and the indexes, producer state,
   * leader epochs, high watermark and recovery point follow. Nothing is done at or past the log end.
   */
  async truncateTo(offset: bigint): Promise<void> {
    if (offset >= this.logEnd) return;
    await this.withAppendsPaused(async () => {
      const segments = this.segments;
      const keep = floorSegment(segments, offset);
      const seg = segments[keep] as LogSegment;
      this.segments = segments.slice(0, keep + 1);
      for (const dropped of segments.slice(keep + 1)) dropped.markDeleted();
      // Producer state is rebuilt from what stays: the segments before, then the cut one as it is recovered.
      const now = Date.now();
      this.producerState.clear();
      for (const s of this.segments.slice(0, keep))
        await s.scanHeaders((buf, off) => this.producerState.loadBatch(buf, off, now));
      await seg.truncateTo(offset, (buf, off) => {
        const done = this.producerState.loadBatch(buf, off, now);
        return done !== null && done.aborted ? done : null;
      });
      this.producerState.truncateHead(this.logStart);
      this.logEnd = this.nextOffset = seg.nextOffset;
      if (this.recovery > this.logEnd) this.recovery = this.logEnd;
      if (this.hw !== null && this.hw > this.logEnd) this.hw = this.logEnd;
      this.firstUnstable = this.producerState.firstUnstableOffset();
      this.epochs.truncateFromEnd(this.logEnd);
      await seg.flush();
      await this.writeCheckpointNow(true);
      await this.writeEpochsNow();
    });
  }

  /**
   * A follower whose log ends before its leader's log start (Kafka's truncateFullyAndStartAt): everything
   * goes, and the log starts again, empty, at `offset`.
   */
  async truncateFullyAndStartAt(offset: bigint): Promise<void> {
    await this.withAppendsPaused(async () => {
      const old = this.segments;
      // A segment of that base offset is emptied in place (a new one would take its file names).
      const same = old.find((s) => s.baseOffset === offset);
      const seg = same ?? (await LogSegment.create(this.dir, offset, this.config));
      this.segments = [seg];
      for (const s of old) if (s !== same) s.markDeleted();
      if (same !== undefined) await same.truncateTo(offset);
      this.producerState.clear();
      this.epochs.clear();
      this.logStart = this.logEnd = this.nextOffset = this.recovery = offset;
      if (this.hw !== null) this.hw = offset;
      this.firstUnstable = null;
      await seg.flush();
      await this.writeCheckpointNow(true);
      await this.writeEpochsNow();
    });
  }

  private enqueue(
    records: Buffer,
    opts: AppendOptions,
    marker: TxnMarker | null,
    replica = false,
  ): Promise<AppendResult> {
    return new Promise((resolve) => {
      this.queue.push({
        records,
        leaderEpoch: opts.leaderEpoch ?? this.appendEpoch,
        marker,
        replica,
        transactionVersion: opts.transactionVersion ?? 0,
        resolve,
        batch: null,
        assigned: null,
        result: null,
        completed: null,
      });
      if (this.draining === null && this.paused === null) this.draining = this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.paused === null) {
      const items = this.queue;
      this.queue = [];
      try {
        await this.appendGroup(items);
      } catch (err) {
        // Never leave an append unanswered: whatever failed, the appends not yet answered fail with it.
        const e = this.fail(err);
        for (const item of items) {
          if (!this.syncQueue.includes(item))
            item.resolve(failure(ErrorCode.KAFKA_STORAGE_ERROR, e.message, this.logStart));
        }
      }
    }
    this.draining = null;
  }

  /** Validates and places a group of queued appends, writing them with as few writes as segment rolls allow. */
  private async appendGroup(items: PendingAppend[]): Promise<void> {
    let chunk = newChunk();
    for (const item of items) {
      if (!(await this.admit(item))) continue;
      const now = Date.now();
      const batch = this.checkItem(item, now);
      if (batch === null) continue;
      if (batch === DUPLICATE) {
        // Acknowledged in order with the appends around it, with the offsets the original got.
        chunk.items.push(item);
        continue;
      }
      const first = item.replica ? item.records.readBigInt64BE(0) : this.nextOffset;
      const lastOffset = first + BigInt(batch.lastOffsetDelta);
      if (this.active.shouldRoll(this.config, chunk.bytes, batch.size, batch.maxTimestamp, lastOffset, now)) {
        if (chunk.items.length > 0) await this.writeGroup(chunk);
        chunk = newChunk();
        if (!(await this.rollFor(item))) continue;
      }
      this.place(item, batch, chunk, now);
    }
    if (chunk.items.length > 0) await this.writeGroup(chunk);
  }

  /** Whether the log takes the append at all (open, storage healthy); if not, it is answered. */
  private async admit(item: PendingAppend): Promise<boolean> {
    if (this.closed) {
      item.resolve(failure(ErrorCode.KAFKA_STORAGE_ERROR, "log is closed", this.logStart));
      return false;
    }
    if (this.storageFailure !== null && !(await this.probeStorage())) {
      const message = (this.storageFailure as Error | null)?.message ?? "storage error";
      item.resolve(failure(ErrorCode.KAFKA_STORAGE_ERROR, message, this.logStart));
      return false;
    }
    return true;
  }

  /**
   * Validates an append against the format rules and its producer's state: the batch to place, DUPLICATE
   * (with `item.result` set to the original's offsets), or null when it was refused (and answered).
   */
  private checkItem(item: PendingAppend, now: number): ValidatedBatch | typeof DUPLICATE | null {
    if (item.replica) return this.checkReplicaBatch(item);
    if (item.marker !== null) {
      const error = this.producerState.checkMarker(item.marker, item.transactionVersion);
      if (error === null) return markerBatch(item.records);
      item.resolve(failure(error.errorCode, error.errorMessage, this.logStart));
      return null;
    }
    const batch = validateRecords(item.records, this.config, now, this.name);
    if (batch.errorCode !== ErrorCode.NONE) {
      item.resolve(
        failure(batch.errorCode, batch.errorMessage ?? "invalid records", this.logStart, batch.recordErrors),
      );
      return null;
    }
    if (batch.producerId < 0n) return batch;
    const lastSeq = lastSequence(batch.baseSequence, batch.lastOffsetDelta);
    const { producerId, producerEpoch, baseSequence, transactional } = batch;
    const check = this.producerState.check(producerId, producerEpoch, baseSequence, lastSeq, transactional);
    if (check.kind === "error") {
      item.resolve(failure(check.errorCode, check.errorMessage, this.logStart));
      return null;
    }
    if (check.kind === "append") return batch;
    item.result = {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      baseOffset: check.batch.firstOffset,
      lastOffset: check.batch.lastOffset,
      logAppendTime: -1n,
      logStartOffset: this.logStart,
    };
    return DUPLICATE;
  }

  /**
   * A leader's batch as a follower takes it: whole, intact (CRC) and after the log end; its facts are read
   * from the header, nothing in it changes. Null (answered) otherwise.
   */
  private checkReplicaBatch(item: PendingAppend): ValidatedBatch | null {
    const r = item.records;
    const base = r.readBigInt64BE(BatchOffsets.baseOffset);
    if (base < this.nextOffset || !verifyBatchCrc(r)) {
      const why = base < this.nextOffset ? `offset ${base} is below the log end ${this.nextOffset}` : "CRC mismatch";
      item.resolve(failure(ErrorCode.CORRUPT_MESSAGE, `replicated batch refused: ${why}`, this.logStart));
      return null;
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      size: r.length,
      recordCount: r.readInt32BE(BatchOffsets.recordCount),
      lastOffsetDelta: r.readInt32BE(BatchOffsets.lastOffsetDelta),
      producerId: r.readBigInt64BE(BatchOffsets.producerId),
      producerEpoch: r.readInt16BE(BatchOffsets.producerEpoch),
      baseSequence: r.readInt32BE(BatchOffsets.baseSequence),
      maxTimestamp: r.readBigInt64BE(BatchOffsets.maxTimestamp),
      transactional: (r.readInt16BE(BatchOffsets.attributes) & BatchAttributes.transactional) !== 0,
      recordErrors: [],
    };
  }

  /** Rolls to a new segment before `item`; false (with `item` answered) when the disk failed. */
  private async rollFor(item: PendingAppend): Promise<boolean> {
    const writeError = this.storageFailure as Error | null;
    if (writeError !== null) {
      item.resolve(failure(ErrorCode.KAFKA_STORAGE_ERROR, writeError.message, this.logStart));
      return false;
    }
    try {
      await this.roll();
      return true;
    } catch (err) {
      item.resolve(failure(ErrorCode.KAFKA_STORAGE_ERROR, this.fail(err).message, this.logStart));
      return false;
    }
  }

  /** Gives a checked batch its offsets and records it in producer state (undone should its write fail). */
  private place(item: PendingAppend, batch: ValidatedBatch, chunk: WriteChunk, now: number): void {
    if (item.replica) return this.placeReplica(item, batch, chunk, now);
    const assigned = assignOffsets(item.records, batch, this.nextOffset, item.leaderEpoch, this.config, now);
    this.nextOffset = assigned.lastOffset + 1n;
    const producerId = batch.producerId;
    if (producerId >= 0n) {
      this.producerState.save(producerId, chunk.undo);
      if (item.marker !== null) {
        item.completed = this.producerState.completeTxn(item.marker, assigned.firstOffset, assigned.maxTimestamp, now);
      } else {
        const lastSeq = lastSequence(batch.baseSequence, batch.lastOffsetDelta);
        const { producerEpoch, baseSequence, transactional } = batch;
        const { firstOffset, lastOffset, maxTimestamp } = assigned;
        this.producerState.update(
          producerId,
          producerEpoch,
          baseSequence,
          lastSeq,
          firstOffset,
          lastOffset,
          maxTimestamp,
          now,
          transactional,
        );
      }
    }
    item.batch = batch;
    item.assigned = assigned;
    chunk.buffers.push(item.records);
    chunk.items.push(item);
    chunk.bytes += batch.size;
  }

  /** Places a follower's batch at the offsets it has, its producer state read from it. */
  private placeReplica(item: PendingAppend, batch: ValidatedBatch, chunk: WriteChunk, now: number): void {
    const firstOffset = item.records.readBigInt64BE(0);
    const lastOffset = firstOffset + BigInt(batch.lastOffsetDelta);
    this.nextOffset = lastOffset + 1n;
    if (batch.producerId >= 0n) {
      this.producerState.save(batch.producerId, chunk.undo);
      item.completed = this.producerState.loadBatch(item.records, 0, now);
    }
    const maxTimestamp = batch.maxTimestamp;
    item.batch = batch;
    item.assigned = { firstOffset, lastOffset, maxTimestamp, offsetOfMaxTimestamp: firstOffset, logAppendTime: -1n };
    chunk.buffers.push(item.records);
    chunk.items.push(item);
    chunk.bytes += batch.size;
  }

  /** Writes a chunk of placed appends to the active segment and answers them (after a sync when due). */
  private async writeGroup(chunk: WriteChunk): Promise<void> {
    const items = chunk.items;
    if (chunk.bytes > 0 && !(await this.writeChunk(chunk))) return;
    const failed = this.storageFailure as Error | null;
    if (failed !== null) {
      // A background flush or checkpoint failed meanwhile: the write went through, but is not acknowledged.
      for (const item of items) item.resolve(failure(ErrorCode.KAFKA_STORAGE_ERROR, failed.message, this.logStart));
      return;
    }
    for (const item of items) {
      const assigned = item.assigned;
      if (assigned !== null) {
        item.result = {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          baseOffset: assigned.firstOffset,
          lastOffset: assigned.lastOffset,
          logAppendTime: assigned.logAppendTime,
          logStartOffset: this.logStart,
        };
      }
    }
    if (this.unflushedMessages >= this.config.flushMessages) {
      this.unflushedMessages = 0;
      for (const item of items) this.syncQueue.push(item);
      if (this.syncing === null) this.startSync();
      return;
    }
    // Duplicates of batches still waiting for their sync wait behind them.
    if (this.syncing !== null) {
      for (const item of items) this.syncQueue.push(item);
      return;
    }
    for (const item of items) item.resolve(item.result as AppendResult);
  }

  /**
   * Writes the chunk's bytes and makes them visible: indexes, aborted transactions, log end and last stable
   * offset. False when the write failed: producer state is restored, the torn bytes cut and the appends
   * answered.
   */
  private async writeChunk(chunk: WriteChunk): Promise<boolean> {
    const seg = this.active;
    try {
      await seg.write(chunk.buffers, chunk.bytes);
    } catch (err) {
      const e = this.fail(err);
      this.nextOffset = this.logEnd;
      // The producers' state goes back to before these batches, so their retries are appended, not
      // taken for duplicates of batches that are not in the log.
      this.producerState.restore(chunk.undo);
      // A torn append is cut off (again by the probe, should this fail too): the log stays valid.
      await seg.truncateToSize().catch(() => undefined);
      for (const item of chunk.items) item.resolve(failure(ErrorCode.KAFKA_STORAGE_ERROR, e.message, this.logStart));
      return false;
    }
    let position = seg.size;
    let messages = 0;
    let epochsChanged = false;
    for (const item of chunk.items) {
      const batch = item.batch;
      if (batch === null) continue;
      const epoch = item.records.readInt32BE(BatchOffsets.partitionLeaderEpoch);
      if (this.epochs.assign(epoch, item.records.readBigInt64BE(0))) epochsChanged = true;
      seg.indexBatch(item.records, 0, position, batch.size);
      position += batch.size;
      messages += batch.recordCount;
      if (item.completed?.aborted === true) seg.txnIndex.append(item.completed);
    }
    seg.commitWrite(chunk.bytes, Date.now());
    this.logEnd = this.nextOffset;
    // Producer state now holds exactly what is written: ongoing transactions and log end move together.
    this.firstUnstable = this.producerState.firstUnstableOffset();
    this.unflushedMessages += messages;
    if (epochsChanged) this.writeEpochs();
    this.appendListener?.();
    return true;
  }

  /** Writes the leader-epoch-checkpoint in the background (after the offsets checkpoint writes in flight). */
  private writeEpochs(): void {
    const run = (): Promise<void> => this.writeEpochsNow().catch(() => undefined);
    this.checkpointChain = this.checkpointChain.then(run, run);
  }

  private async writeEpochsNow(): Promise<void> {
    const content = this.epochs.format();
    if (content === this.epochsWritten) return;
    await writeFileAtomic(join(this.dir, LEADER_EPOCH_CHECKPOINT_FILE), content);
    this.epochsWritten = content;
  }

  private startSync(): void {
    this.syncing = this.runSync().then(() => {
      this.syncing = null;
      if (this.syncQueue.length > 0) this.startSync();
    });
  }

  /** Group commit: appends waiting for a sync share one; those arriving during it wait for the next. */
  private async runSync(): Promise<void> {
    while (this.syncQueue.length > 0) {
      const waiting = this.syncQueue;
      this.syncQueue = [];
      const segments = this.segments;
      try {
        for (const seg of segments) {
          if (seg.unsyncedBytes === 0) continue;
          seg.acquire();
          try {
            await seg.syncData();
          } finally {
            seg.release();
          }
        }
      } catch (err) {
        this.fail(err);
      }
      const error = this.storageFailure;
      for (const item of waiting) {
        item.resolve(
          error === null
            ? (item.result as AppendResult)
            : failure(ErrorCode.KAFKA_STORAGE_ERROR, error.message, this.logStart),
        );
      }
    }
  }

  private async roll(): Promise<void> {
    const old = this.active;
    old.onBecomeInactive();
    const seg = await LogSegment.create(this.dir, this.nextOffset, this.config);
    this.segments = [...this.segments, seg];
    // As Kafka does, the finished segment is flushed in the background, moving the recovery point past it.
    this.flush().catch(() => undefined); // a failure is recorded by flushNow
  }

  /**
   * Refuses appends from now on, as if a write had failed with `err` (another partition of the same log
   * directory failed: Kafka takes the whole directory offline); the log recovers by its own probe.
   */
  takeOffline(err: Error): void {
    if (!this.closed) this.fail(err);
  }

  /** Records a storage failure (the first one until the log recovers) and tells the listener; returns it. */
  private fail(err: unknown): Error {
    if (this.storageFailure === null) {
      const e = asError(err);
      this.storageFailure = e;
      this.lastProbeMs = Date.now();
      this.storageListener?.failed(this, e);
    }
    return this.storageFailure;
  }

  /**
   * After a storage error, at most once per STORAGE_PROBE_INTERVAL_MS: when the volume has room again,
   * cuts the active segment back to its last committed batch (a torn append leaves bytes past it), syncs
   * the log and its indexes and rewrites the checkpoint; when all of that works the log takes appends
   * again. True when the log is (now) healthy.
   */
  probeStorage(now = Date.now()): Promise<boolean> {
    if (this.storageFailure === null) return Promise.resolve(true);
    if (this.probing !== null) return this.probing;
    if (this.closed || now - this.lastProbeMs < STORAGE_PROBE_INTERVAL_MS) return Promise.resolve(false);
    this.lastProbeMs = now;
    this.probing = this.probe().finally(() => (this.probing = null));
    return this.probing;
  }

  private async probe(): Promise<boolean> {
    try {
      const fs = await statfs(this.dir);
      if (fs.bavail * fs.bsize < STORAGE_PROBE_MIN_FREE_BYTES) return false;
      const seg = this.active;
      seg.acquire();
      try {
        await seg.truncateToSize();
        if ((await seg.fileSize()) !== seg.size) return false;
      } finally {
        seg.release();
      }
      await this.flushSegments();
      await this.writeCheckpointNow(true);
    } catch {
      return false;
    }
    this.lastProbeMs = Date.now();
    this.storageFailure = null;
    this.storageListener?.recovered(this);
    return true;
  }

  /**
   * Reads whole batches from the batch holding `fetchOffset` on, up to `maxBytes` (at least one batch
   * with `minOneBatch`), from a single segment. OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset].
   * read_committed stops before the last stable offset (taking only batches wholly below it) and lists
   * the aborted transactions that overlap what it returns.
   */
  async read(fetchOffset: bigint, maxBytes: number, opts: ReadOptions): Promise<ReadResult> {
    const logEnd = this.logEnd;
    const highWatermark = this.highWatermark;
    const lastStableOffset = this.lastStableOffset;
    const logStartOffset = this.logStart;
    const committed = opts.isolation === "read_committed";
    const answer = (errorCode: number, records: Buffer, abortedTransactions = NO_ABORTED): ReadResult => ({
      errorCode,
      records,
      highWatermark,
      lastStableOffset,
      logStartOffset,
      abortedTransactions,
    });
    // Out of range past the log end; a consumer between the high watermark and the log end reads nothing yet.
    if (fetchOffset < logStartOffset || fetchOffset > logEnd) return answer(ErrorCode.OFFSET_OUT_OF_RANGE, EMPTY);
    const upTo = committed ? lastStableOffset : opts.replica === true ? logEnd : highWatermark;
    if (fetchOffset >= upTo) return answer(ErrorCode.NONE, EMPTY);
    if (!(maxBytes >= 0)) maxBytes = 0; // never a negative allocation, whatever a caller passes
    const segments = this.segments;
    const from = floorSegment(segments, fetchOffset);
    for (let i = from; i < segments.length; i++) {
      const seg = segments[i] as LogSegment;
      let records: Buffer | null;
      seg.acquire();
      try {
        // An offset bound only below the log end: it costs a BigInt per batch.
        records = await seg.read(fetchOffset, maxBytes, opts.minOneBatch, upTo < logEnd ? upTo : undefined, opts.alloc);
      } finally {
        seg.release();
      }
      if (records === null) continue;
      if (!committed || records.length === 0) return answer(ErrorCode.NONE, records);
      return answer(ErrorCode.NONE, records, abortedIn(segments, from, fetchOffset, lastOffsetIn(records) + 1n));
    }
    return answer(ErrorCode.NONE, EMPTY);
  }

  /** ListOffsets by timestamp: the first record at or after the log start with timestamp >= `timestamp`. */
  async offsetForTimestamp(timestamp: bigint): Promise<TimestampOffset | null> {
    const segments = this.segments;
    for (const seg of segments) {
      if (seg.maxTimestamp < timestamp || seg.nextOffset <= this.logStart) continue;
      seg.acquire();
      try {
        const found = await seg.findOffsetByTimestamp(timestamp, this.logStart);
        if (found !== null) return found;
      } finally {
        seg.release();
      }
    }
    return null;
  }

  /** ListOffsets MAX_TIMESTAMP: the first record holding the largest timestamp, null for an empty log. */
  async maxTimestampOffset(): Promise<TimestampOffset | null> {
    let best: LogSegment | null = null;
    for (const seg of this.segments) {
      if (seg.size > 0 && seg.maxTimestamp >= 0n && (best === null || seg.maxTimestamp > best.maxTimestamp)) best = seg;
    }
    if (best === null) return null;
    best.acquire();
    try {
      const batch = await best.readBatchHolding(best.offsetOfMaxTimestamp);
      if (batch === null) return null;
      const mark = maxTimestampRecord(batch);
      return {
        offset: batch.readBigInt64BE(BatchOffsets.baseOffset) + BigInt(mark.offsetDelta),
        timestamp: mark.timestamp,
        leaderEpoch: batch.readInt32BE(BatchOffsets.partitionLeaderEpoch),
      };
    } finally {
      best.release();
    }
  }

  /**
   * DeleteRecords: moves the log start offset to `offset` (-1n: the high watermark) and deletes the
   * segments wholly below it. Offsets past the high watermark are OFFSET_OUT_OF_RANGE.
   */
  async deleteRecordsBefore(offset: bigint): Promise<DeleteRecordsResult> {
    const target = offset === -1n ? this.highWatermark : offset;
    if (target < 0n || target > this.highWatermark) {
      return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, lowWatermark: this.logStart };
    }
    if (target > this.logStart) {
      this.logStart = target;
      this.producerState.truncateHead(target);
      try {
        await this.writeCheckpoint();
        await this.deleteOldSegments(startOffsetBreached);
      } catch {
        // The new log start holds in memory; the checkpoint is written again once the disk works.
        return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, lowWatermark: this.logStart };
      }
    }
    return { errorCode: ErrorCode.NONE, lowWatermark: this.logStart };
  }

  /**
   * Deletes whole segments (never the active one) below the log start offset or beyond `retention.ms` /
   * `retention.bytes`; the broker calls this periodically. Returns the number of segments deleted.
   */
  async applyRetention(now = Date.now()): Promise<number> {
    let deleted = await this.deleteOldSegments(startOffsetBreached);
    if (this.config.cleanupPolicy.split(",").includes("delete")) {
      const retentionMs = this.config.retentionMs;
      if (retentionMs >= 0) deleted += await this.deleteOldSegments((seg) => now - seg.largestTimestamp > retentionMs);
      if (this.config.retentionBytes >= 0) {
        let excess = this.size - this.config.retentionBytes;
        deleted += await this.deleteOldSegments((seg) => {
          if (excess - seg.size < 0) return false;
          excess -= seg.size;
          return true;
        });
      }
    }
    return deleted;
  }

  private async deleteOldSegments(
    eligible: (seg: LogSegment, next: LogSegment, log: PartitionLog) => boolean,
  ): Promise<number> {
    const segments = this.segments;
    let n = 0;
    while (n < segments.length - 1 && eligible(segments[n] as LogSegment, segments[n + 1] as LogSegment, this)) n++;
    if (n === 0) return 0;
    this.segments = segments.slice(n);
    const first = (this.segments[0] as LogSegment).baseOffset;
    if (first > this.logStart) {
      this.logStart = first;
      this.producerState.truncateHead(first);
    }
    await this.writeCheckpoint();
    for (const seg of segments.slice(0, n)) seg.markDeleted();
    return n;
  }

  /** Flushes when `flush.ms` has passed since the last flush and there is something to flush. */
  async maybeFlush(now = Date.now()): Promise<void> {
    if (this.storageFailure !== null) return;
    if (now - this.lastFlushMs >= this.config.flushMs && this.recovery < this.logEnd) await this.flush();
  }

  /** Syncs every segment's log and indexes and moves the recovery point to the log end. */
  flush(): Promise<void> {
    const run = (): Promise<void> => this.flushNow();
    this.flushChain = this.flushChain.then(run, run);
    return this.flushChain;
  }

  private async flushNow(): Promise<void> {
    try {
      await this.flushSegments();
    } catch (err) {
      throw this.fail(err);
    }
  }

  private async flushSegments(): Promise<void> {
    const upTo = this.logEnd;
    const segments = this.segments;
    // All held from the start: retention or DeleteRecords deleting one meanwhile waits for the release
    // instead of closing its file under the flush (which then failed the log with "file closed").
    for (const seg of segments) seg.acquire();
    try {
      for (const seg of segments) await seg.flush();
    } finally {
      for (const seg of segments) seg.release();
    }
    this.lastFlushMs = Date.now();
    if (upTo > this.recovery) this.recovery = upTo;
  }

  /** Writes the log start offset and recovery point checkpoint (atomically), when they changed. */
  writeCheckpoint(): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        await this.writeCheckpointNow(false);
      } catch (err) {
        throw this.fail(err);
      }
    };
    this.checkpointChain = this.checkpointChain.then(run, run);
    return this.checkpointChain;
  }

  private async writeCheckpointNow(always: boolean): Promise<void> {
    const content = formatOffsetsCheckpoint({ logStartOffset: this.logStart, recoveryPoint: this.recovery });
    if (content === this.checkpointed && !always) return;
    await writeFileAtomic(join(this.dir, CHECKPOINT_FILE), content);
    this.checkpointed = content;
  }

  /**
   * Waits for queued appends, flushes everything, writes the checkpoint and the clean-shutdown marker,
   * and closes the files. Appends after this fail with KAFKA_STORAGE_ERROR.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.draining !== null) await this.draining;
    this.closed = true;
    while (this.syncing !== null) await this.syncing;
    const cleanly = this.storageFailure === null;
    if (cleanly) {
      this.active.onBecomeInactive();
      await this.flush();
      await this.writeCheckpoint();
      const fh = await open(join(this.dir, CLEAN_SHUTDOWN_FILE), "w");
      await fh.close();
    }
    for (const seg of this.segments) await seg.close();
  }

  /**
   * Runs `fn` with appends held back (the partition's lock for AlterReplicaLogDirs' swap): appends in
   * flight are written and synced first, those arriving meanwhile wait in the queue and are written
   * afterwards, in order. Reads go on. Background flushes and checkpoint writes wait for `fn` too.
   */
  async withAppendsPaused<T>(fn: () => Promise<T>): Promise<T> {
    if (this.paused !== null) throw new Error(`${this.name}: appends are already paused`);
    let resume!: () => void;
    this.paused = new Promise<void>((r) => (resume = r));
    try {
      if (this.draining !== null) await this.draining;
      while (this.syncing !== null) await this.syncing;
      if (this.closed) throw new Error(`${this.name}: log is closed`);
      let result!: T;
      const run = async (): Promise<void> => {
        result = await fn();
      };
      // Chained behind (and ahead of) the flush and checkpoint writers, which use the directory's paths.
      const inCheckpointChain = (): Promise<void> => (this.checkpointChain = this.checkpointChain.then(run, run));
      this.flushChain = this.flushChain.then(inCheckpointChain, inCheckpointChain);
      await this.flushChain;
      return result;
    } finally {
      this.paused = null;
      resume();
      if (this.queue.length > 0 && this.draining === null) this.draining = this.drain();
    }
  }

  /**
   * Flushes every segment and writes the checkpoint now; for `withAppendsPaused` callers (which hold
   * the flush and checkpoint chains, so this does not go through them).
   */
  async flushForCopy(): Promise<void> {
    this.active.onBecomeInactive();
    await this.flushSegments();
    await this.writeCheckpointNow(true);
  }

  /**
   * The swap of AlterReplicaLogDirs, inside `withAppendsPaused` after `flushForCopy`: `dir` holds the
   * same segments (log and index files) and checkpoint, and the log goes on there. The old segments'
   * files are closed once the reads using them are done, after file.delete.delay.ms.
   */
  async switchDir(dir: string): Promise<void> {
    const old = this.segments;
    const fresh: LogSegment[] = [];
    try {
      for (const seg of old) fresh.push((await LogSegment.open(dir, seg.baseOffset, this.config, false)).segment);
    } catch (err) {
      for (const s of fresh) await s.close().catch(() => undefined);
      throw err;
    }
    this.segments = fresh;
    this.dirPath = dir;
    const timer = setTimeout(() => {
      for (const seg of old) seg.closeWhenFree();
    }, this.config.fileDeleteDelayMs);
    timer.unref();
  }

  /** Closes the files without flushing or marking a clean shutdown (for deleting the log). */
  async abandon(): Promise<void> {
    if (this.draining !== null) await this.draining;
    this.closed = true;
    for (const seg of this.segments) await seg.close();
  }
}

function startOffsetBreached(_seg: LogSegment, next: LogSegment, log: PartitionLog): boolean {
  return next.baseOffset <= log.logStartOffset;
}

/**
 * The base offsets of the segments in `dir` (whose files are `names`), in order; index files without their
 * `.log`, and leftovers of deletions and atomic writes, are removed.
 */
async function segmentBases(dir: string, names: string[]): Promise<bigint[]> {
  const bases: bigint[] = [];
  const logs = new Set<string>();
  for (const name of names) {
    if (name.endsWith(LOG_SUFFIX) && /^\d{20}\.log$/.test(name)) {
      bases.push(BigInt(name.slice(0, 20)));
      logs.add(name.slice(0, 20));
    }
  }
  const indexSuffixes = [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX];
  for (const name of names) {
    const stray =
      name.endsWith(".deleted") ||
      name.endsWith(".tmp") ||
      (indexSuffixes.some((suffix) => name.endsWith(suffix)) && !logs.has(name.slice(0, 20)));
    if (stray) await unlink(join(dir, name)).catch(() => undefined);
  }
  return bases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The whole batches in `records`, each as its own buffer (a torn last one is left out). */
function splitBatches(records: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos + LOG_OVERHEAD <= records.length) {
    const size = records.readInt32BE(pos + BatchOffsets.batchLength) + LOG_OVERHEAD;
    if (size < BatchOffsets.records || pos + size > records.length) break;
    out.push(records.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

/** The last offset of the last batch in `records` (whole batches). */
function lastOffsetIn(records: Buffer): bigint {
  let pos = 0;
  let last = -1n;
  while (pos + BatchOffsets.baseTimestamp <= records.length) {
    last = records.readBigInt64BE(pos) + BigInt(records.readInt32BE(pos + BatchOffsets.lastOffsetDelta));
    pos += records.readInt32BE(pos + BatchOffsets.batchLength) + LOG_OVERHEAD;
  }
  return last;
}

/**
 * The aborted transactions overlapping [from, upTo), from the transaction indexes of the segments from
 * `first` on (a transaction's entry sits with its marker, at or after its data), as far as they can matter.
 */
function abortedIn(segments: LogSegment[], first: number, from: bigint, upTo: bigint): AbortedTransaction[] {
  const found: AbortedTxn[] = [];
  for (let i = first; i < segments.length; i++) {
    if ((segments[i] as LogSegment).txnIndex.collect(from, upTo, found)) break;
  }
  return found.map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }));
}

/** Index of the last segment whose base offset is <= `offset` (0 when none). */
function floorSegment(segments: LogSegment[], offset: bigint): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((segments[mid] as LogSegment).baseOffset <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

async function removeSegmentFiles(dir: string, base: bigint): Promise<void> {
  const stem = base.toString().padStart(20, "0");
  for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) {
    await unlink(join(dir, stem + suffix)).catch(() => undefined);
  }
}
