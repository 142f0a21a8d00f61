import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Temporary folders for tests: made under the OS temp folder, removed with everything in them. */

export interface TempDir {
  readonly dir: string;
  /** Removes the folder and its contents (a second call does nothing). */
  cleanup(): Promise<void>;
}

/** A fresh folder named `<prefix>XXXXXX`; the caller removes it with `cleanup` (in an `after`, say). */
export async function tempDir(prefix = "tskafka-test-"): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with a fresh folder and removes the folder afterwards, whether `fn` succeeded or threw. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const { dir, cleanup } = await tempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await cleanup();
  }
}
