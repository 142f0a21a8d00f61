import type { PrimitiveName } from "../schema.js";
import { versionCondition, type Versions } from "../versions.js";
import { branch, declaration } from "./code.js";
import { versionGuard } from "./checks.js";
import type { FieldContext, StructContext } from "./context.js";
import { taggedWritten } from "./defaults.js";
import {
  classicPrefixSize,
  eachCompactness,
  encodingChoice,
  isLengthPrefixed,
  nullableCondition,
  type LengthPrefixed,
} from "./encoding.js";

/**
 * `sizeX(m, version)`: the exact number of bytes `writeX` writes, mirroring it field by field. Null
 * costs the same in every version that allows it, so sizes branch on the form only; a null where the
 * version forbids it is the writer's to refuse.
 */
export function emitSize(s: StructContext): string[] {
  const body = [...versionGuard(s), "let s = 0;"];
  for (const f of s.fields) {
    if (f.untagged.empty) continue;
    branch(
      body,
      versionCondition(f.untagged, s.within),
      () => sizeValue(f, f.untagged, "s"),
      () => [],
    );
  }
  if (!s.flexible.empty)
    branch(
      body,
      versionCondition(s.flexible, s.within),
      () => sizeTaggedFields(s),
      () => [],
    );
  body.push("return s;");
  return declaration(`function size${s.tsName}(m: ${s.tsName}, version: number): number {`, body);
}

function sizeTaggedFields(s: StructContext): string[] {
  const varint = s.message.use("sizeOfUnsignedVarint");
  const out = ["let n = 0;"];
  if (s.tagged.length > 0) out.push("let t = 0;");
  for (const f of s.tagged) {
    out.push(
      `if (${taggedWritten(f, s)}) {`,
      "n++;",
      ...taggedValueSize(f),
      `s += ${sizeOfVarint(f.field.tag ?? 0)} + ${varint}(t) + t;`,
      "}",
    );
  }
  const unknown = s.message.use("sizeOfUnknownTaggedFields");
  out.push(
    "const u = m._unknownTaggedFields;",
    `if (u !== undefined) { n += u.length; s += ${unknown}(u); }`,
    `s += ${varint}(n);`,
  );
  return out;
}

/** Statements setting `t` to the size of a tagged field's value (its bytes after tag and size). */
export function taggedValueSize(f: FieldContext): string[] {
  const t = f.field.type;
  if (t.kind === "struct" && !f.field.nullableVersions.intersect(f.tagged).empty) {
    return [`t = ${f.value} === null ? 1 : 1 + size${t.struct.tsName}(${f.value}, version);`];
  }
  return ["t = 0;", ...sizeValue(f, f.tagged, "t", true)];
}

const FIXED_SIZE: Partial<Record<PrimitiveName, number>> = {
  bool: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16,
};

/** Statements adding the size of field `f` over `region` to `acc`. */
function sizeValue(f: FieldContext, region: Versions, acc: string, tagged = false): string[] {
  const t = f.field.type;
  const v = f.value;
  if (t.kind === "primitive") {
    const fixed = FIXED_SIZE[t.name];
    if (fixed !== undefined) return [`${acc} += ${fixed};`];
    const name = t.name as LengthPrefixed;
    return eachCompactness(encodingChoice(f, region, tagged), (compact) => {
      if (compact) {
        const size = compactSize(f, name, v, acc);
        return [f.nullable ? `if (${v} === null) { ${acc} += 1; } else { ${size} }` : `{ ${size} }`];
      }
      const length = lengthOf(f, name, v);
      const prefix = classicPrefixSize(name);
      return [
        f.nullable ? `${acc} += ${prefix} + (${v} === null ? 0 : ${length});` : `${acc} += ${prefix} + ${length};`,
      ];
    });
  }
  if (t.kind === "struct") {
    const size = `if (${v} !== null) ${acc} += size${t.struct.tsName}(${v}, version);`;
    const out: string[] = [];
    branch(
      out,
      nullableCondition(f, region),
      () => [`${acc} += 1;`, size],
      () => [size],
    );
    return out;
  }
  return eachCompactness(encodingChoice(f, region, tagged), (compact) => sizeArray(f, compact, acc));
}

/** `const n = <length>; acc += sizeOfUnsignedVarint(n + 1) + n;`: a compact string or bytes. */
function compactSize(f: FieldContext, name: LengthPrefixed, x: string, acc: string): string {
  const varint = f.message.use("sizeOfUnsignedVarint");
  return `const n = ${lengthOf(f, name, x)}; ${acc} += ${varint}(n + 1) + n;`;
}

/** The byte length of a string (UTF-8) or bytes value. */
function lengthOf(f: FieldContext, name: LengthPrefixed, x: string): string {
  return name === "string" ? `${f.message.use("utf8Length")}(${x})` : `${x}.length`;
}

function sizeArray(f: FieldContext, compact: boolean, acc: string): string[] {
  const t = f.field.type;
  if (t.kind !== "array") throw new Error(`${f.field.path} is not an array`);
  const el = t.element;
  const fixed = el.kind === "primitive" ? FIXED_SIZE[el.name] : undefined;
  const prefix = compact ? `${f.message.use("sizeOfUnsignedVarint")}(a.length + 1)` : `${classicPrefixSize("array")}`;
  const nullPrefix = compact ? "1" : `${classicPrefixSize("array")}`;
  let each: string[];
  if (fixed !== undefined) each = [`${acc} += a.length * ${fixed};`];
  else if (el.kind === "struct") each = ["for (const e of a) {", `${acc} += size${el.struct.tsName}(e, version);`, "}"];
  else {
    const name = el.name as LengthPrefixed;
    const size = compact
      ? `{ ${compactSize(f, name, "e", acc)} }`
      : `${acc} += ${classicPrefixSize(name)} + ${lengthOf(f, name, "e")};`;
    each = ["for (const e of a) {", size, "}"];
  }
  const out = [`const a = ${f.value};`];
  if (f.nullable)
    out.push("if (a === null) {", `${acc} += ${nullPrefix};`, "} else {", `${acc} += ${prefix};`, ...each, "}");
  else out.push(`${acc} += ${prefix};`, ...each);
  return out;
}

/** The size of a varint known when generating (a tag number). */
function sizeOfVarint(v: number): number {
  let n = 1;
  while (v > 0x7f) {
    v >>>= 7;
    n++;
  }
  return n;
}
