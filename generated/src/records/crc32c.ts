/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of record batches (magic 2), in
 * JavaScript: eight 256-entry tables, eight bytes per step ("slicing by 8"), read as two 32-bit words.
 * It runs at about 2 GB/s on one core, against ~10 GB/s for a native SSE4.2 library, but costs no
 * native module: a broker checks each produced batch once, so at produce rates of tens of MB/s the
 * difference is a few percent of one core, while the native library added about 10 MiB to the broker's
 * resident memory.
 */
const POLY = 0x82f63b78;
const TABLES = makeTables();

function makeTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  // Table k advances a byte through k further zero bytes.
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
}

/** Whether 32-bit words read from memory have their first byte lowest (every platform Node runs on today). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** CRC-32C of `bytes`, as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array): number {
  return LITTLE_ENDIAN ? crc32cWords(bytes) : crc32cBytes(bytes);
}

/**
 * Slicing by 8 over aligned 32-bit words: one typed-array load where `crc32cBytes` makes four, about
 * 1.6 times as fast. The bytes before the first aligned word and after the last whole 8 go one at a time.
 */
function crc32cWords(bytes: Uint8Array): number {
  const t = TABLES;
  const end = bytes.length;
  const offset = bytes.byteOffset;
  let c = ~0;
  let i = 0;
  const head = Math.min(end, (4 - (offset & 3)) & 3);
  for (; i < head; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  const pairs = (end - i) >>> 3;
  if (pairs > 0) {
    const w = new Int32Array(bytes.buffer, offset + i, pairs * 2);
    for (let j = 0; j < w.length; j += 2) {
      const a = c ^ w[j]!;
      const b = w[j + 1]!;
      c =
        t[1792 + (a & 0xff)]! ^
        t[1536 + ((a >>> 8) & 0xff)]! ^
        t[1280 + ((a >>> 16) & 0xff)]! ^
        t[1024 + (a >>> 24)]! ^
        t[768 + (b & 0xff)]! ^
        t[512 + ((b >>> 8) & 0xff)]! ^
        t[256 + ((b >>> 16) & 0xff)]! ^
        t[b >>> 24]!;
    }
    i += pairs * 8;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function crc32cBytes(bytes: Uint8Array): number {
  const t = TABLES;
  const end = bytes.length;
  let c = ~0;
  let i = 0;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
