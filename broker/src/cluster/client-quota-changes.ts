import type { ClientQuotaChange, ClientQuotaEntry, QuotaEntity, QuotaEntityType } from "./metadata.js";

/**
 * How client quota changes apply to the stored quotas, whichever store keeps them (the file of a
 * single node, etcd): pure functions over one entity's entry.
 */

const TYPES: readonly QuotaEntityType[] = ["user", "client-id", "ip"];

/** One text per entity whatever the order of its types: the key a store files it under. */
export function entityKey(entity: QuotaEntity): string {
  return JSON.stringify(TYPES.filter((t) => t in entity).map((t) => [t, entity[t]]));
}

/** The changes by entity key, in the order each entity is first named. */
export function changesByEntity(changes: readonly ClientQuotaChange[]): Map<string, ClientQuotaChange[]> {
  const byEntity = new Map<string, ClientQuotaChange[]>();
  for (const c of changes) {
    const key = entityKey(c.entity);
    const list = byEntity.get(key);
    if (list === undefined) byEntity.set(key, [c]);
    else list.push(c);
  }
  return byEntity;
}

/** One entity's quotas after a change; `changed` says whether any value differs from before. */
export interface QuotaEntryChange {
  /** Undefined when the entity has no value left (a store then forgets it). */
  readonly entry: ClientQuotaEntry | undefined;
  readonly changed: boolean;
}

/** Applies the changes of one entity in order (each removes its keys, then sets its values). */
export function applyQuotaChanges(
  before: ClientQuotaEntry | undefined,
  changes: readonly ClientQuotaChange[],
): QuotaEntryChange {
  const values: Record<string, number> = { ...before?.values };
  let entity = before?.entity;
  for (const c of changes) {
    entity = c.entity;
    for (const k of c.remove) delete values[k];
    Object.assign(values, c.set);
  }
  const old = before?.values ?? {};
  const keys = Object.keys(values);
  const changed = keys.length !== Object.keys(old).length || keys.some((k) => old[k] !== values[k]);
  const entry = keys.length === 0 || entity === undefined ? undefined : { entity, values };
  return { entry, changed };
}
