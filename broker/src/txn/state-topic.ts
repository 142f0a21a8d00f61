import {
  buildRecordBatch,
  isControlBatch,
  Reader,
  TransactionLogKeyCodec,
  TransactionLogValueCodec,
  Writer,
  type TransactionLogValue,
} from "@tskafka/protocol";
import { InternalTopic, type InternalTopicHost, type InternalTopicSpec } from "../cluster/internal-topic.js";
import { ErrorCode } from "../errors.js";
import { offsetsPartitionFor } from "../group/java-hash.js";
import {
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  PartitionSet,
  TransactionMetadata,
  TxnState,
  type TxnTransit,
} from "./state.js";

/**
 * `__transaction_state`, the compacted internal topic that holds the transaction coordinator's state, in
 * Kafka's own record format: the key is an int16 record type (0) and a TransactionLogKey (the
 * transactional id), the value an int16 version and a TransactionLogValue (v0, or v1 with tagged fields
 * once transaction.version is 1 or more); a null value is the tombstone of an expired id. A transactional
 * id's records go to partition `abs(hashCode(id)) % partitions`, as Kafka places them.
 */

export const TRANSACTION_STATE_TOPIC = "__transaction_state";
/** The key's record type (the coordinator record type of TransactionLogKey). */
const KEY_TYPE = 0;

/** What the topic uses of the broker. */
export type TransactionStateTopicHost = InternalTopicHost;

const STATE_SPEC: InternalTopicSpec = {
  name: TRANSACTION_STATE_TOPIC,
  numPartitions: (props) => props["transaction.state.log.num.partitions"],
  replicationFactor: (props) => props["transaction.state.log.replication.factor"],
  configs: (props) => ({
    "cleanup.policy": "compact",
    "compression.type": "uncompressed",
    "segment.bytes": String(props["transaction.state.log.segment.bytes"]),
    "unclean.leader.election.enable": "false",
    "min.insync.replicas": String(props["transaction.state.log.min.isr"]),
  }),
};

/** Record values as written: the transit's fields, in the log value version `version`. */
export function encodeValue(transit: TxnTransit, version: number): Buffer {
  const value: TransactionLogValue = {
    producerId: transit.producerId,
    previousProducerId: version >= 1 ? transit.prevProducerId : NO_PRODUCER_ID,
    nextProducerId: version >= 1 ? transit.nextProducerId : NO_PRODUCER_ID,
    producerEpoch: transit.producerEpoch,
    nextProducerEpoch: NO_PRODUCER_EPOCH,
    transactionTimeoutMs: transit.txnTimeoutMs,
    transactionStatus: transit.state,
    // Kafka writes no partition list for Empty.
    transactionPartitions:
      transit.state === TxnState.EMPTY
        ? null
        : transit.partitions.byTopic().map((t) => ({ topic: t.topic, partitionIds: t.partitions })),
    transactionLastUpdateTimestampMs: BigInt(transit.txnLastUpdateTimestamp),
    transactionStartTimestampMs: BigInt(transit.txnStartTimestamp),
    clientTransactionVersion: version >= 1 ? transit.clientTransactionVersion : 0,
  };
  const buf = Buffer.allocUnsafe(2 + TransactionLogValueCodec.size(value, version));
  buf.writeInt16BE(version, 0);
  TransactionLogValueCodec.encode(new Writer(buf, 2), value, version);
  return buf;
}

export function encodeKey(transactionalId: string): Buffer {
  const key = { transactionalId };
  const buf = Buffer.allocUnsafe(2 + TransactionLogKeyCodec.size(key, 0));
  buf.writeInt16BE(KEY_TYPE, 0);
  TransactionLogKeyCodec.encode(new Writer(buf, 2), key, 0);
  return buf;
}

/** A record read back: the id, and its metadata (null for a tombstone); undefined for a key of another type. */
export function decodeRecord(
  key: Buffer,
  value: Buffer | null,
): { transactionalId: string; metadata: TransactionMetadata | null } | undefined {
  if (key.length < 2 || key.readInt16BE(0) !== KEY_TYPE) return undefined;
  const { transactionalId } = TransactionLogKeyCodec.decode(new Reader(key, 2, key.length), 0);
  if (value === null) return { transactionalId, metadata: null };
  const v = TransactionLogValueCodec.decode(new Reader(value, 2, value.length), value.readInt16BE(0));
  const state = v.transactionStatus as TxnState;
  const partitions = new PartitionSet();
  if (state !== TxnState.EMPTY)
    for (const t of v.transactionPartitions ?? [])
      for (const p of t.partitionIds) partitions.add({ topic: t.topic, partition: p });
  const metadata = new TransactionMetadata(
    transactionalId,
    v.producerId,
    v.previousProducerId,
    v.nextProducerId,
    v.producerEpoch,
    // Not kept in the log (Kafka reads it back as none either).
    NO_PRODUCER_EPOCH,
    v.transactionTimeoutMs,
    state,
    partitions,
    Number(v.transactionStartTimestampMs),
    Number(v.transactionLastUpdateTimestampMs),
    v.clientTransactionVersion,
  );
  return { transactionalId, metadata };
}

export class TransactionStateTopic {
  private readonly topic: InternalTopic;

  constructor(private readonly host: TransactionStateTopicHost) {
    this.topic = new InternalTopic(host, STATE_SPEC);
  }

  get partitions(): number {
    return this.topic.partitions;
  }

  partitionFor(transactionalId: string): number {
    return offsetsPartitionFor(transactionalId, this.partitions);
  }

  /** Creates the topic on first use, as Kafka does when a transaction coordinator is first looked up. */
  ensureCreated(): Promise<void> {
    return this.topic.ensureCreated();
  }

  /**
   * Appends one record (value null: a tombstone) and waits for the ISR (acks=all, as Kafka's coordinator
   * writes); returns the log's error code, or the ISR's (the coordinator maps NOT_ENOUGH_REPLICAS and
   * REQUEST_TIMED_OUT to COORDINATOR_NOT_AVAILABLE, a lost leadership to NOT_COORDINATOR).
   */
  async append(transactionalId: string, value: Buffer | null): Promise<number> {
    await this.ensureCreated(); // first: the partition count is the created topic's
    const partition = this.partitionFor(transactionalId);
    const batch = () => buildRecordBatch([{ key: encodeKey(transactionalId), value }]);
    const { result, committed } = await this.topic.append(partition, batch);
    if (result.errorCode !== ErrorCode.NONE) {
      this.host.log.warn(
        `transactional id ${transactionalId}: writing to ${TRANSACTION_STATE_TOPIC}-${partition} failed with error ${result.errorCode}`,
      );
    }
    return committed;
  }

  /** Replays every partition (or those named) from its log start, calling `apply` for each record in log order. */
  async load(
    apply: (transactionalId: string, metadata: TransactionMetadata | null) => void,
    partitions?: ReadonlySet<number>,
  ): Promise<number> {
    const readBytes = this.host.config.props["transaction.state.log.load.buffer.size"];
    let count = 0;
    await this.topic.replay(
      readBytes,
      (p, batch) => {
        if (isControlBatch(batch)) return;
        for (const r of batch.records) {
          const decoded = r.key === null ? undefined : this.decodeSafely(p, r.key, r.value);
          if (decoded === undefined) continue;
          apply(decoded.transactionalId, decoded.metadata);
          count++;
        }
      },
      partitions,
    );
    return count;
  }

  private decodeSafely(partition: number, key: Buffer, value: Buffer | null): ReturnType<typeof decodeRecord> {
    try {
      return decodeRecord(key, value);
    } catch (e) {
      this.host.log.warn(
        `${TRANSACTION_STATE_TOPIC}-${partition}: skipping a record that does not decode: ${(e as Error).message}`,
      );
      return undefined;
    }
  }
}
