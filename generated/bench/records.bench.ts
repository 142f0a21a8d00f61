import {
  CompressionType,
  compressionNames,
  decodeRecordBatch,
  encodeRecordBatch,
  recordBatchInput,
} from "../src/records/index.js";

/**
 * Encode and decode throughput of one 1 MiB record batch (1024 records of 1 KiB) per codec.
 * Run: npx tsx generated/bench/records.bench.ts. Prints numbers only; nothing is asserted.
 */

const RECORD_SIZE = 1024;
const RECORD_COUNT = 1024;
const SECONDS_PER_CASE = 0.5;

/** Semi-compressible values: JSON-like text with a varying counter. */
function value(i: number): Buffer {
  const text = `{"id":${i},"user":"user-${i % 97}","event":"click","payload":"`;
  const b = Buffer.alloc(RECORD_SIZE, 0x61);
  b.write(text, 0);
  for (let j = text.length; j < RECORD_SIZE; j += 16) b[j] = 0x30 + ((i * 31 + j) % 10);
  return b;
}

const records = Array.from({ length: RECORD_COUNT }, (_, i) => ({
  key: `key-${i}`,
  value: value(i),
  timestamp: 1_700_000_000_000 + i,
}));

function measure(fn: () => void): number {
  const deadline = performance.now() + SECONDS_PER_CASE * 1000;
  let ops = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    fn();
    ops++;
  }
  return ops / ((performance.now() - start) / 1000);
}

console.log(`batch of ${RECORD_COUNT} records x ${RECORD_SIZE} B`);
for (const codec of [
  CompressionType.none,
  CompressionType.gzip,
  CompressionType.snappy,
  CompressionType.lz4,
  CompressionType.zstd,
]) {
  const input = recordBatchInput(records, { compression: codec });
  const encoded = encodeRecordBatch(input);
  const enc = measure(() => encodeRecordBatch(input));
  const dec = measure(() => decodeRecordBatch(encoded));
  const mib = (RECORD_COUNT * RECORD_SIZE) / (1 << 20);
  console.log(
    `${compressionNames[codec].padEnd(6)} size ${String(encoded.length).padStart(8)} B  ` +
      `encode ${enc.toFixed(1).padStart(7)} ops/s (${(enc * mib).toFixed(0)} MiB/s)  ` +
      `decode ${dec.toFixed(1).padStart(7)} ops/s (${(dec * mib).toFixed(0)} MiB/s)`,
  );
}
