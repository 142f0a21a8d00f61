import type { ScramCredential } from "../security/sasl-mechanism.js";
import type { ScramCredentialDeletion, UserScramCredential } from "./metadata.js";

/**
 * How SCRAM credential changes apply to the stored credentials, whichever store keeps them (the file of
 * a single node, etcd by user): pure functions over one user's credentials by mechanism.
 */

export type UserCredentials = Map<ScramCredential["mechanism"], ScramCredential>;

/** Every credential of the users, or those of `user`. */
export function listCredentials(users: ReadonlyMap<string, UserCredentials>, user?: string): UserScramCredential[] {
  const out: UserScramCredential[] = [];
  for (const [name, m] of user === undefined ? users : [[user, users.get(user)] as const]) {
    for (const credential of m?.values() ?? []) out.push({ user: name, credential });
  }
  return out;
}

/** The users a change names, each once, in the order first named (deletions first). */
export function usersChanged(
  upserts: readonly UserScramCredential[],
  deletions: readonly ScramCredentialDeletion[],
): string[] {
  return [...new Set([...deletions.map((d) => d.user), ...upserts.map((u) => u.user)])];
}

/**
 * One user's credentials after a change (deletions first, then upserts), as a new map; `changed` says
 * whether anything was deleted or set. An empty map means the user has none left.
 */
export function applyCredentialChanges(
  user: string,
  before: ReadonlyMap<ScramCredential["mechanism"], ScramCredential> | undefined,
  upserts: readonly UserScramCredential[],
  deletions: readonly ScramCredentialDeletion[],
): { credentials: UserCredentials; changed: boolean } {
  const credentials: UserCredentials = new Map(before);
  let changed = false;
  for (const d of deletions) if (d.user === user) changed = credentials.delete(d.mechanism) || changed;
  for (const u of upserts) {
    if (u.user !== user) continue;
    credentials.set(u.credential.mechanism, u.credential);
    changed = true;
  }
  return { credentials, changed };
}
