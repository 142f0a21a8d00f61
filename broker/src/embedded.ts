import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "./broker.js";
import { buildConfig } from "./config.js";
import { Logger, type LogLevel } from "./logger.js";

/** Options of {@link startBroker}; every one may be left out. */
export interface StartBrokerOptions {
  /**
   * server.properties keys and their values, as a `--config` file gives them: the same keys, the same
   * checks (a bad value rejects with a `ConfigError` naming the key; an unknown key is logged and
   * ignored). `http.listener` (tskafka's own key, `http://127.0.0.1:0` say) turns the metrics
   * listener on; it is off otherwise.
   */
  readonly config?: Readonly<Record<string, string | number | boolean>>;
  /** Where the logs live; a new temporary directory, removed by `stop()`, when neither this nor `log.dirs` is given. */
  readonly dataDir?: string;
  /** Address of the first listener; `127.0.0.1` unless `listeners` in `config` says otherwise. */
  readonly host?: string;
  /** Port of the first listener; 0 (a free one) unless `listeners` in `config` says otherwise. */
  readonly port?: number;
  /** What the broker logs on stderr; `warn` by default, so tests stay quiet. */
  readonly logLevel?: LogLevel;
}

/** A broker running in this process, as {@link startBroker} answers it. */
export interface EmbeddedBroker {
  /** `host:port` of the first listener (loopback when it listens on every interface), for a client's bootstrap servers. */
  readonly bootstrap: string;
  readonly host: string;
  /** The port the first listener is bound to. */
  readonly port: number;
  readonly dataDir: string;
  /** The HTTP listener's URL (metrics at `${httpUrl}/metrics`), undefined when it is off. */
  readonly httpUrl: string | undefined;
  /**
   * Stops the broker: closes its listeners and client connections, its timers and its files, and
   * removes the data directory when it was a temporary one. Afterwards nothing of it keeps the process
   * alive. Calling it again answers the same promise.
   */
  stop(): Promise<void>;
}

/**
 * Starts a broker inside this process, by default on a free port of 127.0.0.1 with a temporary data
 * directory: for tests and tools that need a real Kafka-compatible broker without a JVM or a child
 * process. Brokers started in one process share no state.
 *
 * @example
 * ```ts
 * import { startBroker } from "tskafka";
 * const broker = await startBroker({ config: { "num.partitions": 3 } });
 * // ... new Kafka({ brokers: [broker.bootstrap] }) ...
 * await broker.stop();
 * ```
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<EmbeddedBroker> {
  const file = new Map(Object.entries(options.config ?? {}).map(([k, v]) => [k, String(v)]));
  const temporary = options.dataDir === undefined && !file.has("log.dirs");
  const dataDir = options.dataDir ?? file.get("log.dirs") ?? (await mkdtemp(join(tmpdir(), "tskafka-")));
  const removeTemp = (): Promise<void> =>
    temporary ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve();
  const log = new Logger(options.logLevel ?? "warn");
  const own = !file.has("listeners");
  let broker: Broker | undefined;
  try {
    const config = buildConfig({
      file,
      dataDir,
      ...(options.host !== undefined || own ? { host: options.host ?? "127.0.0.1" } : {}),
      ...(options.port !== undefined || own ? { port: options.port ?? 0 } : {}),
      warn: (m) => log.warn(m),
    });
    broker = await Broker.open(config, log);
    await broker.listen();
  } catch (e) {
    await broker?.close().catch(() => undefined);
    await removeTemp();
    throw e;
  }
  const started = broker;
  const { host: bound, port } = started.config;
  // A listener on every interface is reached on loopback.
  const host = bound === "" || bound === "0.0.0.0" || bound === "::" ? "127.0.0.1" : bound;
  let stopped: Promise<void> | undefined;
  return {
    bootstrap: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    host,
    port,
    dataDir,
    httpUrl: started.httpUrl,
    stop: () => (stopped ??= started.close().then(removeTemp)),
  };
}
