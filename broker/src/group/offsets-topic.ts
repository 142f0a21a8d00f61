import {
  BatchAttributes,
  buildRecordBatch,
  ControlRecordType,
  isControlBatch,
  readControlRecordKey,
  type RecordBatch,
} from "@tskafka/protocol";
import type { AppendOptions, PartitionLog } from "../log/partition-log.js";
import { InternalTopic, type InternalTopicHost, type InternalTopicSpec } from "../cluster/internal-topic.js";
import { ErrorCode } from "../errors.js";
import type { TxnMarker } from "../txn/marker.js";
import { offsetsPartitionFor } from "./java-hash.js";
import { decodeRecord, type CoordinatorRecord, type DecodedRecord } from "./records.js";

export const OFFSETS_TOPIC = "__consumer_offsets";
/** How much of a partition is read per step while loading. */
const LOAD_READ_BYTES = 1024 * 1024;
const INT32_MAX = 2147483647;

/** What loading reports, partition by partition, in log order. */
export interface LoadVisitor {
  /** A record; `producerId` is the producer of a transactional batch (its offsets wait for its marker), else -1n. */
  record(record: DecodedRecord, producerId: bigint): void;
  /** A transaction marker (COMMIT when `committed`) of `producerId` on `partition`. */
  marker(partition: number, producerId: bigint, committed: boolean): void;
}

/** Append errors that concern the producer of a transactional write: passed on as they are (Kafka does). */
const PRODUCER_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.PRODUCER_FENCED,
  ErrorCode.INVALID_TXN_STATE,
  ErrorCode.INVALID_PRODUCER_ID_MAPPING,
  ErrorCode.TRANSACTION_ABORTABLE,
]);

/**
 * The sequence a coordinator batch of `producerId` must carry to pass the log's idempotence check: 0 in
 * a new epoch, else one past the producer's last batch on the partition. (Kafka skips that check for
 * its coordinators' own appends, AppendOrigin.COORDINATOR, and writes 0; our log checks every batch.)
 */
function nextSequence(log: PartitionLog, producerId: bigint, producerEpoch: number): number {
  const entry = log.producerState.producers.get(producerId);
  if (entry === undefined || entry.epoch !== producerEpoch) return 0;
  const last = entry.batches[entry.batches.length - 1];
  if (last === undefined || last.lastSeq === INT32_MAX) return 0;
  return last.lastSeq + 1;
}

/** What the offsets topic uses of the broker. */
export type OffsetsTopicHost = InternalTopicHost;

const OFFSETS_SPEC: InternalTopicSpec = {
  name: OFFSETS_TOPIC,
  numPartitions: (props) => props["offsets.topic.num.partitions"],
  replicationFactor: (props) => props["offsets.topic.replication.factor"],
  configs: () => ({ "cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": "104857600" }),
};

/**
 * The internal compacted topic that holds committed offsets and group metadata, on the broker's own
 * log store. Writes for one group go to the group's partition as one batch (a transactional one for
 * TxnOffsetCommit), transaction markers to the partition they end a transaction on; loading replays
 * every partition from its start.
 */
export class OffsetsTopic {
  private readonly topic: InternalTopic;

  constructor(private readonly host: OffsetsTopicHost) {
    this.topic = new InternalTopic(host, OFFSETS_SPEC);
  }

  get partitions(): number {
    return this.topic.partitions;
  }

  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.partitions);
  }

  /** Creates the topic on first use, as Kafka does when a coordinator is first looked up. */
  ensureCreated(): Promise<void> {
    return this.topic.ensureCreated();
  }

  /** Appends records of one group; returns an error code (NONE on success). */
  async append(groupId: string, records: readonly CoordinatorRecord[]): Promise<number> {
    if (records.length === 0) return ErrorCode.NONE;
    return this.appendBatch(groupId, () => buildRecordBatch(records), "");
  }

  /**
   * Appends the offset records of a TxnOffsetCommit as one transactional batch of the producer (its id
   * and epoch, the transactional attribute): durable, and part of the producer's transaction on the
   * partition until a marker ends it. Returns an error code.
   */
  async appendTxn(
    groupId: string,
    records: readonly CoordinatorRecord[],
    producerId: bigint,
    producerEpoch: number,
  ): Promise<number> {
    if (records.length === 0) return ErrorCode.NONE;
    const batch = (log: PartitionLog) =>
      buildRecordBatch(records, {
        producerId,
        producerEpoch,
        baseSequence: nextSequence(log, producerId, producerEpoch),
        transactional: true,
      });
    return this.appendBatch(groupId, batch, ` (transactional, producer ${producerId} epoch ${producerEpoch})`);
  }

  private async appendBatch(groupId: string, batch: (log: PartitionLog) => Buffer, what: string): Promise<number> {
    await this.ensureCreated(); // first: the partition count is the created topic's
    const partition = this.partitionFor(groupId);
    const { result, committed } = await this.topic.append(partition, batch);
    if (result.errorCode !== ErrorCode.NONE) {
      this.host.log.warn(
        `group ${groupId}: writing to ${OFFSETS_TOPIC}-${partition}${what} failed with error ${result.errorCode}`,
      );
      if (what !== "" && PRODUCER_ERRORS.has(result.errorCode)) return result.errorCode;
      return result.errorCode === ErrorCode.MESSAGE_TOO_LARGE || result.errorCode === ErrorCode.RECORD_LIST_TOO_LARGE
        ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE
        : ErrorCode.UNKNOWN_SERVER_ERROR;
    }
    // As Kafka's coordinator writes: acks=all; the ISR not reached in time is COORDINATOR_NOT_AVAILABLE,
    // the leadership gone NOT_COORDINATOR (the client finds the coordinator again).
    if (committed === ErrorCode.NONE) return ErrorCode.NONE;
    this.host.log.warn(
      `group ${groupId}: ${OFFSETS_TOPIC}-${partition}'s ISR did not take the write (error ${committed})`,
    );
    return committed === ErrorCode.NOT_LEADER_OR_FOLLOWER
      ? ErrorCode.NOT_COORDINATOR
      : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  /**
   * Appends a transaction marker to one partition (the log checks the producer's epoch, by the
   * transaction version in `opts`); returns the log's error code as it is, for the transaction
   * coordinator to act on.
   */
  async appendMarker(partition: number, marker: TxnMarker, opts?: AppendOptions): Promise<number> {
    await this.ensureCreated();
    if (partition < 0 || partition >= this.partitions) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const log = await this.topic.log(partition);
    const result = await log.appendMarker(marker, opts);
    if (result.errorCode !== ErrorCode.NONE) {
      const kind = marker.committed ? "COMMIT" : "ABORT";
      this.host.log.warn(
        `${kind} marker of producer ${marker.producerId} on ${OFFSETS_TOPIC}-${partition} failed with error ${result.errorCode}`,
      );
      return result.errorCode;
    }
    this.host.fetchWaiters?.notify(OFFSETS_TOPIC, partition);
    return ErrorCode.NONE;
  }

  /**
   * Replays every partition (or those named) from its log start, in log order: each record, with the producer of a
   * transactional batch, and each transaction marker. Returns how many records were replayed.
   */
  async load(visit: LoadVisitor, partitions?: ReadonlySet<number>): Promise<number> {
    let count = 0;
    await this.topic.replay(LOAD_READ_BYTES, (p, batch) => (count += replayBatch(p, batch, visit)), partitions);
    return count;
  }
}

/** One stored batch: its marker, or its records; returns how many records were replayed. */
function replayBatch(partition: number, batch: RecordBatch, visit: LoadVisitor): number {
  if (isControlBatch(batch)) {
    const key = batch.records[0]?.key ?? null;
    // An empty control batch is a marker the cleaner removed; an unknown control type is skipped.
    if (key === null || key.length < 4) return 0;
    const type = readControlRecordKey(key).type;
    if (type === ControlRecordType.commit || type === ControlRecordType.abort)
      visit.marker(partition, batch.producerId, type === ControlRecordType.commit);
    return 0;
  }
  const producerId = (batch.attributes & BatchAttributes.transactional) !== 0 ? batch.producerId : -1n;
  let count = 0;
  for (const r of batch.records) {
    if (r.key === null) continue;
    const decoded = decodeRecord(r.key, r.value);
    if (decoded === undefined) continue;
    visit.record(decoded, producerId);
    count++;
  }
  return count;
}
