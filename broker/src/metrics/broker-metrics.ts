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
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { ErrorCode } from "../errors.js";
import { countRecords } from "./record-count.js";
import { collectedMetrics, type MetricsSource } from "./collected.js";
import { LatencyHistogram, type HistogramSeries } from "./latency-histogram.js";
import type { TopicTotals } from "./throughput.js";

export type { MetricsSource } from "./collected.js";

/**
 * One broker's Prometheus metrics, in a registry of its own (two brokers in one process never mix):
 * traffic per topic, requests, latency and errors per API, connections per listener, and what is
 * collected when scraped (partitions, log sizes, consumer lag, prom-client's process metrics).
 *
 * The hot path only adds to plain numbers, kept per API and version and per topic (objects made on
 * first use); prom-client's counters get them when scraped, and request latency is a histogram of our
 * own (latency-histogram.ts). A prom-client child's `inc` or `observe` builds its label key on every
 * call (about 270 ns, measured), which a request should not pay four times.
 * Rarer events (errors, connections) go to prom-client directly.
 */

/** Latency buckets in seconds: sub-millisecond produces up to long-polling fetches. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Kafka's error names by code, for the `error` label. */
const ERROR_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

type CounterChild = ReturnType<Counter["labels"]>;
type GaugeChild = ReturnType<Gauge["labels"]>;

/** Requests of one API version so far. */
interface VersionCount {
  readonly labels: { readonly api: string; readonly version: string };
  count: number;
}

/** One API's latency child and request counts per version (made on first use). */
interface ApiChildren {
  readonly name: string;
  readonly latency: HistogramSeries;
  readonly versions: (VersionCount | undefined)[];
}

/** One topic's traffic so far. */
interface TopicCounts {
  readonly labels: { readonly topic: string };
  bytesIn: number;
  messagesIn: number;
  bytesOut: number;
  messagesOut: number;
}

type TopicField = "bytesIn" | "messagesIn" | "bytesOut" | "messagesOut";

interface ListenerChildren {
  readonly open: GaugeChild;
  readonly created: CounterChild;
  readonly closed: CounterChild;
}

export class BrokerMetrics {
  /** This broker's registry: what `/metrics` serves. */
  readonly registry = new Registry();
  private readonly latency: LatencyHistogram;
  private readonly errors: Counter<"api" | "error">;
  private readonly connectionsOpen: Gauge<"listener">;
  private readonly connectionsCreated: Counter<"listener">;
  private readonly connectionsClosed: Counter<"listener">;
  private readonly apiChildren: (ApiChildren | undefined)[] = [];
  private readonly topicCounts = new Map<string, TopicCounts>();
  private readonly listenerChildren = new Map<string, ListenerChildren>();

  constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    const apiChildren = this.apiChildren;
    new Counter({
      name: "tskafka_requests_total",
      help: "Requests handled, per API and version.",
      labelNames: ["api", "version"],
      registers,
      collect() {
        this.reset();
        for (const api of apiChildren) for (const v of api?.versions ?? []) if (v) this.inc(v.labels, v.count);
      },
    });
    this.latency = new LatencyHistogram(
      "tskafka_request_duration_seconds",
      "Time from a decoded request to its response, per API (Fetch includes its wait for data).",
      "api",
      LATENCY_BUCKETS,
      this.registry,
    );
    this.errors = new Counter({
      name: "tskafka_request_errors_total",
      help: "Error codes answered, per API and Kafka error: top-level ones, and per partition for Produce and Fetch.",
      labelNames: ["api", "error"],
      registers,
    });
    const topics = this.topicCounts;
    const perTopic = (name: string, help: string, field: TopicField): void => {
      new Counter({
        name,
        help,
        labelNames: ["topic"],
        registers,
        collect() {
          this.reset();
          for (const t of topics.values()) this.inc(t.labels, t[field]);
        },
      });
    };
    perTopic("tskafka_topic_bytes_in_total", "Record bytes appended by Produce, per topic.", "bytesIn");
    perTopic("tskafka_topic_messages_in_total", "Records appended by Produce, per topic.", "messagesIn");
    perTopic("tskafka_topic_bytes_out_total", "Record bytes returned to consumers by Fetch, per topic.", "bytesOut");
    perTopic(
      "tskafka_topic_messages_out_total",
      "Records returned to consumers by Fetch, per topic (from batch headers; control batches not counted).",
      "messagesOut",
    );
    this.connectionsOpen = new Gauge({
      name: "tskafka_connections_open",
      help: "Client connections open, per listener.",
      labelNames: ["listener"],
      registers,
    });
    this.connectionsCreated = new Counter({
      name: "tskafka_connections_created_total",
      help: "Client connections accepted, per listener.",
      labelNames: ["listener"],
      registers,
    });
    this.connectionsClosed = new Counter({
      name: "tskafka_connections_closed_total",
      help: "Client connections closed, per listener.",
      labelNames: ["listener"],
      registers,
    });
    collectedMetrics(this.registry, source);
    collectDefaultMetrics({ register: this.registry });
  }

  /** Bytes in and out of every topic so far (what the console's sparklines sample). */
  *topicTotals(): Generator<TopicTotals> {
    for (const t of this.topicCounts.values())
      yield { topic: t.labels.topic, bytesIn: t.bytesIn, bytesOut: t.bytesOut };
  }

  /** The Prometheus text of every metric, collected ones freshly computed. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  connectionOpened(listener: string): void {
    const c = this.listener(listener);
    c.open.inc();
    c.created.inc();
  }

  connectionClosed(listener: string): void {
    const c = this.listener(listener);
    c.open.dec();
    c.closed.inc();
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

  private listener(name: string): ListenerChildren {
    let c = this.listenerChildren.get(name);
    if (c === undefined) {
      c = {
        open: this.connectionsOpen.labels(name),
        created: this.connectionsCreated.labels(name),
        closed: this.connectionsClosed.labels(name),
      };
      this.listenerChildren.set(name, c);
    }
    return c;
  }

  private error(api: string, code: number): void {
    this.errors.inc({ api, error: ERROR_NAMES.get(code) ?? String(code) });
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
