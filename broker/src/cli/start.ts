import { Broker } from "../broker.js";
import { buildConfig, ConfigError, readPropertiesFile } from "../config.js";
import { Logger } from "../logger.js";
import type { StartArgs } from "./start-options.js";
import { parseAddScram } from "../security/scram.js";

/**
 * `--add-scram 'SCRAM-SHA-512=[name=alice,password=...]'` (Kafka's `kafka-storage format --add-scram`):
 * the credential is stored unless the user already has one of that mechanism, so a restart with the
 * same flag does not undo a later password change.
 */
async function addScramUsers(broker: Broker, specs: readonly string[], log: Logger): Promise<void> {
  for (const spec of specs) {
    let parsed;
    try {
      parsed = parseAddScram(spec);
    } catch (e) {
      throw new ConfigError(`--add-scram ${spec}: ${(e as Error).message}`);
    }
    const { user, credential } = parsed;
    if (broker.metadata.scramCredentials(user).some((c) => c.credential.mechanism === credential.mechanism)) continue;
    await broker.metadata.alterScramCredentials([{ user, credential }], []);
    log.info(`--add-scram: stored the ${credential.mechanism} credential of ${user}`);
  }
}

/** `tskafka start`: run the broker. Flags override `--config FILE` (Kafka's server.properties keys). */
export async function runStart(argv: StartArgs): Promise<void> {
  const log = new Logger(argv["log-level"], argv["log-format"]);
  // Handled from the first moment: a client may connect as soon as a listener is bound, before start-up
  // has finished, and a SIGTERM then must still stop the broker cleanly (once it is up), not kill it.
  let up!: (broker: Broker) => void;
  stopOnSignals(new Promise<Broker>((resolve) => (up = resolve)), log);
  // The last --http-port wins, so that `npm start -- --http-port ...` overrides the script's own.
  const httpFlag = argv["http-port"] as string | string[] | undefined;
  const httpPort = Array.isArray(httpFlag) ? httpFlag.at(-1) : httpFlag;
  const config = buildConfig({
    ...(argv.config !== undefined ? { file: readPropertiesFile(argv.config) } : {}),
    ...(argv.host !== undefined ? { host: argv.host } : {}),
    ...(argv.port !== undefined ? { port: argv.port } : {}),
    ...(argv["data-dir"] !== undefined ? { dataDir: argv["data-dir"] } : {}),
    ...(argv["node-id"] !== undefined ? { nodeId: argv["node-id"] } : {}),
    ...(httpPort !== undefined ? { httpPort } : {}),
    warn: (m) => log.warn(m),
  });
  const broker = await Broker.open(config, log);
  await addScramUsers(broker, argv["add-scram"] ?? [], log);
  const bound = await broker.listen();
  const { host, port } = bound[0]!;
  log.info(
    `tskafka node ${config.nodeId} listening on ${host}:${port} (advertised ${broker.config.advertisedHost}:${broker.config.advertisedPort}), logs in ${config.logDirs.join(", ")}`,
  );
  for (const [i, l] of bound.entries()) {
    const a = broker.config.listeners[i]!;
    log.info(
      `listener ${l.name} (${l.protocol}) on ${l.host}:${l.port}, advertised ${a.advertisedHost}:${a.advertisedPort}`,
    );
  }

  if (broker.httpUrl !== undefined)
    log.info(`HTTP listener on ${broker.httpUrl}: console at ${broker.httpUrl}/, metrics at ${broker.httpUrl}/metrics`);

  up(broker);
}

/** SIGTERM or SIGINT: close the broker (once it has started) and exit 0, or 1 when closing failed. */
function stopOnSignals(started: Promise<Broker>, log: Logger): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    started
      .then((broker) => broker.close())
      .then(
        () => {
          log.info("stopped cleanly");
          process.exit(0);
        },
        (e: unknown) => {
          log.error(`shutdown failed: ${(e as Error).stack ?? String(e)}`);
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
