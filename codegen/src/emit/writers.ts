import { versionCondition, type Versions } from "../versions.js";
import { branch, declaration } from "./code.js";
import { absentCheck, versionGuard } from "./checks.js";
import type { FieldContext, StructContext } from "./context.js";
import { taggedWritten } from "./defaults.js";
import {
  eachEncoding,
  encodingChoice,
  isLengthPrefixed,
  lengthPrefixedMethod,
  nullableCondition,
  writeArrayLength,
  type Encoding,
} from "./encoding.js";
import { taggedValueSize } from "./sizes.js";

/**
 * `writeX(w, m, version)`: straight-line code per field, each version check emitted only where the
 * field's versions and the struct's differ; then the tagged fields, in tag order, merged with the
 * unknown ones kept from decoding.
 */
export function emitWriter(s: StructContext): string[] {
  const body = [...versionGuard(s)];
  for (const f of s.fields) body.push(...writeField(f));
  if (!s.flexible.empty)
    branch(
      body,
      versionCondition(s.flexible, s.within),
      () => writeTaggedFields(s),
      () => refuseTaggedFields(s),
    );
  const w = s.message.use("Writer");
  return declaration(`function write${s.tsName}(w: ${w}, m: ${s.tsName}, version: number): void {`, body);
}

/** A field where it is positional; where it is absent, the check that it holds its default. */
function writeField(f: FieldContext): string[] {
  const out: string[] = [];
  const present = f.untagged.empty ? f.tagged : f.untagged;
  const cond = versionCondition(present, f.within);
  if (!f.untagged.empty)
    branch(
      out,
      cond,
      () => writeValue(f, f.untagged),
      () => absentCheck(f),
    );
  else if (cond === "never") out.push(...absentCheck(f));
  else if (cond !== "always" && !f.field.ignorable) out.push(`if (!(${cond})) {`, ...absentCheck(f), "}");
  return out;
}

/** The count of tagged fields, then each (tag, size, value), unknown ones slotted in by tag. */
function writeTaggedFields(s: StructContext): string[] {
  const out = ["let n = 0;"];
  for (const f of s.tagged) out.push(`if (${taggedWritten(f, s)}) n++;`);
  const writeUnknown = s.message.use("writeUnknownTaggedFields");
  out.push("const u = m._unknownTaggedFields;", "if (u !== undefined) n += u.length;", "w.unsignedVarint(n);");
  if (s.tagged.length > 0) out.push("let ui = 0;", "let t = 0;");
  for (const f of s.tagged) {
    out.push(
      `if (${taggedWritten(f, s)}) {`,
      `ui = ${writeUnknown}(w, u, ui, ${f.field.tag});`,
      `w.unsignedVarint(${f.field.tag});`,
      ...taggedValueSize(f),
      "w.unsignedVarint(t);",
      ...writeTaggedValue(f),
      "}",
    );
  }
  out.push(`${writeUnknown}(w, u, ${s.tagged.length > 0 ? "ui" : "0"}, Infinity);`);
  return out;
}

/** In a version that is not flexible, unknown tagged fields kept from a flexible one cannot be written. */
function refuseTaggedFields(s: StructContext): string[] {
  const error = s.message.use("EncodeError");
  const reason = JSON.stringify("tagged fields cannot be written in a version that is not flexible");
  return [
    "if (m._unknownTaggedFields !== undefined && m._unknownTaggedFields.length > 0) {",
    `throw new ${error}(${s.message.nameLiteral}, version, ${JSON.stringify(s.struct.schemaName)}, ${reason});`,
    "}",
  ];
}

/** A tagged field's value: a nullable struct has a varint null marker there. */
function writeTaggedValue(f: FieldContext): string[] {
  const t = f.field.type;
  if (t.kind === "struct" && !f.field.nullableVersions.intersect(f.tagged).empty) {
    const v = f.value;
    return [
      `if (${v} === null) {`,
      "w.unsignedVarint(0);",
      "} else {",
      "w.unsignedVarint(1);",
      `write${t.struct.tsName}(w, ${v}, version);`,
      "}",
    ];
  }
  return writeValue(f, f.tagged, true);
}

/** Statements writing field `f` for the versions `region`. */
function writeValue(f: FieldContext, region: Versions, tagged = false): string[] {
  const t = f.field.type;
  const v = f.value;
  if (t.kind === "primitive") {
    const name = t.name;
    if (!isLengthPrefixed(name)) return [`w.${name}(${v});`];
    return eachEncoding(encodingChoice(f, region, tagged), (e) => [
      `w.${lengthPrefixedMethod(name, e)}(${e.nullable ? v : nonNull(f)});`,
    ]);
  }
  if (t.kind === "struct") {
    const write = `write${t.struct.tsName}`;
    const out: string[] = [];
    branch(
      out,
      nullableCondition(f, region),
      () => [`if (${v} === null) {`, "w.int8(-1);", "} else {", "w.int8(1);", `${write}(w, ${v}, version);`, "}"],
      () => [`${write}(w, ${nonNull(f)}, version);`],
    );
    return out;
  }
  return eachEncoding(encodingChoice(f, region, tagged), (e) => writeArray(f, e));
}

function writeArray(f: FieldContext, e: Encoding): string[] {
  const a = e.nullable ? "a" : nonNull(f);
  const out: string[] = [];
  if (e.nullable) out.push(`const a = ${f.value};`, "if (a === null) {", writeArrayLength(e.compact, null), "} else {");
  out.push(writeArrayLength(e.compact, `${a}.length`), `for (const e of ${a}) {`, writeElement(f, e.compact), "}");
  if (e.nullable) out.push("}");
  return out;
}

function writeElement(f: FieldContext, compact: boolean): string {
  const t = f.field.type;
  if (t.kind !== "array") throw new Error(`${f.field.path} is not an array`);
  const el = t.element;
  if (el.kind === "struct") return `write${el.struct.tsName}(w, e, version);`;
  if (isLengthPrefixed(el.name)) return `w.${lengthPrefixedMethod(el.name, { compact, nullable: false })}(e);`;
  return `w.${el.name}(e);`;
}

/** The value, or a call failing the encoding when it is null in a version where it cannot be. */
function nonNull(f: FieldContext): string {
  if (!f.nullable) return f.value;
  return `(${f.value} ?? ${f.message.use("nullError")}(${f.message.nameLiteral}, version, ${f.pathLiteral}))`;
}
