import type { MessageSpec } from "../schema.js";
import { MessageContext } from "./context.js";
import { emitIsDefaults } from "./defaults.js";
import { emitExports } from "./exports.js";
import { emitFactory } from "./factories.js";
import type { ImportSet } from "./imports.js";
import { emitReader } from "./readers.js";
import { emitSize } from "./sizes.js";
import { emitSupersetType } from "./superset-types.js";
import { emitVersionTypes } from "./version-types.js";
import { emitWriter } from "./writers.js";

/**
 * The TypeScript of one message. Per struct: its superset type, factory, and straight-line writer,
 * size and reader; then the `isDefault…` helpers those call, the per-version types and the exports.
 * Each concern has a module of its own, all working from one `MessageContext`.
 */
export interface EmittedMessage {
  /** The statements, one per line, each top-level declaration followed by a blank line. */
  readonly text: string;
  /** The symbols of other modules the statements refer to; the caller turns them into imports. */
  readonly imports: ImportSet;
}

export function emitMessage(msg: MessageSpec): EmittedMessage {
  const ctx = new MessageContext(msg);
  const lines: string[] = [];
  for (const s of ctx.structs) {
    lines.push(...emitSupersetType(s), ...emitFactory(s), ...emitWriter(s), ...emitSize(s), ...emitReader(s));
  }
  lines.push(...emitIsDefaults(ctx), ...emitVersionTypes(ctx), ...emitExports(ctx));
  return { text: lines.join("\n"), imports: ctx.imports };
}
