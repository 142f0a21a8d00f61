import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { REPO_ROOT, haveCommand, skipUnless } from "./harness.js";

/**
 * The README's "Embedding in tests" examples, as written: each TypeScript block is saved as a test file
 * beside the workspace's node_modules (so `tskafka` is this package, built) and run with `node --test`
 * by a Node that runs TypeScript as is (24; @platformatic/kafka needs 22.22 or later anyway). Each must
 * pass, and its process must exit by itself.
 */

const CACHED_NODE = join(REPO_ROOT, ".cache", "node", "24", "node_modules", "node", "bin", "node");
const NODE = Number(process.versions.node.split(".")[0]) >= 24 ? process.execPath : CACHED_NODE;
const skip = skipUnless(haveCommand(NODE, ["-v"]), "Node 24 (.cache/node/24) to run the README's TypeScript");

function embeddingExamples(): string[] {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const start = readme.indexOf("### Embedding in tests");
  const section = readme.slice(start, readme.indexOf("\n### ", start + 1));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

const dir = mkdtempSync(join(REPO_ROOT, "broker", ".readme-examples-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the README has the KafkaJS and the @platformatic/kafka examples", () => {
  const examples = embeddingExamples();
  assert.equal(examples.length, 2);
  assert.match(examples[0]!, /from "kafkajs"/);
  assert.match(examples[1]!, /from "@platformatic\/kafka"/);
});

for (const [i, name] of ["kafkajs", "platformatic"].entries()) {
  test(
    `the ${name} example passes under node --test and its process exits by itself`,
    { skip, timeout: 60_000 },
    () => {
      const file = join(dir, `${name}.test.ts`);
      writeFileSync(file, embeddingExamples()[i]!);
      const started = Date.now();
      // A test runner of its own, not a child of this one (which would take over its report).
      const env = { ...process.env };
      delete env.NODE_TEST_CONTEXT;
      const r = spawnSync(NODE, ["--test", "--test-reporter=tap", file], {
        cwd: dir,
        env,
        encoding: "utf8",
        timeout: 45_000,
      });
      assert.equal(r.signal, null, `killed after ${Date.now() - started} ms: it did not exit by itself\n${r.stdout}`);
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /^# pass 1$/m);
    },
  );
}
