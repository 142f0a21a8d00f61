import type { MessageContext } from "./context.js";

/**
 * The message's public codec: `encodeX`, `decodeX` and `sizeOfX` typed by version (the precise type
 * for a literal version), and `XCodec`, the untyped bundle the API table and generic tools use.
 */
export function emitExports(ctx: MessageContext): string[] {
  const msg = ctx.msg;
  const T = msg.root.tsName;
  const W = ctx.use("Writer");
  const R = ctx.use("Reader");
  const flex = msg.flexibleVersions.intersect(msg.validVersions);
  return [
    `/** Writes ${msg.name} at \`version\`; \`w\` must have room for \`sizeOf${T}\` bytes. */`,
    `export const encode${T}: <V extends number>(w: ${W}, m: ${T}At<V>, version: V) => void = write${T} as never;`,
    `/** Reads ${msg.name} at \`version\`, failing with a DecodeError naming the field on bad input. */`,
    `export const decode${T}: <V extends number>(r: ${R}, version: V) => ${T}At<V> = read${T} as never;`,
    `/** The exact number of bytes \`encode${T}\` writes. */`,
    `export const sizeOf${T}: <V extends number>(m: ${T}At<V>, version: V) => number = size${T} as never;`,
    "",
    `/** ${msg.name}'s codec, as the API table and generic tools use it. */`,
    `export const ${T}Codec: ${ctx.use("MessageCodec")}<${T}> = {`,
    `name: ${ctx.nameLiteral},`,
    `validVersions: { min: ${msg.validVersions.lowest}, max: ${msg.validVersions.highest} },`,
    `flexibleVersions: ${flex.empty ? "null" : `{ min: ${flex.lowest}, max: ${flex.highest} }`},`,
    `encode: write${T},`,
    `decode: read${T},`,
    `size: size${T},`,
    `create: create${T},`,
    "};",
  ];
}
