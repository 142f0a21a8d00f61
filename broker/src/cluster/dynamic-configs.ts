import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-file.js";
import type { DynamicScope } from "./metadata.js";

/**
 * Dynamic broker configs (and group configs, kept beside them): values set at runtime through AlterConfigs/IncrementalAlterConfigs on a
 * BROKER resource, either cluster-wide (resource name "") or for one node (its id). Which keys may be
 * set, and how their values are checked and applied, is the config table's (the "cluster-wide" keys of
 * config-keys.ts; see withDynamicConfigs in config.ts). Kafka keeps them in the cluster metadata; on
 * this single node they live in one JSON file in the data directory, replaced atomically (write, fsync,
 * rename) on every change and read back at start.
 */

const FILE = "__tskafka_broker_configs.json";

interface State {
  /** Resource name "". */
  clusterDefault: Record<string, string>;
  /** By node id, so that a data directory reused under another node.id does not take this node's. */
  brokers: Record<string, Record<string, string>>;
  /** Group configs (GROUP resource) by group id. */
  groups: Record<string, Record<string, string>>;
}

export type { DynamicScope };

export class DynamicConfigStore {
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly state: State,
  ) {}

  static async load(dir: string): Promise<DynamicConfigStore> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, FILE);
    let state: State = { clusterDefault: {}, brokers: {}, groups: {} };
    try {
      const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<State>;
      state = {
        clusterDefault: parsed.clusterDefault ?? {},
        brokers: parsed.brokers ?? {},
        groups: parsed.groups ?? {},
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`${path}: ${(e as Error).message}`);
    }
    return new DynamicConfigStore(dir, state);
  }

  /** The configs set for `scope`. */
  get(scope: DynamicScope): Readonly<Record<string, string>> {
    return (scope.kind === "default" ? this.state.clusterDefault : this.state.brokers[String(scope.nodeId)]) ?? {};
  }

  /** Replaces the whole set of configs of `scope` and persists it. */
  async set(scope: DynamicScope, configs: Readonly<Record<string, string>>): Promise<void> {
    if (scope.kind === "default") this.state.clusterDefault = { ...configs };
    else if (Object.keys(configs).length === 0) delete this.state.brokers[String(scope.nodeId)];
    else this.state.brokers[String(scope.nodeId)] = { ...configs };
    await this.save();
  }

  /** The configs set on group `groupId`. */
  group(groupId: string): Readonly<Record<string, string>> {
    return this.state.groups[groupId] ?? {};
  }

  /** Replaces the configs of group `groupId` and persists them. */
  async setGroup(groupId: string, configs: Readonly<Record<string, string>>): Promise<void> {
    if (Object.keys(configs).length === 0) delete this.state.groups[groupId];
    else this.state.groups[groupId] = { ...configs };
    await this.save();
  }

  /** Saves are chained so that the file always ends with the latest state. */
  private save(): Promise<void> {
    const text = JSON.stringify(this.state, null, 1);
    this.saving = this.saving.then(() => writeFileAtomic(join(this.dir, FILE), text));
    return this.saving;
  }
}
