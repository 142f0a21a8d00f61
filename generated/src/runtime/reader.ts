import { DecodeError } from "./errors.js";

export interface ReaderOptions {
  /**
   * When true, `bytes` and `records` fields are copied out of the input buffer; by default they are
   * views (`subarray`) of it, which is cheaper but keeps the input alive and shares its memory.
   */
  readonly copyBytes?: boolean;
}

/**
 * A bounds-checked cursor over a buffer. Every read names the schema field it is for, so that a short or
 * malformed input fails with a `DecodeError` that says which message, version and field, and no length
 * read from the wire is trusted before it is checked against the bytes that are left.
 */
export class Reader {
  buf: Buffer;
  off: number;
  end: number;
  /** Set by the generated decoder on entry, so errors name the message. */
  messageName = "";
  version = 0;
  readonly copyBytes: boolean;

  constructor(buf: Buffer, off = 0, end = buf.length, options?: ReaderOptions) {
    this.buf = buf;
    this.off = off;
    this.end = end;
    this.copyBytes = options?.copyBytes === true;
  }

  get remaining(): number {
    return this.end - this.off;
  }

  fail(field: string, reason: string): never {
    throw new DecodeError(this.messageName, this.version, field, reason);
  }

  private need(n: number, field: string): number {
    const off = this.off;
    if (off + n > this.end) this.short(n, field);
    this.off = off + n;
    return off;
  }

  /** Out of line, so that the checks above stay small enough to inline. */
  private short(n: number, field: string): never {
    return this.fail(field, `needs ${n} bytes at offset ${this.off}, ${this.end - this.off} left`);
  }

  // The fixed-width reads index the buffer directly: Buffer's readIntXX methods re-validate their
  // arguments on every call, which showed as a fifth of decode time in profiles.
  int8(field: string): number {
    const o = this.need(1, field);
    return (this.buf[o]! << 24) >> 24;
  }
  int16(field: string): number {
    const o = this.need(2, field);
    const b = this.buf;
    return ((b[o]! << 24) | (b[o + 1]! << 16)) >> 16;
  }
  uint16(field: string): number {
    const o = this.need(2, field);
    const b = this.buf;
    return (b[o]! << 8) | b[o + 1]!;
  }
  int32(field: string): number {
    const o = this.need(4, field);
    const b = this.buf;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }
  uint32(field: string): number {
    return this.int32(field) >>> 0;
  }
  int64(field: string): bigint {
    return this.buf.readBigInt64BE(this.need(8, field));
  }
  float64(field: string): number {
    return this.buf.readDoubleBE(this.need(8, field));
  }
  bool(field: string): boolean {
    return this.buf[this.need(1, field)] !== 0;
  }
  /** A UUID as Kafka prints it: 22 characters of URL-safe base64 without padding. */
  uuid(field: string): string {
    const off = this.need(16, field);
    return this.buf.toString("base64url", off, off + 16);
  }

  unsignedVarint(field: string): number {
    const buf = this.buf;
    let off = this.off;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (off >= this.end) this.fail(field, "truncated varint");
      const b = buf[off++]!;
      value |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        this.off = off;
        return value >>> 0;
      }
    }
    return this.fail(field, "varint longer than 5 bytes");
  }
  varint(field: string): number {
    const v = this.unsignedVarint(field);
    return (v >>> 1) ^ -(v & 1);
  }
  varlong(field: string): bigint {
    const buf = this.buf;
    let off = this.off;
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (off >= this.end) this.fail(field, "truncated varlong");
      const b = buf[off++]!;
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        this.off = off;
        return (value >> 1n) ^ -(value & 1n);
      }
    }
    return this.fail(field, "varlong longer than 10 bytes");
  }

  private checkLength(len: number, field: string): void {
    if (len > this.end - this.off) this.fail(field, `length ${len} exceeds the ${this.end - this.off} bytes left`);
  }

  private utf8(len: number, field: string): string {
    this.checkLength(len, field);
    const off = this.off;
    this.off = off + len;
    return this.buf.toString("utf8", off, off + len);
  }

  /** INT16 length then UTF-8; -1 is null. */
  nullableString(field: string): string | null {
    const len = this.int16(field);
    if (len < 0) {
      if (len === -1) return null;
      this.fail(field, `negative string length ${len}`);
    }
    return this.utf8(len, field);
  }
  string(field: string): string {
    const s = this.nullableString(field);
    if (s === null) this.fail(field, "null for a non-nullable string");
    return s;
  }
  /** Unsigned varint length+1 then UTF-8; 0 is null. */
  compactNullableString(field: string): string | null {
    const n = this.unsignedVarint(field);
    if (n === 0) return null;
    return this.utf8(n - 1, field);
  }
  compactString(field: string): string {
    const s = this.compactNullableString(field);
    if (s === null) this.fail(field, "null for a non-nullable string");
    return s;
  }

  /** `len` raw bytes, a view of the input unless the reader copies. */
  raw(len: number, field: string): Buffer {
    this.checkLength(len, field);
    const off = this.off;
    this.off = off + len;
    const view = this.buf.subarray(off, off + len);
    return this.copyBytes ? Buffer.from(view) : view;
  }

  nullableBytes(field: string): Buffer | null {
    const len = this.int32(field);
    if (len < 0) {
      if (len === -1) return null;
      this.fail(field, `negative bytes length ${len}`);
    }
    return this.raw(len, field);
  }
  bytes(field: string): Buffer {
    const b = this.nullableBytes(field);
    if (b === null) this.fail(field, "null for non-nullable bytes");
    return b;
  }
  compactNullableBytes(field: string): Buffer | null {
    const n = this.unsignedVarint(field);
    if (n === 0) return null;
    return this.raw(n - 1, field);
  }
  compactBytes(field: string): Buffer {
    const b = this.compactNullableBytes(field);
    if (b === null) this.fail(field, "null for non-nullable bytes");
    return b;
  }

  /**
   * An INT32 array count; -1 is null (returned as -1). A count larger than the bytes left cannot be
   * honest (every element takes at least one byte), so it fails before anything is allocated.
   */
  arrayLength(field: string): number {
    const n = this.int32(field);
    if (n < 0) {
      if (n === -1) return -1;
      this.fail(field, `negative array length ${n}`);
    }
    if (n > this.end - this.off) this.fail(field, `array length ${n} exceeds the ${this.end - this.off} bytes left`);
    return n;
  }
  /** An unsigned varint count+1; 0 is null (returned as -1). */
  compactArrayLength(field: string): number {
    const n = this.unsignedVarint(field) - 1;
    if (n > this.end - this.off) this.fail(field, `array length ${n} exceeds the ${this.end - this.off} bytes left`);
    return n;
  }

  /** Reads a tagged field's size and checks it against the bytes left. */
  taggedSize(field: string): number {
    const size = this.unsignedVarint(field);
    this.checkLength(size, field);
    return size;
  }

  /** Checks that a tagged field consumed exactly the size its header announced. */
  endTagged(start: number, size: number, field: string): void {
    if (this.off !== start + size)
      this.fail(field, `tagged field read ${this.off - start} bytes, its size says ${size}`);
  }
}
