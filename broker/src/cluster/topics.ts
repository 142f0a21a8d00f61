import { randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { writeFileAtomic } from "../atomic-file.js";
import { join } from "node:path";

/**
 * The cluster's topic metadata (name, id, partition count, per-topic config overrides). On a
 * single node this is the controller's state; it is kept in one JSON file in the data directory,
 * replaced atomically (write, fsync, rename) on every change.
 */

export interface TopicInfo {
  readonly name: string;
  /** Kafka's topic id: 16 random bytes, as 22 characters of base64url. */
  readonly id: string;
  partitions: number;
  configs: Record<string, string>;
}

const FILE = "__tskafka_topics.json";
const MAX_NAME_LENGTH = 249;

/** Kafka's topic name rule; returns the reason a name is invalid, or undefined. */
export function invalidTopicName(name: string): string | undefined {
  if (name.length === 0) return "the empty string is not allowed";
  if (name === "." || name === "..") return `"${name}" is not allowed`;
  if (name.length > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return "only ASCII alphanumerics, '.', '_' and '-' are allowed";
  return undefined;
}

function newTopicId(): string {
  for (;;) {
    const id = randomBytes(16);
    // Kafka reserves the all-zero id and ids starting with '-' in text form look like flags.
    const text = id.toString("base64url");
    if (!id.equals(Buffer.alloc(16)) && !text.startsWith("-")) return text;
  }
}

export class TopicRegistry {
  private readonly byName = new Map<string, TopicInfo>();
  private readonly byIdMap = new Map<string, TopicInfo>();
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    readonly clusterId: string,
  ) {}

  static async load(dir: string): Promise<TopicRegistry> {
    await mkdir(dir, { recursive: true });
    let state: { clusterId: string; topics: TopicInfo[] } | undefined;
    try {
      state = JSON.parse(await readFile(join(dir, FILE), "utf8")) as { clusterId: string; topics: TopicInfo[] };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`${join(dir, FILE)}: ${(e as Error).message}`);
    }
    const registry = new TopicRegistry(dir, state?.clusterId ?? randomBytes(16).toString("base64url"));
    for (const t of state?.topics ?? []) registry.index(t);
    if (state === undefined) await registry.save();
    return registry;
  }

  private index(t: TopicInfo): void {
    this.byName.set(t.name, t);
    this.byIdMap.set(t.id, t);
  }

  get(name: string): TopicInfo | undefined {
    return this.byName.get(name);
  }

  byId(id: string): TopicInfo | undefined {
    return this.byIdMap.get(id);
  }

  list(): TopicInfo[] {
    return [...this.byName.values()];
  }

  async create(name: string, partitions: number, configs: Record<string, string> = {}): Promise<TopicInfo> {
    const t: TopicInfo = { name, id: newTopicId(), partitions, configs };
    this.index(t);
    await this.save();
    return t;
  }

  async delete(name: string): Promise<TopicInfo | undefined> {
    const t = this.byName.get(name);
    if (t === undefined) return undefined;
    this.byName.delete(name);
    this.byIdMap.delete(t.id);
    await this.save();
    return t;
  }

  async setPartitions(name: string, partitions: number): Promise<void> {
    const t = this.byName.get(name);
    if (t === undefined) return;
    t.partitions = partitions;
    await this.save();
  }

  async setConfigs(name: string, configs: Record<string, string>): Promise<void> {
    const t = this.byName.get(name);
    if (t === undefined) return;
    t.configs = configs;
    await this.save();
  }

  /** Saves are chained so that the file always ends with the latest state. */
  private save(): Promise<void> {
    const text = JSON.stringify({ clusterId: this.clusterId, topics: this.list() }, null, 1);
    this.saving = this.saving.then(() => writeFileAtomic(join(this.dir, FILE), text));
    return this.saving;
  }
}
