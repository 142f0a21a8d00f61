// A reporter for Node's test runner that adds up, per test file, the time of its top-level tests and
// writes the files slowest first, to see where the suite's wall time goes. scripts/run-tests.mjs
// uses it beside the normal reporter (output in .cache/test-deps/file-times.txt).
import { relative } from "node:path";

export default async function* fileTimes(source) {
  const perFile = new Map();
  for await (const event of source) {
    if ((event.type !== "test:pass" && event.type !== "test:fail") || event.data.nesting !== 0) continue;
    const file = event.data.file === undefined ? "(unknown file)" : relative(process.cwd(), event.data.file);
    const row = perFile.get(file) ?? { ms: 0, tests: 0, failed: 0 };
    row.ms += event.data.details?.duration_ms ?? 0;
    row.tests += 1;
    if (event.type === "test:fail") row.failed += 1;
    perFile.set(file, row);
  }
  const rows = [...perFile].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((sum, [, r]) => sum + r.ms, 0);
  yield `# seconds per test file (sum of top-level tests), ${process.version}, ${new Date().toISOString()}\n`;
  for (const [file, r] of rows) {
    yield `${(r.ms / 1000).toFixed(1).padStart(7)}  ${file}${r.failed > 0 ? `  (${r.failed} of ${r.tests} failed)` : ""}\n`;
  }
  yield `${(total / 1000).toFixed(1).padStart(7)}  total of ${rows.length} files\n`;
}
