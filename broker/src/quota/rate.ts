/**
 * A rate measured as Kafka's Rate over a SampledStat: up to `samples` samples of `windowMs` each, a new one
 * started by the first record after the current one is full; samples older than all of them together are
 * forgotten. The rate divides what the samples hold by the time they cover, counted as at least
 * `samples - 1` full windows, so that a new client cannot burst past its quota in the first second.
 */
export class SampledRate {
  /** Start time and total of each sample, oldest first. */
  private readonly starts: number[] = [];
  private readonly totals: number[] = [];

  constructor(
    readonly samples: number,
    readonly windowMs: number,
  ) {}

  record(value: number, now: number): void {
    this.purge(now);
    const last = this.starts.length - 1;
    if (last < 0 || now - this.starts[last]! >= this.windowMs) {
      if (this.starts.length === this.samples) {
        this.starts.shift();
        this.totals.shift();
      }
      this.starts.push(now);
      this.totals.push(value);
    } else {
      this.totals[last]! += value;
    }
  }

  /** The time the rate is measured over at `now`, in milliseconds (Kafka's Rate.windowSize). */
  elapsedMs(now: number): number {
    this.purge(now);
    let elapsed = now - (this.starts[0] ?? now);
    const fullWindows = Math.floor(elapsed / this.windowMs);
    const minFullWindows = this.samples - 1;
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * this.windowMs;
    return Math.max(elapsed, 1);
  }

  /** Units per second. */
  measure(now: number): number {
    const elapsed = this.elapsedMs(now);
    let total = 0;
    for (const t of this.totals) total += t;
    return total / (elapsed / 1000);
  }

  /** True once every sample has expired: the rate is 0 and the object may be dropped. */
  idle(now: number): boolean {
    this.purge(now);
    return this.starts.length === 0;
  }

  private purge(now: number): void {
    const expireBefore = now - this.samples * this.windowMs;
    while (this.starts.length > 0 && this.starts[0]! <= expireBefore) {
      this.starts.shift();
      this.totals.shift();
    }
  }
}

/**
 * Kafka's QuotaUtils.throttleTime: how long the client must stay silent for the rate, measured over the
 * same window, to come back to `bound`; 0 when it is within it. `maxMs` bounds it where Kafka bounds it.
 */
export function throttleTimeMs(rate: SampledRate, bound: number, now: number, maxMs = Infinity): number {
  const value = rate.measure(now);
  if (value <= bound) return 0;
  return Math.min(Math.round(((value - bound) / bound) * rate.elapsedMs(now)), maxMs);
}
