import type { FieldContext, StructContext } from "./context.js";
import { notDefault } from "./defaults.js";

/**
 * The checks emitted codecs make: a version outside the message's range is refused, and so is a value
 * that the version being written cannot carry (a field it lacks, holding something other than its default).
 */

/** A root codec function's first statement: versions outside the message's range are refused. */
export function versionGuard(s: StructContext): string[] {
  if (!s.isRoot) return [];
  const error = s.message.use("UnsupportedVersionError");
  return [
    `if (version < ${s.within.lowest} || version > ${s.within.highest}) throw new ${error}(${s.message.nameLiteral}, version);`,
  ];
}

/** Statements failing the encoding when `f`, absent from this version, holds something other than its default. */
export function absentCheck(f: FieldContext): string[] {
  if (f.field.ignorable) return [];
  const error = f.message.use("EncodeError");
  const reason = JSON.stringify("has a value other than its default but this version cannot carry it");
  return [
    `if (${f.value} !== undefined && ${notDefault(f)}) {`,
    `throw new ${error}(${f.message.nameLiteral}, version, ${f.pathLiteral}, ${reason});`,
    "}",
  ];
}
