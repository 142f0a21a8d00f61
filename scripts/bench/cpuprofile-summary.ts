// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per file.
// Self time of a sample goes to the node it hit; samples carry the time since the previous one.
// Run by hand: `npx tsx scripts/bench/cpuprofile-summary.ts FILE [top]`.
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly ms: number;
  readonly pct: number;
}
export interface ProfileSummary {
  readonly totalMs: number;
  /** Time in anything but (idle): what the broker actually spent CPU on. */
  readonly busyMs: number;
  readonly functions: SelfTime[];
  readonly files: SelfTime[];
}

const repoRoot = resolve(fileURLToPath(import.meta.url), "..", "..", "..");

function place(url: string): string {
  if (url === "") return "(native/VM)";
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  return path.startsWith("/") ? relative(repoRoot, path) : path;
}

export function summarize(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const files = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id)!;
    totalUs += us;
    if (callFrame.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    const where = place(callFrame.url);
    const key = `${callFrame.functionName}|${callFrame.url}|${callFrame.lineNumber}`;
    const entry = fn.get(key) ?? {
      name: callFrame.functionName || "(anonymous)",
      where: callFrame.url === "" ? where : `${where}:${callFrame.lineNumber + 1}`,
      us: 0,
    };
    entry.us += us;
    fn.set(key, entry);
    files.set(where, (files.get(where) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number): number => (busyUs > 0 ? (100 * us) / busyUs : 0);
  const functions = [...fn.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, pct: pct(f.us) }));
  const fileRows = [...files.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, us]) => ({ name: where, where, ms: us / 1000, pct: pct(us) }));
  return { totalMs: totalUs / 1000, busyMs: busyUs / 1000, functions, files: fileRows };
}

/** Markdown tables of a summary: top functions and top files by self time (% of non-idle time). */
export function summaryMarkdown(title: string, s: ProfileSummary): string {
  const out = [
    `### ${title}`,
    "",
    `Profile ${s.totalMs.toFixed(0)} ms, of which ${s.busyMs.toFixed(0)} ms not idle. Percentages are of the non-idle time.`,
    "",
  ];
  out.push("| Self ms | % | Function | Where |", "|---:|---:|---|---|");
  for (const f of s.functions) out.push(`| ${f.ms.toFixed(0)} | ${f.pct.toFixed(1)} | \`${f.name}\` | ${f.where} |`);
  out.push("", "| Self ms | % | File |", "|---:|---:|---|");
  for (const f of s.files.slice(0, 15)) out.push(`| ${f.ms.toFixed(0)} | ${f.pct.toFixed(1)} | ${f.name} |`);
  out.push("");
  return out.join("\n");
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: cpuprofile-summary.ts FILE [top]");
  process.stdout.write(summaryMarkdown(file, summarize(file, Number(process.argv[3] ?? 25))));
}
