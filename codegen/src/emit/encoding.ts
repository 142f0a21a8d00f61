import type { PrimitiveName } from "../schema.js";
import { versionCondition, Versions } from "../versions.js";
import { branch, branched, ternary, type Condition } from "./code.js";
import type { FieldContext } from "./context.js";

/**
 * The one place that decides how a length-prefixed value (string, bytes, records, array) goes on the
 * wire: compact (an unsigned varint of length + 1, 0 for null) in flexible versions, classic (int16 or
 * int32 length, -1 for null) before; and whether null may be written or read there. Writers, readers
 * and sizes all ask `encodingChoice` and render it with the helpers below, so the three cannot disagree.
 */

/** How a length-prefixed value is encoded at some versions. */
export interface Encoding {
  readonly compact: boolean;
  readonly nullable: boolean;
}

/** The encodings a field takes over some versions, as version conditions. */
export interface EncodingChoice {
  /** When the compact form is used. */
  readonly compact: Condition;
  /** When null is allowed, among the versions of each form (checked again inside each side). */
  readonly nullableCompact: Condition;
  readonly nullableClassic: Condition;
}

/** The versions of `region` where `flexible` holds, and those where it does not (flexibility is an open range). */
export function splitFlexible(region: Versions, flexible: Versions): { flexible: Versions; classic: Versions } {
  return {
    flexible: flexible.intersect(region),
    classic: flexible.empty ? region : region.intersect(Versions.of(0, flexible.lowest - 1)),
  };
}

/**
 * The encoding choice of field `f` over the versions `region`. A tagged field only exists in flexible
 * versions, so it is always compact.
 */
export function encodingChoice(f: FieldContext, region: Versions, tagged = false): EncodingChoice {
  const nullable = f.field.nullableVersions;
  const sides = tagged ? { flexible: region, classic: Versions.NONE } : splitFlexible(region, f.flexible);
  return {
    compact: tagged ? "always" : versionCondition(f.flexible, region),
    nullableCompact: versionCondition(nullable, sides.flexible),
    nullableClassic: versionCondition(nullable, sides.classic),
  };
}

/** When a struct-typed field may be null over `region` (a struct's null marker is the same in both forms). */
export function nullableCondition(f: FieldContext, region: Versions): Condition {
  return versionCondition(f.field.nullableVersions, region);
}

/** Statements for every encoding the choice can take: `if` on compactness, then on nullability. */
export function eachEncoding(choice: EncodingChoice, emit: (e: Encoding) => string[]): string[] {
  return eachCompactness(choice, (compact) =>
    eachNullability(choice, compact, (nullable) => emit({ compact, nullable })),
  );
}

/** The same choice as one expression. */
export function encodingExpression(choice: EncodingChoice, emit: (e: Encoding) => string): string {
  const side = (compact: boolean): string =>
    ternary(
      compact ? choice.nullableCompact : choice.nullableClassic,
      () => emit({ compact, nullable: true }),
      () => emit({ compact, nullable: false }),
    );
  return ternary(
    choice.compact,
    () => side(true),
    () => side(false),
  );
}

/** Statements per form only, for code where nullability is decided otherwise. */
export function eachCompactness(choice: EncodingChoice, emit: (compact: boolean) => string[]): string[] {
  return branched(
    choice.compact,
    () => emit(true),
    () => emit(false),
  );
}

/** Statements per nullability, among the versions of one form. */
export function eachNullability(
  choice: EncodingChoice,
  compact: boolean,
  emit: (nullable: boolean) => string[],
): string[] {
  const out: string[] = [];
  branch(
    out,
    compact ? choice.nullableCompact : choice.nullableClassic,
    () => emit(true),
    () => emit(false),
  );
  return out;
}

// ---- the wire forms ------------------------------------------------------------------------------

/** The primitives written with a length prefix. */
export type LengthPrefixed = "string" | "bytes" | "records";

export function isLengthPrefixed(name: PrimitiveName): name is LengthPrefixed {
  return name === "string" || name === "bytes" || name === "records";
}

/** The Reader/Writer method for a string or bytes value: `compactNullableString`, `bytes`, ... */
export function lengthPrefixedMethod(name: LengthPrefixed, e: Encoding): string {
  const kind = name === "string" ? "String" : "Bytes";
  if (e.compact) return `compact${e.nullable ? "Nullable" : ""}${kind}`;
  return e.nullable ? `nullable${kind}` : kind.toLowerCase();
}

/** The classic length prefix's size: int16 for strings, int32 for bytes, records and arrays. */
export function classicPrefixSize(name: LengthPrefixed | "array"): number {
  return name === "string" ? 2 : 4;
}

/** The statement writing an array's length, or its null marker when `length` is null. */
export function writeArrayLength(compact: boolean, length: string | null): string {
  if (length === null) return compact ? "w.unsignedVarint(0);" : "w.int32(-1);";
  return compact ? `w.unsignedVarint(${length} + 1);` : `w.int32(${length});`;
}

/** The expression reading an array's length (negative for null). */
export function readArrayLength(compact: boolean, pathLiteral: string): string {
  return compact ? `r.compactArrayLength(${pathLiteral})` : `r.arrayLength(${pathLiteral})`;
}
