import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { mergeMessages, renumberCoordinatorKey } from "./merge.js";
import { parseSchema, SchemaError, type MessageSpec } from "./schema.js";
import { Versions } from "./versions.js";

/** The folders a release's schema root may have, each compiled into its own output folder. */
export const SCHEMA_FOLDERS = [
  "message",
  "group-coordinator",
  "transaction-coordinator",
  "share-coordinator",
  "message-test",
] as const;
export type SchemaFolder = (typeof SCHEMA_FOLDERS)[number];

/** The Kafka releases compiled into one package, oldest first; each is a folder of the schema root. */
export const RELEASES = ["3.9", "4.4"] as const;
export type Release = (typeof RELEASES)[number];

export interface LoadedSchema {
  readonly release: Release;
  readonly folder: SchemaFolder;
  /** `folder/File.json`, within its release. */
  readonly file: string;
  readonly sha256: string;
  readonly spec: MessageSpec;
}

/** One message of the package: the merge of every release that defines it. */
export interface CompiledSchema {
  readonly folder: SchemaFolder;
  readonly spec: MessageSpec;
  /** The schema files it was compiled from, oldest release first. */
  readonly sources: readonly LoadedSchema[];
  /** The versions each of those releases defines. */
  readonly releaseVersions: readonly { readonly release: Release; readonly versions: Versions }[];
}

/** Reads every schema file of one release, validating all of them before failing with every error. */
export async function loadRelease(root: string, release: Release): Promise<LoadedSchema[]> {
  const dir = join(root, release);
  if (!existsSync(join(dir, "message")))
    throw new SchemaError(`${join(dir, "message")}: missing; run \`npm run schemas:fetch\` first`);
  const out: LoadedSchema[] = [];
  const errors: string[] = [];
  for (const folder of SCHEMA_FOLDERS) {
    if (!existsSync(join(dir, folder))) continue;
    const names = (await readdir(join(dir, folder))).filter((n) => n.endsWith(".json")).sort();
    for (const name of names) {
      const file = `${folder}/${name}`;
      const bytes = await readFile(join(dir, file));
      try {
        const spec = parseSchema(`${release}/${file}`, bytes.toString("utf8"));
        out.push({ release, folder, file, sha256: createHash("sha256").update(bytes).digest("hex"), spec });
      } catch (e) {
        if (!(e instanceof SchemaError)) throw e;
        errors.push(e.message);
      }
    }
  }
  if (errors.length > 0) throw new SchemaError(errors.join("\n"));
  return out;
}

/** Every release's schemas. */
export async function loadSchemas(root: string): Promise<LoadedSchema[]> {
  const out: LoadedSchema[] = [];
  for (const release of RELEASES) out.push(...(await loadRelease(root, release)));
  return out;
}

/** What makes two releases' files the same message: the API key for requests and responses, else the name. */
function identity(s: LoadedSchema): string {
  const spec = s.spec;
  if ((spec.type === "request" || spec.type === "response") && spec.apiKey !== undefined)
    return `${s.folder}/${spec.type}/${spec.apiKey}`;
  return `${s.folder}/${spec.name}`;
}

/**
 * Coordinator records a release published while their feature was in development, subject to
 * incompatible change (the files say so): Kafka 3.9's share group records, from the KIP-932 preview.
 */
const PREVIEW_RECORDS: Partial<Record<Release, RegExp>> = { "3.9": /^ShareGroup/ };

/** The versions of a schema its release published as unstable. */
function unstableVersions(s: LoadedSchema, all: readonly LoadedSchema[]): Versions {
  const spec = s.spec;
  if (s.folder !== "message")
    return PREVIEW_RECORDS[s.release]?.test(spec.name) === true ? spec.validVersions : Versions.NONE;
  // Only requests carry the flag; a response is as unstable as its request.
  const request = all.find(
    (x) => x.release === s.release && x.spec.type === "request" && x.spec.apiKey === spec.apiKey,
  );
  if (request?.spec.latestVersionUnstable !== true) return Versions.NONE;
  return Versions.of(request.spec.validVersions.highest, request.spec.validVersions.highest);
}

/** Merges the releases' schemas into the package's messages, oldest release first in each. */
export function compileReleases(schemas: readonly LoadedSchema[]): CompiledSchema[] {
  const groups = new Map<string, LoadedSchema[]>();
  for (const s of schemas) {
    const list = groups.get(identity(s)) ?? [];
    list.push(s);
    groups.set(identity(s), list);
  }
  const out: CompiledSchema[] = [];
  const errors: string[] = [];
  for (const sources of groups.values()) {
    sources.sort((a, b) => RELEASES.indexOf(a.release) - RELEASES.indexOf(b.release));
    // A release that removed the API (validVersions "none") adds nothing to it.
    const defined = sources.filter((s) => !s.spec.validVersions.empty);
    if (defined.length === 0) continue;
    sources.splice(0, sources.length, ...defined);
    const specs = sources.map((s) => renumberCoordinatorKey(s.spec));
    try {
      let spec = specs[0]!;
      for (let i = 1; i < specs.length; i++)
        spec = mergeMessages(spec, specs[i]!, unstableVersions(sources[i - 1]!, schemas));
      const releaseVersions = sources.map((s, i) => ({ release: s.release, versions: specs[i]!.validVersions }));
      out.push({ folder: sources[0]!.folder, spec, sources, releaseVersions });
    } catch (e) {
      if (!(e instanceof SchemaError)) throw e;
      errors.push(e.message);
    }
  }
  if (errors.length > 0) throw new SchemaError(errors.join("\n"));
  const names = new Map<string, CompiledSchema>();
  for (const c of out) {
    const key = `${c.folder}/${c.spec.name}`;
    const other = names.get(key);
    if (other !== undefined)
      throw new SchemaError(`${c.sources[0]!.file}: ${c.spec.name} is also the name of ${other.sources[0]!.file}`);
    names.set(key, c);
  }
  return out.sort((a, b) => `${a.folder}/${a.spec.name}`.localeCompare(`${b.folder}/${b.spec.name}`));
}
