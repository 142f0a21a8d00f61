import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./harness.js";

/** The built `tskafka` command, run as people run it: a process of its own. */
export const MAIN = join(REPO_ROOT, "broker", "dist", "src", "main.js");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tskafka <args> -b <bootstrap>` with `input` on stdin, killed after 20 s. */
export function cli(bootstrap: string, args: readonly string[], input = ""): Promise<Run> {
  return runMain([...args, "-b", bootstrap], input, 20_000);
}

/** `tskafka <args>` with `input` on stdin, killed after `timeoutMs`. */
export function runMain(args: readonly string[], input: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** The same, which must exit 0: its output. */
export async function ok(bootstrap: string, args: readonly string[], input = ""): Promise<string> {
  const r = await cli(bootstrap, args, input);
  assert.equal(r.code, 0, `tskafka ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The rows of a printed table as arrays of cells (cells hold no double spaces). */
export function rows(table: string): string[][] {
  return table
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/ {2,}/));
}
