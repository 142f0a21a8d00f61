/** One label value's observations: a count per bucket (not cumulative), their sum and number. */
export interface HistogramSeries {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram over one label, counted in plain numbers and turned into prom-client's form
 * only when scraped (prom-client's registry takes it as a metric of its own: `get` and `reset`). prom-client's own Histogram checks and hashes the labels on every `observe` (a few
 * percent of a small produce's cost); here a series is looked up once and observing is a bucket search
 * and three additions.
 */
export class LatencyHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly label: string,
    private readonly buckets: readonly number[],
  ) {}

  /** The series of one label value, made on first use (callers keep it). */
  of(value: string): HistogramSeries {
    let s = this.series.get(value);
    if (s === undefined) {
      s = { counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
      this.series.set(value, s);
    }
    return s;
  }

  observe(s: HistogramSeries, value: number): void {
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    if (i < buckets.length) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** What prom-client's registry renders, as its Histogram gives it: cumulative buckets, +Inf, sum, count. */
  async get() {
    type Value = { value: number; labels: object; sharedLabels: object; metricName: string };
    const values: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [labelValue, s] of this.series) {
      const shared = { [this.label]: labelValue };
      let total = 0;
      this.buckets.forEach((le, i) => {
        total += s.counts[i]!;
        values.push({ value: total, labels: { le }, sharedLabels: shared, metricName: bucket });
      });
      values.push({ value: s.count, labels: { le: "+Inf" }, sharedLabels: shared, metricName: bucket });
      values.push({ value: s.sum, labels: {}, sharedLabels: shared, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: {}, sharedLabels: shared, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Back to zero; the series stay (callers hold them). */
  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
