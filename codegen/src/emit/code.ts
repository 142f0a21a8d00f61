/**
 * Building blocks for emitted statements. A condition is what `versionCondition` returns: "always",
 * "never" or a TypeScript boolean expression; the helpers drop the side of a choice that cannot run.
 * Code is built as lines, one statement or brace per line; prettier lays it out afterwards.
 */

/** "always", "never" or a TypeScript boolean expression over `version`. */
export type Condition = string;

/** Appends `if (cond) { yes } else { no }` to `out`, or only the side that can run. */
export function branch(out: string[], cond: Condition, yes: () => string[], no: () => string[]): void {
  if (cond === "always") out.push(...scoped(yes()));
  else if (cond === "never") out.push(...scoped(no()));
  else {
    const y = yes();
    const n = no();
    out.push(`if (${cond}) {`, ...y, n.length > 0 ? "} else {" : "}", ...(n.length > 0 ? [...n, "}"] : []));
  }
}

/** `branch` returning its lines. */
export function branched(cond: Condition, yes: () => string[], no: () => string[]): string[] {
  const out: string[] = [];
  branch(out, cond, yes, no);
  return out;
}

/** Lines that declare locals get a block of their own, so two fields' locals cannot clash. */
export function scoped(lines: string[]): string[] {
  return lines.some((l) => l.startsWith("const ") || l.startsWith("let ")) ? ["{", ...lines, "}"] : lines;
}

/** `cond ? a : b` as an expression, dropping the side that cannot happen. */
export function ternary(cond: Condition, yes: () => string, no: () => string): string {
  if (cond === "always") return yes();
  if (cond === "never") return no();
  return `(${cond} ? ${yes()} : ${no()})`;
}

/** `cond && expr`, or `expr` alone when the condition always holds. */
export function and(cond: Condition, expr: string): string {
  return cond === "always" ? expr : `${cond} && ${expr}`;
}

/** A function or interface: its head line, its body, its closing brace and the blank line after it. */
export function declaration(head: string, body: readonly string[]): string[] {
  return [head, ...body, "}", ""];
}
