import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { DEFAULT_LOG_CONFIG, logConfig } from "./config.js";
import type { LogConfig } from "./config.js";
import { LogCleaner } from "./cleaner.js";
import { PartitionLog, type StorageListener } from "./partition-log.js";

/** Kafka's suffix for a partition directory being deleted. */
export const DELETE_DIR_SUFFIX = "-delete";

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
   * Told once when the data directory fails (the first partition whose write, sync or checkpoint
   * failed, with the reason), and once when every failed partition works again.
   */
  onStorageError?: (dir: string, partition: string, err: Error) => void;
  onStorageRecovered?: (dir: string) => void;
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

/**
 * All partition logs of one data directory: opened together at start, created on demand, deleted by
 * topic, and kept in shape by periodic retention, flush and checkpoint tasks.
 */
export class LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly creating = new Map<string, Promise<PartitionLog>>();
  private defaults: LogConfig;
  private topicConfigs: Map<string, Partial<LogConfig>>;
  private timers: NodeJS.Timeout[] = [];
  private retentionRunning = false;
  private readonly cleaner: LogCleaner;
  /** The logs whose storage failed and has not recovered yet: while any is, the directory is offline. */
  private readonly failed = new Map<PartitionLog, Error>();
  private readonly storageListener: StorageListener;

  private constructor(
    readonly dataDir: string,
    private readonly options: LogManagerOptions,
  ) {
    this.defaults = logConfig(options.defaults ?? {}, DEFAULT_LOG_CONFIG);
    this.topicConfigs = new Map(options.topicConfigs ?? []);
    const onError = options.onCleanerError;
    this.cleaner = new LogCleaner(onError === undefined ? {} : { onError: (log, err) => onError(log.dir, err) });
    this.storageListener = {
      failed: (log, err) => {
        if (this.failed.has(log)) return;
        this.failed.set(log, err);
        if (this.failed.size === 1) this.options.onStorageError?.(this.dataDir, log.name, err);
      },
      recovered: (log) => {
        if (this.failed.delete(log) && this.failed.size === 0) this.options.onStorageRecovered?.(this.dataDir);
      },
    };
  }

  /** The data directory's storage error (the first failure not yet recovered from), or null when healthy. */
  get storageError(): Error | null {
    for (const err of this.failed.values()) return err;
    return null;
  }

  private adopt(log: PartitionLog): PartitionLog {
    log.storageListener = this.storageListener;
    return log;
  }

  /** Opens every partition directory under `dataDir` (a few at a time) and removes leftovers of deletions. */
  static async open(dataDir: string, options: LogManagerOptions = {}): Promise<LogManager> {
    await mkdir(dataDir, { recursive: true });
    const manager = new LogManager(dataDir, options);
    const entries = await readdir(dataDir, { withFileTypes: true });
    const todo: { topic: string; partition: number; name: string }[] = [];
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name.endsWith(DELETE_DIR_SUFFIX)) {
        await rm(join(dataDir, e.name), { recursive: true, force: true });
        continue;
      }
      const parsed = parseDirName(e.name);
      if (parsed !== null) todo.push({ ...parsed, name: e.name });
    }
    const workers = Math.max(1, options.openConcurrency ?? 8);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const t = todo[next++] as (typeof todo)[number];
        const log = await PartitionLog.open(join(dataDir, t.name), manager.configFor(t.topic));
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

  /** The log of a partition, created (with `overrides` as the topic's config) when missing. */
  async getOrCreate(topic: string, partition: number, overrides?: Partial<LogConfig>): Promise<PartitionLog> {
    const k = key(topic, partition);
    const existing = this.logs.get(k);
    if (existing !== undefined) return existing;
    const inFlight = this.creating.get(k);
    if (inFlight !== undefined) return inFlight;
    if (overrides !== undefined) this.topicConfigs.set(topic, overrides);
    const opening = PartitionLog.open(join(this.dataDir, partitionDirName(topic, partition)), this.configFor(topic));
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
    const removals: Promise<void>[] = [];
    for (const [k, log] of [...this.logs]) {
      if (!k.startsWith(`${topic}\u0000`)) continue;
      this.logs.delete(k);
      this.storageListener.recovered(log);
      await log.abandon();
      const doomed = `${log.dir}.${randomBytes(8).toString("hex")}${DELETE_DIR_SUFFIX}`;
      await rename(log.dir, doomed);
      removals.push(rm(doomed, { recursive: true, force: true }));
    }
    this.topicConfigs.delete(topic);
    void Promise.allSettled(removals);
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
      for (const log of [...this.logs.values()]) deleted += await log.applyRetention(now);
      return deleted;
    } finally {
      this.retentionRunning = false;
    }
  }

  /** One log-compaction pass over the compacted logs that are due; returns how many were cleaned. */
  cleanLogs(now = Date.now()): Promise<number> {
    return this.cleaner.cleanDue(this.logs.values(), now);
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
    await this.cleaner.stop();
    const logs = [...this.logs.values()];
    this.logs.clear();
    await Promise.all(logs.map((log) => log.close()));
  }
}
