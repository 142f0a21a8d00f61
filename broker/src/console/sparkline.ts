import type { TopicThroughput } from "../metrics/throughput.js";
import { formatBytes } from "../cli/table.js";
import { html, type Html } from "./html.js";

/**
 * A topic's throughput as an inline SVG drawn on the server: bytes in and out per second over the
 * sampled window, both lines on one scale (the larger peak at the top), the newest point at the right.
 * No script, no style attribute (the console's CSP allows neither inline): the classes carry the look.
 */
export function sparkline(t: TopicThroughput | undefined, size: { width: number; height: number }): Html {
  if (t === undefined) return html`<span class="muted">-</span>`;
  const max = Math.max(...t.bytesIn, ...t.bytesOut, 0);
  const { width, height } = size;
  const line = (values: readonly number[]): string =>
    values
      .map((v, i) => {
        const x = values.length === 1 ? width : (i * width) / (values.length - 1);
        // 1 px of margin so a line at zero or at the peak is not cut by the edge.
        const y = max === 0 ? height - 1 : height - 1 - (v / max) * (height - 2);
        return `${x.toFixed(1)},${y.toFixed(1)}`;
      })
      .join(" ");
  const minutes = Math.round((t.bytesIn.length * t.sampleMs) / 60_000);
  const now = (values: readonly number[]): string => `${formatBytes(Math.round(values[values.length - 1] ?? 0))}/s`;
  const title = `last ${minutes} min · in ${now(t.bytesIn)} · out ${now(t.bytesOut)} · peak ${formatBytes(Math.round(max))}/s`;
  return html`<svg
    class="spark"
    width="${width}"
    height="${height}"
    viewBox="0 0 ${width} ${height}"
    role="img"
    aria-label="${title}"
  >
    <title>${title}</title>
    <polyline class="spark-out" points="${line(t.bytesOut)}" />
    <polyline class="spark-in" points="${line(t.bytesIn)}" />
  </svg>`;
}
