import type { StructSpec } from "../schema.js";
import { versionCondition } from "../versions.js";
import { and, declaration } from "./code.js";
import type { FieldContext, MessageContext, StructContext } from "./context.js";
import { defaultExpr } from "./types.js";

/**
 * Kafka's rules about defaults: a field a version cannot carry may only hold its default (`checks.ts`
 * fails the encoding otherwise), and a tagged field is left out when at its default. Struct defaults are
 * compared by generated `isDefault…` functions, emitted for the structs that need them.
 */

/** The expression of field `f`'s default; records the runtime's EMPTY_BYTES when it is used. */
export function defaultValue(f: FieldContext): string {
  const expr = defaultExpr(f.field);
  if (expr === "EMPTY_BYTES") f.message.use("EMPTY_BYTES");
  return expr;
}

/** An expression true when field `f`'s value differs from its default (Kafka writes or rejects it then). */
export function notDefault(f: FieldContext): string {
  const v = f.value;
  const d = f.field.default;
  switch (d.kind) {
    case "null":
      return `${v} !== null`;
    case "empty":
      return f.nullable ? `(${v} === null || ${v}.length !== 0)` : `${v}.length !== 0`;
    case "struct": {
      const s = (f.field.type as { struct: StructSpec }).struct;
      f.message.isDefaultCalled.add(s);
      return f.nullable ? `(${v} === null || !isDefault${s.tsName}(${v}))` : `!isDefault${s.tsName}(${v})`;
    }
    default:
      return `${v} !== ${defaultValue(f)}`;
  }
}

/** The condition under which tagged field `f` is written: its version has it and it is not at its default. */
export function taggedWritten(f: FieldContext, s: StructContext): string {
  return and(versionCondition(f.tagged, s.flexible), notDefault(f));
}

/**
 * `isDefault…` for every struct the emitted code compares with its default, including the structs those
 * functions compare in turn.
 */
export function emitIsDefaults(ctx: MessageContext): string[] {
  const out: string[] = [];
  const done = new Set<StructSpec>();
  while (done.size < ctx.isDefaultCalled.size) {
    for (const s of [...ctx.isDefaultCalled]) {
      if (done.has(s)) continue;
      done.add(s);
      const parts = ctx.structOf(s).fields.map((f) => notDefault(f));
      parts.push("(m._unknownTaggedFields !== undefined && m._unknownTaggedFields.length > 0)");
      out.push(
        ...declaration(`function isDefault${s.tsName}(m: ${s.tsName}): boolean {`, [
          `return !(${parts.join(" || ")});`,
        ]),
      );
    }
  }
  return out;
}
