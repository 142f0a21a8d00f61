#!/usr/bin/env node
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { Broker } from "./broker.js";
import { buildConfig, ConfigError, readPropertiesFile } from "./config.js";
import { Logger, type LogLevel } from "./logger.js";
import { parseAddScram } from "./security/scram.js";

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

/** `npm start`: run the broker. Flags override `--config FILE` (Kafka's server.properties keys). */
async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName("tskafka")
    .option("host", { type: "string", describe: "address to listen on (default from listeners: 127.0.0.1)" })
    .option("port", { type: "number", describe: "port to listen on (default 9092)" })
    .option("data-dir", { type: "string", describe: "the one log directory (log.dirs, default ./data)" })
    .option("node-id", { type: "number", describe: "this broker's node id (node.id, default 1)" })
    .option("config", { type: "string", describe: "a server.properties file" })
    .option("http-port", {
      type: "string",
      describe: "port of the HTTP listener (/metrics) on --host (http.listener); empty for none; npm start passes 9644",
    })
    .option("add-scram", {
      type: "string",
      array: true,
      describe: "MECHANISM=[name=<user>,password=<password>]: a SCRAM user to create at start-up if missing",
    })
    .option("log-level", { choices: ["debug", "info", "warn", "error"] as const, default: "info" as LogLevel })
    .strict()
    .help()
    .parseAsync();
  const log = new Logger(argv["log-level"]);
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
    log.info(`HTTP listener on ${broker.httpUrl}: metrics at ${broker.httpUrl}/metrics`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    broker.close().then(
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

main().catch((e: unknown) => {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`tskafka failed to start: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
