import type { AbortedTxn } from "./txn-index.js";

/**
 * What one cleaning pass knows and learns about transactions, in the manner of Kafka's
 * CleanedTransactionMetadata. It starts from the aborted transactions of the transaction indexes that
 * overlap the range cleaned, and is told of every batch of that range in offset order (from the first
 * segment of the log on, across all the groups of the pass):
 * - a transactional data batch inside an aborted transaction (its producer's, first offset <= the batch
 *   < its ABORT marker) is aborted: its records go;
 * - a marker (COMMIT or ABORT control batch) may go once no data batch of its transaction was met in the
 *   pass (Kafka's two passes: the pass that removes the data keeps the marker; a later pass finds the
 *   marker alone). A marker that must stay and ends an aborted transaction keeps its `.txnindex` entry in
 *   the cleaned segment; a marker whose transaction left no data needs no entry (no read_committed reader
 *   has anything of that transaction to skip).
 * A producer has at most one transaction open at a time, so "the transaction of a marker" is simply the
 * producer's transactional batches since its previous control batch.
 */
export class TxnCleaning {
  /** Per producer, its aborted transactions ordered by marker offset (they never overlap). */
  private readonly aborted = new Map<bigint, AbortedTxn[]>();
  /** Producers with a transactional data batch met since their last control batch in this pass. */
  private readonly withData = new Set<bigint>();
  /** Index entries of kept ABORT markers, in marker order, not yet taken by a cleaned segment. */
  private kept: AbortedTxn[] = [];

  constructor(abortedTxns: readonly AbortedTxn[]) {
    for (const txn of abortedTxns) {
      let list = this.aborted.get(txn.producerId);
      if (list === undefined) this.aborted.set(txn.producerId, (list = []));
      list.push(txn);
    }
    for (const list of this.aborted.values()) list.sort((a, b) => compare(a.lastOffset, b.lastOffset));
  }

  /** Whether the transactional batch of `producerId` ending at `lastOffset` belongs to an aborted transaction. */
  isAborted(producerId: bigint, lastOffset: bigint): boolean {
    const txn = this.abortedHolding(producerId, lastOffset);
    return txn !== null && txn.firstOffset <= lastOffset && lastOffset < txn.lastOffset;
  }

  /**
   * A transactional data batch met by the pass (in offset order): remembered as data of its producer's
   * transaction. True when it is aborted (its records can go).
   */
  onDataBatch(producerId: bigint, lastOffset: bigint): boolean {
    this.withData.add(producerId);
    return this.isAborted(producerId, lastOffset);
  }

  /**
   * A COMMIT or ABORT marker met by the pass at `offset`. True when it may be discarded (after its delete
   * horizon): no data of its transaction was met in this pass. A kept ABORT marker keeps its index entry.
   */
  onMarker(producerId: bigint, offset: bigint, abort: boolean): boolean {
    const hadData = this.withData.delete(producerId);
    if (!hadData) return true;
    if (abort) {
      const txn = this.abortedHolding(producerId, offset);
      if (txn !== null && txn.lastOffset === offset) this.kept.push(txn);
    }
    return false;
  }

  /** The index entries of kept markers met so far that the cleaned segment ending before `end` takes. */
  takeIndexEntries(end: bigint): AbortedTxn[] {
    const taken = this.kept.filter((t) => t.lastOffset < end);
    this.kept = this.kept.filter((t) => t.lastOffset >= end);
    return taken;
  }

  /** The producer's aborted transaction with the smallest marker offset >= `offset`, or null. */
  private abortedHolding(producerId: bigint, offset: bigint): AbortedTxn | null {
    const list = this.aborted.get(producerId);
    if (list === undefined) return null;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as AbortedTxn).lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return list[lo] ?? null;
  }
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
