/**
 * A contiguous range of versions as the schema language writes it: "none", "3", "1-4" or "2+".
 * `highest` is Infinity for an open range. Immutable.
 */
export class Versions {
  static readonly NONE = new Versions(1, 0);
  static readonly ALL = new Versions(0, Infinity);

  private constructor(
    readonly lowest: number,
    readonly highest: number,
  ) {}

  static of(lowest: number, highest: number): Versions {
    return lowest > highest ? Versions.NONE : new Versions(lowest, highest);
  }

  /** Parses the schema syntax; returns an error text instead of throwing, for the validator. */
  static parse(text: string): Versions | string {
    const t = text.trim();
    if (t === "none") return Versions.NONE;
    let m = /^(\d+)\+$/.exec(t);
    if (m) return new Versions(Number(m[1]), Infinity);
    m = /^(\d+)-(\d+)$/.exec(t);
    if (m) {
      const lo = Number(m[1]);
      const hi = Number(m[2]);
      if (lo > hi) return `range "${text}" runs backwards`;
      return new Versions(lo, hi);
    }
    m = /^(\d+)$/.exec(t);
    if (m) return new Versions(Number(m[1]), Number(m[1]));
    return `"${text}" is not a version range (none, N, N-M or N+)`;
  }

  get empty(): boolean {
    return this.lowest > this.highest;
  }

  contains(v: number): boolean {
    return v >= this.lowest && v <= this.highest;
  }

  /** True when every version of `other` is in this range. */
  covers(other: Versions): boolean {
    return other.empty || (other.lowest >= this.lowest && other.highest <= this.highest);
  }

  intersect(other: Versions): Versions {
    return Versions.of(Math.max(this.lowest, other.lowest), Math.min(this.highest, other.highest));
  }

  /** Every version in the range, an open range being cut at `max`. */
  list(max: number): number[] {
    const out: number[] = [];
    for (let v = this.lowest; v <= Math.min(this.highest, max); v++) out.push(v);
    return out;
  }

  equals(other: Versions): boolean {
    return (this.empty && other.empty) || (this.lowest === other.lowest && this.highest === other.highest);
  }

  toString(): string {
    if (this.empty) return "none";
    if (this.highest === Infinity) return `${this.lowest}+`;
    if (this.lowest === this.highest) return `${this.lowest}`;
    return `${this.lowest}-${this.highest}`;
  }
}

/**
 * The condition under which something that exists for `member` versions applies, evaluated only for
 * `within` versions (the versions the enclosing code can run at). Kafka's generator calls this a
 * VersionConditional: checks that are always true, or always false, are dropped.
 * Returns "always", "never" or a TypeScript boolean expression over `version`.
 */
export function versionCondition(member: Versions, within: Versions, variable = "version"): string {
  const m = member.intersect(within);
  if (m.empty) return "never";
  if (m.equals(within)) return "always";
  const low = m.lowest > within.lowest;
  const high = m.highest < within.highest;
  if (m.lowest === m.highest && low && high) return `${variable} === ${m.lowest}`;
  if (low && high) return `${variable} >= ${m.lowest} && ${variable} <= ${m.highest}`;
  if (low) return `${variable} >= ${m.lowest}`;
  return `${variable} <= ${m.highest}`;
}
