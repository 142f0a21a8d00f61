import { declaration } from "./code.js";
import type { StructContext } from "./context.js";
import { defaultValue } from "./defaults.js";

/** `createX(init?)`: a struct with every field at its schema default, overridden by `init`. */
export function emitFactory(s: StructContext): string[] {
  const T = s.tsName;
  const body = [`const o: ${T} = {`];
  for (const f of s.fields) {
    const n = f.field.name;
    body.push(`${n}: init?.${n} !== undefined ? init.${n} : ${defaultValue(f)},`);
  }
  body.push("};");
  if (!s.flexible.empty)
    body.push("if (init?._unknownTaggedFields !== undefined) o._unknownTaggedFields = init._unknownTaggedFields;");
  body.push("return o;");
  return [
    `/** A ${s.struct.schemaName} with every field at its default, overridden by \`init\`. */`,
    ...declaration(`export function create${T}(init?: Partial<${T}>): ${T} {`, body),
  ];
}
