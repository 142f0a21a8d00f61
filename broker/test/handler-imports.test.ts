import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "./harness.js";

/**
 * Handlers are written against the services (broker/src/services.ts), not the Broker class, and share
 * rules through the modules that own them (authz.ts: the authorization checks), not through each other.
 * The registry (index.ts) is the one file that imports handlers.
 */

const DIR = join(REPO_ROOT, "broker", "src", "handlers");
const ALLOWED_LOCAL = new Set(["./handler.js", "./authz.js"]);

function importsOf(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"/gms)].map((m) => m[1]!);
}

test("no handler imports another handler or the Broker class", () => {
  const offences: string[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".ts") && f !== "index.ts")) {
    for (const spec of importsOf(readFileSync(join(DIR, file), "utf8"))) {
      if (spec === "../broker.js") offences.push(`${file} imports the Broker class`);
      else if (spec.startsWith("./") && !ALLOWED_LOCAL.has(spec)) offences.push(`${file} imports the handler ${spec}`);
    }
  }
  assert.deepEqual(offences, []);
});

test("the import check sees imports that span lines", () => {
  assert.deepEqual(importsOf('import {\n  a,\n  b,\n} from "./x.js";\nimport type { B } from "../broker.js";'), [
    "./x.js",
    "../broker.js",
  ]);
});
