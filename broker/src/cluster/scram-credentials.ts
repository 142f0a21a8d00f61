import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SerialFileWriter } from "../atomic-file.js";
import type { ScramCredential } from "../security/sasl-mechanism.js";
import type { ScramCredentialDeletion, UserScramCredential } from "./metadata.js";
import { applyCredentialChanges, listCredentials, usersChanged } from "./scram-changes.js";

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
    return listCredentials(this.users, user);
  }

  /** Applies the changes in memory and answers the users whose credentials changed. */
  apply(upserts: readonly UserScramCredential[], deletions: readonly ScramCredentialDeletion[]): string[] {
    return usersChanged(upserts, deletions).filter((user) => {
      const { credentials, changed } = applyCredentialChanges(user, this.users.get(user), upserts, deletions);
      if (!changed) return false;
      if (credentials.size > 0) this.users.set(user, credentials);
      else this.users.delete(user);
      return true;
    });
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
