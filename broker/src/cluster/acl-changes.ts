import { filterMatches, sameBinding, type AclBinding, type AclBindingFilter } from "../security/acl.js";

/**
 * How ACL creations and deletions apply to the stored bindings, whichever store keeps them (the file of
 * a single node, etcd by resource pattern): pure functions over lists of bindings.
 */

/** The bindings not stored yet (nor repeated earlier in `bindings`), as copies: what a creation adds. */
export function bindingsToAdd(stored: readonly AclBinding[], bindings: readonly AclBinding[]): AclBinding[] {
  const added: AclBinding[] = [];
  for (const b of bindings) {
    if (stored.some((x) => sameBinding(x, b)) || added.some((x) => sameBinding(x, b))) continue;
    added.push({ ...b });
  }
  return added;
}

/** Whether any of the filters selects the binding. */
export function anySelects(filters: readonly AclBindingFilter[], binding: AclBinding): boolean {
  return filters.some((f) => filterMatches(f, binding));
}

/** Per filter, the bindings it selects (one binding may be selected by several): what a deletion answers. */
export function selectedBy(filters: readonly AclBindingFilter[], bindings: readonly AclBinding[]): AclBinding[][] {
  return filters.map((f) => bindings.filter((b) => filterMatches(f, b)));
}

/** The bindings no filter selects: what a deletion leaves. */
export function unselected(filters: readonly AclBindingFilter[], bindings: readonly AclBinding[]): AclBinding[] {
  return bindings.filter((b) => !anySelects(filters, b));
}

/** What differs between two lists of one resource pattern's bindings. */
export function bindingChanges(
  before: readonly AclBinding[],
  after: readonly AclBinding[],
): { added: AclBinding[]; removed: AclBinding[] } {
  return {
    added: after.filter((b) => !before.some((x) => sameBinding(x, b))),
    removed: before.filter((b) => !after.some((x) => sameBinding(x, b))),
  };
}
