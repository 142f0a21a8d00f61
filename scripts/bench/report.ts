// The bench's figures: each metric holds every run's value for both brokers; the report takes
// the median (or the maximum, for peak memory), the ratio tskafka / Kafka, and checks it against
// the target it is compared with. Output: a console table, a Markdown page and an SVG bar chart.
import type { BrokerKind } from "./brokers.js";

export interface Target {
  /** Human text, e.g. "≥ 1 (at least Kafka's)". */
  readonly text: string;
  readonly met: (kafka: number, tskafka: number) => boolean;
}

export interface Metric {
  readonly id: string;
  readonly label: string;
  readonly client: string;
  readonly unit: string;
  readonly aggregate: "median" | "max";
  readonly target: Target;
  readonly values: Record<BrokerKind, number[]>;
  /** Set when the row could not be measured, saying why. */
  skipped?: string;
}

export const AT_LEAST_KAFKA: Target = { text: "ratio ≥ 1", met: (k, t) => t >= k };
export const NO_WORSE_THAN_KAFKA: Target = { text: "ratio ≤ 1", met: (k, t) => t <= k };
export const HALF_OF_KAFKA: Target = { text: "ratio ≤ 0.5", met: (k, t) => t <= k / 2 };
export const QUARTER_OF_KAFKA: Target = { text: "ratio ≤ 0.25", met: (k, t) => t <= k / 4 };
export const UNDER_A_SECOND: Target = { text: "tskafka < 1000 ms", met: (_k, t) => t < 1000 };
export const NO_TARGET: Target = { text: "—", met: () => true };

export class Metrics {
  readonly all: Metric[] = [];

  metric(
    id: string,
    label: string,
    client: string,
    unit: string,
    target: Target,
    aggregate: "median" | "max" = "median",
  ): Metric {
    let m = this.all.find((x) => x.id === id);
    if (m === undefined) {
      m = { id, label, client, unit, target, aggregate, values: { kafka: [], tskafka: [] } };
      this.all.push(m);
    }
    return m;
  }

  add(
    id: string,
    label: string,
    client: string,
    unit: string,
    target: Target,
    broker: BrokerKind,
    value: number,
  ): void {
    this.metric(id, label, client, unit, target).values[broker].push(value);
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Row {
  readonly metric: Metric;
  readonly kafka: number;
  readonly tskafka: number;
  readonly ratio: number;
  readonly met: boolean | undefined;
}

/** Report order: by kind of figure, then in the order measured. */
const ORDER = [
  "produce-",
  "consume-",
  "cpu-",
  "ceiling-",
  "scale-",
  "repl-",
  "e2e-",
  "kafkajs-",
  "startup",
  "idle-rss",
  "rss",
];
const rank = (id: string): number => ORDER.findIndex((prefix) => id.startsWith(prefix));

export function rows(metrics: Metrics): Row[] {
  const ordered = metrics.all
    .map((m, i) => ({ m, i }))
    .sort((a, b) => rank(a.m.id) - rank(b.m.id) || a.i - b.i)
    .map((x) => x.m);
  return ordered.map((metric) => {
    const agg = (xs: number[]): number =>
      xs.length === 0 ? NaN : metric.aggregate === "max" ? Math.max(...xs) : median(xs);
    const kafka = agg(metric.values.kafka);
    const tskafka = agg(metric.values.tskafka);
    const ratio = tskafka / kafka;
    const measured = Number.isFinite(kafka) && Number.isFinite(tskafka);
    const met = measured && metric.target !== NO_TARGET ? metric.target.met(kafka, tskafka) : undefined;
    return { metric, kafka, tskafka, ratio, met };
  });
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return "—";
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : "—";
}

function runsOf(m: Metric): string {
  return `${m.values.kafka.length}/${m.values.tskafka.length}`;
}

export function consoleTable(all: readonly Row[]): string {
  const head = ["metric", "client", "unit", "Kafka", "tskafka", "ratio", "target", "met", "runs"];
  const body = all.map((r) => [
    r.metric.label,
    r.metric.client,
    r.metric.unit,
    fmt(r.kafka),
    fmt(r.tskafka),
    fmtRatio(r.ratio),
    r.metric.target.text,
    r.metric.skipped !== undefined ? "skipped" : r.met === undefined ? "—" : r.met ? "yes" : "NO",
    runsOf(r.metric),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

export interface ReportContext {
  readonly date: string;
  readonly machine: readonly string[];
  readonly settings: readonly string[];
  readonly notes: readonly string[];
  /** File name of the chart beside the page. */
  readonly chart: string;
}

export function markdown(all: readonly Row[], ctx: ReportContext): string {
  const out: string[] = [];
  out.push(`# tskafka vs Apache Kafka — ${ctx.date}`, "");
  out.push(
    "Both brokers on the same machine, one at a time, driven by the same clients with the same settings and data.",
    "",
  );
  out.push("## Machine", "", ...ctx.machine.map((m) => `- ${m}`), "");
  out.push("## Settings", "", ...ctx.settings.map((s) => `- ${s}`), "");
  out.push("## Results", "");
  out.push(
    'Ratio is tskafka / Kafka. Median over runs (peak memory: the maximum). "runs" counts Kafka/tskafka values.',
    "",
  );
  out.push("| Metric | Client | Unit | Apache Kafka | tskafka | Ratio | Target | Met | Runs |");
  out.push("|---|---|---|---:|---:|---:|---|---|---:|");
  for (const r of all) {
    const met =
      r.metric.skipped !== undefined
        ? `skipped: ${r.metric.skipped}`
        : r.met === undefined
          ? "—"
          : r.met
            ? "yes"
            : "**no**";
    out.push(
      `| ${r.metric.label} | ${r.metric.client} | ${r.metric.unit} | ${fmt(r.kafka)} | ${fmt(r.tskafka)} | ${fmtRatio(r.ratio)} | ${r.metric.target.text} | ${met} | ${runsOf(r.metric)} |`,
    );
  }
  out.push("", `![ratios](${ctx.chart})`, "");
  if (ctx.notes.length > 0) out.push("## Notes", "", ...ctx.notes.map((n) => `- ${n}`), "");
  out.push("## Every run", "");
  out.push("| Metric | Apache Kafka | tskafka |", "|---|---|---|");
  for (const r of all) {
    const list = (xs: number[]): string => xs.map(fmt).join(", ") || "—";
    out.push(
      `| ${r.metric.label} (${r.metric.client}, ${r.metric.unit}) | ${list(r.metric.values.kafka)} | ${list(r.metric.values.tskafka)} |`,
    );
  }
  out.push("");
  return out.join("\n");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Horizontal bars of tskafka / Kafka on a log2 axis centred on 1 (parity). */
export function svgChart(all: readonly Row[], title: string): string {
  const shown = all.filter((r) => Number.isFinite(r.ratio) && r.ratio > 0);
  // Wide enough for the longest label at about 6.6 px a character (12 px sans-serif).
  const labelW = Math.max(
    380,
    16 + Math.ceil(6.6 * Math.max(...shown.map((r) => `${r.metric.label} (${r.metric.client})`.length))),
  );
  const plotW = 440;
  const rowH = 22;
  const top = 50;
  const height = top + shown.length * rowH + 40;
  const width = labelW + plotW + 80;
  const maxExp = 4; // axis from 1/16 to 16
  const x = (ratio: number): number => {
    const e = Math.max(-maxExp, Math.min(maxExp, Math.log2(ratio)));
    return labelW + ((e + maxExp) / (2 * maxExp)) * plotW;
  };
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`);
  parts.push(
    `<text x="10" y="38" fill="#555">tskafka / Apache Kafka (log scale); green: target met, red: not met; tick: target</text>`,
  );
  for (let e = -maxExp; e <= maxExp; e++) {
    const gx = x(2 ** e);
    parts.push(
      `<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${top + shown.length * rowH}" stroke="${e === 0 ? "#000" : "#ddd"}"/>`,
    );
    const label = e >= 0 ? `${2 ** e}×` : `1/${2 ** -e}`;
    parts.push(
      `<text x="${gx}" y="${top + shown.length * rowH + 16}" text-anchor="middle" fill="#555">${label}</text>`,
    );
  }
  shown.forEach((r, i) => {
    const y = top + i * rowH;
    const x0 = x(1);
    const x1 = x(r.ratio);
    const color = r.met === false ? "#d9534f" : "#5cb85c";
    parts.push(
      `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(`${r.metric.label} (${r.metric.client})`)}</text>`,
    );
    parts.push(
      `<rect x="${Math.min(x0, x1)}" y="${y + 4}" width="${Math.max(Math.abs(x1 - x0), 1)}" height="${rowH - 8}" fill="${color}"/>`,
    );
    parts.push(`<text x="${Math.max(x0, x1) + 4}" y="${y + 15}">${r.ratio.toFixed(2)}×</text>`);
    const tick =
      r.metric.target === QUARTER_OF_KAFKA
        ? 0.25
        : r.metric.target === HALF_OF_KAFKA
          ? 0.5
          : r.metric.target === AT_LEAST_KAFKA || r.metric.target === NO_WORSE_THAN_KAFKA
            ? 1
            : undefined;
    if (tick !== undefined)
      parts.push(
        `<line x1="${x(tick)}" y1="${y + 2}" x2="${x(tick)}" y2="${y + rowH - 2}" stroke="#333" stroke-width="2"/>`,
      );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
