import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BROKER_NODE_FLAGS } from "../src/node-flags.js";

/**
 * Starts the broker as a real process (the built `broker/dist/src/main.js`) on a free loopback port
 * with its own data directory, for tests that use real clients over real TCP.
 */

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from `broker/dist/test` or `broker/test`. */
export const REPO_ROOT = resolve(here, here.includes(`${join("dist", "test")}`) ? "../../.." : "../..");
const MAIN = join(REPO_ROOT, "broker", "dist", "src", "main.js");
/** A bound on start-up, not a measure: generous, as a loaded 2-core machine may take a while. */
const START_TIMEOUT_MS = 45_000;

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      res(true);
    });
    sock.once("error", () => res(false));
  });
}

export interface BrokerProcess {
  readonly port: number;
  readonly bootstrap: string;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Everything the broker printed so far. */
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, nothing flushed beyond what the OS has. */
  kill9(): Promise<void>;
  /** Removes the data directory (after stop). */
  cleanup(): Promise<void>;
}

export interface StartOptions {
  /** Reuse a data directory (restart tests); a fresh temp dir otherwise. */
  readonly dataDir?: string;
  /** server.properties keys. */
  readonly properties?: Record<string, string | number | boolean>;
  readonly port?: number;
  readonly logLevel?: "debug" | "info" | "warn" | "error";
  readonly timeoutMs?: number;
  /** More command-line flags (such as --add-scram). */
  readonly args?: readonly string[];
  /**
   * Several log directories (log.dirs) instead of --data-dir; `dataDir` then only holds the properties
   * file, and the caller removes the directories.
   */
  readonly logDirs?: readonly string[];
}

export async function startBroker(options: StartOptions = {}): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "tskafka-test-")));
  const port = options.port ?? (await freePort());
  const args = [
    ...BROKER_NODE_FLAGS,
    MAIN,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--log-level",
    options.logLevel ?? "info",
  ];
  if (options.logDirs === undefined) args.push("--data-dir", dataDir);
  const properties =
    options.logDirs === undefined
      ? options.properties
      : { ...options.properties, "log.dirs": options.logDirs.join(",") };
  if (properties !== undefined) {
    const file = join(dataDir, "..", `tskafka-${port}.properties`);
    await writeFile(
      file,
      Object.entries(properties)
        .map(([k, v]) => `${k}=${v}`)
        .join("\n"),
    );
    args.push("--config", file);
  }
  if (options.args !== undefined) args.push(...options.args);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  // Ready when every listener accepts a connection (the log level may hide the "listening" line); the
  // first listener is --port, the others bind after it.
  const ports = [port, ...otherListenerPorts(properties)];
  const deadline = Date.now() + (options.timeoutMs ?? START_TIMEOUT_MS);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode} before listening:\n${out}`);
    if ((await Promise.all(ports.map(canConnect))).every(Boolean)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`broker did not start within ${options.timeoutMs ?? START_TIMEOUT_MS} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
    async kill9() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
    async cleanup() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
      if (properties !== undefined) await rm(join(dataDir, "..", `tskafka-${port}.properties`), { force: true });
    },
  };
}

/** The fixed ports of the listeners after the first in a `listeners` property (0: chosen at bind, unknown). */
function otherListenerPorts(properties: StartOptions["properties"]): number[] {
  const listeners = String(properties?.listeners ?? "");
  return [...listeners.matchAll(/:\/\/[^,]*:(\d+)/g)]
    .slice(1)
    .map((m) => Number(m[1]))
    .filter((p) => p > 0);
}

/** True when an outside command exists on this machine. */
export function haveCommand(cmd: string, args: string[] = ["--version"]): boolean {
  const r = spawnSync(cmd, args, { stdio: "ignore", timeout: 10_000 });
  return r.error === undefined && r.status !== null;
}

/**
 * For tests whose outside client may be missing on a user's machine: the reason to skip, or
 * undefined to run. Under CI (CI=true) or TSKAFKA_REQUIRE_CLIENTS=1 a missing client is a failure.
 */
export function skipUnless(available: boolean, what: string): string | undefined {
  if (available) return undefined;
  if (process.env.CI === "true" || process.env.TSKAFKA_REQUIRE_CLIENTS === "1") {
    throw new Error(`${what} is required here (CI) but missing; run scripts/setup-test-deps.sh`);
  }
  return `${what} is not installed (scripts/setup-test-deps.sh installs it)`;
}

/** Polls `cond` until it holds, failing with `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs `fn` against `broker`; when it fails, the broker's warnings and errors (and its connection
 * closes) are added to the error, to tell a client's fault from ours in a CI log.
 */
export async function withBrokerLog<T>(broker: BrokerProcess, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const lines = broker
      .output()
      .split("\n")
      .filter((l) => / (WARN|ERROR) /.test(l) || l.includes("connection closed"))
      .slice(-40);
    if (e instanceof Error) e.message += `\nbroker log (warnings, errors, closes; last 40):\n${lines.join("\n")}`;
    throw e;
  }
}
