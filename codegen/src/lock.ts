import { readFile, writeFile } from "node:fs/promises";
import { z } from "zod";
import type { LoadedSchema } from "./load.js";

/**
 * The lock pins the Kafka version the schemas come from and the sha256 of every schema file, so that
 * codegen refuses inputs that drifted (an edited file, a different Kafka release, a file missing).
 */
const lockFile = z.strictObject({
  kafkaVersion: z.string(),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
});
export type SchemaLock = z.infer<typeof lockFile>;

export async function readLock(path: string): Promise<SchemaLock> {
  const text = await readFile(path, "utf8");
  const parsed = lockFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

export async function writeLock(path: string, kafkaVersion: string, schemas: readonly LoadedSchema[]): Promise<void> {
  const files: Record<string, string> = {};
  for (const s of [...schemas].sort((a, b) => a.file.localeCompare(b.file))) files[s.file] = s.sha256;
  await writeFile(path, `${JSON.stringify({ kafkaVersion, files }, null, 2)}\n`);
}

/** Every difference between the schemas read and the lock, as lines; empty when they match. */
export function lockDrift(lock: SchemaLock, schemas: readonly LoadedSchema[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const s of schemas) {
    seen.add(s.file);
    const want = lock.files[s.file];
    if (want === undefined) out.push(`${s.file}: not in the lock`);
    else if (want !== s.sha256) out.push(`${s.file}: sha256 ${s.sha256} differs from the lock's ${want}`);
  }
  for (const f of Object.keys(lock.files)) if (!seen.has(f)) out.push(`${f}: in the lock but missing`);
  return out;
}
