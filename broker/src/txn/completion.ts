import { ErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import type { TopicPartitionRef, TxnMarker, TxnMarkerWriter } from "./marker.js";
import { TxnState, type TransactionMetadata, type TxnTransit } from "./state.js";

/**
 * The second phase of a commit or abort: once PrepareCommit or PrepareAbort is written, the markers go
 * to every partition of the transaction (through the marker writer, which in a cluster sends them to
 * each partition's leader), and when all are written the Complete state is written. Meanwhile the id's
 * Complete state is pending, so its producer waits (CONCURRENT_TRANSACTIONS). Failed markers and a
 * failed Complete write are retried with a growing backoff until they succeed or the coordinator stops;
 * what is left is done again after a restart, from the Prepare state loaded from the log.
 */

/** Marker errors after which a partition needs no marker (Kafka's marker channel gives up on them too). */
const GIVE_UP: ReadonlySet<number> = new Set([
  // The partition is gone (its topic deleted).
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  // A newer producer epoch or coordinator already wrote past this transaction.
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.TRANSACTION_COORDINATOR_FENCED,
  ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
  ErrorCode.UNSUPPORTED_VERSION,
  // A marker is never refused for these unless something is broken: retrying would not help.
  ErrorCode.CORRUPT_MESSAGE,
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.RECORD_LIST_TOO_LARGE,
  ErrorCode.INVALID_REQUIRED_ACKS,
]);

const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 5000;

/** What completion uses of the coordinator. */
export interface CompleterHost {
  readonly log: Logger;
  readonly markers: TxnMarkerWriter;
  /** The coordinator epoch the markers carry. */
  readonly coordinatorEpoch: number;
  now(): number;
  writeTransit(txn: TransactionMetadata, transit: TxnTransit): Promise<number>;
}

export class TxnCompleter {
  private stopped = false;
  /** Completions under way, so that a shutdown can wait for the writes in progress. */
  private readonly running = new Set<Promise<void>>();
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly host: CompleterHost) {}

  /** Starts completing `txn` (in PrepareCommit or PrepareAbort, nothing pending). */
  start(txn: TransactionMetadata): void {
    if (this.stopped) return;
    const run = this.complete(txn).catch((e: unknown) =>
      this.host.log.error(`transactional id ${txn.transactionalId}: completing failed: ${(e as Error).message}`),
    );
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /** No more retries; what is under way finishes its current write. */
  stop(): void {
    this.stopped = true;
    for (const wake of [...this.sleepers]) wake();
  }

  /** Waits for the completions under way (after `stop`, they end at their next retry). */
  async flush(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private async complete(txn: TransactionMetadata): Promise<void> {
    const committed = txn.state === TxnState.PREPARE_COMMIT;
    const marker: TxnMarker = {
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
      committed,
      coordinatorEpoch: this.host.coordinatorEpoch,
      transactionVersion: txn.clientTransactionVersion,
    };
    const partitions = txn.partitions.list();
    const transit = txn.prepareComplete(this.host.now());
    if (!(await this.writeMarkers(txn.transactionalId, marker, partitions))) return;
    for (let backoff = FIRST_BACKOFF_MS; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      // Kept pending while retrying, as Kafka does when the Complete write fails.
      const error = await this.host.writeTransit(txn, transit);
      if (error === ErrorCode.NONE) return;
      if (this.stopped) return;
      txn.pendingState = transit.state;
      await this.sleep(backoff);
      if (this.stopped) return;
    }
  }

  /** Writes the markers until every partition has one (or needs none); false when stopped first. */
  private async writeMarkers(id: string, marker: TxnMarker, partitions: TopicPartitionRef[]): Promise<boolean> {
    let left = partitions;
    for (let backoff = FIRST_BACKOFF_MS; left.length > 0; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      const results = await this.host.markers.writeMarkers(marker, left);
      const retry: TopicPartitionRef[] = [];
      for (const r of results) {
        if (r.errorCode === ErrorCode.NONE) continue;
        if (GIVE_UP.has(r.errorCode)) {
          this.host.log.warn(
            `transactional id ${id}: no ${marker.committed ? "commit" : "abort"} marker for ${r.topic}-${r.partition} (error ${r.errorCode})`,
          );
        } else {
          retry.push({ topic: r.topic, partition: r.partition });
        }
      }
      left = retry;
      if (left.length === 0) break;
      if (this.stopped) return false;
      this.host.log.debug(`transactional id ${id}: retrying markers of ${left.length} partitions in ${backoff} ms`);
      await this.sleep(backoff);
      if (this.stopped) return false;
    }
    return true;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
