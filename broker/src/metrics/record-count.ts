import { BatchAttributes, BatchOffsets, LOG_OVERHEAD } from "../log/records.js";

/**
 * How many records a record set carries, read from the batch headers only (nothing is decompressed):
 * the record count of every v2 batch that is not a control batch, and one per entry of a legacy
 * message set (a compressed legacy wrapper counts once). Both formats keep the entry's length at
 * offset 8 and the magic byte at offset 16. A truncated tail is not counted.
 */
export function countRecords(buf: Buffer): number {
  let count = 0;
  let pos = 0;
  while (pos + BatchOffsets.magic < buf.length) {
    const length = buf.readInt32BE(pos + BatchOffsets.batchLength);
    const end = pos + LOG_OVERHEAD + length;
    if (length < 0 || end > buf.length) break;
    if (buf[pos + BatchOffsets.magic]! < 2) count++;
    else if (end >= pos + BatchOffsets.records) {
      const attributes = buf.readInt16BE(pos + BatchOffsets.attributes);
      if ((attributes & BatchAttributes.control) === 0) count += buf.readInt32BE(pos + BatchOffsets.recordCount);
    }
    pos = end;
  }
  return count;
}
