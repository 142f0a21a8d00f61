import assert from "node:assert/strict";
import { test } from "node:test";
import yargs from "yargs";
import { parseStartArgs, START_FLAGS, startOptions } from "../src/cli/start-options.js";

/** What the full command line (yargs, as main.ts sets it up for `start`) makes of `argv`: the start flags' values. */
function viaYargs(argv: string[]): Record<string, unknown> {
  const parsed = yargs(argv)
    .command(["start", "$0"], "", (y) => startOptions(y))
    .strict()
    .exitProcess(false)
    .fail((msg) => {
      throw new Error(msg);
    })
    .parseSync() as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(START_FLAGS)) {
    const v = parsed[name];
    // runStart takes the last of repeated --http-port flags.
    if (v !== undefined) out[name] = name === "http-port" && Array.isArray(v) ? v.at(-1) : v;
  }
  return out;
}

test("a plain start's flags read without yargs as yargs reads them", () => {
  for (const argv of [
    [],
    ["start"],
    ["--port", "9093", "--data-dir", "some/dir"],
    ["--port=0", "--host", "::1"],
    ["--http-port", ""],
    ["--http-port", "9644", "--http-port", "9700"],
    ["--add-scram", "SCRAM-SHA-256=[name=a,password=b]", "--add-scram", "SCRAM-SHA-512=[name=c,password=d]"],
    ["--log-level", "debug", "--log-format", "json"],
    ["start", "--node-id", "3", "--config", "server.properties"],
  ]) {
    const lean = parseStartArgs(argv);
    assert.ok(lean !== undefined, argv.join(" "));
    assert.deepEqual({ ...lean }, viaYargs(argv), argv.join(" "));
  }
});

test("anything else is left to yargs", () => {
  for (const argv of [
    ["--help"],
    ["--version"],
    ["topics", "list"],
    ["start", "extra"],
    ["--port", "abc"],
    ["--port", "1.5"],
    ["--port", ""],
    ["--log-level", "loud"],
    ["--no-such-flag"],
    ["--dataDir", "camel/case"],
  ])
    assert.equal(parseStartArgs(argv), undefined, argv.join(" "));
});
