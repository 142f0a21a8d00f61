import { readFile } from "node:fs/promises";

/** The offsets a partition log checkpoints: where it starts and up to where it is known flushed. */
export interface LogOffsetsCheckpoint {
  logStartOffset: bigint;
  recoveryPoint: bigint;
}

const VERSION = "0";

export function formatOffsetsCheckpoint(c: LogOffsetsCheckpoint): string {
  return `${VERSION}\n${c.logStartOffset} ${c.recoveryPoint}\n`;
}

/** Reads a checkpoint; null when missing or unreadable (the log is then recovered in full). */
export async function readOffsetsCheckpoint(path: string): Promise<LogOffsetsCheckpoint | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const m = /^0\n(\d+) (\d+)\n$/.exec(text);
  if (m === null || m[1] === undefined || m[2] === undefined) return null;
  return { logStartOffset: BigInt(m[1]), recoveryPoint: BigInt(m[2]) };
}
