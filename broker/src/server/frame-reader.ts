/**
 * Splits a byte stream into size-prefixed frames. Chunks are kept as received; a frame that lies inside
 * one chunk is returned as a view of it, and only a frame spanning chunks is copied once.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Size of the frame being assembled, or -1 while its prefix is incomplete. */
  private need = -1;

  /**
   * The largest frame accepted, and the name of that limit for the error; a connection lowers it
   * before authentication.
   */
  constructor(
    public maxFrameBytes: number,
    public limitName = "socket.request.max.bytes",
  ) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Whether a whole frame is buffered (so that `next` would return one, or throw). */
  hasFrame(): boolean {
    if (this.need >= 0) return this.buffered >= this.need;
    if (this.buffered < 4) return false;
    const head = this.chunks[0]!;
    const size = head.length >= 4 ? head.readInt32BE(0) : Buffer.concat(this.chunks.slice(0, 4)).readInt32BE(0);
    return this.buffered - 4 >= size;
  }

  /**
   * The next complete frame payload (without its size prefix), undefined if more bytes are needed.
   * Throws a RangeError for a size outside [0, maxFrameBytes], after which the stream is unusable.
   */
  next(): Buffer | undefined {
    if (this.need < 0) {
      if (this.buffered < 4) return undefined;
      const size = this.readInt32();
      if (size < 0 || size > this.maxFrameBytes) {
        throw new RangeError(`frame size ${size} is outside 0..${this.maxFrameBytes} (${this.limitName})`);
      }
      this.need = size;
    }
    if (this.buffered < this.need) return undefined;
    const frame = this.consume(this.need);
    this.need = -1;
    return frame;
  }

  private readInt32(): number {
    const head = this.chunks[0]!;
    if (head.length >= 4) {
      const v = head.readInt32BE(0);
      this.skip(4);
      return v;
    }
    return this.consume(4).readInt32BE(0);
  }

  private skip(n: number): void {
    this.consume(n);
  }

  private consume(n: number): Buffer {
    this.buffered -= n;
    const head = this.chunks[0];
    if (head !== undefined && head.length >= n) {
      const out = head.subarray(0, n);
      if (head.length === n) this.chunks.shift();
      else this.chunks[0] = head.subarray(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length, n - off);
      c.copy(out, off, 0, take);
      off += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    return out;
  }
}
