import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { DEFAULT_LOG_CONFIG, logConfig } from "./config.js";
import type { LogConfig } from "./config.js";
import { LogCleaner } from "./cleaner.js";
import { DELETE_DIR_SUFFIX, FUTURE_DIR_SUFFIX, LogDirMove, suffixedName, unsuffixedName } from "./log-dir-move.js";
import { PartitionLog, type StorageListener } from "./partition-log.js";

export { DELETE_DIR_SUFFIX } from "./log-dir-move.js";

export interface LogManagerOptions {
  /** Broker-wide defaults (log.* broker configs); Kafka's topic defaults when absent. */
  defaults?: Partial<LogConfig>;
  /** Per-topic overrides of the defaults. */
  topicConfigs?: ReadonlyMap<string, Partial<LogConfig>>;
  /** log.retention.check.interval.ms */
  retentionCheckIntervalMs?: number;
  /** How often logs are checked against their flush.ms. */
  flushCheckIntervalMs?: number;
  /** log.flush.offset.checkpoint.interval.ms */
  checkpointIntervalMs?: number;
  /** How many partition logs are opened at once at start (num.recovery.threads.per.data.dir). */
  openConcurrency?: number;
  /** log.cleaner.backoff.ms: how often compacted logs are checked; 15 s, or the retention interval when shorter. */
  cleanerBackoffMs?: number;
  /** Told of a cleaning that failed (the log stays as it was). */
  onCleanerError?: (dir: string, err: Error) => void;
  /**
   * Told once when a log directory fails (the first of its partitions whose write, sync or checkpoint
   * failed, with the reason), and once when every failed partition of it works again.
   */
  onStorageError?: (dir: string, partition: string, err: Error) => void;
  onStorageRecovered?: (dir: string) => void;
  /** Told of a partition moved to another log directory, or of a move that failed. */
  onMoved?: (partition: string, from: string, to: string) => void;
  onMoveFailed?: (partition: string, to: string, err: Error) => void;
}

/** `<topic>-<partition>` directory name; topic names may themselves contain '-'. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

function parseDirName(name: string): { topic: string; partition: number } | null {
  const m = /^(.+)-(\d+)$/.exec(name);
  if (m === null || m[1] === undefined || m[2] === undefined) return null;
  return { topic: m[1], partition: Number(m[2]) };
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** What start-up found in the log directories: partition directories to open, by partition. */
interface Found {
  topic: string;
  partition: number;
  path: string;
}

/**
 * Scans one log directory: removes leftovers of deletions, and lists its partition directories and
 * its `-future` ones (moves that did not finish).
 */
async function scanDir(dir: string): Promise<{ current: Found[]; futures: Found[] }> {
  const current: Found[] = [];
  const futures: Found[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    if (e.name.endsWith(DELETE_DIR_SUFFIX)) {
      await rm(join(dir, e.name), { recursive: true, force: true });
      continue;
    }
    const future = unsuffixedName(e.name, FUTURE_DIR_SUFFIX);
    const parsed = parseDirName(future ?? e.name);
    if (parsed !== null) (future === null ? current : futures).push({ ...parsed, path: join(dir, e.name) });
  }
  return { current, futures };
}

/**
 * Where each partition's log is at start-up. A partition in two log directories stops start-up, as in
 * Kafka (a failure while a move swapped); a `-future` directory is removed when its partition is
 * elsewhere (the move stopped before its swap) and becomes the partition's directory when it is not
 * (the crash came between the swap's two renames, when the future was complete).
 */
async function locatePartitions(dirs: readonly string[]): Promise<Found[]> {
  const byKey = new Map<string, Found>();
  const futures: Found[] = [];
  for (const dir of dirs) {
    const scanned = await scanDir(dir);
    futures.push(...scanned.futures);
    for (const f of scanned.current) {
      const k = key(f.topic, f.partition);
      const other = byKey.get(k);
      if (other !== undefined) {
        throw new Error(
          `duplicate log directories for ${basename(f.path)}: ${other.path} and ${f.path}; remove one of them (a move between log directories failed while it swapped)`,
        );
      }
      byKey.set(k, f);
    }
  }
  for (const f of futures) {
    const k = key(f.topic, f.partition);
    if (byKey.has(k)) {
      await rm(f.path, { recursive: true, force: true });
      continue;
    }
    const path = join(dirname(f.path), partitionDirName(f.topic, f.partition));
    await rename(f.path, path);
    byKey.set(k, { ...f, path });
  }
  return [...byKey.values()];
}

/** A log directory's state as DescribeLogDirs reports it. */
export interface LogDirState {
  /** The directory, as an absolute path. */
  readonly dir: string;
  /** The first storage error of its partitions not yet recovered from; null while it is online. */
  readonly error: Error | null;
}

/**
 * All partition logs of the log directories (`log.dirs`): opened together at start, created on demand
 * in the directory with the fewest partitions, moved between directories (AlterReplicaLogDirs),
 * deleted by topic, and kept in shape by periodic retention, flush and checkpoint tasks. A directory is
 * offline, all its partitions refusing appends, from a failed write of one of them until each of them
 * has found by its probe that the disk works again.
 */
export class LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly creating = new Map<string, Promise<PartitionLog>>();
  private defaults: LogConfig;
  private topicConfigs: Map<string, Partial<LogConfig>>;
  private timers: NodeJS.Timeout[] = [];
  private retentionRunning = false;
  private readonly cleaner: LogCleaner;
  /** Per log directory, the logs whose storage failed and has not recovered yet: while any has, it is offline. */
  private readonly failed = new Map<string, Map<PartitionLog, Error>>();
  private readonly storageListener: StorageListener;
  /** Moves between log directories in progress, by partition key. */
  private readonly moves = new Map<string, LogDirMove>();
  /** The log directories, absolute, in configuration order. */
  readonly dirs: readonly string[];

  private constructor(
    dirs: readonly string[],
    private readonly options: LogManagerOptions,
  ) {
    this.dirs = dirs;
    for (const dir of dirs) this.failed.set(dir, new Map());
    this.defaults = logConfig(options.defaults ?? {}, DEFAULT_LOG_CONFIG);
    this.topicConfigs = new Map(options.topicConfigs ?? []);
    const onError = options.onCleanerError;
    this.cleaner = new LogCleaner(onError === undefined ? {} : { onError: (log, err) => onError(log.dir, err) });
    this.storageListener = {
      failed: (log, err) => {
        const dir = dirname(log.dir);
        const failed = this.failedIn(dir);
        if (failed.has(log)) return;
        failed.set(log, err);
        if (failed.size !== 1) return;
        this.options.onStorageError?.(dir, log.name, err);
        // The whole directory goes offline, as in Kafka: its other partitions refuse appends too.
        const why = new Error(`log directory ${dir} is offline: ${err.message}`);
        for (const other of this.logs.values()) if (other !== log && dirname(other.dir) === dir) other.takeOffline(why);
      },
      recovered: (log) => {
        // A log that moved meanwhile is looked for in every directory.
        for (const [dir, failed] of this.failed) {
          if (failed.delete(log) && failed.size === 0) this.options.onStorageRecovered?.(dir);
        }
      },
    };
  }

  private failedIn(dir: string): Map<PartitionLog, Error> {
    let failed = this.failed.get(dir);
    if (failed === undefined) this.failed.set(dir, (failed = new Map()));
    return failed;
  }

  /** A log directory's storage error (the first failure not yet recovered from), or null when online. */
  dirError(dir: string): Error | null {
    for (const err of this.failedIn(dir).values()) return err;
    return null;
  }

  /** Every log directory with its state, in configuration order. */
  dirStates(): LogDirState[] {
    return this.dirs.map((dir) => ({ dir, error: this.dirError(dir) }));
  }

  /** The log directory a log is in. */
  dirOf(log: PartitionLog): string {
    return dirname(log.dir);
  }

  private adopt(log: PartitionLog): PartitionLog {
    log.storageListener = this.storageListener;
    return log;
  }

  /**
   * Opens every partition directory of the log directories (a few at a time), removes leftovers of
   * deletions and of moves, and refuses a partition found in two directories. `dirs` is one directory
   * or several (log.dirs).
   */
  static async open(dirs: string | readonly string[], options: LogManagerOptions = {}): Promise<LogManager> {
    const list = [...new Set((typeof dirs === "string" ? [dirs] : dirs).map((d) => resolve(d)))];
    if (list.length === 0) throw new Error("no log directory");
    for (const dir of list) await mkdir(dir, { recursive: true });
    const manager = new LogManager(list, options);
    const todo = await locatePartitions(list);
    const workers = Math.max(1, options.openConcurrency ?? 8);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const t = todo[next++] as Found;
        const log = await PartitionLog.open(t.path, manager.configFor(t.topic));
        manager.logs.set(key(t.topic, t.partition), manager.adopt(log));
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(workers, todo.length) }, worker));
    } catch (err) {
      await manager.close();
      throw err;
    }
    return manager;
  }

  /** The effective config of a topic: broker defaults overlaid with its overrides. */
  configFor(topic: string): LogConfig {
    return logConfig(this.topicConfigs.get(topic) ?? {}, this.defaults);
  }

  /** Replaces a topic's overrides and applies them to its open logs. */
  setTopicConfig(topic: string, overrides: Partial<LogConfig>): void {
    this.topicConfigs.set(topic, overrides);
    const config = this.configFor(topic);
    for (const [k, log] of this.logs) if (k.startsWith(`${topic}\u0000`)) log.config = config;
  }

  /** Changes broker-wide defaults (dynamic broker configs) and applies them to every open log; topic overrides still win. */
  setDefaults(defaults: Partial<LogConfig>): void {
    this.defaults = logConfig(defaults, this.defaults);
    for (const { topic, log } of this.entries()) log.config = this.configFor(topic);
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(key(topic, partition));
  }

  /** Every open log with its topic and partition. */
  *entries(): IterableIterator<{ topic: string; partition: number; log: PartitionLog }> {
    for (const [k, log] of this.logs) {
      const sep = k.lastIndexOf("\u0000");
      yield { topic: k.slice(0, sep), partition: Number(k.slice(sep + 1)), log };
    }
  }

  /**
   * Kafka's LogManager.nextLogDirs: the online log directories, the one with the fewest partitions
   * first (configuration order among equals).
   */
  nextLogDirs(): string[] {
    const counts = new Map<string, number>();
    for (const dir of this.dirs) if (this.dirError(dir) === null) counts.set(dir, 0);
    // As Kafka's, the count includes the future replicas of moves in progress.
    const where = [
      ...[...this.logs.values()].map((log) => dirname(log.dir)),
      ...[...this.moves.values()].map((m) => m.destination),
    ];
    for (const dir of where) {
      const n = counts.get(dir);
      if (n !== undefined) counts.set(dir, n + 1);
    }
    return [...counts].sort((a, b) => a[1] - b[1]).map(([dir]) => dir);
  }

  /** A new partition's log, in the first of `nextLogDirs` where it can be created. */
  private async createLog(topic: string, partition: number): Promise<PartitionLog> {
    const dirs = this.nextLogDirs();
    if (dirs.length === 0) throw new Error(`no log directory is online: ${this.dirs.join(", ")}`);
    let lastError: unknown;
    for (const dir of dirs) {
      try {
        return await PartitionLog.open(join(dir, partitionDirName(topic, partition)), this.configFor(topic));
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  /** The log of a partition, created (with `overrides` as the topic's config) when missing. */
  async getOrCreate(topic: string, partition: number, overrides?: Partial<LogConfig>): Promise<PartitionLog> {
    const k = key(topic, partition);
    const existing = this.logs.get(k);
    if (existing !== undefined) return existing;
    const inFlight = this.creating.get(k);
    if (inFlight !== undefined) return inFlight;
    if (overrides !== undefined) this.topicConfigs.set(topic, overrides);
    const opening = this.createLog(topic, partition);
    this.creating.set(k, opening);
    try {
      const log = this.adopt(await opening);
      this.logs.set(k, log);
      return log;
    } finally {
      this.creating.delete(k);
    }
  }

  /**
   * Deletes every partition log of `topic`: each directory is renamed to a `-delete` name at once (so a
   * restart finishes the job) and removed in the background.
   */
  async deletePartitionLogs(topic: string): Promise<void> {
    for (const k of [...this.logs.keys()]) if (k.startsWith(`${topic}\u0000`)) await this.dropLog(k);
    this.topicConfigs.delete(topic);
  }

  /** Deletes one partition's log (this broker is no longer one of its replicas), as `deletePartitionLogs`. */
  async deletePartitionLog(topic: string, partition: number): Promise<void> {
    await this.dropLog(key(topic, partition));
  }

  private async dropLog(k: string): Promise<void> {
    const log = this.logs.get(k);
    if (log === undefined) return;
    await this.moves.get(k)?.cancel();
    if (this.logs.get(k) !== log) return;
    this.logs.delete(k);
    this.storageListener.recovered(log);
    await log.abandon();
    const doomed = suffixedName(log.dir, DELETE_DIR_SUFFIX);
    await rename(log.dir, doomed);
    void rm(doomed, { recursive: true, force: true }).catch(() => undefined);
  }

  /** The move of a partition to another log directory in progress, if any. */
  moveOf(topic: string, partition: number): LogDirMove | undefined {
    return this.moves.get(key(topic, partition));
  }

  /**
   * Starts moving a partition's log to log directory `dir` (AlterReplicaLogDirs) and answers at once; a
   * move to another directory in progress is cancelled first, one to `dir` goes on. Nothing happens
   * when the log is already there. Throws when `dir` is not a log directory, or when a directory is
   * offline or the log's storage failed (Kafka then creates no future replica).
   */
  async moveLog(topic: string, partition: number, dir: string): Promise<void> {
    const k = key(topic, partition);
    const log = this.logs.get(k);
    if (log === undefined) throw new Error(`no log for ${partitionDirName(topic, partition)}`);
    const existing = this.moves.get(k);
    if (existing !== undefined) {
      if (existing.destination === dir) return;
      await existing.cancel();
    }
    if (dirname(log.dir) === dir) return;
    const offline = this.dirs.filter((d) => this.dirError(d) !== null);
    if (offline.length > 0) throw new StorageOfflineError(`log directories ${offline.join(", ")} are offline`);
    const move = new LogDirMove(log, dir, () => this.moves.delete(k));
    this.moves.set(k, move);
    const from = dirname(log.dir);
    move.done.then(
      () => this.options.onMoved?.(log.name, from, dir),
      (err: unknown) => {
        if (this.moves.get(k) === move) this.moves.delete(k);
        if (!(err instanceof Error && err.message === "cancelled"))
          this.options.onMoveFailed?.(log.name, dir, err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  /** Starts the periodic retention, flush and checkpoint tasks (timers do not keep the process alive). */
  start(): void {
    if (this.timers.length > 0) return;
    const every = (ms: number, task: () => Promise<void>): void => {
      const t = setInterval(() => void task().catch(() => undefined), ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.options.retentionCheckIntervalMs ?? 300_000, async () => {
      await this.applyRetention();
    });
    every(this.options.flushCheckIntervalMs ?? 1_000, () => this.flushDue());
    every(this.options.checkpointIntervalMs ?? 60_000, () => this.checkpoint());
    every(
      this.options.cleanerBackoffMs ?? Math.min(15_000, this.options.retentionCheckIntervalMs ?? 15_000),
      async () => {
        await this.cleanLogs();
      },
    );
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** One retention pass over every log; returns the number of segments deleted. */
  async applyRetention(now = Date.now()): Promise<number> {
    if (this.retentionRunning) return 0;
    this.retentionRunning = true;
    try {
      let deleted = 0;
      for (const [k, log] of [...this.logs]) if (!this.moves.has(k)) deleted += await log.applyRetention(now);
      return deleted;
    } finally {
      this.retentionRunning = false;
    }
  }

  /** One log-compaction pass over the compacted logs that are due; returns how many were cleaned. */
  cleanLogs(now = Date.now()): Promise<number> {
    // Kafka pauses cleaning of a partition while it moves between log directories.
    const logs = [...this.logs].filter(([k]) => !this.moves.has(k)).map(([, log]) => log);
    return this.cleaner.cleanDue(logs, now);
  }

  /** Flushes the logs that are due, and probes the failed ones (which recover once their disk works). */
  private async flushDue(): Promise<void> {
    const now = Date.now();
    for (const log of [...this.logs.values()]) {
      if (log.storageError !== null) await log.probeStorage(now);
      else await log.maybeFlush(now).catch(() => undefined);
    }
  }

  /** Writes every log's log-start-offset and recovery-point checkpoint. */
  async checkpoint(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => log.writeCheckpoint()));
  }

  /** Stops the tasks and closes every log cleanly (flush, checkpoints, clean-shutdown markers). */
  async close(): Promise<void> {
    this.stop();
    await Promise.all([...this.moves.values()].map((m) => m.cancel()));
    await this.cleaner.stop();
    const logs = [...this.logs.values()];
    this.logs.clear();
    await Promise.all(logs.map((log) => log.close()));
  }
}

/** A move refused because a log directory is offline (KAFKA_STORAGE_ERROR). */
export class StorageOfflineError extends Error {
  override readonly name = "StorageOfflineError";
}
