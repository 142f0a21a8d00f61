import {
  ApiKey,
  apis,
  type ApiRequests,
  type ApiResponses,
  type FetchRequest,
  type FetchResponse,
  type ProduceRequest,
  type ProduceResponse,
} from "@tskafka/protocol";
import type { Registry } from "prom-client";
import { ErrorCode } from "../errors.js";
import { countRecords } from "./record-count.js";
import type { MetricsSource } from "./collected.js";
import { LatencyHistogram, type HistogramSeries } from "./latency-histogram.js";
import type { Counted, ErrorCount, ListenerCount, TopicCounts, VersionCount } from "./prometheus.js";
import type { TopicTotals } from "./throughput.js";

export type { MetricsSource } from "./collected.js";

/**
 * One broker's Prometheus metrics, in a registry of its own (two brokers in one process never mix):
 * traffic per topic, requests, latency and errors per API, connections per listener, and what is
 * collected when scraped (partitions, log sizes, consumer lag, prom-client's process metrics).
 *
 * Everything is counted in plain numbers, kept per API and version, per topic, per error and per
 * listener (objects made on first use), and request latency is a histogram of our own
 * (latency-histogram.ts): a prom-client child's `inc` or `observe` builds its label key on every call
 * (about 270 ns, measured), which a request should not pay four times. prom-client itself is loaded on
 * the first scrape (prometheus.ts): it costs 3-5 MiB of RSS and its default metrics a GC observer and an
 * event-loop timer, which a broker nobody scrapes need not pay. So its process metrics start then (the
 * GC histogram counts collections from the first scrape on; CPU and memory are read from the process).
 */

/** Latency buckets in seconds: sub-millisecond produces up to long-polling fetches. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Kafka's error names by code, for the `error` label. */
const ERROR_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** One API's latency child and request counts per version (made on first use). */
interface ApiChildren {
  readonly name: string;
  readonly latency: HistogramSeries;
  readonly versions: (VersionCount | undefined)[];
}

export class BrokerMetrics {
  /** What `/metrics` answers with: Prometheus' text format 0.0.4, prom-client's default. */
  readonly contentType = "text/plain; version=0.0.4; charset=utf-8";
  private readonly latency = new LatencyHistogram(
    "tskafka_request_duration_seconds",
    "Time from a decoded request to its response, per API (Fetch includes its wait for data).",
    "api",
    LATENCY_BUCKETS,
  );
  private readonly apiChildren: (ApiChildren | undefined)[] = [];
  private readonly topicCounts = new Map<string, TopicCounts>();
  private readonly errorCounts = new Map<string, ErrorCount>();
  private readonly listenerCounts = new Map<string, ListenerCount>();
  /** prom-client's registry with this broker's metrics, made on the first scrape. */
  private registry: Promise<Registry> | undefined;

  constructor(private readonly source: MetricsSource) {}

  /** Bytes in and out of every topic so far (what the console's sparklines sample). */
  *topicTotals(): Generator<TopicTotals> {
    for (const t of this.topicCounts.values())
      yield { topic: t.labels.topic, bytesIn: t.bytesIn, bytesOut: t.bytesOut };
  }

  /** The Prometheus text of every metric, collected ones freshly computed. */
  async scrape(): Promise<string> {
    this.registry ??= import("./prometheus.js").then((m) => m.prometheusRegistry(this.counted(), this.source));
    return (await this.registry).metrics();
  }

  connectionOpened(listener: string): void {
    const c = this.listener(listener);
    c.open++;
    c.created++;
  }

  connectionClosed(listener: string): void {
    const c = this.listener(listener);
    c.open--;
    c.closed++;
  }

  /** A request answered (`response` null: none is sent, acks=0), `seconds` after it was decoded. */
  requestDone<K extends keyof ApiRequests>(
    apiKey: K,
    version: number,
    request: ApiRequests[K],
    response: ApiResponses[K] | null,
    seconds: number,
  ): void {
    const api = this.api(apiKey);
    this.countRequest(api, version);
    this.latency.observe(api.latency, seconds);
    if (apiKey === ApiKey.Produce) this.produced(request as ProduceRequest, response as ProduceResponse | null);
    else if (apiKey === ApiKey.Fetch) this.fetched(request as FetchRequest, version, response as FetchResponse);
    else if (response !== null) this.topLevelError(api.name, response);
  }

  /** A request whose handler failed: it was answered UNKNOWN_SERVER_ERROR (or its connection closed). */
  requestFailed(apiKey: number, version: number, seconds: number): void {
    const api = this.api(apiKey);
    this.countRequest(api, version);
    this.latency.observe(api.latency, seconds);
    this.error(api.name, ErrorCode.UNKNOWN_SERVER_ERROR);
  }

  private countRequest(api: ApiChildren, version: number): void {
    (api.versions[version] ??= { labels: { api: api.name, version: String(version) }, count: 0 }).count++;
  }

  private api(apiKey: number): ApiChildren {
    let c = this.apiChildren[apiKey];
    if (c === undefined) {
      const name = (apis as Record<number, { name: string } | undefined>)[apiKey]?.name ?? String(apiKey);
      c = { name, latency: this.latency.of(name), versions: [] };
      this.apiChildren[apiKey] = c;
    }
    return c;
  }

  private topic(name: string): TopicCounts {
    let c = this.topicCounts.get(name);
    if (c === undefined) {
      c = { labels: { topic: name }, bytesIn: 0, messagesIn: 0, bytesOut: 0, messagesOut: 0 };
      this.topicCounts.set(name, c);
    }
    return c;
  }

  private listener(name: string): ListenerCount {
    let c = this.listenerCounts.get(name);
    if (c === undefined) {
      c = { labels: { listener: name }, open: 0, created: 0, closed: 0 };
      this.listenerCounts.set(name, c);
    }
    return c;
  }

  private error(api: string, code: number): void {
    const error = ERROR_NAMES.get(code) ?? String(code);
    const key = `${api}\0${error}`;
    let c = this.errorCounts.get(key);
    if (c === undefined) {
      c = { labels: { api, error }, count: 0 };
      this.errorCounts.set(key, c);
    }
    c.count++;
  }

  /** What the registry reads when scraped (live views: nothing is copied). */
  private counted(): Counted {
    const apis = this.apiChildren;
    return {
      latency: this.latency,
      *requests() {
        for (const api of apis) for (const v of api?.versions ?? []) if (v) yield v;
      },
      topics: () => this.topicCounts.values(),
      errors: () => this.errorCounts.values(),
      listeners: () => this.listenerCounts.values(),
    };
  }

  private topLevelError(api: string, response: object): void {
    const code = (response as { errorCode?: unknown }).errorCode;
    if (typeof code === "number" && code !== ErrorCode.NONE) this.error(api, code);
  }

  /**
   * Bytes and records in of the partitions appended, as Kafka counts them (after the append); the
   * answer lists topics and partitions in request order. acks=0 has no answer: every partition counts.
   */
  private produced(request: ProduceRequest, response: ProduceResponse | null): void {
    for (let t = 0; t < request.topicData.length; t++) {
      const data = request.topicData[t]!;
      const answers = response?.responses[t]?.partitionResponses;
      let bytes = 0;
      let messages = 0;
      for (let i = 0; i < data.partitionData.length; i++) {
        const code = answers?.[i]?.errorCode ?? ErrorCode.NONE;
        if (code !== ErrorCode.NONE) {
          this.error("Produce", code);
          continue;
        }
        const records = data.partitionData[i]!.records;
        if (records === null) continue;
        bytes += records.length;
        messages += countRecords(records);
      }
      const name = data.name !== "" ? data.name : this.source.topicName(data.topicId);
      if (name === undefined || (bytes === 0 && messages === 0)) continue;
      const c = this.topic(name);
      c.bytesIn += bytes;
      c.messagesIn += messages;
    }
  }

  /**
   * Bytes and records out per topic, and the error codes of the answer. As Kafka's BytesOutPerSec, what
   * followers fetch (replication) is not counted.
   */
  private fetched(request: FetchRequest, version: number, response: FetchResponse | null): void {
    if (response === null) return;
    if (response.errorCode !== ErrorCode.NONE) this.error("Fetch", response.errorCode);
    const replicaId = version >= 15 ? request.replicaState.replicaId : request.replicaId;
    for (const t of response.responses) {
      let bytes = 0;
      let messages = 0;
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE) this.error("Fetch", p.errorCode);
        const records = p.records;
        if (records === null || records.length === 0) continue;
        bytes += records.length;
        messages += countRecords(records);
      }
      if (bytes === 0 || replicaId >= 0) continue;
      const name = t.topic !== "" ? t.topic : this.source.topicName(t.topicId);
      if (name === undefined) continue;
      const c = this.topic(name);
      c.bytesOut += bytes;
      c.messagesOut += messages;
    }
  }
}
