import { readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * A package-lock.json for a project that depends on packed workspace tarballs, made from the
 * repository's own lock: the tarballs' entries plus every package they need, at the versions and with
 * the integrity `npm ci` already put in npm's cache. With it, `npm ci --offline` installs the tarballs
 * without asking the registry anything (`npm install <tarball>` would fetch the packuments).
 */

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** A tarball of one workspace: its folder in the repository, file name and integrity (npm pack --json). */
export interface PackedWorkspace {
  readonly name: string;
  readonly folder: string;
  readonly filename: string;
  readonly integrity: string;
}

/**
 * The repository's lock leaves out registry URLs (omit-lockfile-registry-resolved); without one, npm
 * would ask the registry where the tarball is. The URL npm fetched it from, and cached it under, is
 * the registry's standard one.
 */
function withResolved(registry: string, path: string, entry: LockEntry): LockEntry {
  if (entry.resolved !== undefined || entry.version === undefined) return entry;
  const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
  const base = name.slice(name.indexOf("/") + 1);
  return { ...entry, resolved: `${registry.replace(/\/$/, "")}/${name}/-/${base}-${entry.version}.tgz` };
}

/** Where npm finds `name` from the package at `from`: its own node_modules, then each parent's. */
function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const path = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
    if (packages[path] !== undefined) return path;
    if (base === "") return undefined;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut < 0 ? "" : base.slice(0, cut);
  }
}

/**
 * The lock of a project whose dependencies are the `packed` tarballs, in the folder above it
 * (`file:../<tarball>`); `registry` is npm's (`npm config get registry`).
 */
export async function lockForTarballs(
  repoRoot: string,
  registry: string,
  packed: readonly PackedWorkspace[],
): Promise<object> {
  const lock = JSON.parse(await readFile(join(repoRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const packages = lock.packages;
  const byFolder = new Map(packed.map((p) => [p.folder, p]));
  const byName = new Map(packed.map((p) => [p.name, p]));
  const out: Record<string, LockEntry> = {
    "": { name: "app", dependencies: Object.fromEntries(packed.map((p) => [p.name, `file:../${p.filename}`])) },
  };
  // Repository paths to visit, and where each lands in the project (a workspace folder becomes node_modules/<name>).
  const todo: [string, string][] = packed.map((p) => [p.folder, `node_modules/${p.name}`]);
  const seen = new Set<string>();
  while (todo.length > 0) {
    const [repoPath, appPath] = todo.pop()!;
    if (seen.has(repoPath)) continue;
    seen.add(repoPath);
    const entry = packages[repoPath]!;
    const ws = byFolder.get(repoPath);
    out[appPath] =
      ws === undefined
        ? withResolved(registry, repoPath, entry)
        : {
            ...entry,
            name: undefined,
            resolved: `file:../${ws.filename}`,
            integrity: ws.integrity,
            devDependencies: undefined,
          };
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const target = byName.get(name);
      if (target !== undefined) continue; // another tarball: already a top-level entry
      const found = resolveFrom(packages, repoPath, name);
      if (found === undefined) continue; // an optional dependency for another platform
      const inApp = found.startsWith(`${repoPath}/`) ? `${appPath}${found.slice(repoPath.length)}` : found;
      todo.push([found, inApp]);
    }
  }
  return { name: "app", lockfileVersion: 3, requires: true, packages: out };
}
