// A reporter for Node's test runner that lists each failed test with its file and error, so that
// the end of the output (all a CI log may keep) names what failed. scripts/run-tests.mjs prints it
// after the run.
import { relative } from "node:path";

export default async function* failures(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== "test:fail") continue;
    // A todo test's failure is expected (and does not fail the run): its todo note says why.
    if (event.data.todo !== undefined && event.data.todo !== false) continue;
    const error = event.data.details?.error;
    // A suite fails when one of its tests does; the test itself is listed already.
    if (error?.failureType === "subtestsFailed") continue;
    const file = event.data.file === undefined ? "(unknown file)" : relative(process.cwd(), event.data.file);
    const cause = error?.cause ?? error;
    const message = String(cause?.message ?? cause ?? "")
      .split("\n")
      .slice(0, 12)
      .join("\n    ");
    failed.push(`- ${file}: ${event.data.name}\n    ${message}\n`);
  }
  if (failed.length === 0) return;
  yield `# ${failed.length} failed test(s):\n`;
  for (const f of failed) yield f;
}
