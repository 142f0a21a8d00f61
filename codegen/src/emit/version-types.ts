import type { StructSpec } from "../schema.js";
import type { MessageContext } from "./context.js";
import { fieldTs, structSubject, versionTypeName } from "./types.js";

/**
 * The precise type of each version, `XV0`, `XV1`, ...: only the fields that version carries, with the
 * nullability it gives them. Versions with identical fields collapse into aliases of the first, and a
 * parent refers to the first identical version of its children, so parents collapse too. Each
 * interface's doc names the versions it serves and what changed from the version before.
 */
export function emitVersionTypes(ctx: MessageContext): string[] {
  const types = new VersionTypes(ctx);
  const root = ctx.msg.root;
  const versions = ctx.msg.validVersions.list(ctx.msg.validVersions.highest);
  for (const v of versions) types.nameAt(root, v);
  const T = root.tsName;
  return [
    ...types.emit(),
    "",
    `/** ${ctx.msg.name}'s type at each version. */`,
    `export interface ${T}Versions {`,
    ...versions.map((v) => `${v}: ${versionTypeName(root, v)};`),
    "}",
    `/** ${ctx.msg.name} at version V: the precise type for a literal version, the superset otherwise. */`,
    `export type ${T}At<V extends number> = V extends keyof ${T}Versions ? ${T}Versions[V] : ${T};`,
    "",
  ];
}

/** One distinct version type: an interface, which later identical versions alias. */
interface VersionType {
  readonly name: string;
  readonly struct: StructSpec;
  /** `name: type;` per field, in schema order. */
  readonly members: readonly string[];
  readonly flexible: boolean;
  /** Every version whose type this is (its own and its aliases'), ascending. */
  readonly versions: number[];
}

type Declaration = { readonly type: VersionType } | { readonly alias: string; readonly of: VersionType };

class VersionTypes {
  /** Per struct, the type of each version seen. */
  private readonly byVersion = new Map<StructSpec, Map<number, VersionType>>();
  /** Per struct, the type with each member list. */
  private readonly bySignature = new Map<StructSpec, Map<string, VersionType>>();
  /** In the order they are emitted: a struct's children before it. */
  private readonly declarations: Declaration[] = [];

  constructor(private readonly ctx: MessageContext) {}

  /** The name of struct `s`'s type at version `v`, declaring it (and its children's) on first use. */
  nameAt(s: StructSpec, v: number): string {
    return this.typeAt(s, v).name;
  }

  private typeAt(s: StructSpec, v: number): VersionType {
    const byVersion = mapOf(this.byVersion, s);
    const known = byVersion.get(v);
    if (known !== undefined) return known;
    const members = s.fields
      .filter((f) => f.versions.contains(v))
      .map((f) => {
        const nullable = f.nullableVersions.contains(v) || (f.tag !== undefined && f.default.kind === "null");
        return `${f.name}: ${fieldTs(f, nullable, (x) => this.nameAt(x, v))};`;
      });
    const signatures = mapOf(this.bySignature, s);
    const signature = members.join("\n");
    let type = signatures.get(signature);
    if (type !== undefined) {
      this.declarations.push({ alias: versionTypeName(s, v), of: type });
      type.versions.push(v);
    } else {
      const msg = this.ctx.msg;
      const flexible = msg.flexibleVersions.intersect(s.versions.intersect(msg.validVersions)).contains(v);
      type = { name: versionTypeName(s, v), struct: s, members, flexible, versions: [v] };
      signatures.set(signature, type);
      this.declarations.push({ type });
    }
    byVersion.set(v, type);
    return type;
  }

  emit(): string[] {
    const out: string[] = [];
    for (const d of this.declarations) {
      if ("alias" in d) {
        out.push(`export type ${d.alias} = ${d.of.name};`);
        continue;
      }
      const t = d.type;
      out.push(`/** ${this.doc(t)} */`, `export interface ${t.name} {`, ...t.members);
      if (t.flexible) out.push(`_unknownTaggedFields?: ${this.ctx.use("TaggedField")}[];`);
      out.push("}");
    }
    return out;
  }

  /** "FetchRequest at v4-6. Since v3: adds `a`, drops `b`." */
  private doc(t: VersionType): string {
    const at = `${structSubject(this.ctx.msg, t.struct)} at ${versionsText(t.versions)}.`;
    const since = t.versions[0]! - 1;
    const before = this.byVersion.get(t.struct)?.get(since);
    if (before === undefined || before === t) return at;
    return `${at} Since v${since}: ${memberChanges(before.members, t.members).join("; ")}.`;
  }
}

function mapOf<K, V>(maps: Map<StructSpec, Map<K, V>>, s: StructSpec): Map<K, V> {
  let m = maps.get(s);
  if (m === undefined) maps.set(s, (m = new Map()));
  return m;
}

/** "v0", "v1-3", "v0, v2-3". */
export function versionsText(versions: readonly number[]): string {
  const ranges: string[] = [];
  for (let i = 0; i < versions.length;) {
    let j = i;
    while (j + 1 < versions.length && versions[j + 1] === versions[j]! + 1) j++;
    ranges.push(i === j ? `${versions[i]}` : `${versions[i]}-${versions[j]}`);
    i = j + 1;
  }
  return `v${ranges.join(", v")}`;
}

/** What changed between two member lists: "adds `a`", "drops `b`", "`c` becomes nullable", ... */
export function memberChanges(before: readonly string[], after: readonly string[]): string[] {
  const parse = (members: readonly string[]): Map<string, string> =>
    new Map(members.map((m) => [m.slice(0, m.indexOf(":")), m.slice(m.indexOf(":") + 2, -1)]));
  const a = parse(before);
  const b = parse(after);
  const names = (m: Map<string, string>, other: Map<string, string>): string =>
    [...m.keys()]
      .filter((n) => !other.has(n))
      .map((n) => `\`${n}\``)
      .join(", ");
  const out: string[] = [];
  const added = names(b, a);
  const dropped = names(a, b);
  if (added !== "") out.push(`adds ${added}`);
  if (dropped !== "") out.push(`drops ${dropped}`);
  for (const [n, type] of b) {
    const old = a.get(n);
    if (old === undefined || old === type) continue;
    if (type === `${old} | null`) out.push(`\`${n}\` becomes nullable`);
    else if (old === `${type} | null`) out.push(`\`${n}\` is no longer nullable`);
    else out.push(`\`${n}\` is now \`${type}\``);
  }
  return out;
}
