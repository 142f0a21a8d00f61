import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { collectedMetrics, type MetricsSource } from "./collected.js";
import type { LatencyHistogram } from "./latency-histogram.js";

/** Requests of one API version so far. */
export interface VersionCount {
  readonly labels: { readonly api: string; readonly version: string };
  count: number;
}

/** One topic's traffic so far. */
export interface TopicCounts {
  readonly labels: { readonly topic: string };
  bytesIn: number;
  messagesIn: number;
  bytesOut: number;
  messagesOut: number;
}

/** Answers with one error code from one API so far. */
export interface ErrorCount {
  readonly labels: { readonly api: string; readonly error: string };
  count: number;
}

/** One listener's connections so far. */
export interface ListenerCount {
  readonly labels: { readonly listener: string };
  open: number;
  created: number;
  closed: number;
}

/** What a broker counts, read by the registry at each scrape. */
export interface Counted {
  readonly latency: LatencyHistogram;
  requests(): Iterable<VersionCount>;
  topics(): Iterable<TopicCounts>;
  errors(): Iterable<ErrorCount>;
  listeners(): Iterable<ListenerCount>;
}

/**
 * One broker's prom-client registry (two brokers in one process never mix): every metric reads the
 * broker's plain counts when scraped, beside the metrics computed from its state (collected.ts) and
 * prom-client's process metrics. Loaded on the first scrape (see broker-metrics.ts).
 */
export function prometheusRegistry(counted: Counted, source: MetricsSource): Registry {
  const registry = new Registry();
  const counter = <T extends { labels: object }>(
    name: string,
    help: string,
    labelNames: string[],
    rows: () => Iterable<T>,
    value: (row: T) => number,
  ): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const r of rows()) this.inc(r.labels as Record<string, string>, value(r));
      },
    });
  };
  counter(
    "tskafka_requests_total",
    "Requests handled, per API and version.",
    ["api", "version"],
    counted.requests,
    (r) => r.count,
  );
  registry.registerMetric(counted.latency as never);
  counter(
    "tskafka_request_errors_total",
    "Error codes answered, per API and Kafka error: top-level ones, and per partition for Produce and Fetch.",
    ["api", "error"],
    counted.errors,
    (r) => r.count,
  );
  const perTopic = (name: string, help: string, value: (t: TopicCounts) => number): void =>
    counter(name, help, ["topic"], counted.topics, value);
  perTopic("tskafka_topic_bytes_in_total", "Record bytes appended by Produce, per topic.", (t) => t.bytesIn);
  perTopic("tskafka_topic_messages_in_total", "Records appended by Produce, per topic.", (t) => t.messagesIn);
  perTopic(
    "tskafka_topic_bytes_out_total",
    "Record bytes returned to consumers by Fetch, per topic.",
    (t) => t.bytesOut,
  );
  perTopic(
    "tskafka_topic_messages_out_total",
    "Records returned to consumers by Fetch, per topic (from batch headers; control batches not counted).",
    (t) => t.messagesOut,
  );
  new Gauge({
    name: "tskafka_connections_open",
    help: "Client connections open, per listener.",
    labelNames: ["listener"],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of counted.listeners()) this.set(l.labels, l.open);
    },
  });
  const perListener = (name: string, help: string, value: (l: ListenerCount) => number): void =>
    counter(name, help, ["listener"], counted.listeners, value);
  perListener("tskafka_connections_created_total", "Client connections accepted, per listener.", (l) => l.created);
  perListener("tskafka_connections_closed_total", "Client connections closed, per listener.", (l) => l.closed);
  collectedMetrics(registry, source);
  collectDefaultMetrics({ register: registry });
  return registry;
}
