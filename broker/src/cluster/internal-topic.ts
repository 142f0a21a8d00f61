import type { RecordBatch } from "@tskafka/protocol";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { LogManager } from "../log/log-manager.js";
import type { AppendResult, PartitionLog } from "../log/partition-log.js";
import { replayPartition } from "../log/replay.js";
import type { Logger } from "../logger.js";
import type { FetchWaiters } from "./fetch-waiters.js";
import type { ClusterMetadata } from "./metadata.js";
import type { TopicAdmin } from "./topic-admin.js";

/**
 * What the coordinators' internal topics (`__consumer_offsets`, `__transaction_state`,
 * `__share_group_state`) share: created on first use with their fixed configs, a key's partition, appends
 * that wait for the ISR as Kafka's coordinator writes do (acks=all), and replay from the log start.
 */

/** What an internal topic uses of the broker. */
export interface InternalTopicHost {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: Pick<ClusterMetadata, "topic">;
  readonly topics: Pick<TopicAdmin, "create">;
  readonly logs: Pick<LogManager, "get" | "getOrCreate">;
  readonly fetchWaiters?: Pick<FetchWaiters, "notify">;
  /** acks=all for the coordinator's writes: resolves once the partition's ISR has them (absent: at once). */
  readonly replication?: {
    waitForCommit(topic: string, partition: number, offset: bigint, timeoutMs: number): Promise<number>;
  };
}

/** How an internal topic is made: its name and what it is created with. */
export interface InternalTopicSpec {
  readonly name: string;
  /** The partition count when it is created (a broker key). */
  numPartitions(props: BrokerConfig["props"]): number;
  replicationFactor(props: BrokerConfig["props"]): number;
  configs(props: BrokerConfig["props"]): Record<string, string>;
}

/** How long a coordinator's write waits for the ISR (Kafka's offsets.commit.timeout.ms default). */
const COMMIT_TIMEOUT_MS = 5000;

/** An append: the log's answer, and once it succeeded, whether the ISR took it (an error code). */
export interface InternalAppend {
  /** The partition's log, appended to. */
  readonly log: PartitionLog;
  readonly result: AppendResult;
  readonly committed: number;
}

export class InternalTopic {
  private creating: Promise<void> | undefined;

  constructor(
    private readonly host: InternalTopicHost,
    private readonly spec: InternalTopicSpec,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /** The partition count: the topic's, or the one it will be created with. */
  get partitions(): number {
    return this.host.metadata.topic(this.spec.name)?.partitions ?? this.spec.numPartitions(this.host.config.props);
  }

  /** Creates the topic on first use, as Kafka does when a coordinator is first looked up. */
  ensureCreated(): Promise<void> {
    const { name } = this.spec;
    if (this.host.metadata.topic(name) !== undefined) return Promise.resolve();
    const props = this.host.config.props;
    this.creating ??= this.host.topics
      .create(name, this.spec.numPartitions(props), this.spec.configs(props), {
        replicationFactor: this.spec.replicationFactor(props),
        capped: true,
      })
      .then((r) => {
        if (typeof r === "number" && r !== ErrorCode.TOPIC_ALREADY_EXISTS)
          throw new Error(`cannot create ${name}: error ${r}`);
      })
      .finally(() => (this.creating = undefined));
    return this.creating;
  }

  /** The partition's log, the topic created first when it is not yet. */
  async log(partition: number): Promise<PartitionLog> {
    await this.ensureCreated();
    return this.host.logs.getOrCreate(this.spec.name, partition);
  }

  /**
   * Appends a batch built for the partition's log and, when the log took it, waits until the ISR has it
   * (`committed`: NONE, or why not, e.g. NOT_LEADER_OR_FOLLOWER when the leadership went).
   */
  async append(partition: number, batch: (log: PartitionLog) => Buffer): Promise<InternalAppend> {
    const log = await this.log(partition);
    const result = await log.append(batch(log));
    if (result.errorCode !== ErrorCode.NONE) return { log, result, committed: result.errorCode };
    this.host.fetchWaiters?.notify(this.spec.name, partition);
    const committed =
      (await this.host.replication?.waitForCommit(
        this.spec.name,
        partition,
        result.lastOffset + 1n,
        COMMIT_TIMEOUT_MS,
      )) ?? ErrorCode.NONE;
    return { log, result, committed };
  }

  /** Replays every partition (or those named) from its log start, batch by batch in log order. */
  async replay(
    readBytes: number,
    visit: (partition: number, batch: RecordBatch) => void,
    partitions?: ReadonlySet<number>,
  ): Promise<void> {
    const info = this.host.metadata.topic(this.spec.name);
    if (info === undefined) return;
    for (let p = 0; p < info.partitions; p++) {
      if (partitions !== undefined && !partitions.has(p)) continue;
      const log = this.host.logs.get(this.spec.name, p);
      if (log === undefined) continue;
      await replayPartition(log, readBytes, (batch) => visit(p, batch));
    }
  }
}
