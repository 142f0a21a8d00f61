/** Plain aligned text tables for the terminal: a header row, then rows; columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [header, ...rows.map((r) => r.map(cell))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return (
    cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n"
  );
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "-";
  return String(v);
}

/** Bytes as people read them: 1023 B, 1.5 KiB, 12.0 MiB. */
export function formatBytes(n: bigint | number): string {
  let v = Number(n);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
