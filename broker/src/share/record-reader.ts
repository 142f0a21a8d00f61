import { ErrorCode } from "../errors.js";
import type { PartitionLog } from "../log/partition-log.js";
import type { AcquiredRange } from "./share-partition.js";

/**
 * Reads the stored batches that hold a share fetch's acquired records, as Kafka answers a ShareFetch:
 * whole batches, possibly with records outside the acquired ranges (the client keeps only the acquired
 * ones). Ranges the read could not reach within `maxBytes` are answered as not sent, to be given back.
 */

export interface ReadAcquired {
  errorCode: number;
  records: Buffer;
  sent: AcquiredRange[];
  unsent: AcquiredRange[];
}

/** Base offset (int64 at 0), length (int32 at 8), last offset delta (int32 at 23) of each stored batch. */
function lastOffsets(buf: Buffer): { start: number; end: number; base: number; last: number }[] {
  const out = [];
  let pos = 0;
  while (pos + 27 <= buf.length) {
    const base = Number(buf.readBigInt64BE(pos));
    const end = pos + 12 + buf.readInt32BE(pos + 8);
    if (end > buf.length) break;
    out.push({ start: pos, end, base, last: base + buf.readInt32BE(pos + 23) });
    pos = end;
  }
  return out;
}

export async function readAcquired(
  log: PartitionLog,
  ranges: readonly AcquiredRange[],
  maxBytes: number,
): Promise<ReadAcquired> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  /** The highest offset the batches read so far cover. */
  let covered = -1;
  const sent: AcquiredRange[] = [];
  const unsent: AcquiredRange[] = [];
  for (const range of ranges) {
    let r: AcquiredRange | undefined = { ...range };
    while (r !== undefined) {
      if (r.first <= covered) {
        const upTo = Math.min(r.last, covered);
        sent.push({ ...r, last: upTo });
        r = upTo < r.last ? { ...r, first: upTo + 1 } : undefined;
        continue;
      }
      const budget = maxBytes - bytes;
      if (budget <= 0 && bytes > 0) break;
      const read = await log.read(BigInt(r.first), Math.max(budget, 1), { minOneBatch: bytes === 0 });
      if (read.errorCode !== ErrorCode.NONE)
        return { errorCode: read.errorCode, records: Buffer.alloc(0), sent: [], unsent: [...ranges] };
      const batches = lastOffsets(read.records).filter((b) => b.last >= r!.first && b.base > covered);
      if (batches.length === 0) break;
      for (const b of batches) {
        chunks.push(read.records.subarray(b.start, b.end));
        bytes += b.end - b.start;
        covered = b.last;
      }
    }
    if (r !== undefined) unsent.push(r);
  }
  return { errorCode: ErrorCode.NONE, records: Buffer.concat(chunks), sent, unsent };
}
