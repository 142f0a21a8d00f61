/**
 * Bytes in and out per topic over the last minutes, for the console's sparklines: every `sampleMs` the
 * broker's own traffic counters (the ones /metrics serves) are read and the differences kept, the last
 * `samples` of them per topic. Nothing is counted twice: the hot path stays as it is.
 */

export interface TopicTotals {
  readonly topic: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** Rates in bytes per second, oldest first; the last point is the interval still running. */
export interface TopicThroughput {
  readonly sampleMs: number;
  readonly bytesIn: readonly number[];
  readonly bytesOut: readonly number[];
}

interface History {
  /** The totals at the last sample. */
  lastIn: number;
  lastOut: number;
  /** Bytes per completed interval, oldest first. */
  readonly deltasIn: number[];
  readonly deltasOut: number[];
}

export class ThroughputHistory {
  private readonly topics = new Map<string, History>();
  private lastSampleAt = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly totals: () => Iterable<TopicTotals>,
    readonly sampleMs = 5_000,
    readonly samples = 60,
  ) {}

  /** Samples every `sampleMs` until `stop` (the timer never keeps the process alive). */
  start(): void {
    this.sample();
    this.timer ??= setInterval(() => this.sample(), this.sampleMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Closes an interval: each topic's bytes since the last sample. */
  sample(now = Date.now()): void {
    for (const t of this.totals()) {
      let h = this.topics.get(t.topic);
      if (h === undefined) {
        // A topic first seen now: its earlier intervals were empty.
        h = { lastIn: 0, lastOut: 0, deltasIn: [], deltasOut: [] };
        this.topics.set(t.topic, h);
      }
      push(h.deltasIn, t.bytesIn - h.lastIn, this.samples - 1);
      push(h.deltasOut, t.bytesOut - h.lastOut, this.samples - 1);
      h.lastIn = t.bytesIn;
      h.lastOut = t.bytesOut;
    }
    this.lastSampleAt = now;
  }

  /** A topic's rates over the whole window (zeros where nothing was sampled yet). */
  of(topic: string, now = Date.now()): TopicThroughput {
    const h = this.topics.get(topic);
    const current = [...this.totals()].find((t) => t.topic === topic);
    const seconds = this.sampleMs / 1000;
    // The running interval's rate over the time it has run (at least a second, so it does not spike).
    const running = Math.max((now - this.lastSampleAt) / 1000, 1);
    const rates = (deltas: readonly number[] | undefined, last: number, total: number | undefined): number[] => {
      const done = (deltas ?? []).map((d) => d / seconds);
      const padded = [...Array<number>(this.samples - 1 - done.length).fill(0), ...done];
      return [...padded, ((total ?? last) - last) / running];
    };
    return {
      sampleMs: this.sampleMs,
      bytesIn: rates(h?.deltasIn, h?.lastIn ?? 0, current?.bytesIn),
      bytesOut: rates(h?.deltasOut, h?.lastOut ?? 0, current?.bytesOut),
    };
  }
}

function push(list: number[], value: number, max: number): void {
  list.push(value);
  if (list.length > max) list.splice(0, list.length - max);
}
