import { readFile, writeFile } from "node:fs/promises";
import { z } from "zod";
import { RELEASES, type LoadedSchema } from "./load.js";

/**
 * The lock pins, per Kafka release, the sha256 of every schema file, so that codegen refuses inputs that
 * drifted (an edited file, a different Kafka release, a file missing).
 */
const lockFile = z.strictObject({
  releases: z.record(z.string(), z.strictObject({ files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)) })),
});
export type SchemaLock = z.infer<typeof lockFile>;

export async function readLock(path: string): Promise<SchemaLock> {
  const text = await readFile(path, "utf8");
  const parsed = lockFile.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

export async function writeLock(path: string, schemas: readonly LoadedSchema[]): Promise<void> {
  const releases: SchemaLock["releases"] = {};
  for (const release of RELEASES) {
    const files: Record<string, string> = {};
    const mine = schemas.filter((s) => s.release === release).sort((a, b) => a.file.localeCompare(b.file));
    for (const s of mine) files[s.file] = s.sha256;
    releases[release] = { files };
  }
  await writeFile(path, `${JSON.stringify({ releases }, null, 2)}\n`);
}

/** Every difference between the schemas read and the lock, as lines; empty when they match. */
export function lockDrift(lock: SchemaLock, schemas: readonly LoadedSchema[]): string[] {
  const out: string[] = [];
  for (const release of RELEASES) {
    const files = lock.releases[release]?.files;
    if (files === undefined) {
      out.push(`${release}: not in the lock`);
      continue;
    }
    const seen = new Set<string>();
    for (const s of schemas) {
      if (s.release !== release) continue;
      seen.add(s.file);
      const want = files[s.file];
      if (want === undefined) out.push(`${release}/${s.file}: not in the lock`);
      else if (want !== s.sha256) out.push(`${release}/${s.file}: sha256 ${s.sha256} differs from the lock's ${want}`);
    }
    for (const f of Object.keys(files)) if (!seen.has(f)) out.push(`${release}/${f}: in the lock but missing`);
  }
  return out;
}
