import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseSchema, SchemaError, type MessageSpec } from "./schema.js";

/** The folders of a schema root, each compiled into its own output folder. */
export const SCHEMA_FOLDERS = ["message", "group-coordinator", "transaction-coordinator", "message-test"] as const;
export type SchemaFolder = (typeof SCHEMA_FOLDERS)[number];

export interface LoadedSchema {
  readonly folder: SchemaFolder;
  /** `folder/File.json` */
  readonly file: string;
  readonly sha256: string;
  readonly spec: MessageSpec;
}

/** Reads every schema file under `root`, validating all of them before failing with every error. */
export async function loadSchemas(root: string): Promise<LoadedSchema[]> {
  const out: LoadedSchema[] = [];
  const errors: string[] = [];
  for (const folder of SCHEMA_FOLDERS) {
    let names: string[];
    try {
      names = (await readdir(join(root, folder))).filter((n) => n.endsWith(".json")).sort();
    } catch {
      throw new SchemaError(`${join(root, folder)}: missing; run \`npm run schemas:fetch\` first`);
    }
    for (const name of names) {
      const file = `${folder}/${name}`;
      const bytes = await readFile(join(root, file));
      try {
        const spec = parseSchema(file, bytes.toString("utf8"));
        out.push({ folder, file, sha256: createHash("sha256").update(bytes).digest("hex"), spec });
      } catch (e) {
        if (!(e instanceof SchemaError)) throw e;
        errors.push(e.message);
      }
    }
  }
  if (errors.length > 0) throw new SchemaError(errors.join("\n"));
  return out;
}
