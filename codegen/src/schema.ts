import { z } from "zod";
import { stripJsonComments } from "./jsonc.js";
import { Versions } from "./versions.js";

/**
 * The schema language of Kafka's message definitions, as a strict zod model (unknown keys are errors),
 * followed by the semantic checks zod cannot express, and resolution into the model the emitter uses.
 * Every error reads `file: json-path: reason`.
 */

const defaultValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

interface RawField {
  name: string;
  type: string;
  versions?: string | undefined;
  about?: string | undefined;
  fields?: RawField[] | undefined;
  default?: string | number | boolean | null | undefined;
  entityType?: string | undefined;
  ignorable?: boolean | undefined;
  nullableVersions?: string | undefined;
  mapKey?: boolean | undefined;
  taggedVersions?: string | undefined;
  tag?: number | undefined;
  zeroCopy?: boolean | undefined;
  flexibleVersions?: string | undefined;
}

const rawField: z.ZodType<RawField> = z.lazy(() =>
  z.strictObject({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, "field names are alphanumeric"),
    type: z.string(),
    versions: z.string().optional(),
    about: z.string().optional(),
    fields: z.array(rawField).optional(),
    default: defaultValue.optional(),
    entityType: z.string().optional(),
    ignorable: z.boolean().optional(),
    nullableVersions: z.string().optional(),
    mapKey: z.boolean().optional(),
    taggedVersions: z.string().optional(),
    // One file writes its tag as a string ("0"); Kafka's Jackson model accepts both.
    tag: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
    zeroCopy: z.boolean().optional(),
    flexibleVersions: z.string().optional(),
  }),
);

const rawMessage = z.strictObject({
  apiKey: z.number().int().nonnegative().optional(),
  // Kafka 4.x declares coordinator records as coordinator-key/-value with the record type as apiKey.
  type: z.enum(["request", "response", "header", "data", "coordinator-key", "coordinator-value"]),
  listeners: z.array(z.enum(["zkBroker", "broker", "controller"])).optional(),
  name: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, "message names are PascalCase"),
  validVersions: z.string(),
  deprecatedVersions: z.string().optional(),
  // Kafka 4 keeps the files of removed APIs with validVersions "none" and nothing else.
  flexibleVersions: z.string().optional(),
  latestVersionUnstable: z.boolean().optional(),
  fields: z.array(rawField).optional(),
  commonStructs: z
    .array(z.strictObject({ name: z.string(), versions: z.string(), fields: z.array(rawField) }))
    .optional(),
});
type RawMessage = z.infer<typeof rawMessage>;

export type PrimitiveName =
  | "bool"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "float64"
  | "string"
  | "uuid"
  | "bytes"
  | "records";

const PRIMITIVES = new Set<string>([
  "bool",
  "int8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "float64",
  "string",
  "uuid",
  "bytes",
  "records",
]);

export type FieldType =
  | { kind: "primitive"; name: PrimitiveName }
  | { kind: "struct"; struct: StructSpec }
  | { kind: "array"; element: { kind: "primitive"; name: PrimitiveName } | { kind: "struct"; struct: StructSpec } };

/** A field's default, in the form the emitter needs. */
export type DefaultValue =
  | { kind: "null" }
  | { kind: "number"; value: number }
  | { kind: "bigint"; value: bigint }
  | { kind: "bool"; value: boolean }
  | { kind: "string"; value: string }
  | { kind: "empty" } // empty bytes or array
  | { kind: "struct" }; // every field of the struct at its default

export interface FieldSpec {
  /** The schema's name, e.g. `TopicData`. */
  readonly schemaName: string;
  /** The TypeScript property name, e.g. `topicData`. */
  readonly name: string;
  readonly type: FieldType;
  readonly versions: Versions;
  readonly nullableVersions: Versions;
  readonly taggedVersions: Versions;
  readonly tag: number | undefined;
  readonly ignorable: boolean;
  readonly mapKey: boolean;
  readonly entityType: string | undefined;
  readonly zeroCopy: boolean;
  /** The one field-level override of the message's flexible versions (RequestHeader.ClientId). */
  readonly flexibleVersions: Versions | undefined;
  readonly default: DefaultValue;
  /** Dotted schema path from the message root, for error messages. */
  readonly path: string;
}

export interface StructSpec {
  /** The schema's struct name, e.g. `TopicProduceData`. */
  readonly schemaName: string;
  /** The exported TypeScript name, prefixed with the message name to be unique in the package. */
  readonly tsName: string;
  /** Versions where the struct can appear (a common struct's own range, else its field's). */
  readonly versions: Versions;
  readonly fields: FieldSpec[];
  readonly common: boolean;
}

export interface MessageSpec {
  /** Path of the schema file relative to the schema root, e.g. `message/ProduceRequest.json`. */
  readonly file: string;
  readonly name: string;
  readonly type: "request" | "response" | "header" | "data";
  readonly apiKey: number | undefined;
  readonly listeners: readonly string[];
  readonly validVersions: Versions;
  readonly deprecatedVersions: Versions;
  readonly flexibleVersions: Versions;
  readonly latestVersionUnstable: boolean;
  /** For a coordinator record (Kafka 4.x marks them), whether it is a record's key or its value. */
  readonly recordKind: "key" | "value" | undefined;
  readonly root: StructSpec;
  /** Every struct of the message, root first, each once. */
  readonly structs: StructSpec[];
}

export class SchemaError extends Error {
  override readonly name = "SchemaError";
}

/** `fooBar` from `FooBar`; Kafka's lowerCamel rule keeps the rest of the name as it is. */
export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function pathText(path: readonly PropertyKey[]): string {
  let out = "$";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return out;
}

/** Parses, validates and resolves one schema file; throws SchemaError listing every problem found. */
export function parseSchema(file: string, text: string): MessageSpec {
  let json: unknown;
  try {
    json = JSON.parse(stripJsonComments(text));
  } catch (e) {
    throw new SchemaError(`${file}: $: not valid JSON: ${(e as Error).message}`);
  }
  const parsed = rawMessage.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${file}: ${pathText(i.path)}: ${i.message}`);
    throw new SchemaError(lines.join("\n"));
  }
  const errors: string[] = [];
  const spec = resolve(file, parsed.data, errors);
  if (errors.length > 0) throw new SchemaError(errors.join("\n"));
  return spec;
}

function resolve(file: string, raw: RawMessage, errors: string[]): MessageSpec {
  return new Resolver(file, raw, errors).message();
}

type RawStruct = { name: string; versions: string; fields: RawField[] };

/** The version ranges of a message's header. */
interface MessageVersions {
  readonly validVersions: Versions;
  readonly flexibleVersions: Versions;
  readonly deprecatedVersions: Versions;
}

/**
 * Resolves one validated schema into a MessageSpec: structs created as fields refer to them (common
 * structs on first reference), every semantic problem recorded as `file: json-path: reason`.
 */
class Resolver {
  /** Common structs are declared once and referenced by type name from any field. */
  private readonly common = new Map<string, { raw: RawStruct; index: number }>();
  private readonly structs: StructSpec[] = [];
  private readonly byName = new Map<string, StructSpec>();
  private flexibleVersions = Versions.NONE;

  constructor(
    private readonly file: string,
    private readonly raw: RawMessage,
    private readonly errors: string[],
  ) {}

  message(): MessageSpec {
    const raw = this.raw;
    const header = this.headerVersions();
    this.flexibleVersions = header.flexibleVersions;
    (raw.commonStructs ?? []).forEach((c, index) => {
      if (this.common.has(c.name)) this.fail(`$.commonStructs[${index}].name`, `duplicate common struct ${c.name}`);
      this.common.set(c.name, { raw: c, index });
    });
    const root = this.makeStruct(raw.name, header.validVersions, raw.fields ?? [], "$", "", false);
    // Common structs no field references still compile, so their codecs exist for tools.
    for (const [name, c] of this.common) if (!this.byName.has(name)) this.makeCommonStruct(name, c);
    const kind = raw.type === "coordinator-key" ? "key" : raw.type === "coordinator-value" ? "value" : undefined;
    return {
      file: this.file,
      name: raw.name,
      type: kind !== undefined ? "data" : (raw.type as MessageSpec["type"]),
      apiKey: raw.apiKey,
      recordKind: kind,
      listeners: raw.listeners ?? [],
      validVersions: header.validVersions,
      deprecatedVersions: header.deprecatedVersions,
      flexibleVersions: header.flexibleVersions,
      latestVersionUnstable: raw.latestVersionUnstable === true,
      root,
      structs: this.structs,
    };
  }

  private fail(path: string, reason: string): void {
    this.errors.push(`${this.file}: ${path}: ${reason}`);
  }

  private versions(text: string | undefined, path: string, fallback: Versions): Versions {
    if (text === undefined) return fallback;
    const v = Versions.parse(text);
    if (typeof v === "string") {
      this.fail(path, v);
      return fallback;
    }
    return v;
  }

  /** validVersions, flexibleVersions and deprecatedVersions, and the header's other checks. */
  private headerVersions(): MessageVersions {
    const raw = this.raw;
    const validVersions = this.versions(raw.validVersions, "$.validVersions", Versions.NONE);
    if (validVersions.highest === Infinity) this.fail("$.validVersions", "must be a closed range");
    if (!validVersions.empty && raw.flexibleVersions === undefined) this.fail("$.flexibleVersions", "required");
    if (!validVersions.empty && raw.fields === undefined) this.fail("$.fields", "required");
    const flexibleVersions = this.versions(raw.flexibleVersions, "$.flexibleVersions", Versions.NONE);
    if (!flexibleVersions.empty && flexibleVersions.highest !== Infinity)
      this.fail("$.flexibleVersions", "must be none or an open range such as 9+");
    const deprecatedVersions = this.versions(raw.deprecatedVersions, "$.deprecatedVersions", Versions.NONE);
    if ((raw.type === "request" || raw.type === "response") && raw.apiKey === undefined)
      this.fail("$.apiKey", `a ${raw.type} needs an apiKey`);
    if (raw.type !== "request" && raw.type !== "response" && raw.listeners !== undefined)
      this.fail("$.listeners", `a ${raw.type} has no listeners`);
    if (raw.type === "request" && !validVersions.empty && raw.listeners === undefined)
      this.fail("$.listeners", "a request names its listeners");
    return { validVersions, flexibleVersions, deprecatedVersions };
  }

  private makeCommonStruct(name: string, c: { raw: RawStruct; index: number }): StructSpec {
    const cv = this.versions(c.raw.versions, `$.commonStructs[${c.index}].versions`, Versions.NONE);
    return this.makeStruct(name, cv, c.raw.fields, `$.commonStructs[${c.index}]`, name, true);
  }

  private makeStruct(
    schemaName: string,
    structVersions: Versions,
    rawFields: RawField[],
    jsonPath: string,
    schemaPath: string,
    isCommon: boolean,
  ): StructSpec {
    const tsName = schemaName === this.raw.name ? this.raw.name : `${this.raw.name}${schemaName}`;
    const struct: StructSpec = { schemaName, tsName, versions: structVersions, fields: [], common: isCommon };
    if (this.byName.has(schemaName)) this.fail(jsonPath, `struct name ${schemaName} is used twice`);
    this.byName.set(schemaName, struct);
    this.structs.push(struct);
    const names = new Set<string>();
    const tags = new Map<number, string>();
    rawFields.forEach((rf, i) => {
      const fp = `${jsonPath}.fields[${i}]`;
      const field = this.makeField(rf, fp, schemaPath ? `${schemaPath}.${rf.name}` : rf.name, structVersions);
      if (names.has(field.name)) this.fail(`${fp}.name`, `duplicate field ${rf.name}`);
      names.add(field.name);
      if (field.tag !== undefined) {
        const other = tags.get(field.tag);
        if (other !== undefined) this.fail(`${fp}.tag`, `tag ${field.tag} is also used by ${other}`);
        tags.set(field.tag, rf.name);
      }
      struct.fields.push(field);
    });
    return struct;
  }

  /** The struct a field's type names: its own inline struct, one already made, or a common struct. */
  private structType(
    name: string,
    rf: RawField,
    fp: string,
    schemaPath: string,
    fieldVersions: Versions,
  ): StructSpec | undefined {
    if (rf.fields !== undefined) return this.makeStruct(name, fieldVersions, rf.fields, fp, schemaPath, false);
    const existing = this.byName.get(name);
    if (existing !== undefined) return existing;
    const c = this.common.get(name);
    if (c === undefined) {
      this.fail(`${fp}.type`, `unknown type ${name}: not a primitive, an inline struct or a common struct`);
      return undefined;
    }
    return this.makeCommonStruct(name, c);
  }

  private makeField(rf: RawField, fp: string, schemaPath: string, parentVersions: Versions): FieldSpec {
    const v = this.fieldVersions(rf, fp);
    const type = this.fieldType(rf, fp, schemaPath, v.versions.intersect(parentVersions));
    const nullableKinds = type.kind !== "primitive" || ["string", "bytes", "records"].includes(type.name);
    if (!v.nullableVersions.empty && !nullableKinds) this.fail(`${fp}.nullableVersions`, `a ${rf.type} cannot be null`);
    if (rf.mapKey === true && type.kind !== "primitive")
      this.fail(`${fp}.mapKey`, "only a primitive field can be a map key");
    if (rf.zeroCopy === true && !(type.kind === "primitive" && type.name === "bytes"))
      this.fail(`${fp}.zeroCopy`, "only bytes fields can be zero-copy");
    return {
      schemaName: rf.name,
      name: camelCase(rf.name),
      type,
      versions: v.versions,
      nullableVersions: v.nullableVersions,
      taggedVersions: v.taggedVersions,
      tag: rf.tag,
      ignorable: rf.ignorable === true,
      mapKey: rf.mapKey === true,
      entityType: rf.entityType,
      zeroCopy: rf.zeroCopy === true,
      flexibleVersions: v.flexibleVersions,
      default: resolveDefault(rf, type, v.nullableVersions, `${fp}.default`, (p, r) => this.fail(p, r)),
      path: schemaPath,
    };
  }

  /** A field's versions, nullable, tagged and own flexible versions, and the checks between them. */
  private fieldVersions(
    rf: RawField,
    fp: string,
  ): Pick<FieldSpec, "versions" | "nullableVersions" | "taggedVersions" | "flexibleVersions"> {
    const taggedVersions = this.versions(rf.taggedVersions, `${fp}.taggedVersions`, Versions.NONE);
    if (rf.versions === undefined && rf.taggedVersions === undefined) this.fail(fp, "a field needs versions");
    const versions = this.versions(rf.versions, `${fp}.versions`, taggedVersions);
    const nullableVersions = this.versions(rf.nullableVersions, `${fp}.nullableVersions`, Versions.NONE);
    const flexibleVersions =
      rf.flexibleVersions === undefined
        ? undefined
        : this.versions(rf.flexibleVersions, `${fp}.flexibleVersions`, Versions.NONE);
    if (rf.tag !== undefined && rf.taggedVersions === undefined) this.fail(`${fp}.tag`, "a tag without taggedVersions");
    if (rf.taggedVersions !== undefined && rf.tag === undefined)
      this.fail(`${fp}.taggedVersions`, "taggedVersions without a tag");
    if (!taggedVersions.empty) {
      const flexible = this.flexibleVersions;
      if (taggedVersions.highest !== Infinity) this.fail(`${fp}.taggedVersions`, "must be an open range such as 1+");
      if (!flexible.covers(taggedVersions))
        this.fail(
          `${fp}.taggedVersions`,
          `tagged in ${taggedVersions} but the message is flexible only in ${flexible}`,
        );
      if (!taggedVersions.equals(versions))
        this.fail(`${fp}.versions`, "a tagged field's versions must equal its taggedVersions");
    }
    if (rf.flexibleVersions !== undefined && !["string", "bytes"].includes(rf.type))
      this.fail(`${fp}.flexibleVersions`, "only string and bytes fields may override flexibleVersions");
    return { versions, nullableVersions, taggedVersions, flexibleVersions };
  }

  /** The type: a primitive, an array of one, a struct, or an array of structs (int8 after an error). */
  private fieldType(rf: RawField, fp: string, schemaPath: string, structVersions: Versions): FieldType {
    const isArray = rf.type.startsWith("[]");
    const base = isArray ? rf.type.slice(2) : rf.type;
    if (base.startsWith("[]")) this.fail(`${fp}.type`, "nested arrays are not supported");
    if (PRIMITIVES.has(base)) {
      if (rf.fields !== undefined) this.fail(`${fp}.fields`, `a ${rf.type} field cannot have fields`);
      if (isArray && base === "records") this.fail(`${fp}.type`, "arrays of records are not supported");
      const prim = { kind: "primitive" as const, name: base as PrimitiveName };
      return isArray ? { kind: "array", element: prim } : prim;
    }
    if (/^[A-Z][A-Za-z0-9]*$/.test(base)) {
      const struct = this.structType(base, rf, fp, schemaPath, structVersions);
      if (struct !== undefined) {
        const s = { kind: "struct" as const, struct };
        return isArray ? { kind: "array", element: s } : s;
      }
    } else {
      this.fail(`${fp}.type`, `unknown type ${rf.type}`);
    }
    return { kind: "primitive", name: "int8" };
  }
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  uint16: [0n, 65535n],
  int32: [-2147483648n, 2147483647n],
  uint32: [0n, 4294967295n],
  int64: [-9223372036854775808n, 9223372036854775807n],
};

function parseInteger(text: string): bigint | undefined {
  const t = text.trim();
  const m = /^(-?)0x([0-9a-fA-F]+)$/.exec(t);
  if (m) return (m[1] === "-" ? -1n : 1n) * BigInt(`0x${m[2]}`);
  if (/^-?\d+$/.test(t)) return BigInt(t);
  return undefined;
}

function resolveDefault(
  rf: RawField,
  type: FieldType,
  nullable: Versions,
  path: string,
  fail: (path: string, reason: string) => void,
): DefaultValue {
  const d = rf.default;
  const isNull = d === null || d === "null";
  if (type.kind === "struct") {
    if (d === undefined) return { kind: "struct" };
    if (isNull && !nullable.empty) return { kind: "null" };
    fail(path, `a struct's default can only be null, and only when it is nullable`);
    return { kind: "struct" };
  }
  if (type.kind === "array") {
    if (d === undefined || d === "") return { kind: "empty" };
    if (isNull && !nullable.empty) return { kind: "null" };
    fail(path, `an array's default can only be empty or null (when nullable), not ${JSON.stringify(d)}`);
    return { kind: "empty" };
  }
  const name = type.name;
  switch (name) {
    case "bool":
      if (d === undefined) return { kind: "bool", value: false };
      if (d === true || d === "true") return { kind: "bool", value: true };
      if (d === false || d === "false") return { kind: "bool", value: false };
      fail(path, `${JSON.stringify(d)} is not a bool`);
      return { kind: "bool", value: false };
    case "float64":
      return floatDefault(d, path, fail);
    case "string":
      if (d === undefined) return { kind: "string", value: "" };
      if (isNull) {
        if (nullable.empty) fail(path, "null default for a field that is never nullable");
        return { kind: "null" };
      }
      if (typeof d !== "string") {
        fail(path, `${JSON.stringify(d)} is not a string`);
        return { kind: "string", value: "" };
      }
      return { kind: "string", value: d };
    case "uuid": {
      if (d === undefined) return { kind: "string", value: "AAAAAAAAAAAAAAAAAAAAAA" };
      if (typeof d === "string" && /^[A-Za-z0-9_-]{22}$/.test(d) && Buffer.from(d, "base64url").length === 16)
        return { kind: "string", value: d };
      fail(path, `${JSON.stringify(d)} is not a UUID in base64`);
      return { kind: "string", value: "AAAAAAAAAAAAAAAAAAAAAA" };
    }
    case "bytes":
    case "records":
      if (d === undefined) return name === "records" && !nullable.empty ? { kind: "null" } : { kind: "empty" };
      if (isNull && !nullable.empty) return { kind: "null" };
      fail(path, `${name} defaults can only be null (when nullable)`);
      return { kind: "empty" };
    default:
      return integerDefault(name, d, path, fail);
  }
}

function floatDefault(
  d: RawField["default"],
  path: string,
  fail: (path: string, reason: string) => void,
): DefaultValue {
  if (d === undefined) return { kind: "number", value: 0 };
  const v = typeof d === "number" ? d : typeof d === "string" ? Number(d) : NaN;
  if (typeof d === "boolean" || d === null || Number.isNaN(v) || (typeof d === "string" && d.trim() === "")) {
    fail(path, `${JSON.stringify(d)} is not a float64`);
    return { kind: "number", value: 0 };
  }
  return { kind: "number", value: v };
}

function integerDefault(
  name: string,
  d: RawField["default"],
  path: string,
  fail: (path: string, reason: string) => void,
): DefaultValue {
  const range = INT_RANGES[name]!;
  if (d === undefined) return name === "int64" ? { kind: "bigint", value: 0n } : { kind: "number", value: 0 };
  const v =
    typeof d === "number" && Number.isInteger(d) ? BigInt(d) : typeof d === "string" ? parseInteger(d) : undefined;
  if (v === undefined) {
    fail(path, `${JSON.stringify(d)} is not an integer`);
  } else if (v < range[0] || v > range[1]) {
    fail(path, `${JSON.stringify(d)} does not fit in ${name}`);
  } else {
    return name === "int64" ? { kind: "bigint", value: v } : { kind: "number", value: Number(v) };
  }
  return name === "int64" ? { kind: "bigint", value: 0n } : { kind: "number", value: 0 };
}
