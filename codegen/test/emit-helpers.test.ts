// The emitter's helpers: the one encoding choice that writers, readers and sizes share, imports
// derived from the symbols the code names, and the per-version type docs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Node, Project } from "ts-morph";
import { MessageContext } from "../src/emit/context.js";
import { eachEncoding, encodingChoice, encodingExpression, lengthPrefixedMethod } from "../src/emit/encoding.js";
import { ImportSet, RUNTIME_MODULE, RUNTIME_SYMBOLS } from "../src/emit/imports.js";
import { emitMessage } from "../src/emit/message.js";
import { memberChanges, versionsText } from "../src/emit/version-types.js";
import { parseSchema, type MessageSpec } from "../src/schema.js";
import { Versions } from "../src/versions.js";

function spec(fields: unknown[], extra: Record<string, unknown> = {}): MessageSpec {
  const schema = {
    apiKey: 1000,
    type: "request",
    listeners: ["broker"],
    name: "TestRequest",
    validVersions: "0-5",
    flexibleVersions: "4+",
    fields,
    ...extra,
  };
  return parseSchema("message/TestRequest.json", JSON.stringify(schema));
}

const range = (s: string): Versions => Versions.parse(s) as Versions;

/** The context of the root's field `name`. */
function field(msg: MessageSpec, name: string) {
  const f = new MessageContext(msg).structOf(msg.root).fields.find((x) => x.field.name === name);
  assert.ok(f !== undefined, `no field ${name}`);
  return f;
}

test("the encoding choice: compact from the first flexible version, nullable where the schema says, per side", () => {
  const f = field(spec([{ name: "Name", type: "string", versions: "0+", nullableVersions: "2+" }]), "name");
  assert.deepEqual(encodingChoice(f, range("0-5")), {
    compact: "version >= 4",
    nullableCompact: "always",
    nullableClassic: "version >= 2",
  });
  // Only the classic side: the compact one never happens.
  assert.deepEqual(encodingChoice(f, range("0-3")), {
    compact: "never",
    nullableCompact: "never",
    nullableClassic: "version >= 2",
  });
  // A tagged value is in a flexible version by definition.
  assert.equal(encodingChoice(f, range("4-5"), true).compact, "always");
  // A field's own flexible versions win over the message's (RequestHeader's ClientId is never compact).
  const own = field(spec([{ name: "Id", type: "string", versions: "0+", flexibleVersions: "none" }]), "id");
  assert.equal(encodingChoice(own, range("0-5")).compact, "never");
});

test("one choice renders as statements or as one expression, dropping what cannot happen", () => {
  const f = field(spec([{ name: "Name", type: "string", versions: "0+", nullableVersions: "2+" }]), "name");
  const choice = encodingChoice(f, range("0-5"));
  const method = (e: { compact: boolean; nullable: boolean }): string => lengthPrefixedMethod("string", e);
  assert.deepEqual(
    eachEncoding(choice, (e) => [`${method(e)};`]),
    [
      "if (version >= 4) {",
      "compactNullableString;",
      "} else {",
      "if (version >= 2) {",
      "nullableString;",
      "} else {",
      "string;",
      "}",
      "}",
    ],
  );
  assert.equal(
    encodingExpression(choice, method),
    "(version >= 4 ? compactNullableString : (version >= 2 ? nullableString : string))",
  );
  assert.equal(encodingExpression(encodingChoice(f, range("4-5")), method), "compactNullableString");
  assert.equal(lengthPrefixedMethod("bytes", { compact: false, nullable: false }), "bytes");
  assert.equal(lengthPrefixedMethod("records", { compact: true, nullable: true }), "compactNullableBytes");
});

test("writer, reader and size of one field follow the same choice", () => {
  const { text } = emitMessage(spec([{ name: "Data", type: "[]bytes", versions: "1+", nullableVersions: "3+" }]));
  // Writer: compact from v4, null allowed from v3 (so always in compact, and from v3 in classic).
  assert.match(
    text,
    /if \(version >= 4\) \{\s*\{\s*const a = m\.data;\s*if \(a === null\) \{\s*w\.unsignedVarint\(0\);/,
  );
  assert.match(
    text,
    /\} else \{\s*if \(version >= 3\) \{\s*const a = m\.data;\s*if \(a === null\) \{\s*w\.int32\(-1\);/,
  );
  // Reader: the same split, the classic side refusing null before v3.
  assert.match(text, /const n = r\.compactArrayLength\("Data"\);\s*if \(n < 0\) \{\s*f_data = null;/);
  assert.match(
    text,
    /const n = r\.arrayLength\("Data"\);\s*if \(n < 0\) \{\s*if \(version >= 3\) \{\s*f_data = null;\s*\} else \{\s*r\.fail\("Data"/,
  );
  // Size: the same compact/classic split.
  assert.match(text, /if \(version >= 4\) \{\s*const a = m\.data;\s*if \(a === null\) \{\s*s \+= 1;/);
  assert.match(text, /\} else \{\s*const a = m\.data;\s*if \(a === null\) \{\s*s \+= 4;/);
});

test("an import set keeps each module's names sorted, values apart from types, a value use winning", () => {
  const set = new ImportSet();
  assert.equal(set.add("b.ts", "Zed", "type"), "Zed");
  set.add("b.ts", "alpha", "value");
  set.add("a.ts", "X", "type");
  set.add("a.ts", "X", "value");
  set.add("a.ts", "Y", "value");
  set.add("a.ts", "Y", "type");
  assert.deepEqual(set.modulesUsed(), [
    { module: "a.ts", values: ["X", "Y"], types: [] },
    { module: "b.ts", values: ["alpha"], types: ["Zed"] },
  ]);
  set.runtime("Reader");
  set.runtime("nullError");
  assert.deepEqual(
    set.modulesUsed().find((m) => m.module === RUNTIME_MODULE),
    { module: RUNTIME_MODULE, values: ["nullError"], types: ["Reader"] },
  );
});

test("every runtime symbol the registry names is exported by the runtime, values as values", () => {
  const runtime = fileURLToPath(new URL("../../../generated/src/runtime/index.ts", import.meta.url));
  const project = new Project({ skipAddingFilesFromTsConfig: true, compilerOptions: { allowJs: false } });
  const exported = project.addSourceFileAtPath(runtime).getExportedDeclarations();
  for (const [name, kind] of Object.entries(RUNTIME_SYMBOLS)) {
    const decls = exported.get(name);
    assert.ok(decls !== undefined && decls.length > 0, `${name} is not exported by the runtime`);
    const isValue = decls.some(
      (d) => Node.isClassDeclaration(d) || Node.isFunctionDeclaration(d) || Node.isVariableDeclaration(d),
    );
    if (kind === "value") assert.ok(isValue, `${name} is imported as a value but the runtime exports it as a type`);
  }
});

test("a message's imports are exactly the runtime symbols its code names", () => {
  const schemas = [
    spec([{ name: "A", type: "int32", versions: "0+" }]),
    spec([
      { name: "Name", type: "string", versions: "0-3", nullableVersions: "2+" },
      { name: "Blob", type: "bytes", versions: "0+" },
      { name: "Tagged", type: "[]string", versions: "4+", taggedVersions: "4+", tag: 0 },
      {
        name: "Inner",
        type: "Inner",
        versions: "1+",
        fields: [{ name: "X", type: "int64", versions: "1+", default: 5 }],
      },
    ]),
    spec([{ name: "Raw", type: "records", versions: "0+", nullableVersions: "0+" }], { flexibleVersions: "none" }),
  ];
  for (const msg of schemas) {
    const { text, imports } = emitMessage(msg);
    const named = new Set(Object.keys(RUNTIME_SYMBOLS).filter((s) => new RegExp(`\\b${s}\\b`).test(text)));
    const used = imports.modulesUsed();
    assert.equal(used.length, 1);
    assert.deepEqual(
      new Set([...used[0]!.values, ...used[0]!.types]),
      named,
      msg.root.fields.map((f) => f.name).join(),
    );
  }
});

test("per-version types say which versions they serve and what changed, once per distinct type", () => {
  const { text } = emitMessage(
    spec([
      { name: "Always", type: "int32", versions: "0+" },
      { name: "Later", type: "string", versions: "2+", nullableVersions: "5+" },
      { name: "Gone", type: "int8", versions: "0-3" },
    ]),
  );
  assert.match(text, /\/\*\* TestRequest at v0-1\. \*\/\nexport interface TestRequestV0 \{/);
  assert.match(text, /\/\*\* TestRequest at v2-3\. Since v1: adds `later`\. \*\/\nexport interface TestRequestV2 \{/);
  assert.match(text, /\/\*\* TestRequest at v4\. Since v3: drops `gone`\. \*\//);
  assert.match(text, /\/\*\* TestRequest at v5\. Since v4: `later` becomes nullable\. \*\//);
  assert.match(text, /export type TestRequestV1 = TestRequestV0;/);
  assert.doesNotMatch(text, /TestRequest of TestRequest|as version \d+ carries it/);
  // The superset type keeps one doc per field naming the schema field and its versions.
  assert.match(text, /\/\*\* `Later`: v2-5; nullable v5 \*\/\nlater: string \| null;/);
});

test("versionsText and memberChanges", () => {
  assert.equal(versionsText([3]), "v3");
  assert.equal(versionsText([0, 1, 2]), "v0-2");
  assert.equal(versionsText([0, 2, 3]), "v0, v2-3");
  assert.deepEqual(
    memberChanges(
      ["a: number;", "b: string;", "c: X[];"],
      ["a: number;", "b: string | null;", "c: Y[];", "d: bigint;"],
    ),
    ["adds `d`", "`b` becomes nullable", "`c` is now `Y[]`"],
  );
  assert.deepEqual(memberChanges(["a: string | null;", "b: number;"], ["a: string;"]), [
    "drops `b`",
    "`a` is no longer nullable",
  ]);
});
