// A pipelined raw-protocol load generator: several connections, each keeping a number of pre-built request
// frames in flight, counting answers by their size prefix without decoding them (only a sample is decoded
// and checked), so that the client spends little CPU per byte and the broker is what is measured.
import { connect, type Socket } from "node:net";
import { decodeResponse } from "@tskafka/protocol";
import { cpuSeconds } from "./proc.js";

export interface LoadSpec {
  readonly port: number;
  readonly connections: number;
  /** Requests each connection keeps outstanding (1: one at a time, for latency). */
  readonly inFlight: number;
  /** Measured time, after `warmUpSeconds` that are not counted. */
  readonly seconds: number;
  readonly warmUpSeconds: number;
  /** Stop after this many requests per connection (measured ones), whatever the time. */
  readonly maxRequestsPerConnection?: number;
  /** The broker process, for its CPU seconds over the measured time. */
  readonly pid: number;
  /** The request frame (size prefix included) connection `conn` sends as its `seq`-th request. */
  readonly frame: (conn: number, seq: number) => Buffer;
  /** Bytes a request moves (the records of a produce); undefined: count the response's bytes (a fetch). */
  readonly payloadBytes?: (conn: number, seq: number) => number;
  readonly apiKey: number;
  readonly apiVersion: number;
  /** Checks a decoded response body; returns what is wrong with it, if anything. */
  readonly check: (body: unknown) => string | undefined;
  /** Every how many answers one is decoded and checked (the first always is). */
  readonly checkEvery?: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerSec: number;
  /** Broker CPU seconds per GB moved over the measured time. */
  readonly cpuPerGb: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** One connection's answers, cut into frames by their size prefix. */
class FrameCounter {
  private head = Buffer.alloc(4);
  private headLen = 0;
  private remaining = 0;
  private size = 0;
  private keep: Buffer[] | undefined;

  constructor(
    private readonly wantWhole: () => boolean,
    private readonly onFrame: (size: number, whole: Buffer | undefined) => void,
  ) {}

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(4 - this.headLen, chunk.length - off);
        chunk.copy(this.head, this.headLen, off, off + take);
        this.headLen += take;
        off += take;
        if (this.headLen < 4) return;
        this.headLen = 0;
        this.size = this.remaining = this.head.readInt32BE(0);
        this.keep = this.wantWhole() ? [] : undefined;
        if (this.remaining === 0) this.onFrame(0, Buffer.alloc(0));
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - off);
      this.keep?.push(chunk.subarray(off, off + take));
      this.remaining -= take;
      off += take;
      if (this.remaining === 0) {
        const whole = this.keep === undefined ? undefined : Buffer.concat(this.keep);
        this.keep = undefined;
        this.onFrame(this.size, whole);
      }
    }
  }
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port });
    s.setNoDelay(true);
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

function pct(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Opens `connections` sockets (in waves, so that a listen backlog is not overrun). */
async function openAll(port: number, n: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    const wave = Array.from({ length: Math.min(100, n - i) }, () => open(port));
    out.push(...(await Promise.all(wave)));
  }
  return out;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const sockets = await openAll(spec.port, spec.connections);
  const checkEvery = spec.checkEvery ?? 256;
  const t0 = performance.now();
  const measureFrom = t0 + spec.warmUpSeconds * 1000;
  const stopAt = measureFrom + spec.seconds * 1000;
  let cpuAtStart = NaN;
  let measuring = false;
  const startMeasuring = (): void => {
    if (measuring) return;
    measuring = true;
    cpuAtStart = cpuSeconds(spec.pid);
  };
  const warmTimer = setTimeout(startMeasuring, spec.warmUpSeconds * 1000);
  let requests = 0;
  let bytes = 0;
  let answers = 0;
  let lastAnswer = measureFrom;
  const latencies: number[] = [];
  let failure: Error | undefined;

  const runs = sockets.map(
    (socket, conn) =>
      new Promise<void>((resolve) => {
        const sentAt: number[] = [];
        const seqs: number[] = [];
        let next = 0;
        let measured = 0;
        let done = false;
        const finish = (e?: Error): void => {
          if (e !== undefined) failure ??= e;
          if (done) return;
          done = true;
          resolve();
        };
        const canSend = (): boolean =>
          failure === undefined &&
          performance.now() < stopAt &&
          (spec.maxRequestsPerConnection === undefined || measured + sentAt.length < spec.maxRequestsPerConnection);
        const send = (): void => {
          sentAt.push(performance.now());
          seqs.push(next);
          socket.write(spec.frame(conn, next++));
        };
        const counter = new FrameCounter(
          () => answers % checkEvery === 0,
          (size, whole) => {
            const at = performance.now();
            const began = sentAt.shift()!;
            const seq = seqs.shift()!;
            if (whole !== undefined) {
              const problem = spec.check(decodeResponse(whole, spec.apiKey, spec.apiVersion).body);
              if (problem !== undefined) return finish(new Error(`connection ${conn}: ${problem}`));
            }
            answers++;
            if (at >= measureFrom) {
              startMeasuring();
              requests++;
              measured++;
              bytes += spec.payloadBytes?.(conn, seq) ?? size + 4;
              latencies.push(at - began);
              lastAnswer = Math.max(lastAnswer, at);
            }
            if (canSend()) send();
            else if (sentAt.length === 0) finish();
          },
        );
        socket.on("data", (chunk: Buffer) => counter.push(chunk));
        socket.on("error", (e) => finish(e));
        socket.on("close", () => finish(sentAt.length > 0 ? new Error(`connection ${conn} closed`) : undefined));
        for (let i = 0; i < spec.inFlight; i++) send();
      }),
  );
  try {
    await Promise.all(runs);
  } finally {
    clearTimeout(warmTimer);
    for (const s of sockets) s.destroy();
  }
  if (failure !== undefined) throw failure;
  const cpu = cpuSeconds(spec.pid) - cpuAtStart;
  const seconds = (lastAnswer - measureFrom) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests,
    bytes,
    seconds,
    mbPerSec: bytes / 1e6 / seconds,
    cpuPerGb: cpu / (bytes / 1e9),
    p50Ms: pct(latencies, 0.5),
    p99Ms: pct(latencies, 0.99),
    maxMs: latencies.length === 0 ? NaN : latencies[latencies.length - 1]!,
  };
}
