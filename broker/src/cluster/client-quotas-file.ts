import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SerialFileWriter } from "../atomic-file.js";
import type { ClientQuotaChange, ClientQuotaEntry, QuotaEntity, QuotaEntityType } from "./metadata.js";

const FILE = "__tskafka_client_quotas.json";

/** `{"entries": [{"entity": {"user": "alice", "client-id": null}, "values": {"producer_byte_rate": 1048576}}]}` */
interface FileFormat {
  entries: { entity: Record<string, string | null>; values: Record<string, number> }[];
}

const TYPES: readonly QuotaEntityType[] = ["user", "client-id", "ip"];

/** One text per entity whatever the order of its types: the map key. */
export function entityKey(entity: QuotaEntity): string {
  return JSON.stringify(TYPES.filter((t) => t in entity).map((t) => [t, entity[t]]));
}

/**
 * The client quotas of the cluster in memory and in their file of the data directory. Saves are chained
 * so that the file always ends with the latest state.
 */
export class ClientQuotasFile {
  private readonly writer: SerialFileWriter;

  private constructor(
    dir: string,
    private readonly entries: Map<string, ClientQuotaEntry>,
  ) {
    this.writer = new SerialFileWriter(dir, FILE);
  }

  static async load(dir: string): Promise<ClientQuotasFile> {
    let parsed: FileFormat = { entries: [] };
    try {
      parsed = JSON.parse(await readFile(join(dir, FILE), "utf8")) as FileFormat;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const entries = new Map<string, ClientQuotaEntry>();
    for (const e of parsed.entries) entries.set(entityKey(e.entity), { entity: e.entity, values: e.values });
    return new ClientQuotasFile(dir, entries);
  }

  list(): ClientQuotaEntry[] {
    return [...this.entries.values()];
  }

  /** Applies the changes in memory; answers whether anything changed. */
  apply(changes: readonly ClientQuotaChange[]): boolean {
    let changed = false;
    for (const c of changes) {
      const key = entityKey(c.entity);
      const values: Record<string, number> = { ...this.entries.get(key)?.values };
      for (const k of c.remove) changed = delete values[k] || changed;
      for (const [k, v] of Object.entries(c.set)) {
        changed ||= values[k] !== v;
        values[k] = v;
      }
      if (Object.keys(values).length === 0) this.entries.delete(key);
      else this.entries.set(key, { entity: c.entity, values });
    }
    return changed;
  }

  save(): Promise<void> {
    return this.writer.write(JSON.stringify({ entries: this.list() } satisfies FileFormat));
  }
}
