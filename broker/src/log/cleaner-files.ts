import { readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.js";

/**
 * The files of log compaction in a partition directory: the cleaner checkpoint, and the temporary names
 * a cleaned segment goes through on its way in (`.cleaned` while written, `.swap` once complete), as in
 * Kafka, so that a restart can tell an unfinished cleaning (dropped) from an unfinished swap (completed).
 * Unlike Kafka's, the swap name also carries the end of the offset range the segment replaces: its own
 * last batch may end well before that range does, when cleaning emptied the end of the range.
 */

/** Offset up to which the log has been cleaned; absent until the first cleaning. */
export const CLEANER_CHECKPOINT_FILE = "cleaner-offset.checkpoint";
export const CLEANED_SUFFIX = ".cleaned";
const SWAP_SUFFIX = ".swap";

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex|txnindex)$/;
const SWAP_FILE = /^(\d{20})\.log\.(\d{20})\.swap$/;

/** `<segment file>.<end offset>.swap`: a cleaned segment replacing the segments based in [base, end). */
export function swapPath(logPath: string, endOffset: bigint): string {
  return `${logPath}.${endOffset.toString().padStart(20, "0")}${SWAP_SUFFIX}`;
}

export async function readCleanerCheckpoint(dir: string): Promise<bigint | null> {
  let text: string;
  try {
    text = await readFile(join(dir, CLEANER_CHECKPOINT_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const m = /^0\n(\d+)\n$/.exec(text);
  return m === null || m[1] === undefined ? null : BigInt(m[1]);
}

export function writeCleanerCheckpoint(dir: string, offset: bigint): Promise<void> {
  return writeFileAtomic(join(dir, CLEANER_CHECKPOINT_FILE), `0\n${offset}\n`);
}

/**
 * Run before a partition log is opened: drops half-written `.cleaned` files and completes swaps. A
 * `.swap` file is a finished cleaned segment; the files of the segments it replaces that were not yet
 * renamed away are removed, then it takes its final name.
 */
export async function finishCleanerFiles(dir: string): Promise<void> {
  const names = await readdir(dir);
  for (const name of names) {
    if (name.endsWith(CLEANED_SUFFIX)) await unlink(join(dir, name)).catch(() => undefined);
  }
  for (const name of names) {
    const swap = SWAP_FILE.exec(name);
    if (swap === null || swap[1] === undefined || swap[2] === undefined) continue;
    const base = BigInt(swap[1]);
    const end = BigInt(swap[2]);
    for (const other of names) {
      const seg = SEGMENT_FILE.exec(other);
      if (seg === null || seg[1] === undefined) continue;
      const otherBase = BigInt(seg[1]);
      if (otherBase === base || (otherBase > base && otherBase < end))
        await unlink(join(dir, other)).catch(() => undefined);
    }
    await rename(join(dir, name), join(dir, `${swap[1]}.log`));
  }
}
