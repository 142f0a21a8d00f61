/**
 * An append-only cursor over a buffer sized up front by the generated size functions: encoders never grow
 * or copy, and a frame's 4-byte size prefix is reserved in the same allocation.
 */
export class Writer {
  buf: Buffer;
  off: number;
  /**
   * Buffers that `raw` does not copy: the frame is cut around them instead, so that large stored
   * record sets go to the socket as they are (see `encodeResponseFrameParts`). Null when copying all.
   */
  gather: ReadonlySet<Uint8Array> | null;
  /** The pieces cut so far in gather mode; the last piece runs from `partStart` to `off`. */
  parts: Uint8Array[] | null;
  partStart: number;

  constructor(buf: Buffer, off = 0) {
    this.buf = buf;
    this.off = off;
    this.gather = null;
    this.parts = null;
    this.partStart = 0;
  }

  static alloc(size: number): Writer {
    return new Writer(Buffer.allocUnsafe(size));
  }

  // Direct byte stores: Buffer's writeIntXX methods validate ranges on every call.
  int8(v: number): void {
    this.buf[this.off++] = v & 0xff;
  }
  int16(v: number): void {
    const b = this.buf;
    const o = this.off;
    b[o] = (v >>> 8) & 0xff;
    b[o + 1] = v & 0xff;
    this.off = o + 2;
  }
  uint16(v: number): void {
    this.int16(v);
  }
  int32(v: number): void {
    const b = this.buf;
    const o = this.off;
    b[o] = v >>> 24;
    b[o + 1] = (v >>> 16) & 0xff;
    b[o + 2] = (v >>> 8) & 0xff;
    b[o + 3] = v & 0xff;
    this.off = o + 4;
  }
  uint32(v: number): void {
    this.int32(v);
  }
  int64(v: bigint): void {
    this.off = this.buf.writeBigInt64BE(v, this.off);
  }
  float64(v: number): void {
    this.off = this.buf.writeDoubleBE(v, this.off);
  }
  bool(v: boolean): void {
    this.buf[this.off++] = v ? 1 : 0;
  }
  uuid(v: string): void {
    const n = this.buf.write(v, this.off, 16, "base64url");
    if (n !== 16) throw new RangeError(`not a UUID in Kafka's base64 form: ${JSON.stringify(v)}`);
    this.off += 16;
  }

  unsignedVarint(v: number): void {
    const buf = this.buf;
    let off = this.off;
    v >>>= 0;
    while (v > 0x7f) {
      buf[off++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[off++] = v;
    this.off = off;
  }
  varint(v: number): void {
    this.unsignedVarint((v << 1) ^ (v >> 31));
  }
  varlong(v: bigint): void {
    let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    const buf = this.buf;
    let off = this.off;
    while (z > 0x7fn) {
      buf[off++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    buf[off++] = Number(z);
    this.off = off;
  }

  nullableString(v: string | null): void {
    if (v === null) return this.int16(-1);
    const len = Buffer.byteLength(v, "utf8");
    this.int16(len);
    this.off += this.buf.write(v, this.off, len, "utf8");
  }
  string(v: string): void {
    this.nullableString(v);
  }
  compactNullableString(v: string | null): void {
    if (v === null) return this.unsignedVarint(0);
    const len = Buffer.byteLength(v, "utf8");
    this.unsignedVarint(len + 1);
    this.off += this.buf.write(v, this.off, len, "utf8");
  }
  compactString(v: string): void {
    this.compactNullableString(v);
  }

  raw(v: Uint8Array): void {
    if (this.gather !== null && this.gather.has(v)) {
      const parts = this.parts!;
      if (this.off > this.partStart) parts.push(this.buf.subarray(this.partStart, this.off));
      parts.push(v);
      this.partStart = this.off;
      return;
    }
    this.buf.set(v, this.off);
    this.off += v.length;
  }
  nullableBytes(v: Uint8Array | null): void {
    if (v === null) return this.int32(-1);
    this.int32(v.length);
    this.raw(v);
  }
  bytes(v: Uint8Array): void {
    this.nullableBytes(v);
  }
  compactNullableBytes(v: Uint8Array | null): void {
    if (v === null) return this.unsignedVarint(0);
    this.unsignedVarint(v.length + 1);
    this.raw(v);
  }
  compactBytes(v: Uint8Array): void {
    this.compactNullableBytes(v);
  }
}

/** Bytes an unsigned varint takes. */
export function sizeOfUnsignedVarint(v: number): number {
  v >>>= 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes a zigzag varint takes. */
export function sizeOfVarint(v: number): number {
  return sizeOfUnsignedVarint((v << 1) ^ (v >> 31));
}

/** Bytes a zigzag varlong takes. */
export function sizeOfVarlong(v: bigint): number {
  let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  let n = 1;
  while (z > 0x7fn) {
    z >>= 7n;
    n++;
  }
  return n;
}

/** UTF-8 bytes of a string. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}
