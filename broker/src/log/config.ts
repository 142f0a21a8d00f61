/**
 * Topic-level log settings: Kafka's topic config names in camelCase, with Kafka 3.9's defaults. Kafka's
 * "Long.MAX_VALUE means never" settings are kept as that (huge) number, so comparisons still work.
 */
export interface LogConfig {
  /** segment.bytes */
  segmentBytes: number;
  /** segment.ms */
  segmentMs: number;
  /** segment.jitter.ms */
  segmentJitterMs: number;
  /** segment.index.bytes: the largest an index may grow before the segment rolls. */
  segmentIndexBytes: number;
  /** retention.ms (-1: unlimited) */
  retentionMs: number;
  /** retention.bytes (-1: unlimited) */
  retentionBytes: number;
  /** flush.messages */
  flushMessages: number;
  /** flush.ms */
  flushMs: number;
  /** max.message.bytes: the largest record batch accepted. */
  maxMessageBytes: number;
  /** message.timestamp.type */
  messageTimestampType: "CreateTime" | "LogAppendTime";
  /** message.timestamp.before.max.ms */
  messageTimestampBeforeMaxMs: number;
  /** message.timestamp.after.max.ms */
  messageTimestampAfterMaxMs: number;
  /** index.interval.bytes */
  indexIntervalBytes: number;
  /** file.delete.delay.ms */
  fileDeleteDelayMs: number;
  /** cleanup.policy: "delete", "compact" or both */
  cleanupPolicy: string;
  /** delete.retention.ms: how long the cleaner keeps tombstones after it first cleaned them. */
  deleteRetentionMs: number;
  /** min.cleanable.dirty.ratio: share of uncleaned bytes that makes a compacted log due for cleaning. */
  minCleanableDirtyRatio: number;
  /** min.compaction.lag.ms: records younger than this are not compacted. */
  minCompactionLagMs: number;
  /** compression.type */
  compressionType: string;
}

const LONG_MAX = 9223372036854775807;

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1073741824,
  segmentMs: 604800000,
  segmentJitterMs: 0,
  segmentIndexBytes: 10485760,
  retentionMs: 604800000,
  retentionBytes: -1,
  flushMessages: LONG_MAX,
  flushMs: LONG_MAX,
  maxMessageBytes: 1048588,
  messageTimestampType: "CreateTime",
  messageTimestampBeforeMaxMs: LONG_MAX,
  messageTimestampAfterMaxMs: LONG_MAX,
  indexIntervalBytes: 4096,
  fileDeleteDelayMs: 60000,
  cleanupPolicy: "delete",
  deleteRetentionMs: 86400000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  compressionType: "producer",
});

/** Kafka topic config name for each field, for mapping DescribeConfigs/CreateTopics configs. */
export const LOG_CONFIG_NAMES: Readonly<Record<keyof LogConfig, string>> = Object.freeze({
  segmentBytes: "segment.bytes",
  segmentMs: "segment.ms",
  segmentJitterMs: "segment.jitter.ms",
  segmentIndexBytes: "segment.index.bytes",
  retentionMs: "retention.ms",
  retentionBytes: "retention.bytes",
  flushMessages: "flush.messages",
  flushMs: "flush.ms",
  maxMessageBytes: "max.message.bytes",
  messageTimestampType: "message.timestamp.type",
  messageTimestampBeforeMaxMs: "message.timestamp.before.max.ms",
  messageTimestampAfterMaxMs: "message.timestamp.after.max.ms",
  indexIntervalBytes: "index.interval.bytes",
  fileDeleteDelayMs: "file.delete.delay.ms",
  cleanupPolicy: "cleanup.policy",
  deleteRetentionMs: "delete.retention.ms",
  minCleanableDirtyRatio: "min.cleanable.dirty.ratio",
  minCompactionLagMs: "min.compaction.lag.ms",
  compressionType: "compression.type",
});

/** Defaults overlaid with the given overrides. */
export function logConfig(overrides: Partial<LogConfig> = {}, base: Readonly<LogConfig> = DEFAULT_LOG_CONFIG): LogConfig {
  return { ...base, ...overrides };
}

/**
 * Builds overrides from Kafka-named string configs (as CreateTopics/AlterConfigs carry them). Names this
 * store does not use are ignored; a value that is not a number where one is expected throws.
 */
export function logConfigFromKafka(configs: Readonly<Record<string, string>>): Partial<LogConfig> {
  const out: Record<string, number | string> = {};
  for (const field of Object.keys(LOG_CONFIG_NAMES) as (keyof LogConfig)[]) {
    const value = configs[LOG_CONFIG_NAMES[field]];
    if (value === undefined) continue;
    if (typeof DEFAULT_LOG_CONFIG[field] === "number") {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n)) throw new Error(`${LOG_CONFIG_NAMES[field]}: not a number: ${value}`);
      out[field] = n;
    } else {
      out[field] = value;
    }
  }
  if (out.messageTimestampType !== undefined && out.messageTimestampType !== "CreateTime" && out.messageTimestampType !== "LogAppendTime") {
    throw new Error(`message.timestamp.type: must be CreateTime or LogAppendTime: ${out.messageTimestampType}`);
  }
  return out as Partial<LogConfig>;
}
