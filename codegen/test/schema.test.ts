// Schema validation: every problem is reported as `file: json-path: reason`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSchema, SchemaError } from "../src/schema.js";

const FILE = "message/TestRequest.json";

function schema(fields: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiKey: 1000,
    type: "request",
    listeners: ["broker"],
    name: "TestRequest",
    validVersions: "0-3",
    flexibleVersions: "2+",
    fields,
    ...extra,
  });
}

/** Parses `text`, expecting a SchemaError with a line equal to `file: path: reason` (reason a prefix match). */
function assertError(text: string, path: string, reason: string | RegExp): void {
  assert.throws(
    () => parseSchema(FILE, text),
    (e: unknown) => {
      assert.ok(e instanceof SchemaError, `not a SchemaError: ${String(e)}`);
      const lines = e.message.split("\n");
      const hit = lines.some((l) => {
        const prefix = `${FILE}: ${path}: `;
        if (!l.startsWith(prefix)) return false;
        const r = l.slice(prefix.length);
        return typeof reason === "string" ? r === reason : reason.test(r);
      });
      assert.ok(hit, `expected ${FILE}: ${path}: ${String(reason)}\ngot:\n${e.message}`);
      return true;
    },
  );
}

test("a valid schema parses", () => {
  const spec = parseSchema(FILE, schema([{ name: "Id", type: "int32", versions: "0+" }]));
  assert.equal(spec.name, "TestRequest");
  assert.equal(spec.root.fields[0]?.name, "id");
});

test("comments are allowed, as in Kafka's files", () => {
  const spec = parseSchema(FILE, `// licence\n${schema([{ name: "Id", type: "int32", versions: "0+" }])}`);
  assert.equal(spec.root.fields.length, 1);
});

test("an unknown key", () => {
  assertError(schema([{ name: "Id", type: "int32", versions: "0+", colour: "red" }]), "$.fields[0]", /colour/);
  assertError(schema([], { owner: "me" }), "$", /owner/);
});

test("a bad version range", () => {
  assertError(
    schema([{ name: "Id", type: "int32", versions: "3-1" }]),
    "$.fields[0].versions",
    'range "3-1" runs backwards',
  );
  assertError(
    schema([{ name: "Id", type: "int32", versions: "one+" }]),
    "$.fields[0].versions",
    '"one+" is not a version range (none, N, N-M or N+)',
  );
  assertError(schema([], { validVersions: "0+" }), "$.validVersions", "must be a closed range");
});

test("a tag without taggedVersions, and taggedVersions without a tag", () => {
  assertError(
    schema([{ name: "Id", type: "int32", versions: "2+", tag: 0 }]),
    "$.fields[0].tag",
    "a tag without taggedVersions",
  );
  assertError(
    schema([{ name: "Id", type: "int32", versions: "2+", taggedVersions: "2+" }]),
    "$.fields[0].taggedVersions",
    "taggedVersions without a tag",
  );
});

test("a tagged field outside the flexible versions", () => {
  assertError(
    schema([{ name: "Id", type: "int32", versions: "1+", taggedVersions: "1+", tag: 0 }]),
    "$.fields[0].taggedVersions",
    "tagged in 1+ but the message is flexible only in 2+",
  );
});

test("a default that does not fit its type", () => {
  assertError(
    schema([{ name: "Id", type: "int8", versions: "0+", default: "300" }]),
    "$.fields[0].default",
    '"300" does not fit in int8',
  );
  assertError(
    schema([{ name: "Ok", type: "bool", versions: "0+", default: "yes" }]),
    "$.fields[0].default",
    '"yes" is not a bool',
  );
  assertError(
    schema([{ name: "N", type: "int32", versions: "0+", default: "ten" }]),
    "$.fields[0].default",
    '"ten" is not an integer',
  );
  assertError(
    schema([{ name: "U", type: "uuid", versions: "0+", default: "nope" }]),
    "$.fields[0].default",
    '"nope" is not a UUID in base64',
  );
});

test("a null default on a field that is never nullable", () => {
  assertError(
    schema([{ name: "Name", type: "string", versions: "0+", default: "null" }]),
    "$.fields[0].default",
    "null default for a field that is never nullable",
  );
  assertError(
    schema([{ name: "Ids", type: "[]int32", versions: "0+", default: "null" }]),
    "$.fields[0].default",
    /an array's default can only be empty or null/,
  );
});

test("an unknown type", () => {
  assertError(schema([{ name: "X", type: "int128", versions: "0+" }]), "$.fields[0].type", "unknown type int128");
  assertError(
    schema([{ name: "X", type: "[]Missing", versions: "0+" }]),
    "$.fields[0].type",
    "unknown type Missing: not a primitive, an inline struct or a common struct",
  );
});

test("a duplicate tag", () => {
  assertError(
    schema([
      { name: "A", type: "int32", versions: "2+", taggedVersions: "2+", tag: 1 },
      { name: "B", type: "int32", versions: "2+", taggedVersions: "2+", tag: 1 },
    ]),
    "$.fields[1].tag",
    "tag 1 is also used by A",
  );
});

test("errors in nested structs name the whole path, and every error is reported", () => {
  const text = schema([
    {
      name: "Topics",
      type: "[]Topic",
      versions: "0+",
      fields: [
        { name: "Name", type: "string", versions: "0+", default: "null" },
        { name: "Id", type: "int8", versions: "0+", default: 128 },
      ],
    },
  ]);
  assertError(text, "$.fields[0].fields[0].default", "null default for a field that is never nullable");
  assertError(text, "$.fields[0].fields[1].default", "128 does not fit in int8");
});

test("invalid JSON", () => {
  assertError("{", "$", /^not valid JSON/);
});
