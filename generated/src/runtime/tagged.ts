import { sizeOfUnsignedVarint, type Writer } from "./writer.js";

/** A tagged field the decoder's schema does not know: kept as bytes and written back unchanged. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

/**
 * Writes the unknown tagged fields from index `from` whose tag is below `beforeTag`, returning the
 * index of the first one not written: called before each known tag so that all tags go out ascending.
 */
export function writeUnknownTaggedFields(
  w: Writer,
  fields: readonly TaggedField[] | undefined,
  from: number,
  beforeTag: number,
): number {
  if (fields === undefined) return 0;
  let i = from;
  for (; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.tag >= beforeTag) break;
    w.unsignedVarint(f.tag);
    w.unsignedVarint(f.data.length);
    w.raw(f.data);
  }
  return i;
}

export function sizeOfUnknownTaggedFields(fields: readonly TaggedField[]): number {
  let s = 0;
  for (const f of fields) s += sizeOfUnsignedVarint(f.tag) + sizeOfUnsignedVarint(f.data.length) + f.data.length;
  return s;
}
