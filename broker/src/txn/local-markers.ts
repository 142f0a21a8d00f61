import type { FetchWaiters } from "../cluster/fetch-waiters.js";
import { ErrorCode } from "../errors.js";
import type { AppendOptions, AppendResult } from "../log/partition-log.js";
import type { Logger } from "../logger.js";
import type { MarkerResults, TopicPartitionRef, TxnMarker, TxnMarkerWriter } from "./marker.js";

/**
 * The marker writer of a single node, where every partition is local: a marker for `__consumer_offsets`
 * goes to the group coordinator (which appends it and makes the transaction's staged offsets visible or
 * drops them), any other to the partition's log. Long-polling fetches of the partition are woken after.
 * In a cluster, a writer with the same interface sends WriteTxnMarkers to each partition's leader, whose
 * handler calls this one.
 */

const OFFSETS_TOPIC = "__consumer_offsets";

/** What a partition log offers for markers (the log store's control-batch append). */
export interface MarkerLog {
  appendMarker(marker: TxnMarker, opts?: AppendOptions): Promise<AppendResult>;
}

/** What the writer uses of the broker. */
export interface LocalMarkerHost {
  readonly log: Logger;
  readonly partitions: { partitionLog(topic: string, partition: number): MarkerLog | number };
  readonly groups: {
    completeTransaction(offsetsPartition: number, marker: TxnMarker, opts?: AppendOptions): Promise<number>;
  };
  readonly fetchWaiters: Pick<FetchWaiters, "notify">;
}

export class LocalMarkerWriter implements TxnMarkerWriter {
  constructor(private readonly host: LocalMarkerHost) {}

  async writeMarkers(marker: TxnMarker, partitions: readonly TopicPartitionRef[]): Promise<MarkerResults> {
    return Promise.all(
      partitions.map(async (p) => ({
        topic: p.topic,
        partition: p.partition,
        errorCode: await this.writeOne(marker, p),
      })),
    );
  }

  private async writeOne(marker: TxnMarker, p: TopicPartitionRef): Promise<number> {
    let errorCode: number;
    try {
      if (p.topic === OFFSETS_TOPIC) {
        errorCode = await this.host.groups.completeTransaction(p.partition, marker, markerOptions(marker));
      } else {
        const log = this.host.partitions.partitionLog(p.topic, p.partition);
        if (typeof log === "number") return log;
        errorCode = (await log.appendMarker(marker, markerOptions(marker))).errorCode;
      }
    } catch (e) {
      this.host.log.error(`marker for ${p.topic}-${p.partition}: ${(e as Error).message}`);
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    }
    if (errorCode === ErrorCode.NONE) this.host.fetchWaiters.notify(p.topic, p.partition);
    return errorCode;
  }
}

/** The partition checks a marker's epoch by the rules of its transaction's version. */
function markerOptions(marker: TxnMarker): AppendOptions {
  return marker.transactionVersion === undefined ? {} : { transactionVersion: marker.transactionVersion };
}
