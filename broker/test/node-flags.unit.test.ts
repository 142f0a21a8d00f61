import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BROKER_NODE_FLAGS } from "../src/node-flags.js";
import { REPO_ROOT } from "./harness.js";

/** The broker's Node flags are written in three places; they must say the same. */

const FLAGS = BROKER_NODE_FLAGS.join(" ");

test("the tskafka command's first line runs node with the broker's flags, and works through env -S", () => {
  const first = readFileSync(join(REPO_ROOT, "broker", "src", "main.ts"), "utf8").split("\n")[0]!;
  assert.equal(first, `#!/usr/bin/env -S node ${FLAGS}`);
  // What the kernel does with that line: env gets the rest of it as one argument.
  const built = join(REPO_ROOT, "broker", "dist", "src", "main.js");
  assert.equal(readFileSync(built, "utf8").split("\n")[0], first, "the build keeps the first line");
  const r = spawnSync("/usr/bin/env", [first.slice("#!/usr/bin/env ".length), built, "--version"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+/);
});

test("npm start runs node with the broker's flags", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  assert.ok(pkg.scripts.start.startsWith(`node ${FLAGS} broker/dist/src/main.js`), pkg.scripts.start);
});
