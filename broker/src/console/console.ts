import type { IncomingMessage, ServerResponse } from "node:http";
import { KafkaAdmin, KafkaError } from "../cli/kafka-admin.js";
import { planReset } from "../cli/groups.js";
import type { ThroughputHistory } from "../metrics/throughput.js";
import type { ConsoleSettings } from "./settings.js";
import { CONSOLE_CSS, CONSOLE_JS } from "./assets.js";
import { html, page } from "./html.js";
import {
  brokerPage,
  brokersPage,
  groupPage,
  groupsPage,
  messagesPage,
  securityPage,
  topicPage,
  topicsPage,
  type Rendered,
} from "./pages.js";

/**
 * The web console: server-rendered pages over the broker's HTTP listener. It is a Kafka client of its
 * own broker (our codecs over loopback to one of its listeners, settings.ts), so every read and action
 * takes the same path as any client's request: the same handlers, the same authorization, as the
 * principal that listener gives it (User:ANONYMOUS, or the user of its own SASL login).
 */

export type ConsoleMode = "read-write" | "read-only" | "off";

export interface ConsoleOptions extends ConsoleSettings {
  /** Per-topic traffic of the last minutes (sampled while the console is on) for the sparklines. */
  readonly throughput?: ThroughputHistory;
  readonly onError: (e: Error) => void;
}

const MAX_FORM_BYTES = 16 * 1024;

export class Console {
  private admin: Promise<KafkaAdmin> | undefined;

  /** `o.throughput` is sampled by its owner (the broker starts it with the HTTP listener). */
  constructor(private readonly o: ConsoleOptions) {}

  get mode(): ConsoleMode {
    return this.o.mode;
  }

  /** What the header shows: the mode and whom the console acts as. */
  private get badge(): string {
    return `${this.o.mode} · ${this.o.principal}`;
  }

  /** Answers true when the request was the console's (`/`, pages and their assets). */
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    if (path === "/console.css") return (send(res, 200, "text/css; charset=utf-8", CONSOLE_CSS), true);
    if (path === "/console.js") return (send(res, 200, "text/javascript; charset=utf-8", CONSOLE_JS), true);
    const route = this.route(req.method ?? "GET", path);
    if (route === undefined) return false;
    if (this.o.mode === "off") {
      // Off: only a note at `/`; every other page is not there at all.
      if (path !== "/" || (req.method !== "GET" && req.method !== "HEAD")) return false;
      const body = html`<p>The console is off: ${this.o.offReason ?? "http.console=off"}.</p>
        <p><a href="/metrics">/metrics</a>: Prometheus metrics</p>`;
      send(res, 200, "text/html; charset=utf-8", page({ title: "tskafka", nav: "", mode: "console off" }, body));
      return true;
    }
    route(req, res, query).catch((e: unknown) => this.fail(res, e as Error));
    return true;
  }

  close(): void {
    void this.admin?.then(
      (a) => a.close(),
      () => undefined,
    );
    this.admin = undefined;
  }

  private route(
    method: string,
    path: string,
  ): ((req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => Promise<void>) | undefined {
    const parts = path.split("/").slice(1).map(decodeURIComponent);
    const get = method === "GET" || method === "HEAD";
    const post = method === "POST";
    const show =
      (render: (a: KafkaAdmin, q: URLSearchParams) => Promise<Rendered>) =>
      async (_req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => {
        const r = await render(await this.client(), q);
        send(
          res,
          200,
          "text/html; charset=utf-8",
          page(
            {
              title: r.title,
              nav: r.nav,
              mode: this.badge,
              flash: q.get("msg") ?? undefined,
              refreshSeconds: r.refreshSeconds,
            },
            r.body,
          ),
        );
      };
    const act =
      (fn: (a: KafkaAdmin, form: URLSearchParams) => Promise<string>) =>
      async (req: IncomingMessage, res: ServerResponse) => {
        if (this.o.mode !== "read-write") throw new HttpError(403, "the console is read-only (http.console)");
        if (!sameOrigin(req)) throw new HttpError(403, "cross-site request refused");
        const form = await readForm(req);
        const location = await fn(await this.client(), form);
        res.writeHead(303, { location }).end();
      };
    const writable = this.o.mode === "read-write";
    const [a, b, c] = parts;
    if (parts.length === 1 && a === "" && get) return show((ad) => brokersPage(ad));
    if (a === "brokers" && b !== undefined && /^\d+$/.test(b) && parts.length === 2 && get)
      return show((ad) => brokerPage(ad, Number(b)));
    if (a === "topics" && parts.length === 1) {
      if (get) return show((ad) => topicsPage(ad, writable, this.o.throughput));
      if (post)
        return act(async (ad, f) => {
          const name = f.get("name") ?? "";
          await ad.createTopic(name, Number(f.get("partitions") || 1), Number(f.get("replicationFactor") || -1));
          return `/topics/${encodeURIComponent(name)}?msg=${encodeURIComponent(`Created topic ${name}`)}`;
        });
    }
    if (a === "topics" && b !== undefined && parts.length === 2 && get)
      return show((ad) => topicPage(ad, b, writable, this.o.throughput));
    if (a === "topics" && b !== undefined && c === "messages" && parts.length === 3 && get)
      return show((ad, q) =>
        messagesPage(ad, b, {
          partition: q.get("partition") ?? "",
          offset: q.get("offset") ?? "",
          timestamp: q.get("timestamp") ?? "",
          format: q.get("format") ?? "text",
          limit: q.get("limit") ?? "50",
        }),
      );
    if (a === "topics" && b !== undefined && c === "delete" && parts.length === 3 && post)
      return act(async (ad) => {
        await ad.deleteTopic(b);
        return `/topics?msg=${encodeURIComponent(`Deleted topic ${b}`)}`;
      });
    if (a === "groups" && parts.length === 1 && get) return show((ad) => groupsPage(ad));
    if (a === "groups" && b !== undefined && parts.length === 2 && get) return show((ad) => groupPage(ad, b, writable));
    if (a === "groups" && b !== undefined && c === "reset" && parts.length === 3 && post)
      return act(async (ad, f) => {
        const topic = f.get("topic") ?? "";
        const to =
          f.get("to") === "earliest"
            ? "earliest"
            : f.get("to") === "latest"
              ? "latest"
              : BigInt(f.get("offset") || "0");
        await ad.commit(b, topic, await planReset(ad, topic, to));
        return `/groups/${encodeURIComponent(b)}?msg=${encodeURIComponent(`Reset the offsets of ${b} on ${topic} to ${to}`)}`;
      });
    if (a === "security" && parts.length === 1 && get) return show((ad) => securityPage(ad));
    return undefined;
  }

  /** The console's connection, opened on first use and again after it broke. */
  private async client(): Promise<KafkaAdmin> {
    const current = this.admin !== undefined ? await this.admin.catch(() => undefined) : undefined;
    if (current !== undefined && !current.isClosed) return current;
    this.admin = KafkaAdmin.connect(this.o.bootstrap!, "tskafka-console", this.o.security);
    return this.admin;
  }

  private fail(res: ServerResponse, e: Error): void {
    const status = e instanceof HttpError ? e.status : e instanceof KafkaError ? 400 : 500;
    if (status === 500) this.o.onError(e);
    const body = html`<p class="error">${e.message}</p>
      <p><a href="/">Home</a></p>`;
    if (!res.headersSent)
      send(res, status, "text/html; charset=utf-8", page({ title: "Error", nav: "", mode: this.badge }, body));
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A browser's cross-site POST carries a foreign Origin (or Sec-Fetch-Site); refuse it (no CSRF). */
function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host ?? ""}`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded")) throw new HttpError(415, "expected a form");
  let body = "";
  for await (const chunk of req) {
    body += (chunk as Buffer).toString("utf8");
    if (body.length > MAX_FORM_BYTES) throw new HttpError(413, "form too large");
  }
  return new URLSearchParams(body);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy":
      "default-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
