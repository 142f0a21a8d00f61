import { mkdir, open, rename } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Small files replaced atomically and durably: written to a temporary name and synced, renamed over the
 * old one, then the directory synced, so that after a crash or a power loss the file holds either the
 * old content or the new one, and a completed rename is not lost with the directory entry.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDirectory(dirname(path));
}

/** fsync of a directory: makes renames, creations and deletions in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The saves of one small file, made one after the other (each atomic), so that the file always ends with
 * the content of the latest save; a failed save does not stop the next one.
 */
export class SerialFileWriter {
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly name: string,
  ) {}

  write(content: string): Promise<void> {
    const next = this.last
      .catch(() => undefined)
      .then(async () => {
        await mkdir(this.dir, { recursive: true });
        await writeFileAtomic(join(this.dir, this.name), content);
      });
    this.last = next;
    return next;
  }
}
