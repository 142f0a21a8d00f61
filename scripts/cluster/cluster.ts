// A local cluster to try: one etcd (scripts/etcd/etcd.ts) and N brokers on loopback, ports 9092 and up,
// data under ./data/cluster (etcd's and one directory per broker, kept between runs), each broker's log in
// its directory. Prints the bootstrap addresses; Ctrl-C (or SIGTERM) stops the brokers cleanly (controlled
// shutdown, one after the other) and then etcd.
//   npm run cluster [-- --brokers 3 --base-port 9092 --data ./data/cluster --racks 3]
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { etcdInstalled, startEtcd } from "../etcd/etcd.js";
import { BROKER_NODE_FLAGS } from "../../broker/src/node-flags.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../..");
const MAIN = join(ROOT, "broker", "dist", "src", "main.js");
/** How long a broker gets to stop cleanly before it is killed. */
const STOP_TIMEOUT_MS = 30_000;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

export interface ClusterOptions {
  readonly brokers: number;
  readonly basePort: number;
  readonly dataDir: string;
  /** Racks rack-1..rack-N given to the brokers in turn; 0 for none. */
  readonly racks: number;
  /** More server.properties keys for every broker. */
  readonly properties?: Readonly<Record<string, string>>;
  /** The brokers' --log-level (their default, info, when absent). */
  readonly logLevel?: "debug" | "info" | "warn" | "error";
}

/** A cluster started by runCluster. */
export interface Cluster {
  readonly brokers: readonly { readonly nodeId: number; readonly port: number; readonly pid: number }[];
  readonly etcdPid: number;
  /** host:port of every broker, comma-separated. */
  readonly bootstrap: string;
  /** Stops the brokers one after the other (controlled shutdown), then etcd. */
  stop(): Promise<void>;
}

interface RunningBroker {
  readonly nodeId: number;
  /** Its data directory (broker.log, server.properties, pid). */
  readonly dir: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

function startBroker(nodeId: number, o: ClusterOptions, endpoint: string): RunningBroker {
  const dir = join(o.dataDir, `broker-${nodeId}`);
  mkdirSync(dir, { recursive: true });
  const port = o.basePort + nodeId - 1;
  const props: Record<string, string> = {
    "node.id": String(nodeId),
    listeners: `PLAINTEXT://127.0.0.1:${port}`,
    "log.dirs": join(dir, "logs"),
    "etcd.endpoints": endpoint,
    ...o.properties,
  };
  if (o.racks > 0) props["broker.rack"] = `rack-${((nodeId - 1) % o.racks) + 1}`;
  const file = join(dir, "server.properties");
  writeFileSync(
    file,
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
  );
  const out = openSync(join(dir, "broker.log"), "a");
  // A process group of its own: a Ctrl-C reaches this script alone, which stops the brokers one by one.
  const args = [
    ...BROKER_NODE_FLAGS,
    MAIN,
    "--config",
    file,
    ...(o.logLevel !== undefined ? ["--log-level", o.logLevel] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", out, out], detached: true });
  closeSync(out);
  writeFileSync(join(dir, "pid"), String(child.pid));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  return { nodeId, dir, port, child, exited };
}

async function stopBroker(b: RunningBroker): Promise<void> {
  if (b.child.exitCode !== null || b.child.signalCode !== null) return;
  b.child.kill("SIGTERM");
  const timer = setTimeout(() => b.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await b.exited;
  clearTimeout(timer);
}

/** Waits until every broker accepts connections, or one exits. */
async function waitListening(brokers: readonly RunningBroker[], timeoutMs: number): Promise<void> {
  const { connect } = await import("node:net");
  const accepts = (port: number): Promise<boolean> =>
    new Promise((done) => {
      const s = connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        done(true);
      });
      s.once("error", () => done(false));
    });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = brokers.find((b) => b.child.exitCode !== null);
    if (dead !== undefined) {
      const log = readFileSync(join(dead.dir, "broker.log"), "utf8").split("\n").slice(-20).join("\n");
      throw new Error(`broker ${dead.nodeId} exited with ${dead.child.exitCode}:\n${log}`);
    }
    if ((await Promise.all(brokers.map((b) => accepts(b.port)))).every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`the brokers did not listen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Kills whatever is still running when this process exits without stopping the cluster. */
function killOnExit(brokers: readonly RunningBroker[]): void {
  process.once("exit", () => {
    for (const b of brokers) if (b.child.exitCode === null) b.child.kill("SIGKILL");
  });
}

export async function runCluster(o: ClusterOptions): Promise<Cluster> {
  if (!etcdInstalled()) throw new Error("etcd is not installed (Debian: apt-get install etcd-server)");
  mkdirSync(o.dataDir, { recursive: true });
  mkdirSync(join(o.dataDir, "etcd"), { recursive: true });
  const etcd = await startEtcd({ dataDir: join(o.dataDir, "etcd"), ownProcessGroup: true });
  const brokers: RunningBroker[] = [];
  killOnExit(brokers);
  const stop = async (): Promise<void> => {
    // One after the other: each moves its leaderships to brokers still running.
    for (const b of brokers) await stopBroker(b);
    await etcd.close();
  };
  try {
    for (let id = 1; id <= o.brokers; id++) brokers.push(startBroker(id, o, etcd.endpoint));
    await waitListening(brokers, 60_000);
  } catch (e) {
    await stop();
    throw e;
  }
  console.log(`etcd at ${etcd.endpoint} (data in ${etcd.dataDir})`);
  for (const b of brokers)
    console.log(
      `broker ${b.nodeId} at 127.0.0.1:${b.port} (data and broker.log in ${join(o.dataDir, `broker-${b.nodeId}`)})`,
    );
  const bootstrap = brokers.map((b) => `127.0.0.1:${b.port}`).join(",");
  console.log(`bootstrap servers: ${bootstrap}`);
  return {
    brokers: brokers.map((b) => ({ nodeId: b.nodeId, port: b.port, pid: b.child.pid! })),
    etcdPid: etcd.pid(),
    bootstrap,
    stop,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const options: ClusterOptions = {
    brokers: Number(arg("brokers", "3")),
    basePort: Number(arg("base-port", "9092")),
    dataDir: resolve(arg("data", "./data/cluster")),
    racks: Number(arg("racks", "0")),
  };
  let stop: () => Promise<void>;
  try {
    stop = (await runCluster(options)).stop;
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
  console.log("Ctrl-C stops the cluster");
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    console.log("stopping the brokers and etcd...");
    void stop().then(() => {
      console.log("stopped");
      process.exit(0);
    });
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
