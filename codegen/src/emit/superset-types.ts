import { declaration } from "./code.js";
import type { FieldContext, StructContext } from "./context.js";
import { structSubject } from "./types.js";

/**
 * The superset interface of a struct: every field of every version, which is what a handler is written
 * against once. Each field's doc names its schema field and the versions that carry it.
 */
export function emitSupersetType(s: StructContext): string[] {
  const doc = `${structSubject(s.message.msg, s.struct)}, every field of every version (v${s.within}).`;
  const body = s.fields.flatMap((f) => [`/** ${fieldNotes(f).join("; ")} */`, `${f.field.name}: ${f.tsType};`]);
  if (!s.flexible.empty) {
    body.push(
      "/** Tagged fields this schema does not know, kept as read and written back. */",
      `_unknownTaggedFields?: ${s.message.use("TaggedField")}[];`,
    );
  }
  return [`/** ${doc} */`, ...declaration(`export interface ${s.tsName} {`, body)];
}

/** "`Name`: v0-3; nullable v2-3; tag 1; ignorable; entity topicName; map key". */
export function fieldNotes(f: FieldContext): string[] {
  const fw = f.versions;
  const notes = [`\`${f.field.schemaName}\`: v${fw.empty ? "none" : fw}`];
  const nullable = f.field.nullableVersions.intersect(fw);
  if (!nullable.empty) notes.push(`nullable v${nullable}`);
  if (f.field.tag !== undefined) notes.push(`tag ${f.field.tag}`);
  if (f.field.ignorable) notes.push("ignorable");
  if (f.field.entityType !== undefined) notes.push(`entity ${f.field.entityType}`);
  if (f.field.mapKey) notes.push("map key");
  return notes;
}
