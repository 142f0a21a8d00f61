/**
 * The leader epochs of a partition's log: for each epoch, the first offset written under it (Kafka's
 * LeaderEpochFileCache). A follower asks the leader where its last epoch ends (OffsetForLeaderEpoch, or
 * the diverging epoch of a Fetch) and cuts its log there. Kept in `leader-epoch-checkpoint` in the
 * partition directory, in Kafka's format: a version line (0), a count line, then `epoch startOffset` lines.
 */

export const LEADER_EPOCH_CHECKPOINT_FILE = "leader-epoch-checkpoint";

/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET: no epoch, no offset. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1n;

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: bigint;
}

export interface EpochEndOffset {
  readonly epoch: number;
  readonly endOffset: bigint;
}

export class LeaderEpochCache {
  /** Ascending by epoch and by start offset. */
  private entries: EpochEntry[] = [];

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  /** The newest epoch, UNDEFINED_EPOCH when none was written. */
  get latestEpoch(): number {
    return this.entries.at(-1)?.epoch ?? UNDEFINED_EPOCH;
  }

  /**
   * Records that `epoch` starts at `startOffset`, when it is newer than the latest (a batch of an older or
   * the same epoch changes nothing). True when the cache changed. Negative epochs (old formats) are not kept.
   */
  assign(epoch: number, startOffset: bigint): boolean {
    if (epoch < 0) return false;
    const last = this.entries.at(-1);
    if (last !== undefined && epoch <= last.epoch) return false;
    // An entry starting at or after the new one cannot stand (a leader change with nothing written under it).
    this.entries = this.entries.filter((e) => e.startOffset < startOffset);
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /**
   * Where `requested` ends as this log knows it (Kafka's endOffsetFor): the latest epoch ends at the log
   * end; an older one at the start of the next epoch, answered with the largest epoch at or below it; one
   * newer than any, or none at all, is undefined; one older than any ends where the first one starts.
   */
  endOffsetFor(requested: number, logEndOffset: bigint): EpochEndOffset {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requested === UNDEFINED_EPOCH || this.entries.length === 0) return undefinedAnswer;
    if (requested === this.latestEpoch) return { epoch: requested, endOffset: logEndOffset };
    const higher = this.entries.find((e) => e.epoch > requested);
    if (higher === undefined) return undefinedAnswer;
    let floor: EpochEntry | undefined;
    for (const e of this.entries) if (e.epoch <= requested) floor = e;
    return { epoch: floor?.epoch ?? requested, endOffset: higher.startOffset };
  }

  /** The log was cut to end at `endOffset`: epochs starting there or later are gone. True when it changed. */
  truncateFromEnd(endOffset: bigint): boolean {
    const kept = this.entries.filter((e) => e.startOffset < endOffset);
    if (kept.length === this.entries.length) return false;
    this.entries = kept;
    return true;
  }

  /** The log now starts at `startOffset`: the epoch holding it starts there, older ones are gone. */
  truncateFromStart(startOffset: bigint): boolean {
    let holding = -1;
    for (let i = 0; i < this.entries.length; i++) if (this.entries[i]!.startOffset <= startOffset) holding = i;
    if (holding < 0 || (holding === 0 && this.entries[0]!.startOffset === startOffset)) return false;
    const rest = this.entries.slice(holding);
    rest[0] = { epoch: rest[0]!.epoch, startOffset };
    this.entries = rest;
    return true;
  }

  clear(): void {
    this.entries = [];
  }

  format(): string {
    return `0\n${this.entries.length}\n${this.entries.map((e) => `${e.epoch} ${e.startOffset}\n`).join("")}`;
  }
}
