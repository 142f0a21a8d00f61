import type { FieldSpec, MessageSpec, PrimitiveName, StructSpec } from "../schema.js";
import { versionCondition, Versions } from "../versions.js";
import {
  defaultExpr,
  fieldTs,
  fieldWithin,
  primitiveTs,
  structWithin,
  supersetNullable,
  versionTypeName,
} from "./types.js";

/**
 * Emits the TypeScript of one message: its superset and per-version types, factories, and the
 * straight-line writer, reader and size function of each struct. Version checks go through
 * `versionCondition`, so a check that is always true or always false for a struct is not emitted.
 * Returns statement text plus the runtime symbols it uses; `project.ts` turns those into imports.
 */
export interface EmittedMessage {
  readonly text: string;
  /** Runtime symbols referenced, by name; the caller imports them. */
  readonly runtime: ReadonlySet<string>;
  /** Runtime symbols only used as types. */
  readonly runtimeTypes: ReadonlySet<string>;
}

/** Symbols of `generated/src/runtime` that generated code may use, split into values and types. */
export const RUNTIME_VALUES = [
  "Writer",
  "EncodeError",
  "UnsupportedVersionError",
  "EMPTY_BYTES",
  "nullError",
  "writeUnknownTaggedFields",
  "sizeOfUnknownTaggedFields",
  "sizeOfUnsignedVarint",
  "utf8Length",
] as const;
export const RUNTIME_TYPES = ["Reader", "TaggedField", "MessageCodec"] as const;

class Out {
  private readonly lines: string[] = [];
  line(s = ""): void {
    this.lines.push(s);
  }
  toString(): string {
    return this.lines.join("\n");
  }
}

/** `if (cond) { a } else { b }`, dropping the branch that cannot run. */
function branch(out: string[], cond: string, yes: () => string[], no: () => string[]): void {
  if (cond === "always") out.push(...scoped(yes()));
  else if (cond === "never") out.push(...scoped(no()));
  else {
    const y = yes();
    const n = no();
    out.push(`if (${cond}) {`, ...y, n.length > 0 ? "} else {" : "}", ...(n.length > 0 ? [...n, "}"] : []));
  }
}

/** Lines that declare locals get a block of their own, so two fields' locals cannot clash. */
function scoped(lines: string[]): string[] {
  return lines.some((l) => l.startsWith("const ") || l.startsWith("let ")) ? ["{", ...lines, "}"] : lines;
}

/** `cond ? a : b` as an expression, dropping the side that cannot happen. */
function ternary(cond: string, yes: () => string, no: () => string): string {
  if (cond === "always") return yes();
  if (cond === "never") return no();
  return `(${cond} ? ${yes()} : ${no()})`;
}

/** The versions of `region` where `flex` holds, and those where it does not (flexibility is an open range). */
function splitFlexible(region: Versions, flex: Versions): { flexible: Versions; classic: Versions } {
  return {
    flexible: flex.intersect(region),
    classic: flex.empty ? region : region.intersect(Versions.of(0, flex.lowest - 1)),
  };
}

/** The Reader/Writer method for a string or bytes value: compact or not, nullable or not. */
function lengthPrefixedMethod(kind: "String" | "Bytes", compact: boolean, nullable: boolean): string {
  if (compact) return `compact${nullable ? "Nullable" : ""}${kind}`;
  return nullable ? `nullable${kind}` : kind.toLowerCase();
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

export function emitMessage(msg: MessageSpec): EmittedMessage {
  const runtime = new Set<string>();
  const runtimeTypes = new Set<string>(["Reader"]);
  runtime.add("Writer");
  const out = new Out();
  const needIsDefault = new Set<StructSpec>();
  const M = JSON.stringify(msg.name);

  const flexOf = (f: FieldSpec): Versions => f.flexibleVersions ?? msg.flexibleVersions;
  const taggedOf = (f: FieldSpec, within: Versions): Versions => f.taggedVersions.intersect(within);
  const untaggedOf = (f: FieldSpec, within: Versions): Versions =>
    f.taggedVersions.empty ? fieldWithin(f, within) : Versions.NONE;
  const P = (f: FieldSpec): string => JSON.stringify(f.path);

  /** An expression true when `v` differs from the field's default (Kafka writes or rejects it then). */
  const notDefault = (f: FieldSpec, v: string, within: Versions): string => {
    const d = f.default;
    const nullable = supersetNullable(f, within);
    switch (d.kind) {
      case "null":
        return `${v} !== null`;
      case "empty":
        return nullable ? `(${v} === null || ${v}.length !== 0)` : `${v}.length !== 0`;
      case "struct": {
        const s = (f.type as { struct: StructSpec }).struct;
        needIsDefault.add(s);
        return nullable ? `(${v} === null || !isDefault${s.tsName}(${v}))` : `!isDefault${s.tsName}(${v})`;
      }
      default:
        return `${v} !== ${defaultExpr(f)}`;
    }
  };

  const absentCheck = (f: FieldSpec, within: Versions): string[] => {
    if (f.ignorable) return [];
    runtime.add("EncodeError");
    const v = `m.${f.name}`;
    return [
      `if (${v} !== undefined && ${notDefault(f, v, within)}) {`,
      `throw new EncodeError(${M}, version, ${P(f)}, "has a value other than its default but this version cannot carry it");`,
      "}",
    ];
  };

  // ---- writing ------------------------------------------------------------------------------------

  /** Statements writing value `v` of field `f` for the versions `region` (all flexible if `tagged`). */
  const writeValue = (f: FieldSpec, v: string, region: Versions, within: Versions): string[] => {
    const t = f.type;
    const fc = versionCondition(flexOf(f), region);
    const nc = versionCondition(f.nullableVersions, region);
    // Nullability is checked again inside each side of the flexibility branch, against that side only.
    const sides = splitFlexible(region, flexOf(f));
    const ncFlex = versionCondition(f.nullableVersions, sides.flexible);
    const ncClassic = versionCondition(f.nullableVersions, sides.classic);
    const nullableSuper = supersetNullable(f, within);
    const nonNull = (x: string): string => {
      if (!nullableSuper) return x;
      runtime.add("nullError");
      return `(${x} ?? nullError(${M}, version, ${P(f)}))`;
    };
    const lines: string[] = [];
    if (t.kind === "primitive") {
      const name = t.name;
      if (name === "string" || name === "bytes" || name === "records") {
        const kind = name === "string" ? ("String" as const) : ("Bytes" as const);
        const call = (compact: boolean, nullable: boolean): string[] => [
          `w.${lengthPrefixedMethod(kind, compact, nullable)}(${nullable ? v : nonNull(v)});`,
        ];
        branch(
          lines,
          fc,
          () => {
            const l: string[] = [];
            branch(l, ncFlex, () => call(true, true), () => call(true, false));
            return l;
          },
          () => {
            const l: string[] = [];
            branch(l, ncClassic, () => call(false, true), () => call(false, false));
            return l;
          },
        );
      } else {
        lines.push(`w.${name}(${v});`);
      }
      return lines;
    }
    if (t.kind === "struct") {
      const s = t.struct;
      branch(
        lines,
        nc,
        () => [`if (${v} === null) {`, "w.int8(-1);", "} else {", "w.int8(1);", `write${s.tsName}(w, ${v}, version);`, "}"],
        () => [`write${s.tsName}(w, ${nonNull(v)}, version);`],
      );
      return lines;
    }
    // Arrays.
    const el = t.element;
    const elementWrite = (compact: boolean): string => {
      if (el.kind === "struct") return `write${el.struct.tsName}(w, e, version);`;
      if (el.name === "string") return compact ? "w.compactString(e);" : "w.string(e);";
      if (el.name === "bytes") return compact ? "w.compactBytes(e);" : "w.bytes(e);";
      return `w.${el.name}(e);`;
    };
    const body = (compact: boolean, nullable: boolean): string[] => {
      const a = nullable ? "a" : nonNull(v);
      const l: string[] = [];
      if (nullable) {
        l.push(`const a = ${v};`, "if (a === null) {", compact ? "w.unsignedVarint(0);" : "w.int32(-1);", "} else {");
      }
      l.push(compact ? `w.unsignedVarint(${a}.length + 1);` : `w.int32(${a}.length);`);
      l.push(`for (const e of ${a}) {`, elementWrite(compact), "}");
      if (nullable) l.push("}");
      return l;
    };
    branch(
      lines,
      fc,
      () => {
        const l: string[] = [];
        branch(l, ncFlex, () => body(true, true), () => body(true, false));
        return l;
      },
      () => {
        const l: string[] = [];
        branch(l, ncClassic, () => body(false, true), () => body(false, false));
        return l;
      },
    );
    return lines;
  };

  // ---- sizes --------------------------------------------------------------------------------------

  /** Statements adding the size of value `v` to `s`, mirroring writeValue. */
  const sizeValue = (f: FieldSpec, v: string, region: Versions, within: Versions, acc = "s"): string[] => {
    const t = f.type;
    const fc = versionCondition(flexOf(f), region);
    const nc = versionCondition(f.nullableVersions, region);
    const lines: string[] = [];
    if (t.kind === "primitive") {
      const fixed = FIXED_SIZE[t.name];
      if (fixed !== undefined) return [`${acc} += ${fixed};`];
      const isString = t.name === "string";
      const len = (x: string): string => {
        if (isString) {
          runtime.add("utf8Length");
          return `utf8Length(${x})`;
        }
        return `${x}.length`;
      };
      const nullableSuper = supersetNullable(f, within);
      const compactSize = (): string[] => {
        runtime.add("sizeOfUnsignedVarint");
        if (!nullableSuper) return [`{ const n = ${len(v)}; ${acc} += sizeOfUnsignedVarint(n + 1) + n; }`];
        return [`if (${v} === null) { ${acc} += 1; } else { const n = ${len(v)}; ${acc} += sizeOfUnsignedVarint(n + 1) + n; }`];
      };
      const prefix = isString ? 2 : 4;
      const plainSize = (): string[] => {
        if (!nullableSuper) return [`${acc} += ${prefix} + ${len(v)};`];
        return [`${acc} += ${prefix} + (${v} === null ? 0 : ${len(v)});`];
      };
      branch(lines, fc, compactSize, plainSize);
      return lines;
    }
    if (t.kind === "struct") {
      const s = t.struct;
      branch(
        lines,
        nc,
        () => [`${acc} += 1;`, `if (${v} !== null) ${acc} += size${s.tsName}(${v}, version);`],
        () => [`if (${v} !== null) ${acc} += size${s.tsName}(${v}, version);`],
      );
      return lines;
    }
    const el = t.element;
    const elementSize = (compact: boolean): string => {
      if (el.kind === "struct") return `${acc} += size${el.struct.tsName}(e, version);`;
      const fixed = FIXED_SIZE[el.name];
      if (fixed !== undefined) return "";
      const len = el.name === "string" ? (runtime.add("utf8Length"), "utf8Length(e)") : "e.length";
      if (compact) {
        runtime.add("sizeOfUnsignedVarint");
        return `{ const n = ${len}; ${acc} += sizeOfUnsignedVarint(n + 1) + n; }`;
      }
      return `${acc} += ${el.name === "string" ? 2 : 4} + ${len};`;
    };
    const fixedEl = el.kind === "primitive" ? FIXED_SIZE[el.name] : undefined;
    const nullableSuper = supersetNullable(f, within);
    const body = (compact: boolean): string[] => {
      const l = [`const a = ${v};`];
      if (compact) runtime.add("sizeOfUnsignedVarint");
      const prefix = compact ? "sizeOfUnsignedVarint(a.length + 1)" : "4";
      const nullPrefix = compact ? "1" : "4";
      const each = fixedEl !== undefined ? [`${acc} += a.length * ${fixedEl};`] : [`for (const e of a) {`, elementSize(compact), "}"];
      if (nullableSuper) l.push(`if (a === null) {`, `${acc} += ${nullPrefix};`, "} else {", `${acc} += ${prefix};`, ...each, "}");
      else l.push(`${acc} += ${prefix};`, ...each);
      return l;
    };
    branch(lines, fc, () => body(true), () => body(false));
    void nc;
    return lines;
  };

  /** An expression for the size of a tagged field's value (its bytes after tag and size). */
  const taggedValueSize = (f: FieldSpec, v: string, region: Versions, within: Versions): string[] => {
    if (f.type.kind === "struct" && !f.nullableVersions.intersect(region).empty) {
      const s = f.type.struct;
      return [`t = ${v} === null ? 1 : 1 + size${s.tsName}(${v}, version);`];
    }
    return ["t = 0;", ...sizeValue(f, v, region, within, "t")];
  };

  const writeTaggedValue = (f: FieldSpec, v: string, region: Versions, within: Versions): string[] => {
    if (f.type.kind === "struct" && !f.nullableVersions.intersect(region).empty) {
      const s = f.type.struct;
      return [`if (${v} === null) {`, "w.unsignedVarint(0);", "} else {", "w.unsignedVarint(1);", `write${s.tsName}(w, ${v}, version);`, "}"];
    }
    return writeValue(f, v, region, within);
  };

  // ---- reading ------------------------------------------------------------------------------------

  /** Statements assigning the decoded value of `f` to local `x` for the versions `region`. */
  const readValue = (f: FieldSpec, x: string, region: Versions, within: Versions, tagged: boolean): string[] => {
    const t = f.type;
    const fc = tagged ? "always" : versionCondition(flexOf(f), region);
    const nc = versionCondition(f.nullableVersions, region);
    const sides = tagged ? { flexible: region, classic: Versions.NONE } : splitFlexible(region, flexOf(f));
    const ncFlex = versionCondition(f.nullableVersions, sides.flexible);
    const ncClassic = versionCondition(f.nullableVersions, sides.classic);
    const p = P(f);
    const lines: string[] = [];
    if (t.kind === "primitive") {
      const name = t.name;
      if (name === "string" || name === "bytes" || name === "records") {
        const kind = name === "string" ? ("String" as const) : ("Bytes" as const);
        const call = (compact: boolean, nullable: boolean): string => `r.${lengthPrefixedMethod(kind, compact, nullable)}(${p})`;
        const expr = ternary(
          fc,
          () => ternary(ncFlex, () => call(true, true), () => call(true, false)),
          () => ternary(ncClassic, () => call(false, true), () => call(false, false)),
        );
        return [`${x} = ${expr};`];
      }
      return [`${x} = r.${name}(${p});`];
    }
    if (t.kind === "struct") {
      const s = t.struct;
      const read = `read${s.tsName}(r, version)`;
      if (tagged && !f.nullableVersions.intersect(region).empty) {
        return [`${x} = r.unsignedVarint(${p}) === 0 ? null : ${read};`];
      }
      const expr = ternary(nc, () => `(r.int8(${p}) < 0 ? null : ${read})`, () => read);
      return [`${x} = ${expr};`];
    }
    const el = t.element;
    const elRead = (compact: boolean): string => {
      if (el.kind === "struct") return `read${el.struct.tsName}(r, version)`;
      if (el.name === "string") return compact ? `r.compactString(${p})` : `r.string(${p})`;
      if (el.name === "bytes") return compact ? `r.compactBytes(${p})` : `r.bytes(${p})`;
      return `r.${el.name}(${p})`;
    };
    const elTs = el.kind === "struct" ? el.struct.tsName : primitiveTs(el.name);
    const body = (compact: boolean): string[] => {
      const l = [`const n = ${compact ? `r.compactArrayLength(${p})` : `r.arrayLength(${p})`};`];
      l.push("if (n < 0) {");
      branch(l, compact ? ncFlex : ncClassic, () => [`${x} = null;`], () => [`r.fail(${p}, "null for a non-nullable array");`]);
      l.push("} else {", `const a = new Array<${elTs}>(n);`, "for (let i = 0; i < n; i++) {", `a[i] = ${elRead(compact)};`, "}", `${x} = a;`, "}");
      return l;
    };
    branch(lines, fc, () => body(true), () => body(false));
    void within;
    return lines;
  };

  // ---- per struct -----------------------------------------------------------------------------------

  const emitStruct = (s: StructSpec, isRoot: boolean): void => {
    const within = structWithin(msg, s);
    if (within.empty) return;
    const T = s.tsName;
    const flexWithin = msg.flexibleVersions.intersect(within);
    const taggedFields = s.fields
      .filter((f) => !taggedOf(f, within).empty)
      .sort((a, b) => (a.tag ?? 0) - (b.tag ?? 0));

    // Superset interface.
    out.line(`/** ${isRoot ? `${msg.name}, every field of every version (v${within}).` : `${s.schemaName} of ${msg.name} (v${within}), every field of every version.`} */`);
    out.line(`export interface ${T} {`);
    for (const f of s.fields) {
      const fw = fieldWithin(f, within);
      const notes = [`\`${f.schemaName}\`: v${fw.empty ? "none" : fw}`];
      if (!f.nullableVersions.intersect(fw).empty) notes.push(`nullable v${f.nullableVersions.intersect(fw)}`);
      if (f.tag !== undefined) notes.push(`tag ${f.tag}`);
      if (f.ignorable) notes.push("ignorable");
      if (f.entityType !== undefined) notes.push(`entity ${f.entityType}`);
      if (f.mapKey) notes.push("map key");
      out.line(`/** ${notes.join("; ")} */`);
      out.line(`${f.name}: ${fieldTs(f, supersetNullable(f, within), (x) => x.tsName)};`);
    }
    if (!flexWithin.empty) {
      runtimeTypes.add("TaggedField");
      out.line("/** Tagged fields this schema does not know, kept as read and written back. */");
      out.line("_unknownTaggedFields?: TaggedField[];");
    }
    out.line("}");
    out.line();

    // Factory.
    out.line(`/** A ${s.schemaName} with every field at its default, overridden by \`init\`. */`);
    out.line(`export function create${T}(init?: Partial<${T}>): ${T} {`);
    out.line(`const o: ${T} = {`);
    for (const f of s.fields) {
      if (f.default.kind === "empty" && f.type.kind !== "array") runtime.add("EMPTY_BYTES");
      out.line(`${f.name}: init?.${f.name} !== undefined ? init.${f.name} : ${defaultExpr(f)},`);
    }
    out.line("};");
    if (!flexWithin.empty) out.line("if (init?._unknownTaggedFields !== undefined) o._unknownTaggedFields = init._unknownTaggedFields;");
    out.line("return o;");
    out.line("}");
    out.line();

    // Writer.
    const w: string[] = [];
    for (const f of s.fields) {
      const untagged = untaggedOf(f, within);
      const tagged = taggedOf(f, within);
      const present = untagged.empty ? tagged : untagged;
      const cond = versionCondition(present, within);
      if (!untagged.empty) {
        branch(w, cond, () => writeValue(f, `m.${f.name}`, untagged, within), () => absentCheck(f, within));
      } else if (cond === "never") {
        w.push(...absentCheck(f, within));
      } else if (cond !== "always" && !f.ignorable) {
        w.push(`if (!(${cond})) {`, ...absentCheck(f, within), "}");
      }
    }
    if (!flexWithin.empty) {
      const fcond = versionCondition(flexWithin, within);
      const tw: string[] = ["let n = 0;"];
      const written = (f: FieldSpec): string => {
        const c = versionCondition(taggedOf(f, within), flexWithin);
        const nd = notDefault(f, `m.${f.name}`, within);
        return c === "always" ? nd : `${c} && ${nd}`;
      };
      for (const f of taggedFields) tw.push(`if (${written(f)}) n++;`);
      runtime.add("writeUnknownTaggedFields");
      tw.push("const u = m._unknownTaggedFields;", "if (u !== undefined) n += u.length;", "w.unsignedVarint(n);");
      if (taggedFields.length > 0) tw.push("let ui = 0;", "let t = 0;");
      for (const f of taggedFields) {
        const region = taggedOf(f, within);
        tw.push(
          `if (${written(f)}) {`,
          `ui = writeUnknownTaggedFields(w, u, ui, ${f.tag});`,
          `w.unsignedVarint(${f.tag});`,
          ...taggedValueSize(f, `m.${f.name}`, region, within),
          "w.unsignedVarint(t);",
          ...writeTaggedValue(f, `m.${f.name}`, region, within),
          "}",
        );
      }
      tw.push(`writeUnknownTaggedFields(w, u, ${taggedFields.length > 0 ? "ui" : "0"}, Infinity);`);
      branch(w, fcond, () => tw, () => {
        runtime.add("EncodeError");
        return [
          "if (m._unknownTaggedFields !== undefined && m._unknownTaggedFields.length > 0) {",
          `throw new EncodeError(${M}, version, ${JSON.stringify(s.schemaName)}, "tagged fields cannot be written in a version that is not flexible");`,
          "}",
        ];
      });
    }
    const versionGuard = (): string[] => {
      if (!isRoot) return [];
      runtime.add("UnsupportedVersionError");
      return [`if (version < ${within.lowest} || version > ${within.highest}) throw new UnsupportedVersionError(${M}, version);`];
    };
    out.line(`function write${T}(w: Writer, m: ${T}, version: number): void {`);
    for (const l of [...versionGuard(), ...w]) out.line(l);
    out.line("}");
    out.line();

    // Size.
    const z: string[] = ["let s = 0;"];
    for (const f of s.fields) {
      const untagged = untaggedOf(f, within);
      if (untagged.empty) continue;
      const cond = versionCondition(untagged, within);
      branch(z, cond, () => sizeValue(f, `m.${f.name}`, untagged, within), () => []);
    }
    if (!flexWithin.empty) {
      const fcond = versionCondition(flexWithin, within);
      const tz: string[] = ["let n = 0;"];
      if (taggedFields.length > 0) tz.push("let t = 0;");
      for (const f of taggedFields) {
        const region = taggedOf(f, within);
        const c = versionCondition(region, flexWithin);
        const nd = notDefault(f, `m.${f.name}`, within);
        runtime.add("sizeOfUnsignedVarint");
        tz.push(
          `if (${c === "always" ? nd : `${c} && ${nd}`}) {`,
          "n++;",
          ...taggedValueSize(f, `m.${f.name}`, region, within),
          `s += ${sizeOfVarint(f.tag ?? 0)} + sizeOfUnsignedVarint(t) + t;`,
          "}",
        );
      }
      runtime.add("sizeOfUnknownTaggedFields");
      runtime.add("sizeOfUnsignedVarint");
      tz.push(
        "const u = m._unknownTaggedFields;",
        "if (u !== undefined) { n += u.length; s += sizeOfUnknownTaggedFields(u); }",
        "s += sizeOfUnsignedVarint(n);",
      );
      branch(z, fcond, () => tz, () => []);
    }
    z.push("return s;");
    out.line(`function size${T}(m: ${T}, version: number): number {`);
    for (const l of [...versionGuard(), ...z]) out.line(l);
    out.line("}");
    out.line();

    // Reader.
    const r: string[] = [];
    if (isRoot) {
      r.push(...versionGuard(), `r.messageName = ${M};`, "r.version = version;");
    }
    const local = (f: FieldSpec): string => `f_${f.name}`;
    for (const f of s.fields) {
      const nullable = supersetNullable(f, within);
      const decl = `let ${local(f)}: ${fieldTs(f, nullable, (x) => x.tsName)}`;
      const untagged = untaggedOf(f, within);
      const cond = untagged.empty ? "never" : versionCondition(untagged, within);
      const useDefault = (): string[] => {
        if (f.default.kind === "empty" && f.type.kind !== "array") runtime.add("EMPTY_BYTES");
        return [`${local(f)} = ${defaultExpr(f)};`];
      };
      if (!untagged.empty && cond === "always") {
        r.push(`${decl};`);
        const l = readValue(f, local(f), untagged, within, false);
        r.push(...(l.length === 1 ? l : ["{", ...l, "}"]));
      } else if (cond === "never") {
        r.push(`${decl} = ${useDefault()[0]!.replace(/^.* = /, "").replace(/;$/, "")};`);
      } else {
        r.push(`${decl};`);
        const yes = readValue(f, local(f), untagged, within, false);
        r.push(`if (${cond}) {`, ...yes, "} else {", ...useDefault(), "}");
      }
    }
    if (!flexWithin.empty) {
      runtimeTypes.add("TaggedField");
      const fcond = versionCondition(flexWithin, within);
      const tr: string[] = [
        `const n = r.unsignedVarint(${JSON.stringify(`${s.schemaName}._tagged`)});`,
        "for (let i = 0; i < n; i++) {",
        `const tag = r.unsignedVarint(${JSON.stringify(`${s.schemaName}._tag`)});`,
        `const size = r.taggedSize(${JSON.stringify(`${s.schemaName}._tagSize`)});`,
      ];
      if (taggedFields.length > 0) {
        tr.push("const start = r.off;", "switch (tag) {");
        for (const f of taggedFields) {
          const region = taggedOf(f, within);
          const c = versionCondition(region, flexWithin);
          tr.push(`case ${f.tag}:`);
          const body = [...readValue(f, local(f), region, within, true), `r.endTagged(start, size, ${P(f)});`, "continue;"];
          if (c === "always") tr.push("{", ...body, "}");
          else tr.push(`if (${c}) {`, ...body, "}", "break;");
        }
        tr.push("}");
      }
      tr.push(`(unknown ??= []).push({ tag, data: r.raw(size, ${JSON.stringify(`${s.schemaName}._unknown`)}) });`, "}");
      r.push("let unknown: TaggedField[] | undefined;");
      branch(r, fcond, () => tr, () => []);
    }
    r.push(`const o: ${T} = {`);
    for (const f of s.fields) r.push(`${f.name}: ${local(f)},`);
    r.push("};");
    if (!flexWithin.empty) r.push("if (unknown !== undefined) o._unknownTaggedFields = unknown;");
    r.push("return o;");
    out.line(`function read${T}(r: Reader, version: number): ${T} {`);
    for (const l of r) out.line(l);
    out.line("}");
    out.line();
  };

  for (const s of msg.structs) emitStruct(s, s === msg.root);

  // isDefault for structs whose defaults are compared (tagged omission, absent-field checks).
  const done = new Set<StructSpec>();
  while (done.size < needIsDefault.size) {
    for (const s of [...needIsDefault]) {
      if (done.has(s)) continue;
      done.add(s);
      const within = structWithin(msg, s);
      const parts = s.fields.map((f) => notDefault(f, `m.${f.name}`, within));
      parts.push("(m._unknownTaggedFields !== undefined && m._unknownTaggedFields.length > 0)");
      out.line(`function isDefault${s.tsName}(m: ${s.tsName}): boolean {`);
      out.line(`return !(${parts.join(" || ")});`);
      out.line("}");
      out.line();
    }
  }

  emitVersionTypes(msg, out);
  emitExports(msg, out, runtime, runtimeTypes);
  return { text: out.toString(), runtime, runtimeTypes };
}

function sizeOfVarint(v: number): number {
  let n = 1;
  while (v > 0x7f) {
    v >>>= 7;
    n++;
  }
  return n;
}

/** Per-version types, identical versions of a struct collapsed into aliases of the first. */
function emitVersionTypes(msg: MessageSpec, out: Out): void {
  const canonical = new Map<StructSpec, Map<number, string>>();
  const signatures = new Map<StructSpec, Map<string, string>>();
  const nameAt = (s: StructSpec, v: number): string => {
    const known = canonical.get(s)?.get(v);
    if (known !== undefined) return known;
    const within = structWithin(msg, s);
    const fields = s.fields.filter((f) => f.versions.contains(v));
    const members = fields.map((f) => {
      const nullable = f.nullableVersions.contains(v) || (f.tag !== undefined && f.default.kind === "null");
      return `${f.name}: ${fieldTs(f, nullable, (x) => nameAt(x, v))};`;
    });
    const sig = members.join("\n");
    let sigs = signatures.get(s);
    if (sigs === undefined) signatures.set(s, (sigs = new Map()));
    let byVersion = canonical.get(s);
    if (byVersion === undefined) canonical.set(s, (byVersion = new Map()));
    const name = versionTypeName(s, v);
    const first = sigs.get(sig);
    if (first !== undefined) {
      // Parents refer to the first identical version, so they collapse too.
      out.line(`export type ${name} = ${first};`);
      byVersion.set(v, first);
      return first;
    } else {
      sigs.set(sig, name);
      out.line(`/** ${s.schemaName} of ${msg.name} as version ${v} carries it. */`);
      out.line(`export interface ${name} {`);
      for (const m of members) out.line(m);
      if (msg.flexibleVersions.intersect(within).contains(v)) out.line("_unknownTaggedFields?: TaggedField[];");
      out.line("}");
    }
    byVersion.set(v, name);
    return name;
  };
  const root = msg.root;
  const versions = msg.validVersions.list(msg.validVersions.highest);
  for (const v of versions) nameAt(root, v);
  out.line();
  out.line(`/** ${msg.name}'s type at each version. */`);
  out.line(`export interface ${root.tsName}Versions {`);
  for (const v of versions) out.line(`${v}: ${versionTypeName(root, v)};`);
  out.line("}");
  out.line(`/** ${msg.name} at version V: the precise type for a literal version, the superset otherwise. */`);
  out.line(
    `export type ${root.tsName}At<V extends number> = V extends keyof ${root.tsName}Versions ? ${root.tsName}Versions[V] : ${root.tsName};`,
  );
  out.line();
}

function emitExports(msg: MessageSpec, out: Out, runtime: Set<string>, runtimeTypes: Set<string>): void {
  const T = msg.root.tsName;
  runtimeTypes.add("MessageCodec");
  out.line(`/** Writes ${msg.name} at \`version\`; \`w\` must have room for \`sizeOf${T}\` bytes. */`);
  out.line(`export const encode${T}: <V extends number>(w: Writer, m: ${T}At<V>, version: V) => void = write${T} as never;`);
  out.line(`/** Reads ${msg.name} at \`version\`, failing with a DecodeError naming the field on bad input. */`);
  out.line(`export const decode${T}: <V extends number>(r: Reader, version: V) => ${T}At<V> = read${T} as never;`);
  out.line(`/** The exact number of bytes \`encode${T}\` writes. */`);
  out.line(`export const sizeOf${T}: <V extends number>(m: ${T}At<V>, version: V) => number = size${T} as never;`);
  const flex = msg.flexibleVersions.intersect(msg.validVersions);
  out.line();
  out.line(`/** ${msg.name}'s codec, as the API table and generic tools use it. */`);
  out.line(`export const ${T}Codec: MessageCodec<${T}> = {`);
  out.line(`name: ${JSON.stringify(msg.name)},`);
  out.line(`validVersions: { min: ${msg.validVersions.lowest}, max: ${msg.validVersions.highest} },`);
  out.line(`flexibleVersions: ${flex.empty ? "null" : `{ min: ${flex.lowest}, max: ${flex.highest} }`},`);
  out.line(`encode: write${T},`);
  out.line(`decode: read${T},`);
  out.line(`size: size${T},`);
  out.line(`create: create${T},`);
  out.line("};");
  void runtime;
}
