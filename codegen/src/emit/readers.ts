import { versionCondition, type Versions } from "../versions.js";
import { branch, declaration, ternary } from "./code.js";
import { versionGuard } from "./checks.js";
import type { FieldContext, StructContext } from "./context.js";
import { defaultValue } from "./defaults.js";
import {
  eachCompactness,
  eachNullability,
  encodingChoice,
  encodingExpression,
  isLengthPrefixed,
  lengthPrefixedMethod,
  nullableCondition,
  readArrayLength,
  type Encoding,
  type EncodingChoice,
} from "./encoding.js";
import { primitiveTs } from "./types.js";

/**
 * `readX(r, version)`: each field into a local (its default where the version lacks it), then the
 * tagged fields by tag, unknown tags kept as raw bytes; the object is built once at the end, every
 * property assigned, so that objects of one struct share a shape.
 */
export function emitReader(s: StructContext): string[] {
  const body: string[] = [];
  if (s.isRoot) body.push(...versionGuard(s), `r.messageName = ${s.message.nameLiteral};`, "r.version = version;");
  for (const f of s.fields) body.push(...readField(f));
  if (!s.flexible.empty) {
    body.push(`let unknown: ${s.message.use("TaggedField")}[] | undefined;`);
    branch(
      body,
      versionCondition(s.flexible, s.within),
      () => readTaggedFields(s),
      () => [],
    );
  }
  body.push(`const o: ${s.tsName} = {`, ...s.fields.map((f) => `${f.field.name}: ${f.local},`), "};");
  if (!s.flexible.empty) body.push("if (unknown !== undefined) o._unknownTaggedFields = unknown;");
  body.push("return o;");
  return declaration(`function read${s.tsName}(r: ${s.message.use("Reader")}, version: number): ${s.tsName} {`, body);
}

/** A positional field into its local; the default where the version lacks it (or has it tagged). */
function readField(f: FieldContext): string[] {
  const decl = `let ${f.local}: ${f.tsType}`;
  const cond = f.untagged.empty ? "never" : versionCondition(f.untagged, f.within);
  if (cond === "never") return [`${decl} = ${defaultValue(f)};`];
  if (cond === "always") {
    const read = readValue(f, f.untagged, false);
    return [`${decl};`, ...(read.length === 1 ? read : ["{", ...read, "}"])];
  }
  const read = readValue(f, f.untagged, false);
  return [`${decl};`, `if (${cond}) {`, ...read, "} else {", `${f.local} = ${defaultValue(f)};`, "}"];
}

/** The loop over a struct's tagged fields: known tags decoded into their locals, the others kept. */
function readTaggedFields(s: StructContext): string[] {
  const at = (what: string): string => JSON.stringify(`${s.struct.schemaName}.${what}`);
  const out = [
    `const n = r.unsignedVarint(${at("_tagged")});`,
    "for (let i = 0; i < n; i++) {",
    `const tag = r.unsignedVarint(${at("_tag")});`,
    `const size = r.taggedSize(${at("_tagSize")});`,
  ];
  if (s.tagged.length > 0) {
    out.push("const start = r.off;", "switch (tag) {");
    for (const f of s.tagged) {
      const c = versionCondition(f.tagged, s.flexible);
      const body = [...readValue(f, f.tagged, true), `r.endTagged(start, size, ${f.pathLiteral});`, "continue;"];
      out.push(`case ${f.field.tag}:`);
      if (c === "always") out.push("{", ...body, "}");
      else out.push(`if (${c}) {`, ...body, "}", "break;");
    }
    out.push("}");
  }
  out.push(`(unknown ??= []).push({ tag, data: r.raw(size, ${at("_unknown")}) });`, "}");
  return out;
}

/** Statements assigning the decoded value of `f` to its local, for the versions `region`. */
function readValue(f: FieldContext, region: Versions, tagged: boolean): string[] {
  const t = f.field.type;
  const p = f.pathLiteral;
  if (t.kind === "primitive") {
    const name = t.name;
    if (!isLengthPrefixed(name)) return [`${f.local} = r.${name}(${p});`];
    const read = (e: Encoding): string => `r.${lengthPrefixedMethod(name, e)}(${p})`;
    return [`${f.local} = ${encodingExpression(encodingChoice(f, region, tagged), read)};`];
  }
  if (t.kind === "struct") {
    const read = `read${t.struct.tsName}(r, version)`;
    // A tagged struct's null marker is a varint; elsewhere an int8.
    if (tagged && !f.field.nullableVersions.intersect(region).empty) {
      return [`${f.local} = r.unsignedVarint(${p}) === 0 ? null : ${read};`];
    }
    const orNull = (): string => `(r.int8(${p}) < 0 ? null : ${read})`;
    return [`${f.local} = ${ternary(nullableCondition(f, region), orNull, () => read)};`];
  }
  return readArray(f, encodingChoice(f, region, tagged));
}

/** An array: its length (negative for null, refused where the version has no null), then each element. */
function readArray(f: FieldContext, choice: EncodingChoice): string[] {
  const x = f.local;
  const p = f.pathLiteral;
  return eachCompactness(choice, (compact) => [
    `const n = ${readArrayLength(compact, p)};`,
    "if (n < 0) {",
    ...eachNullability(choice, compact, (nullable) =>
      nullable ? [`${x} = null;`] : [`r.fail(${p}, "null for a non-nullable array");`],
    ),
    "} else {",
    `const a = new Array<${elementTs(f)}>(n);`,
    "for (let i = 0; i < n; i++) {",
    `a[i] = ${readElement(f, compact)};`,
    "}",
    `${x} = a;`,
    "}",
  ]);
}

function elementOf(f: FieldContext) {
  const t = f.field.type;
  if (t.kind !== "array") throw new Error(`${f.field.path} is not an array`);
  return t.element;
}

function elementTs(f: FieldContext): string {
  const el = elementOf(f);
  return el.kind === "struct" ? el.struct.tsName : primitiveTs(el.name);
}

function readElement(f: FieldContext, compact: boolean): string {
  const el = elementOf(f);
  if (el.kind === "struct") return `read${el.struct.tsName}(r, version)`;
  const p = f.pathLiteral;
  if (isLengthPrefixed(el.name)) return `r.${lengthPrefixedMethod(el.name, { compact, nullable: false })}(${p})`;
  return `r.${el.name}(${p})`;
}
