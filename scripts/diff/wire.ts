// One connection to a broker under test, for replaying request frames in order: it reconnects after
// the broker closes it (as a broker does for a request version it does not serve) and bounds every
// wait. Loopback only.
import { connect, type Socket } from "node:net";

export type Outcome =
  | { kind: "response"; frame: Buffer }
  /** The broker closed the connection instead of answering. */
  | { kind: "closed" }
  | { kind: "timeout"; ms: number }
  /** No response was due (Produce with acks=0). */
  | { kind: "none" };

export class Wire {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((outcome: Outcome) => void) | undefined;

  constructor(readonly port: number) {}

  private open(): Promise<Socket> {
    return new Promise((done, fail) => {
      const socket = connect({ host: "127.0.0.1", port: this.port });
      const timer = setTimeout(() => {
        socket.destroy();
        fail(new Error(`connect to 127.0.0.1:${this.port} timed out`));
      }, 10_000);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", fail);
        socket.setNoDelay(true);
        socket.on("data", (chunk: Buffer) => this.onData(chunk));
        const gone = (): void => {
          if (this.socket === socket) this.socket = undefined;
          this.buffered = Buffer.alloc(0);
          this.settle({ kind: "closed" });
        };
        socket.on("close", gone);
        socket.on("error", gone);
        done(socket);
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        fail(err);
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const end = 4 + this.buffered.readInt32BE(0);
      if (this.buffered.length < end) return;
      const frame = Buffer.from(this.buffered.subarray(0, end));
      this.buffered = this.buffered.subarray(end);
      this.settle({ kind: "response", frame });
    }
  }

  private settle(outcome: Outcome): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(outcome);
  }

  /**
   * Sends one size-prefixed request frame and waits for its response (the next frame: requests are
   * sent one at a time), at most `timeoutMs`. A timeout closes the connection, so a late answer cannot
   * be mistaken for the next one's.
   */
  async exchange(frame: Buffer, expectResponse: boolean, timeoutMs: number): Promise<Outcome> {
    this.socket ??= await this.open();
    const socket = this.socket;
    if (!expectResponse) {
      socket.write(frame);
      return { kind: "none" };
    }
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        socket.destroy();
        done({ kind: "timeout", ms: timeoutMs });
      }, timeoutMs);
      this.waiting = (outcome) => {
        clearTimeout(timer);
        done(outcome);
      };
      socket.write(frame);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}
