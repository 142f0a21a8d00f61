import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Console } from "../console/console.js";

/**
 * The broker's HTTP listener (`http.listener=http://HOST:PORT`): Prometheus text at `/metrics`, and the
 * web console at `/` (its pages, assets and form posts). Anything else is 404.
 */

/** What the listener serves: the metrics text and its content type. */
export interface HttpContent {
  readonly metricsContentType: string;
  metrics(): Promise<string>;
  /** The web console, which serves `/` and its pages: made with the first request for one. */
  console(): Promise<Console>;
  /** Stops what the content runs (the console, its throughput sampling). */
  close(): void;
}

/** `http://HOST:PORT` split; the host may be empty (every interface) or a bracketed IPv6 address. */
export function parseHttpListener(value: string): { host: string; port: number } | string {
  const m = /^http:\/\/(\[[^\]]*\]|[^:/[\]]*):(\d{1,5})\/?$/i.exec(value);
  if (m === null) return "expected http://HOST:PORT, or empty for none";
  const port = Number(m[2]);
  if (port > 65535) return `port ${port} is out of range`;
  return { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}

/** Config table check of `http.listener`: empty or `http://HOST:PORT`. */
export function httpListenerCheck(value: string): string | undefined {
  if (value === "") return undefined;
  const parsed = parseHttpListener(value);
  return typeof parsed === "string" ? parsed : undefined;
}

export class HttpListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly content: HttpContent,
    private readonly onError: (e: Error) => void,
  ) {
    this.server = createServer((req, res) => this.serve(req, res));
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
    });
  }

  /** Listens on `host:port` (port 0: a free one); answers the URL it is reachable at. */
  static async start(
    host: string,
    port: number,
    content: HttpContent,
    onError: (e: Error) => void,
  ): Promise<{ listener: HttpListener; url: string }> {
    const listener = new HttpListener(content, onError);
    const server = listener.server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host === "" ? undefined : host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address();
    const bound = typeof addr === "object" && addr !== null ? addr.port : port;
    const shown = host === "" ? "0.0.0.0" : host.includes(":") ? `[${host}]` : host;
    return { listener, url: `http://${shown}:${bound}` };
  }

  /** Stops listening and ends every connection (keep-alive ones too). */
  close(): Promise<void> {
    this.content.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    return closed;
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (path !== "/metrics") {
      this.content.console().then(
        (c) => {
          if (!c.handle(req, res, path, url.searchParams)) this.send(res, 404, "text/plain", "not found\n");
        },
        (e: unknown) => {
          this.onError(e as Error);
          this.send(res, 500, "text/plain", "console failed\n");
        },
      );
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return this.send(res, 405, "text/plain", "GET only\n");
    }
    this.content.metrics().then(
      (text) => this.send(res, 200, this.content.metricsContentType, text),
      (e: unknown) => {
        this.onError(e as Error);
        this.send(res, 500, "text/plain", "metrics failed\n");
      },
    );
  }

  private send(res: ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
    res.end(res.req.method === "HEAD" ? undefined : body);
  }
}
