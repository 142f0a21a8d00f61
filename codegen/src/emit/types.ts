import type { DefaultValue, FieldSpec, FieldType, MessageSpec, PrimitiveName, StructSpec } from "../schema.js";
import { Versions } from "../versions.js";

/** TypeScript names and type expressions for schema types. */

export function primitiveTs(name: PrimitiveName): string {
  switch (name) {
    case "bool":
      return "boolean";
    case "int64":
      return "bigint";
    case "string":
    case "uuid":
      return "string";
    case "bytes":
    case "records":
      return "Buffer";
    default:
      return "number";
  }
}

/** The versions in which a field is read or written at all, given where its struct can appear. */
export function fieldWithin(f: FieldSpec, within: Versions): Versions {
  return f.versions.intersect(within);
}

/** Whether the field can be null in any version its struct is used at (the superset type's nullability). */
export function supersetNullable(f: FieldSpec, within: Versions): boolean {
  return !f.nullableVersions.intersect(fieldWithin(f, within)).empty || f.default.kind === "null";
}

export function structWithin(msg: MessageSpec, s: StructSpec): Versions {
  return s.versions.intersect(msg.validVersions);
}

export function baseTs(type: FieldType, structName: (s: StructSpec) => string): string {
  switch (type.kind) {
    case "primitive":
      return primitiveTs(type.name);
    case "struct":
      return structName(type.struct);
    case "array": {
      const el = type.element.kind === "primitive" ? primitiveTs(type.element.name) : structName(type.element.struct);
      return `${el}[]`;
    }
  }
}

export function fieldTs(f: FieldSpec, nullable: boolean, structName: (s: StructSpec) => string): string {
  const t = baseTs(f.type, structName);
  return nullable ? `${t} | null` : t;
}

/** The TypeScript expression of a field's default; struct defaults call the struct's factory. */
export function defaultExpr(f: FieldSpec): string {
  return defaultValueExpr(f.default, f.type);
}

export function defaultValueExpr(d: DefaultValue, type: FieldType): string {
  switch (d.kind) {
    case "null":
      return "null";
    case "number":
      return Object.is(d.value, -0) ? "0" : String(d.value);
    case "bigint":
      return `${d.value}n`;
    case "bool":
      return String(d.value);
    case "string":
      return JSON.stringify(d.value);
    case "empty":
      return type.kind === "array" ? "[]" : "EMPTY_BYTES";
    case "struct":
      return `create${(type as { struct: StructSpec }).struct.tsName}()`;
  }
}

/**
 * How docs name a struct: the message's name for its root; a struct's schema name, followed by the
 * message's when the schema name does not already say it ("`TopicProduceData` of ProduceRequest").
 */
export function structSubject(msg: MessageSpec, s: StructSpec): string {
  if (s === msg.root) return msg.name;
  return s.schemaName.startsWith(msg.name) ? `\`${s.schemaName}\`` : `\`${s.schemaName}\` of ${msg.name}`;
}

/** Names of the per-version type of struct `s` at version `v`, before de-duplication. */
export function versionTypeName(s: StructSpec, v: number): string {
  return `${s.tsName}V${v}`;
}
