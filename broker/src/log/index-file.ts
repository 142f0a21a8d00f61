import { open, readFile } from "node:fs/promises";

/**
 * The entries of a sparse index, held in memory in their on-disk layout (big-endian, fixed-size entries)
 * and written to the index file incrementally. Indexes carry no checksum: they are rebuilt from the log
 * whenever they look damaged, so writing them is never on the append path.
 */
export class IndexEntries {
  buf: Buffer;
  count = 0;
  /** Entries already written to the file. */
  protected written = 0;
  /** The file holds entries beyond `count` (after a truncation) and must be rewritten. */
  protected rewrite = true;
  /** Counts truncations: one during a flush means what it wrote may be stale. */
  private truncations = 0;

  constructor(
    readonly path: string,
    readonly entrySize: number,
    readonly maxEntries: number,
  ) {
    this.buf = Buffer.allocUnsafe(entrySize * 64);
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /** Room for one more entry; returns its byte offset in `buf`. */
  protected slot(): number {
    const at = this.count * this.entrySize;
    if (at + this.entrySize > this.buf.length) {
      const grown = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    this.count++;
    return at;
  }

  /** Drops every entry (before a rebuild). */
  clear(): void {
    this.count = 0;
    this.written = 0;
    this.rewrite = true;
    this.truncations++;
  }

  /** Keeps only the first `n` entries. */
  truncateTo(n: number): void {
    if (n >= this.count) return;
    this.count = n;
    if (this.written > n) {
      this.written = n;
      this.rewrite = true;
    }
    this.truncations++;
  }

  /** Reads the file's entries; false when the file is missing or its size is not whole entries. */
  async load(): Promise<boolean> {
    let data: Buffer;
    try {
      data = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
    if (data.length % this.entrySize !== 0 || data.length / this.entrySize > this.maxEntries) return false;
    this.buf = data.length > 0 ? data : this.buf;
    this.count = this.written = data.length / this.entrySize;
    this.rewrite = false;
    return true;
  }

  /** Writes entries not yet in the file and syncs it; a no-op when nothing changed. */
  async flush(): Promise<void> {
    const count = this.count;
    const truncations = this.truncations;
    if (!this.rewrite && this.written === count) return;
    const from = this.rewrite ? 0 : this.written;
    const fh = await open(this.path, this.rewrite ? "w" : "r+");
    try {
      const start = from * this.entrySize;
      const end = count * this.entrySize;
      let pos = start;
      while (pos < end) {
        const { bytesWritten } = await fh.write(this.buf, pos, end - pos, pos);
        pos += bytesWritten;
      }
      await fh.datasync();
    } finally {
      await fh.close();
    }
    if (this.truncations === truncations) {
      this.written = count;
      this.rewrite = false;
    } else {
      // Truncated while writing: the file may hold entries that were since cut or replaced.
      this.rewrite = true;
    }
  }
}
