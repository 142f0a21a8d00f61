/**
 * Long-lived buffers for segment reads. A fetch leases buffers for its reads and hands them back once its
 * answer has been written to the socket (the write's completion callback), so that a busy consumer does
 * not allocate, and the collector does not free, a megabyte-sized buffer per partition read. Buffers come
 * in sizes of whole 64 KiB steps, and a read may take an idle buffer up to two steps larger than it needs:
 * a read at an index entry asks for 1 MiB and 8 KiB, one at the position where the last read ended for
 * exactly 1 MiB, and both kinds share the same buffers (power-of-two sizes had kept 2 MiB buffers for the
 * first kind next to 1 MiB ones for the second). A bounded number of idle ones is kept, larger reads are
 * allocated as before. A lease that is never handed back (an error path) only costs its buffers to the
 * collector.
 */
const MIN_SLAB = 64 * 1024;
/** Larger size steps a read may take an idle buffer from. */
const LARGER_STEPS = 2;
const MAX_SLAB = 4 * 1024 * 1024;
/** Idle bytes kept across all sizes: beyond this, handed-back buffers are left to the collector. */
const MAX_IDLE_BYTES = 32 * 1024 * 1024;

function sizeClass(len: number): number {
  return Math.max(MIN_SLAB, Math.ceil(len / MIN_SLAB) * MIN_SLAB);
}

export class ReadBufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private idleBytes = 0;

  lease(): ReadLease {
    return new ReadLease(this);
  }

  /** A buffer of at least `len` bytes (its contents undefined). */
  take(len: number): Buffer {
    if (len > MAX_SLAB) return Buffer.allocUnsafe(len);
    const size = sizeClass(len);
    for (let step = 0; step <= LARGER_STEPS; step++) {
      const slab = this.free.get(size + step * MIN_SLAB)?.pop();
      if (slab === undefined) continue;
      this.idleBytes -= slab.length;
      return slab;
    }
    return Buffer.allocUnsafeSlow(size);
  }

  give(slab: Buffer): void {
    const size = slab.length;
    if (size < MIN_SLAB || size > MAX_SLAB || this.idleBytes + size > MAX_IDLE_BYTES) return;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(slab);
    this.idleBytes += size;
  }
}

/** The buffers one fetch reads into, until it hands them all back at once. */
export class ReadLease {
  private held: Buffer[] = [];

  constructor(private readonly pool: ReadBufferPool) {}

  /** A buffer of exactly `len` bytes, a view of a pooled one where it fits. */
  readonly alloc = (len: number): Buffer => {
    const slab = this.pool.take(len);
    if (slab.length > MAX_SLAB) return slab;
    this.held.push(slab);
    return slab.length === len ? slab : slab.subarray(0, len);
  };

  /** Nothing read into this lease is used any more (its answer is written, or was dropped). */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const slab of held) this.pool.give(slab);
  }
}

/** The broker's one pool (a process serves all its fetches on one thread). */
export const readBuffers = new ReadBufferPool();
