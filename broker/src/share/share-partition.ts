/**
 * One share-partition (KIP-932): a topic partition as one share group consumes it. Records from the
 * share-partition start offset (SPSO) up to the end offset (SPEO, the first offset never acquired) are
 * in flight, each with a state and a delivery count: AVAILABLE (to be delivered, again), ACQUIRED by one
 * member until its lock expires, ACKNOWLEDGED or ARCHIVED (done). The SPSO moves past records that are
 * done; a record delivered `deliveryLimit` times and released (or whose lock expired) is archived.
 * Everything here is synchronous: acquisition cannot race with another fetch.
 */

/** Delivery states with Kafka's numbers, as ShareSnapshot and ShareUpdate records carry them. */
export const RecordState = { AVAILABLE: 0, ACQUIRED: 1, ACKNOWLEDGED: 2, ARCHIVED: 4 } as const;

/** AcknowledgeTypes of ShareFetch and ShareAcknowledge (RENEW from v2, KIP-1222). */
export const AckType = { GAP: 0, ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 } as const;

interface InFlight {
  state: number;
  deliveryCount: number;
  /** The member holding the lock while ACQUIRED. */
  memberId: string;
  lockExpiresAt: number;
}

/** Offsets acquired together with the same delivery count (a ShareFetch AcquiredRecords entry). */
export interface AcquiredRange {
  first: number;
  last: number;
  deliveryCount: number;
}

/** A persisted range of one state (a ShareSnapshot/ShareUpdate StateBatch). */
export interface StateBatch {
  first: number;
  last: number;
  state: number;
  deliveryCount: number;
}

export interface AckBatch {
  first: number;
  last: number;
  /** One type for the whole range, or one per offset. */
  types: readonly number[];
}

export interface AcquireLimits {
  /** The highest offset + 1 that may be delivered (the log's high watermark). */
  readonly endOfLog: number;
  readonly logStart: number;
  readonly maxRecords: number;
  readonly maxInFlight: number;
  readonly lockMs: number;
  readonly now: number;
}

const done = (s: number): boolean => s === RecordState.ACKNOWLEDGED || s === RecordState.ARCHIVED;

export class SharePartition {
  /** In-flight records by offset, in offset order (offsets are added in increasing order only). */
  private readonly records = new Map<number, InFlight>();
  private available = 0;
  private acquired = 0;
  /** Offsets whose state changed since the last persisted write. */
  private dirty = new Set<number>();

  constructor(
    public startOffset: number,
    public endOffset: number = startOffset,
  ) {}

  /** Rebuilds the in-flight records from persisted state: what was acquired is available again. */
  static fromState(startOffset: number, batches: readonly StateBatch[]): SharePartition {
    const byOffset = new Map<number, StateBatch>();
    let end = startOffset;
    for (const b of batches)
      for (let o = Math.max(b.first, startOffset); o <= b.last; o++) {
        byOffset.set(o, b);
        end = Math.max(end, o + 1);
      }
    const sp = new SharePartition(startOffset, end);
    for (let o = startOffset; o < end; o++) {
      const b = byOffset.get(o);
      const state = b === undefined || !done(b.state) ? RecordState.AVAILABLE : b.state;
      sp.records.set(o, { state, deliveryCount: b?.deliveryCount ?? 0, memberId: "", lockExpiresAt: 0 });
      if (state === RecordState.AVAILABLE) sp.available++;
    }
    sp.advance();
    return sp;
  }

  get inFlight(): number {
    return this.endOffset - this.startOffset;
  }

  /**
   * Acquires for `memberId` records available again (first, in offset order), then records never
   * delivered, up to the limits; answers the ranges with their delivery counts.
   */
  acquire(memberId: string, limits: AcquireLimits): AcquiredRange[] {
    this.skipDeleted(limits.logStart);
    const out: AcquiredRange[] = [];
    let left = limits.maxRecords;
    const take = (offset: number, r: InFlight): void => {
      r.state = RecordState.ACQUIRED;
      r.deliveryCount++;
      r.memberId = memberId;
      r.lockExpiresAt = limits.now + limits.lockMs;
      this.acquired++;
      left--;
      const last = out[out.length - 1];
      if (last !== undefined && last.last === offset - 1 && last.deliveryCount === r.deliveryCount) last.last = offset;
      else out.push({ first: offset, last: offset, deliveryCount: r.deliveryCount });
    };
    if (this.available > 0) {
      for (const [offset, r] of this.records) {
        if (left <= 0 || offset >= limits.endOfLog) break;
        if (r.state !== RecordState.AVAILABLE) continue;
        this.available--;
        take(offset, r);
      }
    }
    const end = Math.min(limits.endOfLog, this.startOffset + limits.maxInFlight);
    while (left > 0 && this.endOffset < end) {
      const r: InFlight = { state: RecordState.AVAILABLE, deliveryCount: 0, memberId: "", lockExpiresAt: 0 };
      this.records.set(this.endOffset, r);
      take(this.endOffset++, r);
    }
    return out;
  }

  /** Gives back acquired records that were not sent after all: available again, as if never delivered. */
  unacquire(ranges: readonly AcquiredRange[]): void {
    for (const range of ranges)
      for (let o = range.first; o <= range.last; o++) {
        const r = this.records.get(o);
        if (r === undefined || r.state !== RecordState.ACQUIRED) continue;
        r.state = RecordState.AVAILABLE;
        r.deliveryCount--;
        this.acquired--;
        this.available++;
      }
  }

  /**
   * Applies a member's acknowledgements, all or none: every offset from the SPSO on must be in flight
   * and acquired by `memberId` (offsets below the SPSO are done and skipped, as Kafka skips them).
   * Answers an error name or undefined; changed offsets are remembered for the next persisted write.
   */
  acknowledge(
    memberId: string,
    batches: readonly AckBatch[],
    deliveryLimit: number,
    lockMs: number,
    now: number,
  ): "INVALID_RECORD_STATE" | "INVALID_REQUEST" | undefined {
    for (const b of batches) {
      if (b.last < b.first || (b.types.length !== 1 && b.types.length !== b.last - b.first + 1))
        return "INVALID_REQUEST";
      // As Kafka: offsets past what was delivered are a bad request; those below the SPSO are done already.
      if (b.last >= this.endOffset) return "INVALID_REQUEST";
      for (let o = Math.max(b.first, this.startOffset); o <= b.last; o++) {
        const t = b.types.length === 1 ? b.types[0]! : b.types[o - b.first]!;
        if (t < AckType.GAP || t > AckType.RENEW) return "INVALID_REQUEST";
        const r = this.records.get(o);
        if (r === undefined || r.state !== RecordState.ACQUIRED || r.memberId !== memberId)
          return "INVALID_RECORD_STATE";
      }
    }
    for (const b of batches)
      for (let o = Math.max(b.first, this.startOffset); o <= b.last; o++) {
        const t = b.types.length === 1 ? b.types[0]! : b.types[o - b.first]!;
        const r = this.records.get(o)!;
        if (t === AckType.RENEW) r.lockExpiresAt = now + lockMs;
        else if (t === AckType.RELEASE) this.release(o, r, deliveryLimit);
        else this.finish(o, r, t === AckType.ACCEPT ? RecordState.ACKNOWLEDGED : RecordState.ARCHIVED);
      }
    this.advance();
    return undefined;
  }

  /** Releases the records whose lock expired; answers whether any were. */
  expireLocks(now: number, deliveryLimit: number): boolean {
    if (this.acquired === 0) return false;
    let any = false;
    for (const [o, r] of this.records) {
      if (r.state === RecordState.ACQUIRED && r.lockExpiresAt <= now) {
        this.release(o, r, deliveryLimit);
        any = true;
      }
    }
    if (any) this.advance();
    return any;
  }

  /** Releases every record `memberId` holds (its share session ended); answers whether it held any. */
  releaseMember(memberId: string, deliveryLimit: number): boolean {
    if (this.acquired === 0) return false;
    let any = false;
    for (const [o, r] of this.records) {
      if (r.state === RecordState.ACQUIRED && r.memberId === memberId) {
        this.release(o, r, deliveryLimit);
        any = true;
      }
    }
    if (any) this.advance();
    return any;
  }

  /** Records in flight that are done (acknowledged or archived) but not yet below the SPSO. */
  get deliveryComplete(): number {
    let n = 0;
    for (const r of this.records.values()) if (done(r.state)) n++;
    return n;
  }

  /** Whether records wait to be delivered again. */
  get hasAvailable(): boolean {
    return this.available > 0;
  }

  /** The changed ranges since the last call (ACQUIRED written as AVAILABLE), and forgets them. */
  takeChanges(): StateBatch[] {
    const offsets = [...this.dirty].filter((o) => o >= this.startOffset).sort((a, b) => a - b);
    this.dirty = new Set();
    return this.toBatches(offsets);
  }

  /** The whole in-flight state, for a snapshot. */
  snapshot(): StateBatch[] {
    this.dirty = new Set();
    return this.toBatches([...this.records.keys()]);
  }

  private toBatches(offsets: readonly number[]): StateBatch[] {
    const out: StateBatch[] = [];
    for (const o of offsets) {
      const r = this.records.get(o);
      if (r === undefined) continue;
      const state = r.state === RecordState.ACQUIRED ? RecordState.AVAILABLE : r.state;
      const last = out[out.length - 1];
      if (last !== undefined && last.last === o - 1 && last.state === state && last.deliveryCount === r.deliveryCount)
        last.last = o;
      else out.push({ first: o, last: o, state, deliveryCount: r.deliveryCount });
    }
    return out;
  }

  private release(offset: number, r: InFlight, deliveryLimit: number): void {
    if (r.deliveryCount >= deliveryLimit) return this.finish(offset, r, RecordState.ARCHIVED);
    r.state = RecordState.AVAILABLE;
    r.memberId = "";
    this.acquired--;
    this.available++;
    this.dirty.add(offset);
  }

  private finish(offset: number, r: InFlight, state: number): void {
    if (r.state === RecordState.ACQUIRED) this.acquired--;
    else if (r.state === RecordState.AVAILABLE) this.available--;
    r.state = state;
    r.memberId = "";
    this.dirty.add(offset);
  }

  /** Moves the SPSO past the records that are done. */
  private advance(): void {
    for (;;) {
      const r = this.records.get(this.startOffset);
      if (r === undefined || !done(r.state)) return;
      this.records.delete(this.startOffset);
      this.dirty.delete(this.startOffset);
      this.startOffset++;
    }
  }

  /** Records below the log start (deleted by retention or DeleteRecords) can no longer be delivered. */
  private skipDeleted(logStart: number): void {
    while (this.startOffset < logStart) {
      const r = this.records.get(this.startOffset);
      if (r !== undefined) {
        this.finish(this.startOffset, r, RecordState.ARCHIVED);
        this.records.delete(this.startOffset);
      }
      this.startOffset++;
    }
    if (this.endOffset < this.startOffset) this.endOffset = this.startOffset;
  }
}
