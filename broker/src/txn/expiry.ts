import { ErrorCode } from "../errors.js";
import type { EndTxnResult, TxnContext } from "./context.js";
import { endTransaction } from "./end-txn.js";
import { expirationAllowed, TxnState } from "./state.js";

/**
 * The coordinator's two timers, as Kafka's:
 * - every transaction.abort.timed.out.transaction.cleanup.interval.ms, a transaction open longer than its
 *   timeout is aborted with a bumped epoch, which fences its producer (its next request gets
 *   PRODUCER_FENCED or INVALID_PRODUCER_EPOCH);
 * - every transaction.remove.expired.transaction.cleanup.interval.ms, a transactional id without a
 *   transaction for transactional.id.expiration.ms is forgotten (a tombstone in `__transaction_state`).
 */
export class TxnTimers {
  private abortTimer: NodeJS.Timeout | undefined;
  private expireTimer: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: TxnContext) {}

  start(): void {
    const props = this.ctx.config.props;
    this.abortTimer = setInterval(
      () => void this.abortTimedOut(),
      props["transaction.abort.timed.out.transaction.cleanup.interval.ms"],
    );
    this.expireTimer = setInterval(
      () => void this.expireIds(),
      props["transaction.remove.expired.transaction.cleanup.interval.ms"],
    );
    this.abortTimer.unref();
    this.expireTimer.unref();
  }

  stop(): void {
    clearInterval(this.abortTimer);
    clearInterval(this.expireTimer);
  }

  /** Aborts every transaction past its timeout; resolves when each abort is written (or refused). */
  async abortTimedOut(): Promise<number> {
    const now = this.ctx.now();
    const aborts: Promise<EndTxnResult>[] = [];
    for (const txn of this.ctx.transactions.values()) {
      if (txn.pendingState !== null || txn.state !== TxnState.ONGOING) continue;
      if (txn.txnStartTimestamp + txn.txnTimeoutMs >= now) continue;
      this.ctx.log.info(
        `transactional id ${txn.transactionalId}: aborting the transaction of producer ${txn.producerId} (epoch ${txn.producerEpoch}), open longer than its timeout of ${txn.txnTimeoutMs} ms`,
      );
      const fence = txn.prepareFenceProducerEpoch();
      const id = txn.transactionalId;
      const done = endTransaction(
        this.ctx,
        id,
        fence.producerId,
        fence.producerEpoch,
        false,
        false,
        this.ctx.transactionVersion(),
      );
      aborts.push(
        done.then((r) => {
          if (r.errorCode !== ErrorCode.NONE)
            this.ctx.log.warn(`transactional id ${id}: the timeout abort failed with error ${r.errorCode}`);
          return r;
        }),
      );
    }
    await Promise.all(aborts);
    return aborts.length;
  }

  /** Forgets the ids idle for longer than transactional.id.expiration.ms; resolves to how many. */
  async expireIds(): Promise<number> {
    const now = this.ctx.now();
    const maxIdleMs = this.ctx.config.props["transactional.id.expiration.ms"];
    const expiring: Promise<boolean>[] = [];
    for (const txn of this.ctx.transactions.values()) {
      if (txn.pendingState !== null || !expirationAllowed(txn.state)) continue;
      if (txn.txnLastUpdateTimestamp > now - maxIdleMs) continue;
      const transit = txn.prepareDead();
      expiring.push(
        this.ctx.writeTransit(txn, transit).then((error) => {
          if (error !== ErrorCode.NONE) return false;
          if (this.ctx.transactions.get(txn.transactionalId) === txn) this.ctx.transactions.delete(txn.transactionalId);
          this.ctx.log.info(`transactional id ${txn.transactionalId} expired`);
          return true;
        }),
      );
    }
    return (await Promise.all(expiring)).filter((x) => x).length;
  }
}
