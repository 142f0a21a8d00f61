/**
 * Imports as symbols: an emitter never prints an import. It names each symbol of another module as it
 * writes code that refers to it, through `ImportSet.add` (or `MessageContext.use` for the runtime), and
 * `project.ts` turns the set into ts-morph import declarations: values in one, type-only names in another.
 */

/** How emitted code refers to a symbol: as a value (imported plainly) or only as a type (`import type`). */
export type SymbolKind = "value" | "type";

/** The runtime module every generated codec imports from, relative to the repository root. */
export const RUNTIME_MODULE = "generated/src/runtime/index.ts";

/**
 * The runtime symbols generated code refers to, each with the way it refers to them. `Writer` and
 * `Reader` are classes, but codecs only name them in signatures, so they are imported as types.
 */
export const RUNTIME_SYMBOLS = {
  EMPTY_BYTES: "value",
  EncodeError: "value",
  MessageCodec: "type",
  Reader: "type",
  TaggedField: "type",
  UnsupportedVersionError: "value",
  VersionRange: "type",
  Writer: "type",
  nullError: "value",
  sizeOfUnknownTaggedFields: "value",
  sizeOfUnsignedVarint: "value",
  utf8Length: "value",
  writeUnknownTaggedFields: "value",
} as const satisfies Record<string, SymbolKind>;
export type RuntimeSymbol = keyof typeof RUNTIME_SYMBOLS;

/** One module's named imports, sorted as ts-morph receives them. */
export interface ModuleImports {
  /** The module's path relative to the repository root, e.g. `generated/src/runtime/index.ts`. */
  readonly module: string;
  readonly values: readonly string[];
  readonly types: readonly string[];
}

/** The symbols one generated file refers to, by module. */
export class ImportSet {
  private readonly modules = new Map<string, Map<string, SymbolKind>>();

  /** Records that the file refers to `name` of `module`; returns `name`, to be written into the code. */
  add(module: string, name: string, kind: SymbolKind): string {
    let names = this.modules.get(module);
    if (names === undefined) this.modules.set(module, (names = new Map()));
    // A name used both ways is imported as a value, which serves as a type too.
    if (names.get(name) !== "value") names.set(name, kind);
    return name;
  }

  /** A runtime symbol, with the kind of use the registry gives it. */
  runtime(name: RuntimeSymbol): string {
    return this.add(RUNTIME_MODULE, name, RUNTIME_SYMBOLS[name]);
  }

  /** Every module referred to, ordered by path, names sorted. */
  modulesUsed(): ModuleImports[] {
    const modules = [...this.modules].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return modules.map(([module, names]) => {
      const of = (kind: SymbolKind): string[] =>
        [...names]
          .filter(([, k]) => k === kind)
          .map(([n]) => n)
          .sort();
      return { module, values: of("value"), types: of("type") };
    });
  }
}
