// Merging one message's schemas from two Kafka releases: the union of versions, each byte-exact.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mergeMessages, renumberCoordinatorKey } from "../src/merge.js";
import { parseSchema, SchemaError, type MessageSpec } from "../src/schema.js";
import { Versions } from "../src/versions.js";

function spec(
  release: string,
  validVersions: string,
  fields: unknown[],
  extra: Record<string, unknown> = {},
): MessageSpec {
  const text = JSON.stringify({
    apiKey: 1000,
    type: "request",
    listeners: ["broker"],
    name: "TestRequest",
    validVersions,
    flexibleVersions: "2+",
    fields,
    ...extra,
  });
  return parseSchema(`${release}/message/TestRequest.json`, text);
}

const fieldsOf = (m: MessageSpec) => m.root.fields.map((f) => `${f.name}:${f.versions}`);

test("the union of versions; the newest release decides each version it defines", () => {
  // 3.9 has v0-3 with Name in every version; 4.4 dropped v0 and replaced Name by TopicId from v4.
  const older = spec("3.9", "0-3", [
    { name: "Name", type: "string", versions: "0+" },
    { name: "Count", type: "int32", versions: "1+" },
  ]);
  const newer = spec("4.4", "1-4", [
    { name: "Name", type: "string", versions: "0-3" },
    { name: "TopicId", type: "uuid", versions: "4+" },
    { name: "Count", type: "int32", versions: "1+" },
  ]);
  const merged = mergeMessages(older, newer);
  assert.equal(merged.validVersions.toString(), "0-4");
  assert.deepEqual(fieldsOf(merged), ["name:0-3", "topicId:4+", "count:1+"]);
});

test("a field only the older release had keeps its place and only the older release's versions", () => {
  const older = spec("3.9", "0-2", [
    { name: "A", type: "int8", versions: "0+" },
    { name: "Gone", type: "int16", versions: "0+" },
    { name: "B", type: "int8", versions: "0+" },
  ]);
  const newer = spec("4.4", "1-3", [
    { name: "A", type: "int8", versions: "0+" },
    { name: "B", type: "int8", versions: "0+" },
  ]);
  // v0 is only 3.9's: Gone is on the wire there; v1-2 are 4.4's, where it is not.
  assert.throws(
    () => mergeMessages(older, newer),
    (e: unknown) => e instanceof SchemaError && /changes version 1 on the wire/.test(e.message),
  );
  const olderV0Only = spec("3.9", "0", [
    { name: "A", type: "int8", versions: "0+" },
    { name: "Gone", type: "int16", versions: "0+" },
    { name: "B", type: "int8", versions: "0+" },
  ]);
  assert.deepEqual(fieldsOf(mergeMessages(olderV0Only, newer)), ["a:0+", "gone:0", "b:0+"]);
});

test("a renamed field (same place, same type) takes the newer name", () => {
  const older = spec("3.9", "0-1", [{ name: "CandidateEpoch", type: "int32", versions: "0+" }]);
  const newer = spec("4.4", "0-2", [{ name: "ReplicaEpoch", type: "int32", versions: "0+" }]);
  assert.deepEqual(fieldsOf(mergeMessages(older, newer)), ["replicaEpoch:0+"]);
});

test("a tagged field a newer release adds to old versions is allowed: readers skip it, writers omit it unset", () => {
  const older = spec("3.9", "0-3", [{ name: "A", type: "int32", versions: "0+" }]);
  const newer = spec("4.4", "0-3", [
    { name: "A", type: "int32", versions: "0+" },
    { name: "Hash", type: "int64", versions: "2+", taggedVersions: "2+", tag: 0 },
  ]);
  const merged = mergeMessages(older, newer);
  assert.deepEqual(fieldsOf(merged), ["a:0+", "hash:2+"]);
});

test("an untagged field added to a version both releases define is a wire change, and fails", () => {
  const older = spec("3.9", "0-3", [{ name: "A", type: "int32", versions: "0+" }]);
  const newer = spec("4.4", "2-3", [
    { name: "A", type: "int32", versions: "0+" },
    { name: "B", type: "int32", versions: "0+" },
  ]);
  assert.throws(
    () => mergeMessages(older, newer),
    (e: unknown) => e instanceof SchemaError && /changes version 2 on the wire/.test(e.message),
  );
  const sameRange = spec("4.4", "0-3", [
    { name: "A", type: "int32", versions: "0+" },
    { name: "B", type: "int8", versions: "0+" },
  ]);
  assert.throws(
    () => mergeMessages(older, sameRange),
    (e: unknown) =>
      e instanceof SchemaError &&
      /3\.9\/message\/TestRequest\.json: merging releases changes version 0 on the wire/.test(e.message),
  );
});

test("versions the older release published as unstable may be redefined", () => {
  const older = spec("3.9", "0-1", [{ name: "A", type: "int32", versions: "0+" }], { latestVersionUnstable: true });
  const newer = spec("4.4", "0-1", [
    { name: "A", type: "int32", versions: "0+" },
    { name: "B", type: "int32", versions: "1+" },
  ]);
  assert.throws(() => mergeMessages(older, newer), SchemaError);
  assert.deepEqual(fieldsOf(mergeMessages(older, newer, Versions.of(1, 1))), ["a:0+", "b:1+"]);
});

test("releases whose versions leave a gap, or whose field types differ, are refused", () => {
  const older = spec("3.9", "0-1", [{ name: "A", type: "int32", versions: "0+" }]);
  assert.throws(
    () => mergeMessages(older, spec("4.4", "3-4", [{ name: "A", type: "int32", versions: "0+" }])),
    /leave a gap/,
  );
  assert.throws(
    () => mergeMessages(older, spec("4.4", "0-2", [{ name: "A", type: "int64", versions: "0+" }])),
    /type int32 became int64/,
  );
});

test("Kafka 4's coordinator keys are numbered by record type, as Kafka 3.9 numbered them", () => {
  const text = JSON.stringify({
    apiKey: 3,
    type: "coordinator-key",
    name: "ConsumerGroupMetadataKey",
    validVersions: "0",
    flexibleVersions: "none",
    fields: [{ name: "GroupId", type: "string", versions: "0" }],
  });
  const key = renumberCoordinatorKey(parseSchema("4.4/group-coordinator/ConsumerGroupMetadataKey.json", text));
  assert.equal(key.validVersions.toString(), "3");
  assert.deepEqual(fieldsOf(key), ["groupId:3"]);
  assert.equal(key.type, "data");
  assert.equal(key.recordKind, "key");
});
