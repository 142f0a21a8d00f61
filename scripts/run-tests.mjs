#!/usr/bin/env node
// Runs every compiled `*.test.js` of the workspaces with Node's test runner. Node 20 has no glob
// arguments, and given a directory named `test` it would run every file in it as a test.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const roots = ["generated/dist/test", "codegen/dist/test", "broker/dist/test"];
const files = [];
function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith(".test.js")) files.push(p);
  }
}
for (const r of roots) if (existsSync(r)) walk(r);
if (files.length === 0) {
  console.error("run-tests: no compiled tests found; run `npx tsc -b` first");
  process.exit(1);
}
const extra = process.argv.slice(2);
const r = spawnSync(process.execPath, ["--test", ...extra, ...files.sort()], { stdio: "inherit" });
process.exit(r.status ?? 1);
