// Runs one real etcd (Debian's etcd-server, installed by scripts/setup-test-deps.sh) on free loopback
// ports with its own data directory: the metadata store of the etcd tests and of the cluster simulation.
// The handle can kill it and start it again on the same ports and data (a restarted etcd). Every wait is
// bounded. Run directly (`npx tsx scripts/etcd/etcd.ts`) it prints its endpoint and runs until Ctrl-C.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface EtcdOptions {
  /** Folder for the data and etcd's own log (etcd.log); a fresh temporary folder when absent. */
  dataDir?: string;
  /** How long to wait for /health to answer true. */
  startTimeoutMs?: number;
  /**
   * Runs etcd in a process group of its own, so that a Ctrl-C in the terminal does not reach it and the
   * caller stops it last (after the brokers that use it).
   */
  ownProcessGroup?: boolean;
}

export interface Etcd {
  /** The client URL, e.g. http://127.0.0.1:40123: what `etcd.endpoints` names. */
  readonly endpoint: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** The running process' id (changes on `start`). */
  pid(): number;
  /** SIGTERM, then SIGKILL when it does not leave in time. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data (after `stop` or `kill`). */
  start(): Promise<void>;
  /** Stops it and removes the data directory when it was a temporary one. */
  close(): Promise<void>;
}

/** Whether the etcd binary is on PATH. */
export function etcdInstalled(): boolean {
  return spawnSync("etcd", ["--version"], { stdio: "ignore", timeout: 10_000 }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once("exit", () => done());
  });
}

function within(p: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), ms);
    void p.then(() => {
      clearTimeout(timer);
      done(true);
    });
  });
}

export async function startEtcd(options: EtcdOptions = {}): Promise<Etcd> {
  const temporary = options.dataDir === undefined;
  const dir = resolve(options.dataDir ?? mkdtempSync(join(tmpdir(), "tskafka-etcd-")));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const logFile = join(dir, "etcd.log");
  const args = [
    "--name=tskafka",
    `--data-dir=${join(dir, "data")}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=tskafka=${peer}`,
    "--logger=zap",
    "--log-outputs=stderr",
  ];
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let child: ChildProcess | undefined;
  const killOnExit = (): void => void child?.kill("SIGKILL");

  const start = async (): Promise<void> => {
    const out = openSync(logFile, "a");
    const c = spawn("etcd", args, { stdio: ["ignore", out, out], detached: options.ownProcessGroup === true });
    closeSync(out);
    child = c;
    process.once("exit", killOnExit);
    try {
      await waitHealthy(endpoint, c, timeoutMs, logFile);
    } catch (e) {
      await halt("SIGKILL");
      throw e;
    }
  };
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (c === undefined) return;
    process.removeListener("exit", killOnExit);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill(signal);
      if (!(await within(exited(c), 10_000))) {
        c.kill("SIGKILL");
        await within(exited(c), 5_000);
      }
    }
    child = undefined;
  };

  await start();
  return {
    endpoint,
    dataDir: dir,
    logFile,
    pid: () => child?.pid ?? 0,
    stop: () => halt("SIGTERM"),
    kill: () => halt("SIGKILL"),
    start,
    close: async () => {
      await halt("SIGTERM");
      if (temporary) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls /health until etcd says it is healthy, the process dies, or the time is up. */
async function waitHealthy(endpoint: string, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === "true") return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n");
  throw new Error(`etcd did not become healthy at ${endpoint} within ${timeoutMs} ms:\n${tail}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const etcd = await startEtcd();
  console.log(`etcd running at ${etcd.endpoint} (data in ${etcd.dataDir}); Ctrl-C stops it`);
  const stop = (): void => void etcd.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
