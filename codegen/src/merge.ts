import type { FieldSpec, FieldType, MessageSpec, StructSpec } from "./schema.js";
import { SchemaError } from "./schema.js";
import { Versions } from "./versions.js";

/**
 * One message compiled from several Kafka releases: the union of their versions, each version
 * byte-exact with the release that defines it. Releases are given oldest first; where they disagree on
 * something that does not change the wire (a default, a doc, `ignorable`), the newest wins.
 *
 * The merge is checked, not trusted: after merging, the fields every release has at each of its versions
 * (order, types, nullability, tags) must be exactly what the merged message has at that version.
 */

/** Both releases' versions as one range; they must touch or overlap (Kafka only adds and drops at the ends). */
export function unionVersions(a: Versions, b: Versions, what: string): Versions {
  if (a.empty) return b;
  if (b.empty) return a;
  if (a.highest + 1 < b.lowest || b.highest + 1 < a.lowest)
    throw new SchemaError(`${what}: versions ${a} and ${b} leave a gap`);
  return Versions.of(Math.min(a.lowest, b.lowest), Math.max(a.highest, b.highest));
}

/**
 * A field's versions (or nullable or tagged versions) in the merged message: at each version, the newest
 * release that defines that version of the message decides. A field a release lacks has `Versions.NONE`
 * there. The answer must be one range; an open range stays open when the newest release left it open.
 */
export function decideVersions(
  older: Versions,
  newer: Versions,
  olderValid: Versions,
  newerValid: Versions,
  what: string,
): Versions {
  const present: number[] = [];
  for (const v of olderValid.list(Number.MAX_SAFE_INTEGER))
    if (!newerValid.contains(v) && older.contains(v)) present.push(v);
  for (const v of newerValid.list(Number.MAX_SAFE_INTEGER)) if (newer.contains(v)) present.push(v);
  if (present.length === 0) return Versions.NONE;
  present.sort((a, b) => a - b);
  const lo = present[0]!;
  const hi = present[present.length - 1]!;
  if (hi - lo + 1 !== present.length)
    throw new SchemaError(`${what}: the releases' versions ${older} and ${newer} leave a gap`);
  const open = newer.highest === Infinity && hi === newerValid.highest;
  return Versions.of(lo, open ? Infinity : hi);
}

/**
 * Kafka 4.x numbers each coordinator key's versions from 0 and declares the record type, the int16 a
 * key starts with on the wire, as its `apiKey`; Kafka 3.9 wrote that record type as the key's version.
 * The bytes are the same. We keep 3.9's numbering, so that a key codec's version is its record type.
 */
export function renumberCoordinatorKey(spec: MessageSpec): MessageSpec {
  if (spec.recordKind !== "key" || spec.apiKey === undefined || spec.apiKey === 0) return spec;
  const by = spec.apiKey;
  const shift = (v: Versions): Versions => (v.empty ? v : Versions.of(v.lowest + by, v.highest + by));
  const structs = new Map<StructSpec, StructSpec>();
  const struct = (s: StructSpec): StructSpec => {
    let out = structs.get(s);
    if (out !== undefined) return out;
    out = { ...s, versions: shift(s.versions), fields: [] };
    structs.set(s, out);
    for (const f of s.fields) out.fields.push(field(f));
    return out;
  };
  const type = (t: FieldType): FieldType =>
    t.kind === "struct"
      ? { kind: "struct", struct: struct(t.struct) }
      : t.kind === "array" && t.element.kind === "struct"
        ? { kind: "array", element: { kind: "struct", struct: struct(t.element.struct) } }
        : t;
  const field = (f: FieldSpec): FieldSpec => ({
    ...f,
    type: type(f.type),
    versions: shift(f.versions),
    nullableVersions: shift(f.nullableVersions),
    taggedVersions: shift(f.taggedVersions),
  });
  const root = struct(spec.root);
  return {
    ...spec,
    validVersions: shift(spec.validVersions),
    deprecatedVersions: shift(spec.deprecatedVersions),
    root,
    structs: spec.structs.map(struct),
  };
}

/**
 * Merges `newer` into `older` (the same message in two releases); throws SchemaError where they conflict.
 * `olderUnstable` are versions the older release published as unstable (still in development): where the
 * newer release defines them too, its definition replaces the older one without a wire check.
 */
export function mergeMessages(
  older: MessageSpec,
  newer: MessageSpec,
  olderUnstable: Versions = Versions.NONE,
): MessageSpec {
  const where = `${newer.file} with ${older.file}`;
  const validVersions = unionVersions(older.validVersions, newer.validVersions, `${where}: validVersions`);
  if (!older.flexibleVersions.equals(newer.flexibleVersions))
    throw new SchemaError(`${where}: flexibleVersions ${older.flexibleVersions} and ${newer.flexibleVersions} differ`);
  const merger = new StructMerger(older, newer, where);
  const root = merger.struct(older.root, newer.root);
  // Common structs that no field references are compiled too; keep those of both releases.
  for (const s of [...older.structs, ...newer.structs])
    if (s.common && !merger.has(s.schemaName))
      merger.struct(
        older.structs.find((x) => x.schemaName === s.schemaName),
        newer.structs.find((x) => x.schemaName === s.schemaName),
      );
  const out: MessageSpec = {
    ...newer,
    apiKey: newer.apiKey ?? older.apiKey,
    listeners: [...new Set([...older.listeners, ...newer.listeners])],
    validVersions,
    deprecatedVersions: deprecated(older, newer),
    root,
    structs: merger.structs,
  };
  checkWire(out, older, olderUnstable.intersect(newer.validVersions));
  checkWire(out, newer, Versions.NONE);
  return out;
}

/** Merges the structs and fields of one message's two releases, each struct once, by schema name. */
class StructMerger {
  /** Every merged struct, in the order first merged (the root first). */
  readonly structs: StructSpec[] = [];
  private readonly merged = new Map<string, StructSpec>();

  constructor(
    private readonly older: MessageSpec,
    private readonly newer: MessageSpec,
    /** "newer file with older file", for errors. */
    private readonly where: string,
  ) {}

  has(schemaName: string): boolean {
    return this.merged.has(schemaName);
  }

  struct(o: StructSpec | undefined, n: StructSpec | undefined): StructSpec {
    const base = (n ?? o)!;
    const known = this.merged.get(base.schemaName);
    if (known !== undefined) return known;
    const name = this.newer.name;
    const s: StructSpec = {
      schemaName: base.schemaName,
      tsName: base.schemaName === this.newer.root.schemaName ? name : `${name}${base.schemaName}`,
      versions: unionVersions(
        o?.versions ?? Versions.NONE,
        n?.versions ?? Versions.NONE,
        `${this.where}: ${base.schemaName}`,
      ),
      fields: [],
      common: base.common,
    };
    this.merged.set(base.schemaName, s);
    this.structs.push(s);
    for (const [of, nf] of orderFields(o?.fields ?? [], n?.fields ?? [])) {
      const f = this.field(of, nf);
      if (f !== undefined) s.fields.push(f);
    }
    return s;
  }

  private type(o: FieldType | undefined, n: FieldType | undefined, path: string): FieldType {
    const t = (n ?? o)!;
    if (o !== undefined && n !== undefined && shapeOf(o) !== shapeOf(n))
      throw new SchemaError(`${this.where}: ${path}: type ${shapeOf(o)} became ${shapeOf(n)}`);
    if (t.kind === "primitive" || (t.kind === "array" && t.element.kind === "primitive")) return t;
    const struct = this.struct(o === undefined ? undefined : structOf(o), n === undefined ? undefined : structOf(n));
    return t.kind === "struct" ? { kind: "struct", struct } : { kind: "array", element: { kind: "struct", struct } };
  }

  private decide(o: Versions | undefined, n: Versions | undefined, what: string): Versions {
    return decideVersions(
      o ?? Versions.NONE,
      n ?? Versions.NONE,
      this.older.validVersions,
      this.newer.validVersions,
      what,
    );
  }

  private field(o: FieldSpec | undefined, n: FieldSpec | undefined): FieldSpec | undefined {
    const base = (n ?? o)!;
    const what = `${this.where}: ${base.path}`;
    if (o !== undefined && n !== undefined) {
      if (o.tag !== n.tag && !o.taggedVersions.empty && !n.taggedVersions.empty)
        throw new SchemaError(`${what}: tag ${o.tag} became ${n.tag}`);
      if (!sameVersions(o.flexibleVersions, n.flexibleVersions))
        throw new SchemaError(`${what}: flexibleVersions differ`);
    }
    const versions = this.decide(o?.versions, n?.versions, `${what}: versions`);
    if (versions.empty) return undefined;
    return {
      ...base,
      type: this.type(o?.type, n?.type, base.path),
      versions,
      nullableVersions: this.decide(o?.nullableVersions, n?.nullableVersions, `${what}: nullableVersions`),
      taggedVersions: this.decide(o?.taggedVersions, n?.taggedVersions, `${what}: taggedVersions`),
      tag: n?.tag ?? o?.tag,
      zeroCopy: (o?.zeroCopy ?? false) || (n?.zeroCopy ?? false),
    };
  }
}

/** Versions either release deprecates, as one range (they sit at the low end). */
function deprecated(older: MessageSpec, newer: MessageSpec): Versions {
  const a = older.deprecatedVersions.intersect(older.validVersions);
  const b = newer.deprecatedVersions.intersect(newer.validVersions);
  if (a.empty || b.empty) return a.empty ? b : a;
  return Versions.of(Math.min(a.lowest, b.lowest), Math.max(a.highest, b.highest));
}

function sameVersions(a: Versions | undefined, b: Versions | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}

/** A type with struct names left out: what must match for the bytes to match. */
function shapeOf(t: FieldType): string {
  if (t.kind === "primitive") return t.name;
  if (t.kind === "struct") return "struct";
  return `[]${t.element.kind === "primitive" ? t.element.name : "struct"}`;
}

/**
 * Pairs the fields of two releases by name, in an order that keeps both releases' orders: the newer
 * release's order, with each field only the older one has placed after the field it followed there.
 */
function orderFields(
  older: readonly FieldSpec[],
  newer: readonly FieldSpec[],
): [FieldSpec | undefined, FieldSpec | undefined][] {
  const newerNames = new Set(newer.map((f) => f.name));
  const olderByName = new Map(older.map((f, i) => [f.name, i]));
  const out: [FieldSpec | undefined, FieldSpec | undefined][] = [];
  let next = 0;
  const flushOlderUntil = (end: number): void => {
    for (; next < end; next++) if (!newerNames.has(older[next]!.name)) out.push([older[next], undefined]);
  };
  for (const n of newer) {
    const i = olderByName.get(n.name);
    if (i !== undefined && i >= next) {
      flushOlderUntil(i);
      next = i + 1;
    }
    out.push([i === undefined ? undefined : older[i], n]);
  }
  flushOlderUntil(older.length);
  return out;
}

/** One field at one version, as what must match on the wire: not its name (Kafka renames fields). */
function fieldAt(f: FieldSpec, v: number): string {
  const tagged = f.taggedVersions.contains(v) ? `@${f.tag}` : "";
  const nullable = f.nullableVersions.contains(v) ? "?" : "";
  const flex = f.flexibleVersions === undefined ? "" : f.flexibleVersions.contains(v) ? "~" : "!";
  return `${tagged}${nullable}${flex}:${shapeOf(f.type)}`;
}

function structOf(t: FieldType): StructSpec | undefined {
  return t.kind === "struct"
    ? t.struct
    : t.kind === "array" && t.element.kind === "struct"
      ? t.element.struct
      : undefined;
}

/**
 * Why `merged` would not read and write `release`'s bytes at version `v`, or undefined when it does:
 * the same untagged fields in the same order with the same types, every tagged field of the release
 * under the same tag, and no other field on a tag the release uses. A tagged field the release lacks
 * is allowed: a reader of that release skips it, and it is only written when set.
 */
function wireDifference(release: StructSpec, merged: StructSpec, v: number, path: string): string | undefined {
  const mine = release.fields.filter((f) => f.versions.contains(v));
  const ours = merged.fields.filter((f) => f.versions.contains(v));
  const untagged = (fs: FieldSpec[]): FieldSpec[] => fs.filter((f) => !f.taggedVersions.contains(v));
  const a = untagged(mine).map((f) => fieldAt(f, v));
  const b = untagged(ours).map((f) => fieldAt(f, v));
  const names = (fs: FieldSpec[]): string =>
    untagged(fs)
      .map((f) => `${f.name}${fieldAt(f, v)}`)
      .join(",");
  if (a.join(",") !== b.join(",")) return `${path}: release has ${names(mine)}\n  merged has  ${names(ours)}`;
  const tags = new Map(ours.filter((f) => f.taggedVersions.contains(v)).map((f) => [f.tag, f]));
  const byPosition = untagged(ours);
  for (const f of mine) {
    const other = f.taggedVersions.contains(v) ? tags.get(f.tag) : byPosition[untagged(mine).indexOf(f)];
    if (other === undefined || fieldAt(other, v) !== fieldAt(f, v))
      return `${path}.${f.name}: ${fieldAt(f, v)} became ${other === undefined ? "nothing" : fieldAt(other, v)}`;
    const inner = structOf(f.type);
    const innerOurs = structOf(other.type);
    if (inner !== undefined && innerOurs !== undefined) {
      const d = wireDifference(inner, innerOurs, v, `${path}.${f.name}`);
      if (d !== undefined) return d;
    }
  }
  return undefined;
}

function checkWire(merged: MessageSpec, release: MessageSpec, superseded: Versions): void {
  for (const v of release.validVersions.list(Number.MAX_SAFE_INTEGER)) {
    if (superseded.contains(v)) continue;
    const d = wireDifference(release.root, merged.root, v, release.name);
    if (d !== undefined)
      throw new SchemaError(`${release.file}: merging releases changes version ${v} on the wire: ${d}`);
  }
}
