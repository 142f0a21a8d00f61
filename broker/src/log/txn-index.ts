import { stat, unlink } from "node:fs/promises";
import { IndexEntries } from "./index-file.js";

/** The file of a segment's aborted transactions, beside its `.log`. */
export const TXN_INDEX_SUFFIX = ".txnindex";

const ENTRY = 34;
const VERSION = 0;

/**
 * One aborted transaction of one producer: the offset of its first batch, the offset of its ABORT marker
 * (`lastOffset`) and the partition's last stable offset just after the marker was written.
 */
export interface AbortedTxn {
  producerId: bigint;
  firstOffset: bigint;
  lastOffset: bigint;
  lastStableOffset: bigint;
}

/**
 * A segment's aborted-transaction index in Kafka's `.txnindex` layout: one 34-byte entry (int16 version 0,
 * int64 producer id, first offset, last offset, last stable offset) per transaction whose ABORT marker lies
 * in the segment, in marker order. Unlike the offset and time indexes it is complete, not sparse: a fetch
 * under read_committed takes its aborted-transactions list from it. The file exists only while there are
 * entries; a missing file is an empty index. It is rebuilt with the segment when the segment is recovered.
 */
export class TxnIndex extends IndexEntries {
  /** Whether the file may exist: unknown (so assumed) until this index removed, read or wrote it. */
  private onDisk = true;
  private flushing: Promise<void> = Promise.resolve();

  constructor(path: string) {
    super(path, ENTRY, Number.MAX_SAFE_INTEGER);
  }

  append(txn: AbortedTxn): void {
    const at = this.slot();
    const b = this.buf;
    b.writeInt16BE(VERSION, at);
    b.writeBigInt64BE(txn.producerId, at + 2);
    b.writeBigInt64BE(txn.firstOffset, at + 10);
    b.writeBigInt64BE(txn.lastOffset, at + 18);
    b.writeBigInt64BE(txn.lastStableOffset, at + 26);
  }

  entryAt(i: number): AbortedTxn {
    const at = i * ENTRY;
    const b = this.buf;
    return {
      producerId: b.readBigInt64BE(at + 2),
      firstOffset: b.readBigInt64BE(at + 10),
      lastOffset: b.readBigInt64BE(at + 18),
      lastStableOffset: b.readBigInt64BE(at + 26),
    };
  }

  /** Every entry, in file order. */
  entries(): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.entryAt(i));
    return out;
  }

  /**
   * Adds to `out` the aborted transactions overlapping the offsets [from, upTo): marker at or after `from`,
   * first offset before `upTo`. True once an entry's last stable offset reaches `upTo`: no transaction that
   * overlaps the range can have its marker further on, so later segments need not be searched.
   */
  collect(from: bigint, upTo: bigint, out: AbortedTxn[]): boolean {
    const b = this.buf;
    for (let i = 0; i < this.count; i++) {
      const at = i * ENTRY;
      if (b.readBigInt64BE(at + 18) >= from && b.readBigInt64BE(at + 10) < upTo) out.push(this.entryAt(i));
      if (b.readBigInt64BE(at + 26) >= upTo) return true;
    }
    return false;
  }

  /** Reads the file; a missing file is an empty index. False when the file is not whole entries. */
  override async load(): Promise<boolean> {
    try {
      await stat(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      this.clear();
      this.onDisk = false;
      return true;
    }
    this.onDisk = true;
    return super.load();
  }

  /**
   * Entries of version 0 whose markers lie in the segment [baseOffset, nextOffset), in increasing order, each
   * transaction starting at or before its marker.
   */
  isSane(baseOffset: bigint, nextOffset: bigint): boolean {
    let prev = baseOffset - 1n;
    for (let i = 0; i < this.count; i++) {
      if (this.buf.readInt16BE(i * ENTRY) !== VERSION) return false;
      const e = this.entryAt(i);
      if (e.lastOffset <= prev || e.lastOffset >= nextOffset || e.firstOffset > e.lastOffset) return false;
      prev = e.lastOffset;
    }
    return true;
  }

  /**
   * Writes new entries and syncs the file; with no entries, the file is removed. Flushes run one at a
   * time: a removal finishing after a later flush created the file would delete its entries.
   */
  override flush(): Promise<void> {
    const run = (): Promise<void> => this.flushNow();
    this.flushing = this.flushing.then(run, run);
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    if (this.count > 0) {
      await super.flush();
      this.onDisk = true;
      return;
    }
    if (!this.onDisk) return;
    await unlink(this.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    this.onDisk = false;
    // The next flush writes the file from the start, including an entry appended during the removal
    // (a marker written right after a roll, whose flush found this new segment's index empty).
    this.written = 0;
    this.rewrite = true;
  }
}
