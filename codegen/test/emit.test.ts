// The emitter's output for small inline schemas: version checks that always hold are dropped, the
// ones that do not are emitted as plain comparisons, and descriptors carry the schema's facts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { emitDescriptors } from "../src/emit/descriptors.js";
import { emitMessage } from "../src/emit/message.js";
import { parseSchema, type MessageSpec } from "../src/schema.js";
import { versionCondition, Versions } from "../src/versions.js";

function spec(fields: unknown[], extra: Record<string, unknown> = {}): MessageSpec {
  return parseSchema(
    "message/TestRequest.json",
    JSON.stringify({
      apiKey: 1000,
      type: "request",
      listeners: ["broker"],
      name: "TestRequest",
      validVersions: "0-5",
      flexibleVersions: "4+",
      fields,
      ...extra,
    }),
  );
}

/** The emitted function `name` (unformatted: each top-level declaration ends with a blank line). */
function fn(text: string, name: string): string {
  const start = text.indexOf(`function ${name}(`);
  assert.ok(start >= 0, `no function ${name}`);
  return text.slice(start, text.indexOf("\n}\n\n", start) + 3);
}

const range = (s: string): Versions => Versions.parse(s) as Versions;

test("versionCondition drops checks that always or never hold", () => {
  assert.equal(versionCondition(range("0+"), range("0-5")), "always");
  assert.equal(versionCondition(range("3+"), range("3-5")), "always");
  assert.equal(versionCondition(range("6+"), range("0-5")), "never");
  assert.equal(versionCondition(range("3+"), range("0-5")), "version >= 3");
  assert.equal(versionCondition(range("0-2"), range("0-5")), "version <= 2");
  assert.equal(versionCondition(range("2-3"), range("0-5")), "version >= 2 && version <= 3");
  assert.equal(versionCondition(range("2"), range("0-5")), "version === 2");
});

test("a field in every version is written without a check, one from v3 on behind `version >= 3`", () => {
  const { text } = emitMessage(
    spec([
      { name: "Always", type: "int32", versions: "0+" },
      { name: "Later", type: "int64", versions: "3+" },
    ]),
  );
  const write = fn(text, "writeTestRequest");
  assert.match(write, /\nw\.int32\(m\.always\);/, "unconditional write");
  assert.match(write, /if \(version >= 3\) \{\s*w\.int64\(m\.later\);/);
  assert.doesNotMatch(write, /version >= 0/);
  const read = fn(text, "readTestRequest");
  assert.match(read, /if \(version >= 3\) \{\s*f_later = r\.int64\("Later"\);\s*\} else \{\s*f_later = 0n;/);
});

test("strings switch to the compact form at the first flexible version", () => {
  const { text } = emitMessage(spec([{ name: "Name", type: "string", versions: "0+", nullableVersions: "2+" }]));
  const write = fn(text, "writeTestRequest");
  assert.match(write, /if \(version >= 4\) \{\s*w\.compactNullableString\(m\.name\);/);
  assert.match(write, /if \(version >= 2\) \{\s*w\.nullableString\(m\.name\);\s*\} else \{\s*w\.string\(/);
  assert.match(write, /nullError\("TestRequest", version, "Name"\)/);
});

test("a message flexible in all its versions has no flexibility checks", () => {
  const { text } = emitMessage(spec([{ name: "Name", type: "string", versions: "0+" }], { flexibleVersions: "0+" }));
  const write = fn(text, "writeTestRequest");
  assert.doesNotMatch(write, /if \(version [><]=/);
  assert.match(write, /w\.compactString\(m\.name\);/);
  assert.match(write, /w\.unsignedVarint\(n\);/);
});

test("a field that left the schema fails to encode unless ignorable", () => {
  const { text } = emitMessage(
    spec([
      { name: "Old", type: "int32", versions: "0-1" },
      { name: "Hint", type: "int32", versions: "0-1", ignorable: true },
    ]),
  );
  const write = fn(text, "writeTestRequest");
  assert.match(
    write,
    /if \(version <= 1\) \{\s*w\.int32\(m\.old\);\s*\} else \{\s*if \(m\.old !== undefined && m\.old !== 0\) \{\s*throw new EncodeError/,
  );
  assert.match(write, /if \(version <= 1\) \{\s*w\.int32\(m\.hint\);\s*\}\n/);
});

test("tagged fields are written in ascending tag order whatever the schema order", () => {
  const { text } = emitMessage(
    spec([
      { name: "B", type: "int32", versions: "4+", taggedVersions: "4+", tag: 7 },
      { name: "A", type: "string", versions: "4+", taggedVersions: "4+", tag: 2, default: "x" },
    ]),
  );
  const write = fn(text, "writeTestRequest");
  const a = write.indexOf("w.unsignedVarint(2);");
  const b = write.indexOf("w.unsignedVarint(7);");
  assert.ok(a > 0 && b > a, "tag 2 before tag 7");
  assert.match(write, /if \(m\.a !== "x"\) n\+\+;/, "left out at its default");
  assert.match(fn(text, "readTestRequest"), /case 2:/);
});

test("descriptors carry versions, nullability, tags, overrides and non-zero defaults, and no about text", () => {
  const { text, imports } = emitDescriptors(
    [
      spec([
        { name: "Id", type: "int64", versions: "1+", default: "0x10", about: "The secret about text." },
        { name: "Name", type: "string", versions: "0+", nullableVersions: "3+", default: "null" },
        {
          name: "Extra",
          type: "[]Item",
          versions: "4+",
          taggedVersions: "4+",
          tag: 0,
          fields: [{ name: "V", type: "bool", versions: "4+", default: true }],
        },
        { name: "Plain", type: "int32", versions: "0+", ignorable: true },
      ]),
    ],
    "descriptors",
  );
  assert.doesNotMatch(text, /secret/);
  assert.match(text, /\{ name: "id", type: "int64", versions: \{ min: 1, max: 5 \}, default: 16n \}/);
  assert.match(
    text,
    /\{ name: "name", type: "string", versions: \{ min: 0, max: 5 \}, nullableVersions: \{ min: 3, max: 5 \}, default: null \}/,
  );
  assert.match(
    text,
    /\{ name: "extra", type: \{ array: \{ struct: "Item" \} \}, versions: \{ min: 4, max: 5 \}, taggedVersions: \{ min: 4, max: 5 \}, tag: 0 \}/,
  );
  assert.match(
    text,
    /Item: \{ versions: \{ min: 4, max: 5 \}, fields: \[\{ name: "v", type: "bool", versions: \{ min: 4, max: 5 \}, default: true \}\] \}/,
  );
  assert.match(text, /\{ name: "plain", type: "int32", versions: \{ min: 0, max: 5 \}, ignorable: true \}/);
  assert.match(text, /apiKey: 1000, validVersions: \{ min: 0, max: 5 \}, flexibleVersions: \{ min: 4, max: 5 \}/);
  assert.match(text, /export interface MessageDescriptor/);
  assert.deepEqual(imports.modulesUsed(), [
    { module: "generated/src/runtime/index.ts", values: [], types: ["VersionRange"] },
  ]);
  const typed = emitDescriptors([], "d", "generated/src/gen/descriptors.ts");
  assert.doesNotMatch(typed.text, /interface/);
  assert.deepEqual(typed.imports.modulesUsed(), [
    { module: "generated/src/gen/descriptors.ts", values: [], types: ["MessageDescriptor"] },
  ]);
});
