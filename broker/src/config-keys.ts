import {
  bool,
  choice,
  className,
  double,
  int,
  list,
  long,
  password,
  string,
  type KeyDef,
  type ValueOf,
} from "./config-def.js";
import { consoleLoginCheck } from "./console/login.js";
import { listenerList } from "./config-listeners.js";
import { QUOTA_KEYS } from "./config-quota-keys.js";
import { AUTHORIZER_KEYS } from "./config-authorizer-keys.js";
import { httpListenerCheck } from "./http/http-listener.js";
import { RACK_AWARE_SELECTOR, replicaSelectorProblem } from "./replication/replica-selector.js";
import { LISTENER_KEYS, SECURITY_KEYS } from "./config-security-keys.js";

/**
 * The one table of configuration keys: every server.properties key this broker reads and every topic
 * config it knows (Kafka 4.4's), each defined once with its type, default, valid values, importance,
 * documentation, dynamic-ness and synonyms. Start-up parsing (config.ts), DescribeConfigs and the
 * AlterConfigs checks (cluster/config-catalog.ts), the log defaults (log/config.ts), the dynamic broker
 * configs and the README's list of keys (scripts/readme-config-keys.ts) are all derived from it.
 */

/**
 * "cluster-wide": AlterConfigs may change the key at runtime, for the whole cluster (resource "") or
 * for one broker, as Kafka's dynamic broker configs; "per-broker": only for one broker, and (the ssl.*
 * keys, as Kafka) only under a listener prefix; "read-only": server.properties only.
 */
export type DynamicLevel = "read-only" | "per-broker" | "cluster-wide";

/** What a broker key says besides its definition. */
export interface BrokerExtras {
  readonly dynamic: DynamicLevel;
  /**
   * The topic config this key gives the default of; `scale` turns its unit into the topic config's.
   * The broker keys that share a topic config are Kafka's synonyms of each other, most specific first.
   */
  readonly topic?: { readonly name: string; readonly scale?: number };
  /** Where the broker acts on it; null when it is accepted and described only. */
  readonly appliedIn: string | null;
  /** Not one of Kafka's keys: a tskafka key (for tests, or our HTTP listener), never described (README lists it). */
  readonly internal?: true;
}

/** What a topic config says besides its definition. */
export interface TopicExtras {
  /** The LogConfig field the log layer reads it into; absent when it is stored and described only. */
  readonly log?: string;
  /**
   * One of Kafka's internal topic configs (for tests): accepted, and described only when a topic sets
   * it, as Kafka does.
   */
  readonly internal?: true;
}

export type BrokerKeyDef = KeyDef & BrokerExtras;
export type TopicKeyDef = KeyDef & TopicExtras;

const LONG_MAX = "9223372036854775807";
const INT_MAX = 2 ** 31 - 1;
/** Node's timers wait at most this long (a longer delay fires at once), so intervals are capped. */
const TIMER_MAX = 2 ** 31 - 1;
/** Kafka 4.0 raised segment.bytes' and log.segment.bytes' minimum to 1 MiB. */
const SEGMENT_BYTES_MIN = 1024 * 1024;
/** Kafka's limit of max.decompressed.message.bytes: the largest array a JVM allocates. */
const MAX_ARRAY = INT_MAX - 8;
/** Kafka's validator of compression.gzip.level: 1 to 9, or -1 for the codec's default. */
function gzipLevel(value: string): string | undefined {
  const n = Number(value);
  return n === -1 || (n >= 1 && n <= 9) ? undefined : "Value must be between 1 and 9 or equal to -1";
}

function required(value: string): string | undefined {
  return value === "" ? "a value is required" : undefined;
}

/** log.dirs: directories separated by commas, none empty, none twice. */
function directoryList(value: string): string | undefined {
  const dirs = value.split(",").map((d) => d.trim());
  if (dirs.some((d) => d === "")) return "a list of directories separated by commas, none empty";
  return new Set(dirs).size === dirs.length ? undefined : "a directory is listed twice";
}

/** The server.properties keys, in the order the README lists them. */
export const BROKER_KEYS = {
  "node.id": int({
    default: "1",
    min: 0,
    importance: "high",
    doc: "This node's id; unique among the brokers of a cluster (with etcd.endpoints).",
    dynamic: "read-only",
    appliedIn: "node identity (Metadata, DescribeCluster, coordinators)",
  }),
  listeners: string({
    default: "PLAINTEXT://127.0.0.1:9092",
    check: listenerList(false),
    importance: "high",
    doc: "The listeners (NAME://host:port, comma-separated) this broker accepts connections on; --host/--port set the first.",
    dynamic: "read-only",
    appliedIn: "listeners",
  }),
  "advertised.listeners": string({
    default: null,
    check: listenerList(true),
    importance: "high",
    doc: "The addresses clients are told to connect to, per listener name; each listener's own when unset.",
    dynamic: "read-only",
    appliedIn: "Metadata, DescribeCluster, FindCoordinator",
  }),
  "http.listener": string({
    default: "",
    check: httpListenerCheck,
    importance: "medium",
    doc: "Not a Kafka key: tskafka's HTTP listener, http://HOST:PORT: the console at /, metrics at /metrics; empty for none. --http-port sets it.",
    dynamic: "read-only",
    appliedIn: "HTTP listener",
    internal: true,
  }),
  "http.console": choice({
    default: "auto",
    oneOf: ["auto", "read-write", "read-only", "off"],
    importance: "medium",
    doc: "Not a Kafka key: what the web console may do; auto is read-write, or off with an authorizer unless the console has a login of its own.",
    dynamic: "read-only",
    appliedIn: "HTTP listener",
    internal: true,
  }),
  "http.console.listener": string({
    default: "",
    importance: "low",
    doc: "Not a Kafka key: the console's listener; empty: a SASL one if it has a login, else the first PLAINTEXT one. It trusts a TLS listener's own certificate.",
    dynamic: "read-only",
    appliedIn: "HTTP listener",
    internal: true,
  }),
  "http.console.sasl.mechanism": choice({
    default: "PLAIN",
    oneOf: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"],
    importance: "low",
    doc: "Not a Kafka key: the SASL mechanism of the console's login on a SASL listener.",
    dynamic: "read-only",
    appliedIn: "HTTP listener",
    internal: true,
  }),
  "http.console.sasl.jaas.config": password({
    default: null,
    check: consoleLoginCheck,
    importance: "low",
    doc: 'Not a Kafka key: the console\'s login, a LoginModule line with username="..." password="..."; the authorizer decides what that user may do.',
    dynamic: "read-only",
    appliedIn: "HTTP listener",
    internal: true,
  }),
  ...LISTENER_KEYS,
  ...SECURITY_KEYS,
  "etcd.endpoints": string({
    default: null,
    importance: "high",
    doc: "tskafka's: the etcd client URLs (comma-separated) holding the cluster metadata; unset, it lives in files in the data directory.",
    dynamic: "read-only",
    appliedIn: "cluster metadata (Broker.open)",
    internal: true,
  }),
  "broker.rack": string({
    default: null,
    importance: "medium",
    doc: "This broker's rack: replicas of a partition are spread over racks first, then brokers.",
    dynamic: "read-only",
    appliedIn: "replica placement, Metadata, DescribeCluster",
  }),
  "broker.session.timeout.ms": int({
    default: "9000",
    min: 1000,
    importance: "medium",
    doc: "How long a silent broker stays registered (its etcd lease, in whole seconds); then its leaderships move.",
    dynamic: "read-only",
    appliedIn: "cluster metadata (etcd lease)",
  }),
  "auto.leader.rebalance.enable": bool({
    default: "true",
    importance: "high",
    doc: "Whether the controller moves each partition's leadership back to its preferred replica (the first) at every imbalance check.",
    dynamic: "read-only",
    appliedIn: "controller",
  }),
  "leader.imbalance.check.interval.seconds": long({
    default: "300",
    min: 1,
    importance: "high",
    doc: "How often the controller checks for partitions not led by their preferred replica.",
    dynamic: "read-only",
    appliedIn: "controller",
  }),
  "controlled.shutdown.enable": bool({
    default: "true",
    importance: "medium",
    doc: "Whether a broker stopping cleanly first asks the controller to move its leaderships away.",
    dynamic: "read-only",
    appliedIn: "broker shutdown",
  }),
  ...QUOTA_KEYS,
  ...AUTHORIZER_KEYS,
  "socket.request.max.bytes": int({
    default: "104857600",
    min: 1,
    importance: "high",
    doc: "Largest request accepted; a larger one closes its connection.",
    dynamic: "read-only",
    appliedIn: "connection frame reader",
  }),
  "cluster.id": string({
    default: null,
    check: required,
    importance: "low",
    doc: "Accepted for compatibility and ignored: the cluster id is made at first start and kept in the data directory.",
    dynamic: "read-only",
    appliedIn: null,
  }),
  "num.partitions": int({
    default: "1",
    min: 1,
    max: 100_000,
    importance: "medium",
    doc: "Partitions of auto-created topics and of topics created with -1 partitions.",
    dynamic: "read-only",
    appliedIn: "topic creation",
  }),
  "default.replication.factor": int({
    default: "1",
    min: 1,
    max: 32767,
    importance: "medium",
    doc: "Replication factor of topics created with -1 and of auto-created topics; at most the live brokers.",
    dynamic: "read-only",
    appliedIn: "CreateTopics",
  }),
  "auto.create.topics.enable": bool({
    default: "true",
    importance: "high",
    doc: "Whether Metadata and Produce create the unknown topics they name.",
    dynamic: "read-only",
    appliedIn: "Metadata, Produce",
  }),
  "log.dirs": string({
    default: null,
    check: directoryList,
    importance: "high",
    doc: "The log directories, comma-separated: each new partition goes to the one with the fewest; log.dir when unset. --data-dir sets one.",
    dynamic: "read-only",
    appliedIn: "log manager",
  }),
  "log.dir": string({
    default: "./data",
    check: required,
    importance: "high",
    doc: "The log directory when log.dirs is unset.",
    dynamic: "read-only",
    appliedIn: "log manager",
  }),
  "metadata.log.dir": string({
    default: null,
    check: required,
    importance: "high",
    doc: "Where the cluster metadata (topics, dynamic configs, credentials) is kept; the first log directory when unset.",
    dynamic: "read-only",
    appliedIn: "cluster metadata files",
  }),
  "internal.log.segment.bytes": int({
    default: null,
    min: 14,
    importance: "low",
    doc: "For tests, not a Kafka key: a segment size below the 1 MiB minimum, over log.segment.bytes.",
    dynamic: "cluster-wide",
    topic: { name: "segment.bytes" },
    appliedIn: "log defaults",
    internal: true,
  }),
  "log.segment.bytes": int({
    default: "1073741824",
    min: SEGMENT_BYTES_MIN,
    importance: "high",
    doc: "Size at which a segment file is rolled.",
    dynamic: "cluster-wide",
    topic: { name: "segment.bytes" },
    appliedIn: "log defaults",
  }),
  "log.roll.ms": long({
    default: null,
    min: 1,
    importance: "high",
    doc: "Age at which a segment is rolled; log.roll.hours when unset.",
    dynamic: "cluster-wide",
    topic: { name: "segment.ms" },
    appliedIn: "log defaults",
  }),
  "log.roll.hours": int({
    default: "168",
    min: 1,
    importance: "high",
    doc: "Age at which a segment is rolled, in hours.",
    dynamic: "read-only",
    topic: { name: "segment.ms", scale: 3_600_000 },
    appliedIn: "log defaults",
  }),
  "log.retention.ms": long({
    default: null,
    min: -1,
    importance: "high",
    doc: "Age after which old segments are deleted (-1: kept forever); log.retention.minutes when unset.",
    dynamic: "cluster-wide",
    topic: { name: "retention.ms" },
    appliedIn: "log defaults",
  }),
  "log.retention.minutes": int({
    default: null,
    min: -1,
    importance: "high",
    doc: "Retention by age in minutes; log.retention.hours when unset.",
    dynamic: "read-only",
    topic: { name: "retention.ms", scale: 60_000 },
    appliedIn: "log defaults",
  }),
  "log.retention.hours": int({
    default: "168",
    min: -1,
    importance: "high",
    doc: "Retention by age in hours.",
    dynamic: "read-only",
    topic: { name: "retention.ms", scale: 3_600_000 },
    appliedIn: "log defaults",
  }),
  "log.retention.bytes": long({
    default: "-1",
    importance: "high",
    doc: "Size a partition may keep before its oldest segments are deleted (-1: no limit).",
    dynamic: "cluster-wide",
    topic: { name: "retention.bytes" },
    appliedIn: "log defaults",
  }),
  "log.retention.check.interval.ms": long({
    default: "300000",
    min: 1,
    max: TIMER_MAX,
    importance: "medium",
    doc: "How often retention looks for segments to delete.",
    dynamic: "read-only",
    appliedIn: "log manager",
  }),
  "log.flush.interval.messages": long({
    default: LONG_MAX,
    min: 1,
    importance: "high",
    doc: "Records written between two fsyncs of a partition; 1 syncs every acknowledged write.",
    dynamic: "cluster-wide",
    topic: { name: "flush.messages" },
    appliedIn: "log defaults",
  }),
  "log.flush.interval.ms": long({
    default: null,
    min: 0,
    importance: "high",
    doc: "Longest a written record waits for an fsync; never when unset.",
    dynamic: "cluster-wide",
    topic: { name: "flush.ms" },
    appliedIn: "log defaults",
  }),
  "log.index.interval.bytes": int({
    default: "4096",
    min: 0,
    importance: "medium",
    doc: "Bytes of records between two entries of the offset index.",
    dynamic: "cluster-wide",
    topic: { name: "index.interval.bytes" },
    appliedIn: "log defaults",
  }),
  "log.message.timestamp.type": choice({
    default: "CreateTime",
    oneOf: ["CreateTime", "LogAppendTime"],
    importance: "medium",
    doc: "Whether stored timestamps are the producer's (CreateTime) or the broker's (LogAppendTime).",
    dynamic: "cluster-wide",
    topic: { name: "message.timestamp.type" },
    appliedIn: "log defaults",
  }),
  "log.cleanup.policy": list({
    default: "delete",
    oneOf: ["compact", "delete"],
    importance: "medium",
    doc: "delete: old segments go by retention; compact: the latest record per key is kept; or both.",
    dynamic: "cluster-wide",
    topic: { name: "cleanup.policy" },
    appliedIn: "log defaults",
  }),
  "log.cleaner.backoff.ms": long({
    default: "15000",
    min: 1,
    max: TIMER_MAX,
    importance: "medium",
    doc: "How often compacted logs are checked for cleaning.",
    dynamic: "read-only",
    appliedIn: "log cleaner",
  }),
  "message.max.bytes": int({
    default: "1048588",
    min: 0,
    importance: "high",
    doc: "Largest record batch accepted.",
    dynamic: "cluster-wide",
    topic: { name: "max.message.bytes" },
    appliedIn: "log defaults",
  }),
  "log.message.timestamp.after.max.ms": long({
    default: "3600000",
    min: 0,
    importance: "medium",
    doc: "How far in the future a CreateTime timestamp may be.",
    dynamic: "cluster-wide",
    topic: { name: "message.timestamp.after.max.ms" },
    appliedIn: "log defaults",
  }),
  "log.message.timestamp.before.max.ms": long({
    default: LONG_MAX,
    min: 0,
    importance: "medium",
    doc: "How far in the past a CreateTime timestamp may be.",
    dynamic: "cluster-wide",
    topic: { name: "message.timestamp.before.max.ms" },
    appliedIn: "log defaults",
  }),
  "log.segment.delete.delay.ms": long({
    default: "60000",
    min: 0,
    importance: "high",
    doc: "Wait before a deleted segment's files are removed.",
    dynamic: "cluster-wide",
    topic: { name: "file.delete.delay.ms" },
    appliedIn: "log defaults",
  }),
  "log.index.size.max.bytes": int({
    default: "10485760",
    min: 4,
    importance: "medium",
    doc: "Largest size of a segment's offset index; a full index rolls the segment.",
    dynamic: "cluster-wide",
    topic: { name: "segment.index.bytes" },
    appliedIn: "log defaults",
  }),
  "log.preallocate": bool({
    default: "false",
    importance: "medium",
    doc: "Accepted and described only: segment files are not preallocated.",
    dynamic: "cluster-wide",
    topic: { name: "preallocate" },
    appliedIn: null,
  }),
  "log.cleaner.delete.retention.ms": long({
    default: "86400000",
    min: 0,
    importance: "medium",
    doc: "How long tombstones stay on a compacted topic after it was first cleaned.",
    dynamic: "cluster-wide",
    topic: { name: "delete.retention.ms" },
    appliedIn: "log defaults",
  }),
  "log.cleaner.min.cleanable.ratio": double({
    default: "0.5",
    min: 0,
    max: 1,
    importance: "medium",
    doc: "Share of uncleaned bytes that makes a compacted log due for cleaning.",
    dynamic: "cluster-wide",
    topic: { name: "min.cleanable.dirty.ratio" },
    appliedIn: "log defaults",
  }),
  "log.cleaner.min.compaction.lag.ms": long({
    default: "0",
    min: 0,
    importance: "medium",
    doc: "Records younger than this are not compacted.",
    dynamic: "cluster-wide",
    topic: { name: "min.compaction.lag.ms" },
    appliedIn: "log defaults",
  }),
  "log.cleaner.max.compaction.lag.ms": long({
    default: LONG_MAX,
    min: 1,
    importance: "medium",
    doc: "Accepted and described only: compaction is not forced by age.",
    dynamic: "cluster-wide",
    topic: { name: "max.compaction.lag.ms" },
    appliedIn: null,
  }),
  "compression.type": choice({
    default: "producer",
    oneOf: ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"],
    importance: "high",
    doc: "Codec of stored batches; producer keeps what the producer sent.",
    dynamic: "cluster-wide",
    topic: { name: "compression.type" },
    appliedIn: "log defaults",
  }),
  "compression.gzip.level": int({
    default: "-1",
    check: gzipLevel,
    importance: "medium",
    doc: "Accepted and described only: gzip batches are written at the codec's default level.",
    dynamic: "cluster-wide",
    topic: { name: "compression.gzip.level" },
    appliedIn: null,
  }),
  "compression.lz4.level": int({
    default: "9",
    min: 1,
    max: 17,
    importance: "medium",
    doc: "Accepted and described only: lz4 batches are written at the codec's default level.",
    dynamic: "cluster-wide",
    topic: { name: "compression.lz4.level" },
    appliedIn: null,
  }),
  "compression.zstd.level": int({
    default: "3",
    min: -131072,
    max: 22,
    importance: "medium",
    doc: "Accepted and described only: zstd batches are written at the codec's default level.",
    dynamic: "cluster-wide",
    topic: { name: "compression.zstd.level" },
    appliedIn: null,
  }),
  "max.decompressed.message.bytes": int({
    default: String(MAX_ARRAY),
    min: 1,
    max: MAX_ARRAY,
    importance: "medium",
    doc: "Accepted and described only: decompressed batches are not limited by it.",
    dynamic: "cluster-wide",
    topic: { name: "max.decompressed.message.bytes" },
    appliedIn: null,
  }),
  "min.insync.replicas": int({
    default: "1",
    min: 1,
    importance: "high",
    doc: "The fewest in-sync replicas an acks=all produce is taken with (NOT_ENOUGH_REPLICAS below it).",
    dynamic: "cluster-wide",
    topic: { name: "min.insync.replicas" },
    appliedIn: "Produce",
  }),
  "unclean.leader.election.enable": bool({
    default: "false",
    importance: "high",
    doc: "Accepted and described only: the controller elects leaders from the ISR alone, as with false.",
    dynamic: "cluster-wide",
    topic: { name: "unclean.leader.election.enable" },
    appliedIn: null,
  }),
  "log.local.retention.bytes": long({
    default: "-2",
    min: -2,
    importance: "medium",
    doc: "Accepted and described only: no tiered storage.",
    dynamic: "cluster-wide",
    topic: { name: "local.retention.bytes" },
    appliedIn: null,
  }),
  "log.local.retention.ms": long({
    default: "-2",
    min: -2,
    importance: "medium",
    doc: "Accepted and described only: no tiered storage.",
    dynamic: "cluster-wide",
    topic: { name: "local.retention.ms" },
    appliedIn: null,
  }),
  "log.remote.copy.lag.bytes": long({
    default: "-1",
    min: -1,
    importance: "medium",
    doc: "Accepted and described only: no tiered storage.",
    dynamic: "cluster-wide",
    topic: { name: "remote.copy.lag.bytes" },
    appliedIn: null,
  }),
  "log.remote.copy.lag.ms": long({
    default: "0",
    min: -1,
    importance: "medium",
    doc: "Accepted and described only: no tiered storage.",
    dynamic: "cluster-wide",
    topic: { name: "remote.copy.lag.ms" },
    appliedIn: null,
  }),
  "offsets.topic.num.partitions": int({
    default: "50",
    min: 1,
    max: 1000,
    importance: "high",
    doc: "Partitions of __consumer_offsets when it is created.",
    dynamic: "read-only",
    appliedIn: "group coordinator",
  }),
  "offsets.topic.replication.factor": int({
    default: "3",
    min: 1,
    max: 32767,
    importance: "high",
    doc: "Replication factor of __consumer_offsets when it is created, capped by the live brokers.",
    dynamic: "read-only",
    appliedIn: "group coordinator",
  }),
  "offsets.retention.minutes": int({
    default: "10080",
    min: 1,
    importance: "high",
    doc: "How long the committed offsets of a group without members are kept.",
    dynamic: "read-only",
    appliedIn: "group coordinator",
  }),
  "offsets.retention.check.interval.ms": long({
    default: "600000",
    min: 1,
    max: TIMER_MAX,
    importance: "high",
    doc: "How often expired offsets are looked for.",
    dynamic: "read-only",
    appliedIn: "group coordinator",
  }),
  "offset.metadata.max.bytes": int({
    default: "4096",
    min: 0,
    importance: "high",
    doc: "Longest metadata string an offset commit may carry.",
    dynamic: "read-only",
    appliedIn: "OffsetCommit",
  }),
  "group.initial.rebalance.delay.ms": int({
    default: "3000",
    min: 0,
    importance: "medium",
    doc: "How long a new classic group waits for more members before its first rebalance.",
    dynamic: "read-only",
    appliedIn: "group coordinator",
  }),
  "group.min.session.timeout.ms": int({
    default: "6000",
    min: 0,
    importance: "medium",
    doc: "Shortest session timeout a classic group member may ask for.",
    dynamic: "read-only",
    appliedIn: "JoinGroup",
  }),
  "group.max.session.timeout.ms": int({
    default: "1800000",
    min: 0,
    importance: "medium",
    doc: "Longest session timeout a classic group member may ask for.",
    dynamic: "read-only",
    appliedIn: "JoinGroup",
  }),
  "group.max.size": int({
    default: String(INT_MAX),
    min: 1,
    importance: "medium",
    doc: "Most members a classic group may have.",
    dynamic: "read-only",
    appliedIn: "JoinGroup",
  }),
  "group.consumer.heartbeat.interval.ms": int({
    default: "5000",
    min: 1,
    importance: "medium",
    doc: "Heartbeat interval given to members of consumer-protocol (KIP-848) groups.",
    dynamic: "read-only",
    appliedIn: "ConsumerGroupHeartbeat",
  }),
  "group.consumer.session.timeout.ms": int({
    default: "45000",
    min: 1,
    importance: "medium",
    doc: "Session timeout of members of consumer-protocol (KIP-848) groups.",
    dynamic: "read-only",
    appliedIn: "ConsumerGroupHeartbeat",
  }),
  "group.streams.session.timeout.ms": int({
    default: "45000",
    min: 1,
    importance: "medium",
    doc: "Session timeout of streams group members (KIP-1071): one that does not heartbeat within it leaves the group.",
    dynamic: "read-only",
    appliedIn: "StreamsGroupHeartbeat",
  }),
  "group.streams.min.session.timeout.ms": int({
    default: "45000",
    min: 1,
    importance: "medium",
    doc: "Lowest streams.session.timeout.ms a streams group may set.",
    dynamic: "read-only",
    appliedIn: "IncrementalAlterConfigs (GROUP)",
  }),
  "group.streams.max.session.timeout.ms": int({
    default: "60000",
    min: 1,
    importance: "medium",
    doc: "Highest streams.session.timeout.ms a streams group may set.",
    dynamic: "read-only",
    appliedIn: "IncrementalAlterConfigs (GROUP)",
  }),
  "group.streams.heartbeat.interval.ms": int({
    default: "5000",
    min: 1,
    importance: "medium",
    doc: "Heartbeat interval given to streams group members.",
    dynamic: "read-only",
    appliedIn: "StreamsGroupHeartbeat",
  }),
  "group.streams.min.heartbeat.interval.ms": int({
    default: "5000",
    min: 1,
    importance: "medium",
    doc: "Lowest streams.heartbeat.interval.ms a streams group may set.",
    dynamic: "read-only",
    appliedIn: "IncrementalAlterConfigs (GROUP)",
  }),
  "group.streams.max.heartbeat.interval.ms": int({
    default: "15000",
    min: 1,
    importance: "medium",
    doc: "Highest streams.heartbeat.interval.ms a streams group may set.",
    dynamic: "read-only",
    appliedIn: "IncrementalAlterConfigs (GROUP)",
  }),
  "group.streams.max.size": int({
    default: "2147483647",
    min: 1,
    importance: "medium",
    doc: "Most members a streams group may have.",
    dynamic: "read-only",
    appliedIn: "StreamsGroupHeartbeat",
  }),
  "group.streams.num.standby.replicas": int({
    default: "0",
    min: 0,
    importance: "medium",
    doc: "Standby tasks per stateful task of a streams group (a group may set streams.num.standby.replicas).",
    dynamic: "read-only",
    appliedIn: "StreamsGroupHeartbeat",
  }),
  "group.streams.max.standby.replicas": int({
    default: "2",
    min: 0,
    importance: "medium",
    doc: "Highest streams.num.standby.replicas a streams group may set.",
    dynamic: "read-only",
    appliedIn: "IncrementalAlterConfigs (GROUP)",
  }),
  "group.streams.initial.rebalance.delay.ms": int({
    default: "3000",
    min: 0,
    importance: "medium",
    doc: "How long a new streams group waits for more members before its first task assignment.",
    dynamic: "read-only",
    appliedIn: "StreamsGroupHeartbeat",
  }),
  "group.streams.assignment.interval.ms": int({
    default: "1000",
    min: 0,
    importance: "medium",
    doc: "Least time between two task assignments of a streams group (ASSIGNMENT_DELAYED meanwhile).",
    dynamic: "read-only",
    appliedIn: "StreamsGroupHeartbeat",
  }),
  "group.streams.task.offset.interval.ms": int({
    default: "60000",
    min: 1,
    importance: "medium",
    doc: "How often streams group members report their tasks' changelog offsets (given to them in the heartbeat).",
    dynamic: "read-only",
    appliedIn: "StreamsGroupHeartbeat",
  }),
  "group.streams.acceptable.recovery.lag": long({
    default: "10000",
    min: 0,
    importance: "medium",
    doc: "Changelog lag up to which a member counts as caught up on a task (given to members in the heartbeat).",
    dynamic: "read-only",
    appliedIn: "StreamsGroupHeartbeat",
  }),
  "group.share.record.lock.duration.ms": int({
    default: "30000",
    min: 1000,
    max: 3600000,
    importance: "medium",
    doc: "How long a share group member holds the records it acquired before they are available again.",
    dynamic: "read-only",
    appliedIn: "ShareFetch",
  }),
  "group.share.min.record.lock.duration.ms": int({
    default: "15000",
    min: 1000,
    max: 3600000,
    importance: "medium",
    doc: "Lowest share.record.lock.duration.ms a share group may set.",
    dynamic: "read-only",
    appliedIn: "IncrementalAlterConfigs (GROUP)",
  }),
  "group.share.max.record.lock.duration.ms": int({
    default: "60000",
    min: 1000,
    max: 3600000,
    importance: "medium",
    doc: "Highest share.record.lock.duration.ms a share group may set.",
    dynamic: "read-only",
    appliedIn: "IncrementalAlterConfigs (GROUP)",
  }),
  "group.share.delivery.count.limit": int({
    default: "5",
    min: 2,
    max: 10,
    importance: "medium",
    doc: "Deliveries of a record to share group members after which it is archived instead of made available again.",
    dynamic: "read-only",
    appliedIn: "ShareFetch, ShareAcknowledge",
  }),
  "group.share.partition.max.record.locks": int({
    default: "2000",
    min: 100,
    max: 10000,
    importance: "medium",
    doc: "Most records of one share-partition in flight (acquired or awaiting redelivery) at once.",
    dynamic: "read-only",
    appliedIn: "ShareFetch",
  }),
  "group.share.session.timeout.ms": int({
    default: "45000",
    min: 1,
    importance: "medium",
    doc: "Session timeout of share group members: one that does not heartbeat within it leaves the group.",
    dynamic: "read-only",
    appliedIn: "ShareGroupHeartbeat",
  }),
  "group.share.heartbeat.interval.ms": int({
    default: "5000",
    min: 1,
    importance: "medium",
    doc: "Heartbeat interval given to share group members.",
    dynamic: "read-only",
    appliedIn: "ShareGroupHeartbeat",
  }),
  "group.share.max.size": int({
    default: "200",
    min: 10,
    max: 1000,
    importance: "medium",
    doc: "Most members a share group may have.",
    dynamic: "read-only",
    appliedIn: "ShareGroupHeartbeat",
  }),
  "group.share.max.share.sessions": int({
    default: "2000",
    min: 1,
    max: 10000,
    importance: "medium",
    doc: "Most share sessions (one per member fetching from this broker) open at once.",
    dynamic: "read-only",
    appliedIn: "ShareFetch",
  }),
  "share.coordinator.state.topic.num.partitions": int({
    default: "50",
    min: 1,
    max: 1000,
    importance: "high",
    doc: "Partitions of __share_group_state when it is created.",
    dynamic: "read-only",
    appliedIn: "share coordinator",
  }),
  "share.coordinator.state.topic.replication.factor": int({
    default: "3",
    min: 1,
    max: 32767,
    importance: "high",
    doc: "Replication factor of __share_group_state when it is created, capped by the live brokers.",
    dynamic: "read-only",
    appliedIn: "share coordinator",
  }),
  "share.coordinator.snapshot.update.records.per.snapshot": int({
    default: "500",
    min: 0,
    max: 500,
    importance: "medium",
    doc: "ShareUpdate records written for a share-partition before its state is written whole as a ShareSnapshot.",
    dynamic: "read-only",
    appliedIn: "share coordinator",
  }),
  "transaction.state.log.num.partitions": int({
    default: "50",
    min: 1,
    importance: "high",
    doc: "Partitions of __transaction_state when it is created.",
    dynamic: "read-only",
    appliedIn: "transaction coordinator",
  }),
  "transaction.state.log.segment.bytes": int({
    default: "104857600",
    min: 1,
    importance: "high",
    doc: "Segment size of __transaction_state when it is created (its segment.bytes).",
    dynamic: "read-only",
    appliedIn: "transaction coordinator",
  }),
  "transaction.state.log.load.buffer.size": int({
    default: "5242880",
    min: 1,
    importance: "low",
    doc: "Bytes read at a time from __transaction_state while its transactions are loaded at start-up.",
    dynamic: "read-only",
    appliedIn: "transaction coordinator",
  }),
  "transaction.state.log.replication.factor": int({
    default: "3",
    min: 1,
    max: 32767,
    importance: "high",
    doc: "Replication factor of __transaction_state when it is created, capped by the live brokers.",
    dynamic: "read-only",
    appliedIn: "transaction coordinator",
  }),
  "transaction.state.log.min.isr": int({
    default: "2",
    min: 1,
    importance: "high",
    doc: "Accepted and described only: the one replica of __transaction_state is always in sync.",
    dynamic: "read-only",
    appliedIn: null,
  }),
  "transaction.max.timeout.ms": int({
    default: "900000",
    min: 1,
    importance: "high",
    doc: "Longest transaction timeout a producer may ask for; InitProducerId with a longer one gets INVALID_TRANSACTION_TIMEOUT.",
    dynamic: "read-only",
    appliedIn: "InitProducerId",
  }),
  "transactional.id.expiration.ms": int({
    default: "604800000",
    min: 1,
    importance: "high",
    doc: "How long a transactional id may go without a transaction before the coordinator forgets it.",
    dynamic: "read-only",
    appliedIn: "transaction coordinator",
  }),
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": int({
    default: "10000",
    min: 1,
    importance: "low",
    doc: "How often transactions open longer than their timeout are looked for and aborted.",
    dynamic: "read-only",
    appliedIn: "transaction coordinator",
  }),
  "transaction.remove.expired.transaction.cleanup.interval.ms": int({
    default: "3600000",
    min: 1,
    importance: "low",
    doc: "How often transactional ids past transactional.id.expiration.ms are looked for and removed.",
    dynamic: "read-only",
    appliedIn: "transaction coordinator",
  }),
  "transaction.partition.verification.enable": bool({
    default: "true",
    importance: "low",
    doc: "Whether a transactional batch of protocol v1 is refused unless its partition was added to the producer's transaction first.",
    dynamic: "read-only",
    appliedIn: "Produce",
  }),
  "replica.lag.time.max.ms": long({
    default: "30000",
    min: 0,
    importance: "high",
    doc: "A follower that has not caught up with its leader's log end for this long leaves the ISR.",
    dynamic: "read-only",
    appliedIn: "replication (leader)",
  }),
  "replica.fetch.wait.max.ms": int({
    default: "500",
    min: 0,
    importance: "medium",
    doc: "How long a follower's fetch waits at its leader for new records.",
    dynamic: "read-only",
    appliedIn: "replication (follower)",
  }),
  "replica.fetch.min.bytes": int({
    default: "1",
    min: 0,
    importance: "high",
    doc: "Bytes a follower's fetch waits for before the leader answers.",
    dynamic: "read-only",
    appliedIn: "replication (follower)",
  }),
  "replica.fetch.max.bytes": int({
    default: "1048576",
    min: 0,
    importance: "medium",
    doc: "Bytes a follower asks for per partition in one fetch (at least one batch comes whatever its size).",
    dynamic: "read-only",
    appliedIn: "replication (follower)",
  }),
  "replica.fetch.response.max.bytes": int({
    default: "10485760",
    min: 0,
    importance: "medium",
    doc: "Bytes a follower asks for in one fetch over all its partitions.",
    dynamic: "read-only",
    appliedIn: "replication (follower)",
  }),
  "replica.fetch.backoff.ms": int({
    default: "1000",
    min: 0,
    importance: "medium",
    doc: "How long a follower waits after a failed fetch before it fetches again.",
    dynamic: "read-only",
    appliedIn: "replication (follower)",
  }),
  "replica.socket.timeout.ms": int({
    default: "30000",
    importance: "high",
    doc: "How long a follower waits for its leader to answer a request before it reconnects.",
    dynamic: "read-only",
    appliedIn: "replication (follower)",
  }),
  "replica.selector.class": className({
    default: null,
    check: replicaSelectorProblem,
    importance: "medium",
    doc: `Unset, consumers read from leaders; ${RACK_AWARE_SELECTOR} sends them to an in-sync replica in their rack.`,
    dynamic: "read-only",
    appliedIn: "Fetch (leader)",
  }),
  "replica.high.watermark.checkpoint.interval.ms": long({
    default: "5000",
    min: 1,
    importance: "high",
    doc: "How often the high watermarks of replicated partitions are written to replication-offset-checkpoint.",
    dynamic: "read-only",
    appliedIn: "replication",
  }),
} satisfies Record<string, BrokerKeyDef>;

/**
 * Kafka 4.4's topic configs, in name order (as DescribeConfigs lists them), and its internal
 * internal.segment.bytes. Those without a `log` field are stored and described only (their doc says so).
 */
export const TOPIC_KEYS = {
  "cleanup.policy": list({
    default: "delete",
    oneOf: ["compact", "delete"],
    importance: "medium",
    doc: "delete: old segments go by retention; compact: the latest record per key is kept; or both.",
    log: "cleanupPolicy",
  }),
  "compression.gzip.level": int({
    default: "-1",
    check: gzipLevel,
    importance: "medium",
    doc: "Accepted and described only: gzip batches are written at the codec's default level.",
  }),
  "compression.lz4.level": int({
    default: "9",
    min: 1,
    max: 17,
    importance: "medium",
    doc: "Accepted and described only: lz4 batches are written at the codec's default level.",
  }),
  "compression.type": choice({
    default: "producer",
    oneOf: ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"],
    importance: "medium",
    doc: "Codec of stored batches; producer keeps what the producer sent.",
    log: "compressionType",
  }),
  "compression.zstd.level": int({
    default: "3",
    min: -131072,
    max: 22,
    importance: "medium",
    doc: "Accepted and described only: zstd batches are written at the codec's default level.",
  }),
  "delete.retention.ms": long({
    default: "86400000",
    min: 0,
    importance: "medium",
    doc: "How long tombstones stay on a compacted topic after it was first cleaned.",
    log: "deleteRetentionMs",
  }),
  "errors.deadletterqueue.group.enable": bool({
    default: "false",
    importance: "medium",
    doc: "Accepted and described only: streams groups and their dead letter queues are not supported.",
  }),
  "file.delete.delay.ms": long({
    default: "60000",
    min: 0,
    importance: "medium",
    doc: "Wait before a deleted segment's files are removed.",
    log: "fileDeleteDelayMs",
  }),
  "flush.messages": long({
    default: LONG_MAX,
    min: 1,
    importance: "medium",
    doc: "Records written between two fsyncs.",
    log: "flushMessages",
  }),
  "flush.ms": long({
    default: LONG_MAX,
    min: 0,
    importance: "medium",
    doc: "Longest a written record waits for an fsync.",
    log: "flushMs",
  }),
  "follower.replication.throttled.replicas": list({
    default: "",
    importance: "medium",
    doc: "Accepted and described only: no replication.",
  }),
  "index.interval.bytes": int({
    default: "4096",
    min: 0,
    importance: "medium",
    doc: "Bytes of records between two entries of the offset index.",
    log: "indexIntervalBytes",
  }),
  "internal.segment.bytes": int({
    default: null,
    min: 14,
    importance: "medium",
    doc: "For tests (Kafka's internal key): a segment size below the 1 MiB minimum, over segment.bytes.",
    internal: true,
  }),
  "leader.replication.throttled.replicas": list({
    default: "",
    importance: "medium",
    doc: "Accepted and described only: no replication.",
  }),
  "local.retention.bytes": long({
    default: "-2",
    min: -2,
    importance: "medium",
    doc: "Accepted and described only: no tiered storage (-2: retention.bytes).",
  }),
  "local.retention.ms": long({
    default: "-2",
    min: -2,
    importance: "medium",
    doc: "Accepted and described only: no tiered storage (-2: retention.ms).",
  }),
  "max.compaction.lag.ms": long({
    default: LONG_MAX,
    min: 1,
    importance: "medium",
    doc: "Accepted and described only: compaction is not forced by age.",
  }),
  "max.message.bytes": int({
    default: "1048588",
    min: 0,
    importance: "medium",
    doc: "Largest record batch accepted.",
    log: "maxMessageBytes",
  }),
  "max.decompressed.message.bytes": int({
    default: String(MAX_ARRAY),
    min: 1,
    max: MAX_ARRAY,
    importance: "medium",
    doc: "Accepted and described only: decompressed batches are not limited by it.",
  }),
  "message.timestamp.after.max.ms": long({
    default: "3600000",
    min: 0,
    importance: "medium",
    doc: "How far in the future a CreateTime timestamp may be.",
    log: "messageTimestampAfterMaxMs",
  }),
  "message.timestamp.before.max.ms": long({
    default: LONG_MAX,
    min: 0,
    importance: "medium",
    doc: "How far in the past a CreateTime timestamp may be.",
    log: "messageTimestampBeforeMaxMs",
  }),
  "message.timestamp.type": choice({
    default: "CreateTime",
    oneOf: ["CreateTime", "LogAppendTime"],
    importance: "medium",
    doc: "Whether stored timestamps are the producer's (CreateTime) or the broker's (LogAppendTime).",
    log: "messageTimestampType",
  }),
  "min.cleanable.dirty.ratio": double({
    default: "0.5",
    min: 0,
    max: 1,
    importance: "medium",
    doc: "Share of uncleaned bytes that makes a compacted log due for cleaning.",
    log: "minCleanableDirtyRatio",
  }),
  "min.compaction.lag.ms": long({
    default: "0",
    min: 0,
    importance: "medium",
    doc: "Records younger than this are not compacted.",
    log: "minCompactionLagMs",
  }),
  "min.insync.replicas": int({
    default: "1",
    min: 1,
    importance: "medium",
    doc: "The fewest in-sync replicas an acks=all produce to the topic is taken with.",
  }),
  preallocate: bool({
    default: "false",
    importance: "medium",
    doc: "Accepted and described only: segment files are not preallocated.",
  }),
  "remote.copy.lag.bytes": long({
    default: "-1",
    min: -1,
    importance: "medium",
    doc: "Accepted and described only: no tiered storage.",
  }),
  "remote.copy.lag.ms": long({
    default: "0",
    min: -1,
    importance: "medium",
    doc: "Accepted and described only: no tiered storage.",
  }),
  "remote.log.copy.disable": bool({
    default: "false",
    importance: "medium",
    doc: "Accepted and described only: no tiered storage.",
  }),
  "remote.log.delete.on.disable": bool({
    default: "false",
    importance: "medium",
    doc: "Accepted and described only: no tiered storage.",
  }),
  "remote.storage.enable": bool({
    default: "false",
    importance: "medium",
    doc: "Tiered storage for this topic (not available on this broker).",
  }),
  "retention.bytes": long({
    default: "-1",
    importance: "medium",
    doc: "Size a partition may keep before its oldest segments are deleted (-1: no limit).",
    log: "retentionBytes",
  }),
  "retention.ms": long({
    default: "604800000",
    min: -1,
    importance: "medium",
    doc: "Age after which old segments are deleted (-1: kept forever).",
    log: "retentionMs",
  }),
  "segment.bytes": int({
    default: "1073741824",
    min: SEGMENT_BYTES_MIN,
    importance: "medium",
    doc: "Size at which a segment file is rolled.",
    log: "segmentBytes",
  }),
  "segment.index.bytes": int({
    default: "10485760",
    min: 4,
    importance: "medium",
    doc: "Largest size of a segment's offset index; a full index rolls the segment.",
    log: "segmentIndexBytes",
  }),
  "segment.jitter.ms": long({
    default: "0",
    min: 0,
    importance: "medium",
    doc: "Random jitter subtracted from segment.ms.",
    log: "segmentJitterMs",
  }),
  "segment.ms": long({
    default: "604800000",
    min: 1,
    importance: "medium",
    doc: "Age at which a segment is rolled.",
    log: "segmentMs",
  }),
  "unclean.leader.election.enable": bool({
    default: "false",
    importance: "medium",
    doc: "Accepted and described only: the controller elects leaders from the ISR alone, as with false.",
  }),
} satisfies Record<string, TopicKeyDef>;

export type BrokerKeyName = keyof typeof BROKER_KEYS;
export type TopicKeyName = keyof typeof TOPIC_KEYS;

/** The broker keys' values once parsed: what `BrokerConfig.props` holds. */
export type BrokerProperties = { [N in BrokerKeyName]: ValueOf<(typeof BROKER_KEYS)[N]> };

type LogFieldOf<D> = D extends { readonly log: infer F extends string } ? F : never;

/** The topic configs the log layer reads, by their LogConfig field names, typed by their parsers. */
export type LogFields = {
  -readonly [N in TopicKeyName as LogFieldOf<(typeof TOPIC_KEYS)[N]>]: ValueOf<(typeof TOPIC_KEYS)[N]>;
};

const brokerKeys: ReadonlyMap<string, BrokerKeyDef> = new Map(Object.entries(BROKER_KEYS));
const topicKeys: ReadonlyMap<string, TopicKeyDef> = new Map(Object.entries(TOPIC_KEYS));

export const BROKER_KEY_NAMES: readonly BrokerKeyName[] = Object.keys(BROKER_KEYS) as BrokerKeyName[];
export const TOPIC_KEY_NAMES: readonly TopicKeyName[] = Object.keys(TOPIC_KEYS) as TopicKeyName[];

export function brokerKey(name: string): BrokerKeyDef | undefined {
  return brokerKeys.get(name);
}

export function topicKey(name: string): TopicKeyDef | undefined {
  return topicKeys.get(name);
}

/** The broker keys that give a topic config its default, most specific first (Kafka's synonyms). */
export function brokerSynonymsOf(topicName: string): readonly string[] {
  return BROKER_KEY_NAMES.filter((k) => brokerKeys.get(k)!.topic?.name === topicName);
}

/** Kafka's names of the broker setting `key` belongs to: log.retention.ms, .minutes, .hours are one. */
export function settingNames(key: string): readonly string[] {
  const topic = brokerKeys.get(key)?.topic?.name;
  return topic === undefined ? [key] : brokerSynonymsOf(topic);
}

/** A broker setting's value in its topic config's unit (hours to ms, say); a negative one means "none". */
export function toTopicUnit(value: number, scale: number | undefined): number {
  if (scale === undefined) return value;
  return value < 0 ? -1 : value * scale;
}
