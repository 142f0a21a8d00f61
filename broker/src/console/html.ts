/**
 * Escaping by construction: `html` escapes every interpolated value unless it is already `Html` (made by
 * `html` itself or `raw`), so page code cannot forget to escape a topic name, a record or a header.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Part = Html | string | number | bigint | boolean | null | undefined | readonly Part[];

function render(v: Part): string {
  if (v instanceof Html) return v.text;
  if (v === null || v === undefined || v === false) return "";
  if (Array.isArray(v)) return v.map((x: Part) => render(x)).join("");
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let s = strings[0]!;
  for (let i = 0; i < values.length; i++) s += render(values[i]!) + strings[i + 1]!;
  return new Html(s);
}

/** Trusted markup (our own constants only). */
export function raw(s: string): Html {
  return new Html(s);
}

/** A path segment of a link: the name percent-encoded (then escaped where it lands, by `html`). */
export function seg(name: string): string {
  return encodeURIComponent(name);
}

/** A table with a header row; cells are escaped unless `Html`. */
export function tableOf(header: readonly string[], rows: readonly (readonly Part[])[], empty = "none"): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<table>
    <thead>
      <tr>
        ${header.map((h) => html`<th>${h}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr>
            ${r.map((c) => html`<td>${c}</td>`)}
          </tr> `,
      )}
    </tbody>
  </table>`;
}

export interface PageOptions {
  readonly title: string;
  readonly nav: string;
  readonly mode: string;
  readonly flash?: string | undefined;
  readonly refreshSeconds?: number | undefined;
}

export function page(o: PageOptions, body: Html): string {
  const link = (href: string, label: string): Html =>
    html`<a href="${href}" ${o.nav === href ? raw(' class="here"') : ""}>${label}</a>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${o.refreshSeconds !== undefined ? html`<meta http-equiv="refresh" content="${o.refreshSeconds}" />` : ""}
        <title>${o.title} · tskafka</title>
        <link rel="stylesheet" href="/console.css" />
        <script src="/console.js" defer></script>
      </head>
      <body>
        <header>
          <span class="brand">tskafka</span>
          <nav>
            ${link("/", "Brokers")}${link("/topics", "Topics")}${link("/groups", "Groups")}${link("/security", "Security")}<a
              href="/metrics"
              >Metrics</a
            >
          </nav>
          <span class="mode">${o.mode}</span>
        </header>
        <main>
          ${o.flash !== undefined && o.flash !== "" ? html`<p class="flash">${o.flash}</p>` : ""}
          <h1>${o.title}</h1>
          ${body}
        </main>
      </body>
    </html> `.text;
}
