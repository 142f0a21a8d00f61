import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.js";
import type { TopicInfo } from "./metadata.js";

/**
 * The file of the topics (name, id, partition count, config overrides) and the cluster id: one JSON file
 * in the data directory, replaced atomically and durably on every change. Versions are not stored: they
 * only order the writes of one run.
 */

const FILE = "__tskafka_topics.json";

/** A topic as the file holds it. */
export interface StoredTopic {
  readonly name: string;
  readonly id: string;
  readonly partitions: number;
  readonly configs: Readonly<Record<string, string>>;
}

/** A new topic id. Kafka reserves the all-zero id, and ids starting with '-' in text form look like flags. */
export function newTopicId(): string {
  for (;;) {
    const id = randomBytes(16);
    const text = id.toString("base64url");
    if (!id.equals(Buffer.alloc(16)) && !text.startsWith("-")) return text;
  }
}

export class TopicsFile {
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    readonly clusterId: string,
    readonly topics: readonly StoredTopic[],
  ) {}

  /** Reads the file; a data directory without one gets a new cluster id, saved at once. */
  static async load(dir: string): Promise<TopicsFile> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, FILE);
    let state: { clusterId: string; topics: StoredTopic[] } | undefined;
    try {
      state = JSON.parse(await readFile(path, "utf8")) as { clusterId: string; topics: StoredTopic[] };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`${path}: ${(e as Error).message}`);
    }
    const file = new TopicsFile(path, state?.clusterId ?? randomBytes(16).toString("base64url"), state?.topics ?? []);
    if (state === undefined) await file.save([]);
    return file;
  }

  /** Saves are chained so that the file always ends with the latest state. */
  save(topics: Iterable<StoredTopic>): Promise<void> {
    const stored = [...topics].map((t) => ({ name: t.name, id: t.id, partitions: t.partitions, configs: t.configs }));
    const text = JSON.stringify({ clusterId: this.clusterId, topics: stored }, null, 1);
    this.saving = this.saving.then(() => writeFileAtomic(this.path, text));
    return this.saving;
  }
}

export type { TopicInfo };
