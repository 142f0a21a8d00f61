import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SerialFileWriter } from "../atomic-file.js";
import { applyQuotaChanges, changesByEntity, entityKey } from "./client-quota-changes.js";
import type { ClientQuotaChange, ClientQuotaEntry } from "./metadata.js";

const FILE = "__tskafka_client_quotas.json";

/** `{"entries": [{"entity": {"user": "alice", "client-id": null}, "values": {"producer_byte_rate": 1048576}}]}` */
interface FileFormat {
  entries: { entity: Record<string, string | null>; values: Record<string, number> }[];
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
    for (const [key, mine] of changesByEntity(changes)) {
      const after = applyQuotaChanges(this.entries.get(key), mine);
      if (!after.changed) continue;
      if (after.entry === undefined) this.entries.delete(key);
      else this.entries.set(key, after.entry);
      changed = true;
    }
    return changed;
  }

  save(): Promise<void> {
    return this.writer.write(JSON.stringify({ entries: this.list() } satisfies FileFormat));
  }
}
