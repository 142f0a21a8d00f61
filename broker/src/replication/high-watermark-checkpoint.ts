import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.js";

/**
 * Kafka's `replication-offset-checkpoint`: the high watermark of each replicated partition of a log
 * directory, in the directory, so that a restarted broker does not show consumers records that were never
 * committed. The format is Kafka's: a version line (0), a count line, then `topic partition offset` lines.
 */

export const HIGH_WATERMARK_CHECKPOINT_FILE = "replication-offset-checkpoint";

export interface CheckpointedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export function formatHighWatermarks(entries: readonly CheckpointedOffset[]): string {
  return `0\n${entries.length}\n${entries.map((e) => `${e.topic} ${e.partition} ${e.offset}\n`).join("")}`;
}

/** The entries of a checkpoint file's text; empty when it is not one. */
export function parseHighWatermarks(text: string): CheckpointedOffset[] {
  const lines = text.split("\n").filter((l) => l !== "");
  if (lines[0] !== "0") return [];
  const out: CheckpointedOffset[] = [];
  for (const line of lines.slice(2)) {
    const m = /^(\S+) (\d+) (\d+)$/.exec(line);
    if (m !== null) out.push({ topic: m[1]!, partition: Number(m[2]), offset: BigInt(m[3]!) });
  }
  return out;
}

export async function readHighWatermarks(dir: string): Promise<CheckpointedOffset[]> {
  try {
    return parseHighWatermarks(await readFile(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE), "utf8"));
  } catch {
    return [];
  }
}

export function writeHighWatermarks(dir: string, entries: readonly CheckpointedOffset[]): Promise<void> {
  return writeFileAtomic(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE), formatHighWatermarks(entries));
}
