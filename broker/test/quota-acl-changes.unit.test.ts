import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bindingChanges, bindingsToAdd, selectedBy, unselected } from "../src/cluster/acl-changes.js";
import { applyQuotaChanges, changesByEntity, entityKey } from "../src/cluster/client-quota-changes.js";
import {
  AclOperation,
  AclPermission,
  PatternType,
  ResourceType,
  type AclBinding,
  type AclBindingFilter,
} from "../src/security/acl.js";

/**
 * The merge rules both metadata stores apply (the file of a single node, etcd): client quota changes
 * and ACL creations and deletions. The stores themselves are tested in security-quotas, security-acls
 * and cluster-etcd.
 */

describe("client quota changes", () => {
  const alice = { user: "alice" };
  const aliceApp = { "client-id": "app", user: "alice" };

  test("one key per entity whatever the order of its types; changes grouped in first-named order", () => {
    assert.equal(entityKey(aliceApp), entityKey({ user: "alice", "client-id": "app" }));
    assert.notEqual(entityKey(alice), entityKey({ user: null }));
    const byEntity = changesByEntity([
      { entity: aliceApp, set: { a: 1 }, remove: [] },
      { entity: alice, set: { b: 2 }, remove: [] },
      { entity: { user: "alice", "client-id": "app" }, set: {}, remove: ["a"] },
    ]);
    assert.deepEqual(
      [...byEntity.values()].map((l) => l.length),
      [2, 1],
    );
  });

  test("each change removes, then sets; an entity left without values is gone", () => {
    const before = { entity: alice, values: { producer_byte_rate: 100, request_percentage: 50 } };
    const after = applyQuotaChanges(before, [
      { entity: alice, set: { consumer_byte_rate: 7 }, remove: ["producer_byte_rate"] },
      { entity: alice, set: { request_percentage: 60 }, remove: ["request_percentage"] },
    ]);
    assert.deepEqual(after, {
      entry: { entity: alice, values: { request_percentage: 60, consumer_byte_rate: 7 } },
      changed: true,
    });
    const gone = applyQuotaChanges(before, [
      { entity: alice, set: {}, remove: ["producer_byte_rate", "request_percentage"] },
    ]);
    assert.deepEqual(gone, { entry: undefined, changed: true });
  });

  test("setting the same values, or removing what is not set, changes nothing", () => {
    const before = { entity: alice, values: { producer_byte_rate: 100 } };
    assert.equal(
      applyQuotaChanges(before, [{ entity: alice, set: { producer_byte_rate: 100 }, remove: [] }]).changed,
      false,
    );
    assert.equal(
      applyQuotaChanges(before, [{ entity: alice, set: {}, remove: ["consumer_byte_rate"] }]).changed,
      false,
    );
    assert.deepEqual(applyQuotaChanges(undefined, [{ entity: alice, set: {}, remove: ["x"] }]), {
      entry: undefined,
      changed: false,
    });
  });
});

describe("ACL changes", () => {
  const binding = (resourceName: string, operation: AclBinding["operation"]): AclBinding => ({
    resourceType: ResourceType.TOPIC,
    resourceName,
    patternType: PatternType.LITERAL,
    principal: "User:alice",
    host: "*",
    operation,
    permission: AclPermission.ALLOW,
  });
  const readA = binding("a", AclOperation.READ);
  const writeA = binding("a", AclOperation.WRITE);
  const readB = binding("b", AclOperation.READ);
  const filter = (resourceName: string | null, operation: AclBindingFilter["operation"]): AclBindingFilter => ({
    resourceType: ResourceType.TOPIC,
    resourceName,
    patternType: PatternType.ANY,
    principal: null,
    host: null,
    operation,
    permission: AclPermission.ANY,
  });

  test("a creation adds copies of what is not stored, each once", () => {
    const added = bindingsToAdd([readA], [{ ...readA }, writeA, { ...writeA }, readB]);
    assert.deepEqual(added, [writeA, readB]);
    assert.notEqual(added[0], writeA);
  });

  test("a deletion answers per filter what it selects and leaves the rest", () => {
    const stored = [readA, writeA, readB];
    const filters = [filter("a", AclOperation.ANY), filter(null, AclOperation.READ), filter("c", AclOperation.ANY)];
    assert.deepEqual(selectedBy(filters, stored), [[readA, writeA], [readA, readB], []]);
    assert.deepEqual(unselected(filters, stored), []);
    assert.deepEqual(unselected([filter("b", AclOperation.ANY)], stored), [readA, writeA]);
  });

  test("what differs between two lists of bindings", () => {
    assert.deepEqual(bindingChanges([readA, writeA], [{ ...writeA }, readB]), { added: [readB], removed: [readA] });
  });
});
