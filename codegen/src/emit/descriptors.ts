import type { FieldSpec, FieldType, MessageSpec, StructSpec } from "../schema.js";
import { Versions } from "../versions.js";
import { ImportSet } from "./imports.js";
import { structWithin } from "./types.js";

/**
 * Emits the descriptor module: every struct of every message as plain data (field names, types,
 * version ranges, tags, defaults), for tools that walk messages generically, such as property-based
 * tests, pretty printers and fuzzers. Ranges are clipped to the versions the struct can appear at, so
 * every range is closed. Nothing descriptive (`about`) is copied from the schemas.
 */

/** The types the descriptor modules share; emitted once, into the package's descriptor module. */
const TYPES = `
/** A schema primitive, as the descriptors name it. */
export type PrimitiveTypeName =
  | "bool" | "int8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "float64"
  | "string" | "uuid" | "bytes" | "records";
/** An array element: a primitive, or a struct of the same message by its schema name. */
export type ElementTypeDescriptor = PrimitiveTypeName | { readonly struct: string };
export type TypeDescriptor = ElementTypeDescriptor | { readonly array: ElementTypeDescriptor };

export interface FieldDescriptor {
  /** The TypeScript property name. */
  readonly name: string;
  readonly type: TypeDescriptor;
  /** The versions the field is on the wire (tagged or not), or null for none. */
  readonly versions: VersionRange | null;
  /** Absent when the field is never null. */
  readonly nullableVersions?: VersionRange;
  /** Present, with \`tag\`, for a tagged field. */
  readonly taggedVersions?: VersionRange;
  readonly tag?: number;
  /** A field's own flexible versions when it overrides the message's (null: never flexible). */
  readonly flexibleVersions?: VersionRange | null;
  /** Written to a version without the field, a non-default value is dropped instead of failing. */
  readonly ignorable?: true;
  /**
   * The schema's default when it is not the type's zero value (0, 0n, false, "", the all-zero UUID,
   * empty bytes or array, a struct with every field at its default).
   */
  readonly default?: null | boolean | number | bigint | string;
}

export interface StructDescriptor {
  /** The versions of the message the struct can appear in. */
  readonly versions: VersionRange;
  readonly fields: readonly FieldDescriptor[];
}

export interface MessageDescriptor {
  readonly name: string;
  readonly type: "request" | "response" | "header" | "data";
  /** Set for requests and responses. */
  readonly apiKey?: number;
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange | null;
  /** Every struct by schema name; the root struct has the message's name. */
  readonly structs: Readonly<Record<string, StructDescriptor>>;
}
`;

function range(v: Versions): string {
  return `{ min: ${v.lowest}, max: ${v.highest} }`;
}

function typeText(t: FieldType): string {
  const element = (e: { kind: "primitive"; name: string } | { kind: "struct"; struct: StructSpec }): string =>
    e.kind === "primitive" ? JSON.stringify(e.name) : `{ struct: ${JSON.stringify(e.struct.schemaName)} }`;
  return t.kind === "array" ? `{ array: ${element(t.element)} }` : element(t);
}

/** The default as a literal, or undefined when it is the type's zero value. */
function defaultText(f: FieldSpec): string | undefined {
  const d = f.default;
  switch (d.kind) {
    case "null":
      return "null";
    case "number":
      return d.value === 0 ? undefined : String(d.value);
    case "bigint":
      return d.value === 0n ? undefined : `${d.value}n`;
    case "bool":
      return d.value ? "true" : undefined;
    case "string":
      return d.value === "" || d.value === "AAAAAAAAAAAAAAAAAAAAAA" ? undefined : JSON.stringify(d.value);
    case "empty":
    case "struct":
      return undefined;
  }
}

function fieldText(f: FieldSpec, within: Versions): string {
  const fw = f.versions.intersect(within);
  const parts = [
    `name: ${JSON.stringify(f.name)}`,
    `type: ${typeText(f.type)}`,
    `versions: ${fw.empty ? "null" : range(fw)}`,
  ];
  const nullable = f.nullableVersions.intersect(fw);
  if (!nullable.empty) parts.push(`nullableVersions: ${range(nullable)}`);
  const tagged = f.taggedVersions.intersect(fw);
  if (f.tag !== undefined && !tagged.empty) parts.push(`taggedVersions: ${range(tagged)}`, `tag: ${f.tag}`);
  if (f.flexibleVersions !== undefined) {
    const flex = f.flexibleVersions.intersect(fw);
    parts.push(`flexibleVersions: ${flex.empty ? "null" : range(flex)}`);
  }
  if (f.ignorable) parts.push("ignorable: true");
  const d = defaultText(f);
  if (d !== undefined) parts.push(`default: ${d}`);
  return `{ ${parts.join(", ")} }`;
}

function messageText(msg: MessageSpec): string {
  const flex = msg.flexibleVersions.intersect(msg.validVersions);
  const structs: string[] = [];
  for (const s of msg.structs) {
    const within = structWithin(msg, s);
    if (within.empty) continue;
    const fields = s.fields.map((f) => fieldText(f, within));
    structs.push(`${s.schemaName}: { versions: ${range(within)}, fields: [${fields.join(", ")}] }`);
  }
  const parts = [`name: ${JSON.stringify(msg.name)}`, `type: ${JSON.stringify(msg.type)}`];
  if (msg.apiKey !== undefined) parts.push(`apiKey: ${msg.apiKey}`);
  parts.push(
    `validVersions: ${range(msg.validVersions)}`,
    `flexibleVersions: ${flex.empty ? "null" : range(flex)}`,
    `structs: { ${structs.join(", ")} }`,
  );
  return `{ ${parts.join(", ")} }`;
}

/**
 * Statements of a descriptor module for `messages`, exporting `constName`, and the symbols they import.
 * Without `typesModule` the module declares the descriptor types; otherwise it imports them from there.
 */
export function emitDescriptors(
  messages: readonly MessageSpec[],
  constName: string,
  typesModule?: string,
): { text: string; imports: ImportSet } {
  const imports = new ImportSet();
  const lines: string[] = [];
  if (typesModule === undefined) {
    imports.runtime("VersionRange");
    lines.push(TYPES);
  }
  const descriptor =
    typesModule === undefined ? "MessageDescriptor" : imports.add(typesModule, "MessageDescriptor", "type");
  lines.push(`/** Every message by name, described field by field. */`);
  lines.push(`export const ${constName}: Readonly<Record<string, ${descriptor}>> = {`);
  for (const m of [...messages].sort((a, b) => a.name.localeCompare(b.name)))
    lines.push(`${m.name}: ${messageText(m)},`);
  lines.push("};");
  return { text: lines.join("\n"), imports };
}
