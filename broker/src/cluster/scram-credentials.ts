import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SerialFileWriter } from "../atomic-file.js";
import type { ScramCredential } from "../security/sasl-mechanism.js";
import type { ScramCredentialDeletion, UserScramCredential } from "./metadata.js";

const FILE = "__tskafka_scram_credentials.json";

interface StoredCredential {
  salt: string;
  storedKey: string;
  serverKey: string;
  iterations: number;
}

/** `{"users": {"<user>": {"SCRAM-SHA-256": {salt, storedKey, serverKey (base64), iterations}}}}`: never a password. */
interface FileFormat {
  users: Record<string, Partial<Record<ScramCredential["mechanism"], StoredCredential>>>;
}

const MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const;

/**
 * The SCRAM credentials of the cluster in memory and in their file of the data directory. Saves are
 * chained so that the file always ends with the latest state.
 */
export class ScramCredentialsFile {
  private readonly writer: SerialFileWriter;

  private constructor(
    dir: string,
    /** user -> mechanism -> credential, in the order users were first added. */
    private readonly users: Map<string, Map<ScramCredential["mechanism"], ScramCredential>>,
  ) {
    this.writer = new SerialFileWriter(dir, FILE);
  }

  static async load(dir: string): Promise<ScramCredentialsFile> {
    const users = new Map<string, Map<ScramCredential["mechanism"], ScramCredential>>();
    let parsed: FileFormat = { users: {} };
    try {
      parsed = JSON.parse(await readFile(join(dir, FILE), "utf8")) as FileFormat;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    for (const [user, byMechanism] of Object.entries(parsed.users)) {
      const m = new Map<ScramCredential["mechanism"], ScramCredential>();
      for (const mechanism of MECHANISMS) {
        const c = byMechanism[mechanism];
        if (c === undefined) continue;
        m.set(mechanism, {
          mechanism,
          salt: Buffer.from(c.salt, "base64"),
          storedKey: Buffer.from(c.storedKey, "base64"),
          serverKey: Buffer.from(c.serverKey, "base64"),
          iterations: c.iterations,
        });
      }
      if (m.size > 0) users.set(user, m);
    }
    return new ScramCredentialsFile(dir, users);
  }

  /** Every credential, or those of `user`. */
  list(user?: string): UserScramCredential[] {
    const out: UserScramCredential[] = [];
    for (const [name, m] of user === undefined ? this.users : [[user, this.users.get(user)] as const]) {
      for (const credential of m?.values() ?? []) out.push({ user: name, credential });
    }
    return out;
  }

  /** Applies the changes in memory (deletions first) and answers the users touched. */
  apply(upserts: readonly UserScramCredential[], deletions: readonly ScramCredentialDeletion[]): string[] {
    const touched = new Set<string>();
    for (const d of deletions) {
      const m = this.users.get(d.user);
      if (m?.delete(d.mechanism) === true) touched.add(d.user);
      if (m !== undefined && m.size === 0) this.users.delete(d.user);
    }
    for (const u of upserts) {
      let m = this.users.get(u.user);
      if (m === undefined) this.users.set(u.user, (m = new Map()));
      m.set(u.credential.mechanism, u.credential);
      touched.add(u.user);
    }
    return [...touched];
  }

  save(): Promise<void> {
    return this.writer.write(JSON.stringify(this.toFile()));
  }

  private toFile(): FileFormat {
    const users: FileFormat["users"] = {};
    for (const [user, m] of this.users) {
      const entry: FileFormat["users"][string] = {};
      for (const c of m.values()) {
        entry[c.mechanism] = {
          salt: c.salt.toString("base64"),
          storedKey: c.storedKey.toString("base64"),
          serverKey: c.serverKey.toString("base64"),
          iterations: c.iterations,
        };
      }
      users[user] = entry;
    }
    return { users };
  }
}
