// The generator reads like its output: no function of it, closures included, runs past 80 lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Node, Project } from "ts-morph";

const LIMIT = 80;

test(`no function in codegen/src is longer than ${LIMIT} lines`, () => {
  const src = fileURLToPath(new URL("../../src", import.meta.url));
  const project = new Project({ skipAddingFilesFromTsConfig: true, skipLoadingLibFiles: true });
  const files = project.addSourceFilesAtPaths(`${src}/**/*.ts`);
  assert.ok(files.length > 10, `found only ${files.length} files under ${src}`);
  const long: string[] = [];
  for (const sf of files) {
    sf.forEachDescendant((n) => {
      if (!Node.isFunctionLikeDeclaration(n)) return;
      const lines = n.getEndLineNumber() - n.getStartLineNumber() + 1;
      if (lines > LIMIT) long.push(`${sf.getBaseName()}:${n.getStartLineNumber()} ${lines} lines`);
    });
  }
  assert.deepEqual(long, []);
});
