import type { FieldSpec, MessageSpec, StructSpec } from "../schema.js";
import { Versions } from "../versions.js";
import { ImportSet, type RuntimeSymbol } from "./imports.js";
import { fieldTs, fieldWithin, structWithin, supersetNullable } from "./types.js";

/**
 * What the emitters of one message share: the facts about each struct and field, computed once (the
 * versions a field is read and written at, tagged or not, flexible or not, nullable or not), the runtime
 * symbols the emitted code refers to, and the structs whose `isDefault…` function is called.
 */
export class MessageContext {
  /** The symbols of other modules the emitted code refers to; see `use`. */
  readonly imports = new ImportSet();
  /** Structs whose `isDefault…` function the emitted code calls, in the order first called. */
  readonly isDefaultCalled = new Set<StructSpec>();
  /** The message name as a string literal, as errors carry it. */
  readonly nameLiteral: string;
  /** Every struct that can appear at some valid version, root first. */
  readonly structs: readonly StructContext[];
  private readonly byStruct = new Map<StructSpec, StructContext>();

  constructor(readonly msg: MessageSpec) {
    this.nameLiteral = JSON.stringify(msg.name);
    for (const s of msg.structs) this.byStruct.set(s, structContext(this, s));
    this.structs = [...this.byStruct.values()].filter((s) => !s.within.empty);
  }

  /** Names a runtime symbol in emitted code: returns the name and records the import. */
  use(symbol: RuntimeSymbol): string {
    return this.imports.runtime(symbol);
  }

  /** The context of one of the message's structs. */
  structOf(s: StructSpec): StructContext {
    const c = this.byStruct.get(s);
    if (c === undefined) throw new Error(`${this.msg.name}: ${s.schemaName} is not one of its structs`);
    return c;
  }
}

export interface StructContext {
  readonly message: MessageContext;
  readonly struct: StructSpec;
  /** The exported TypeScript name. */
  readonly tsName: string;
  readonly isRoot: boolean;
  /** The versions of the message the struct can appear at: its functions run only for these. */
  readonly within: Versions;
  /** Those of them that are flexible (the struct ends with tagged fields there). */
  readonly flexible: Versions;
  readonly fields: readonly FieldContext[];
  /** The fields that are tagged at some version, in ascending tag order (the order on the wire). */
  readonly tagged: readonly FieldContext[];
}

export interface FieldContext {
  readonly message: MessageContext;
  readonly field: FieldSpec;
  /** Its struct's versions (`StructContext.within`). */
  readonly within: Versions;
  /** The versions in which the field is read or written at all. */
  readonly versions: Versions;
  /** Where it is an ordinary (positional) field; none for a tagged field. */
  readonly untagged: Versions;
  /** Where it is a tagged field. */
  readonly tagged: Versions;
  /** Where its strings, bytes and arrays take the compact form (the message's flexible versions, or its own). */
  readonly flexible: Versions;
  /** Whether the superset type lets it be null (nullable at some version, or null by default). */
  readonly nullable: boolean;
  /** Its superset TypeScript type. */
  readonly tsType: string;
  /** The expression of its value in a writer or size function. */
  readonly value: string;
  /** The local a reader decodes it into. */
  readonly local: string;
  /** Its schema path as a string literal, as errors name it. */
  readonly pathLiteral: string;
}

function structContext(message: MessageContext, s: StructSpec): StructContext {
  const within = structWithin(message.msg, s);
  const fields = s.fields.map((f) => fieldContext(message, f, within));
  return {
    message,
    struct: s,
    tsName: s.tsName,
    isRoot: s === message.msg.root,
    within,
    flexible: message.msg.flexibleVersions.intersect(within),
    fields,
    tagged: fields.filter((f) => !f.tagged.empty).sort((a, b) => (a.field.tag ?? 0) - (b.field.tag ?? 0)),
  };
}

function fieldContext(message: MessageContext, f: FieldSpec, within: Versions): FieldContext {
  const versions = fieldWithin(f, within);
  const nullable = supersetNullable(f, within);
  return {
    message,
    field: f,
    within,
    versions,
    untagged: f.taggedVersions.empty ? versions : Versions.NONE,
    tagged: f.taggedVersions.intersect(within),
    flexible: f.flexibleVersions ?? message.msg.flexibleVersions,
    nullable,
    tsType: fieldTs(f, nullable, (x) => x.tsName),
    value: `m.${f.name}`,
    local: `f_${f.name}`,
    pathLiteral: JSON.stringify(f.path),
  };
}
