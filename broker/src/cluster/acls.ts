import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SerialFileWriter } from "../atomic-file.js";
import type { AclBinding, AclBindingFilter } from "../security/acl.js";
import { bindingsToAdd, selectedBy, unselected } from "./acl-changes.js";

const FILE = "__tskafka_acls.json";

/** `{"acls": [{resourceType, resourceName, patternType, principal, host, operation, permission}]}`, Kafka's codes. */
interface FileFormat {
  acls: readonly AclBinding[];
}

/**
 * The cluster's ACLs in memory and in their file of the data directory, in the order they were created.
 * Saves are chained so that the file always ends with the latest state.
 */
export class AclsFile {
  private readonly writer: SerialFileWriter;

  private constructor(
    dir: string,
    private bindings: readonly AclBinding[],
  ) {
    this.writer = new SerialFileWriter(dir, FILE);
  }

  static async load(dir: string): Promise<AclsFile> {
    let parsed: FileFormat = { acls: [] };
    try {
      parsed = JSON.parse(await readFile(join(dir, FILE), "utf8")) as FileFormat;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    return new AclsFile(dir, parsed.acls);
  }

  get acls(): readonly AclBinding[] {
    return this.bindings;
  }

  /** Adds the bindings not stored yet (nor repeated earlier in `bindings`); answers those added. */
  add(bindings: readonly AclBinding[]): AclBinding[] {
    const added = bindingsToAdd(this.bindings, bindings);
    if (added.length > 0) this.bindings = [...this.bindings, ...added];
    return added;
  }

  /** Removes what each filter selects; answers per filter the bindings it selected (one may be in several). */
  remove(filters: readonly AclBindingFilter[]): AclBinding[][] {
    const perFilter = selectedBy(filters, this.bindings);
    if (perFilter.some((selected) => selected.length > 0)) this.bindings = unselected(filters, this.bindings);
    return perFilter;
  }

  save(): Promise<void> {
    return this.writer.write(JSON.stringify({ acls: this.bindings } satisfies FileFormat));
  }
}
