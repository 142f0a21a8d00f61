// What /proc says about a broker process: CPU seconds (utime + stime) and resident memory. CPU time is
// much steadier than MB/s on a shared machine, so the bench reports it per gigabyte moved.
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of `pid` in seconds (all its threads: a JVM's GC and I/O threads count too). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The Vm* and Rss* lines of /proc/<pid>/status, in MiB. */
export function memoryMiB(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of readFileSync(`/proc/${pid}/status`, "utf8").matchAll(/^(Vm\w+|Rss\w+):\s+(\d+) kB/gm))
    out[m[1]!] = Number(m[2]) / 1024;
  return out;
}

/** utime and stime of `pid` (all threads) and of its main thread alone, in seconds. */
export function cpuSplit(pid: number): { user: number; system: number; mainUser: number; mainSystem: number } {
  const fields = (path: string): string[] => {
    const stat = readFileSync(path, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  };
  const all = fields(`/proc/${pid}/stat`);
  const main = fields(`/proc/${pid}/task/${pid}/stat`);
  return {
    user: Number(all[11]) / TICKS_PER_SECOND,
    system: Number(all[12]) / TICKS_PER_SECOND,
    mainUser: Number(main[11]) / TICKS_PER_SECOND,
    mainSystem: Number(main[12]) / TICKS_PER_SECOND,
  };
}
