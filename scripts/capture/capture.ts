// A recording TCP proxy for the Kafka protocol: clients connect to it, it forwards every byte
// to a real broker unchanged, and it saves each request frame with its response frame as
// golden fixtures. Frames are saved whole, size prefix included:
//   <outDir>/<client>/<NNN>-<apiKey>-v<version>.req.bin  (and .res.bin)
// plus <outDir>/index.json listing every exchange. The real broker must advertise the
// proxy's port, or clients would go straight to it after their first Metadata.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface FixtureEntry {
  /** Path under the fixtures folder without the .req.bin/.res.bin suffix. */
  file: string;
  client: string;
  apiKey: number;
  apiName?: string;
  version: number;
  correlationId: number;
  /** False when the connection closed before the broker answered (or none was due). */
  response: boolean;
}

export interface CaptureOptions {
  /** Loopback port to listen on; 0 picks a free one. */
  listenPort: number;
  upstreamHost?: string;
  upstreamPort: number;
  /** Fixtures folder; each client gets a subfolder. */
  outDir: string;
  /** Label of the connections accepted from now on; undefined forwards without recording. */
  client?: string;
  /** At most this many exchanges are kept per client, apiKey and version. */
  maxPerApiVersion?: number;
  /**
   * Names the client of a connection from the client id of its first request, overriding
   * the label it was accepted under; undefined keeps that label. The broker's own clients
   * (transaction markers, partition verification) reach it through the advertised proxy too.
   */
  relabel?: (clientId: string | null) => string | undefined;
}

interface Pending {
  apiKey: number;
  version: number;
  correlationId: number;
  frame: Buffer;
}

/** Splits a byte stream into size-prefixed frames; each returned frame includes its prefix. */
class FrameSplitter {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: Buffer[] = [];
    let offset = 0;
    while (this.buffered.length - offset >= 4) {
      const end = offset + 4 + this.buffered.readInt32BE(offset);
      if (end > this.buffered.length) break;
      // Copy: the proxy keeps frames after the socket reuses its chunk.
      frames.push(Buffer.from(this.buffered.subarray(offset, end)));
      offset = end;
    }
    this.buffered = this.buffered.subarray(offset);
    return frames;
  }
}

export class CaptureProxy {
  /** Label given to connections accepted from now on; undefined: forward only. */
  client: string | undefined;
  readonly entries: FixtureEntry[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly seen = new Set<string>();
  private readonly perApiVersion = new Map<string, number>();
  private readonly counters = new Map<string, number>();
  private readonly apiNames: Map<number, string>;
  private readonly outDir: string;
  private readonly maxPerApiVersion: number;

  constructor(private readonly options: CaptureOptions) {
    this.client = options.client;
    this.outDir = resolve(options.outDir);
    this.maxPerApiVersion = options.maxPerApiVersion ?? 3;
    this.apiNames = loadApiNames();
    this.server = createServer((socket) => this.accept(socket));
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("proxy is not listening");
    return address.port;
  }

  listen(): Promise<void> {
    return new Promise((done, fail) => {
      this.server.once("error", fail);
      this.server.listen(this.options.listenPort, "127.0.0.1", () => done());
    });
  }

  /** Closes every connection, stops listening and writes index.json. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
    this.writeIndex();
  }

  /** Rewrites index.json: entries of the clients recorded here replace their older ones. */
  writeIndex(): void {
    const indexFile = join(this.outDir, "index.json");
    const recorded = new Set(this.entries.map((e) => e.client));
    const kept: FixtureEntry[] = existsSync(indexFile)
      ? (JSON.parse(readFileSync(indexFile, "utf8")) as FixtureEntry[]).filter((e) => !recorded.has(e.client))
      : [];
    const all = [...kept, ...this.entries].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    mkdirSync(this.outDir, { recursive: true });
    writeFileSync(indexFile, `${JSON.stringify(all, null, 1)}\n`);
  }

  private accept(downstream: Socket): void {
    let client = this.client;
    let first = true;
    const upstream = connect({ host: this.options.upstreamHost ?? "127.0.0.1", port: this.options.upstreamPort });
    this.sockets.add(downstream);
    this.sockets.add(upstream);
    const pending = new Map<number, Pending>();
    const requests = new FrameSplitter();
    const responses = new FrameSplitter();

    downstream.on("data", (chunk) => {
      upstream.write(chunk);
      if (client === undefined && this.options.relabel === undefined) return;
      for (const frame of requests.push(chunk)) {
        if (frame.length < 12) continue;
        if (first) {
          first = false;
          client = this.options.relabel?.(readClientId(frame)) ?? client;
        }
        if (client === undefined) continue;
        const request: Pending = {
          apiKey: frame.readInt16BE(4),
          version: frame.readInt16BE(6),
          correlationId: frame.readInt32BE(8),
          frame,
        };
        pending.set(request.correlationId, request);
      }
    });
    upstream.on("data", (chunk) => {
      downstream.write(chunk);
      if (client === undefined) return;
      for (const frame of responses.push(chunk)) {
        if (frame.length < 8) continue;
        const correlationId = frame.readInt32BE(4);
        const request = pending.get(correlationId);
        if (request === undefined) continue;
        pending.delete(correlationId);
        this.record(client, request, frame);
      }
    });

    let closed = false;
    const closeBoth = (): void => {
      if (closed) return;
      closed = true;
      downstream.destroy();
      upstream.destroy();
      this.sockets.delete(downstream);
      this.sockets.delete(upstream);
      // Requests left unanswered (acks=0 produce, a poll cut short) are still real frames.
      if (client !== undefined) for (const request of pending.values()) this.record(client, request, undefined);
      pending.clear();
    };
    downstream.on("close", closeBoth);
    upstream.on("close", closeBoth);
    downstream.on("error", closeBoth);
    upstream.on("error", closeBoth);
  }

  private record(client: string, request: Pending, response: Buffer | undefined): void {
    // Exchanges differing only by correlation id are the same fixture.
    const digest = createHash("sha256");
    digest.update(client);
    digest.update(maskCorrelationId(request.frame, 8));
    if (response !== undefined) digest.update(maskCorrelationId(response, 4));
    const key = digest.digest("hex");
    if (this.seen.has(key)) return;
    this.seen.add(key);

    const bucket = `${client}/${request.apiKey}/${request.version}`;
    const count = this.perApiVersion.get(bucket) ?? 0;
    if (count >= this.maxPerApiVersion) return;
    this.perApiVersion.set(bucket, count + 1);

    const n = (this.counters.get(client) ?? 0) + 1;
    this.counters.set(client, n);
    // A client recorded again replaces all its older fixtures, as writeIndex does its entries.
    if (n === 1) rmSync(join(this.outDir, client), { recursive: true, force: true });
    const file = `${client}/${String(n).padStart(3, "0")}-${request.apiKey}-v${request.version}`;
    mkdirSync(join(this.outDir, client), { recursive: true });
    writeFileSync(join(this.outDir, `${file}.req.bin`), request.frame);
    if (response !== undefined) writeFileSync(join(this.outDir, `${file}.res.bin`), response);

    const apiName = this.apiNames.get(request.apiKey);
    this.entries.push({
      file,
      client,
      apiKey: request.apiKey,
      ...(apiName !== undefined ? { apiName } : {}),
      version: request.version,
      correlationId: request.correlationId,
      response: response !== undefined,
    });
  }
}

/** Request headers v1 and v2 both carry the client id as an int16-sized nullable string. */
function readClientId(frame: Buffer): string | null {
  if (frame.length < 14) return null;
  const length = frame.readInt16BE(12);
  if (length < 0 || frame.length < 14 + length) return null;
  return frame.toString("utf8", 14, 14 + length);
}

function maskCorrelationId(frame: Buffer, offset: number): Buffer {
  const copy = Buffer.from(frame);
  if (copy.length >= offset + 4) copy.writeInt32BE(0, offset);
  return copy;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * API names for index.json, read from Kafka's request schemas when a copy is at hand
 * (KAFKA_SCHEMAS_DIR, the codegen's copy, or the shared folder beside the repository).
 */
function loadApiNames(): Map<number, string> {
  const names = new Map<number, string>();
  const candidates = [
    process.env["KAFKA_SCHEMAS_DIR"],
    join(repoRoot, "schemas", "kafka", "message"),
    join(repoRoot, "..", "shared", "kafka-schemas", "3.9", "message"),
  ];
  const dir = candidates.find((d) => d !== undefined && existsSync(d));
  if (dir === undefined) return names;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith("Request.json")) continue;
    const text = readFileSync(join(dir, name), "utf8");
    const apiKey = /"apiKey"\s*:\s*(\d+)/.exec(text)?.[1];
    const messageName = /"name"\s*:\s*"(\w+)Request"/.exec(text)?.[1];
    if (apiKey !== undefined && messageName !== undefined) names.set(Number(apiKey), messageName);
  }
  return names;
}

export async function startCaptureProxy(options: CaptureOptions): Promise<CaptureProxy> {
  const proxy = new CaptureProxy(options);
  await proxy.listen();
  return proxy;
}

// Run by hand:
//   npx tsx scripts/capture/capture.ts <listenPort> <upstreamPort> <outDir> <client>
// records until Ctrl-C, then writes index.json.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [listenPort, upstreamPort, outDir, client] = process.argv.slice(2);
  if (listenPort === undefined || upstreamPort === undefined || outDir === undefined || client === undefined) {
    console.error("usage: capture.ts <listenPort> <upstreamPort> <outDir> <client>");
    process.exit(2);
  }
  const proxy = await startCaptureProxy({
    listenPort: Number(listenPort),
    upstreamPort: Number(upstreamPort),
    outDir,
    client,
  });
  console.log(`recording ${client} on 127.0.0.1:${proxy.port} -> 127.0.0.1:${upstreamPort}; Ctrl-C stops`);
  const shutdown = (): void => {
    void proxy.close().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
