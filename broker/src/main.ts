#!/usr/bin/env -S node --max-semi-space-size=1
import type { Argv } from "yargs";
import type { KafkaAdmin } from "./cli/kafka-admin.js";
import { RECORD_FORMATS } from "./cli/record-format.js";
import { parseStartArgs, startOptions } from "./cli/start-options.js";

/**
 * The `tskafka` command: `start` (also plain `tskafka` with its flags, as `npm start` runs it) runs the
 * broker; `topics`, `produce`, `consume` and `groups` are Kafka clients over our codecs, so they work
 * against any Kafka broker, over PLAINTEXT or as --command-config says (TLS, SASL).
 */

const out = (s: string): void => void process.stdout.write(s);

/** Runs a client command with a connection to --bootstrap-server (as --command-config says), closed afterwards. */
async function withAdmin(
  a: { "bootstrap-server": string; "command-config"?: string | undefined },
  fn: (admin: KafkaAdmin) => Promise<unknown>,
): Promise<void> {
  // Loaded here, not at the top: `start` needs none of the client commands' modules.
  const { PLAINTEXT, readCommandConfig } = await import("./cli/client-security.js");
  const { KafkaAdmin } = await import("./cli/kafka-admin.js");
  const file = a["command-config"];
  const security = file === undefined ? PLAINTEXT : readCommandConfig(file);
  const admin = await KafkaAdmin.connect(a["bootstrap-server"], "tskafka-cli", security);
  try {
    await fn(admin);
  } finally {
    admin.close();
  }
}

/** Aborted on the first SIGINT or SIGTERM, so `consume` leaves its group and commits before it exits. */
function stopSignal(): AbortSignal {
  const stop = new AbortController();
  const abort = (): void => stop.abort();
  process.once("SIGINT", abort).once("SIGTERM", abort);
  return stop.signal;
}

function bootstrapOption<T>(y: Argv<T>) {
  return y
    .option("bootstrap-server", {
      alias: "b",
      type: "string",
      default: "127.0.0.1:9092",
      describe: "HOST:PORT of a broker's listener",
    })
    .option("command-config", {
      type: "string",
      describe: "Kafka client properties: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.*",
    });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // A plain start (what `npm start` runs) does without yargs; everything else goes through it.
  const start = parseStartArgs(argv);
  if (start !== undefined) return (await import("./cli/start.js")).runStart(start);
  const { default: yargs } = await import("yargs");
  await yargs(argv)
    .scriptName("tskafka")
    .command(
      ["start", "$0"],
      "run the broker (the default command)",
      (y: Argv) => startOptions(y),
      async (a) => (await import("./cli/start.js")).runStart(a),
    )
    .command(
      "topics <action> [name]",
      "list, create, describe or delete topics",
      (y) =>
        bootstrapOption(y)
          .positional("action", { choices: ["list", "create", "describe", "delete"] as const, demandOption: true })
          .positional("name", { type: "string" })
          .option("partitions", { alias: "p", type: "number", default: 1 })
          .option("replication-factor", {
            alias: "r",
            type: "number",
            default: -1,
            describe: "-1: the broker's default",
          })
          .option("config", { alias: "c", type: "string", array: true, default: [] as string[], describe: "KEY=VALUE" })
          .option("internal", { type: "boolean", default: false, describe: "list internal topics too" }),
      (a) =>
        withAdmin(a, async (admin) =>
          (await import("./cli/topics.js")).runTopics(
            admin,
            {
              action: a.action,
              name: a.name,
              partitions: a.partitions,
              replicationFactor: a["replication-factor"],
              config: a.config,
              internal: a.internal,
            },
            out,
          ),
        ),
    )
    .command(
      "produce <topic>",
      "produce one record per line of stdin",
      (y) =>
        bootstrapOption(y)
          .positional("topic", { type: "string", demandOption: true })
          .option("key", { alias: "k", type: "string", describe: "the key of every record (picks the partition)" })
          .option("header", { alias: "H", type: "string", array: true, default: [] as string[], describe: "KEY=VALUE" })
          .option("partition", { type: "number", describe: "default: by key, else round robin" })
          .option("json", { type: "boolean", default: false, describe: "check that every line is JSON" }),
      (a) =>
        withAdmin(a, async (admin) =>
          (await import("./cli/produce.js")).runProduce(
            admin,
            { topic: a.topic, key: a.key, header: a.header, partition: a.partition, json: a.json },
            process.stdin,
            (s) => void process.stderr.write(s),
          ),
        ),
    )
    .command(
      "consume <topic>",
      "print records as they arrive",
      (y) =>
        bootstrapOption(y)
          .positional("topic", { type: "string", demandOption: true })
          .option("from-beginning", { type: "boolean", default: false })
          .option("group", {
            alias: "g",
            type: "string",
            describe: "consume as a member of this consumer group, committing offsets",
          })
          .option("group-protocol", {
            choices: ["consumer", "classic"] as const,
            default: "consumer" as const,
            describe: "consumer: KIP-848, the broker assigns; classic: JoinGroup/SyncGroup, range assignor",
          })
          .option("max-messages", { alias: "n", type: "number" })
          .option("partition", { type: "number" })
          .option("format", { alias: "f", choices: RECORD_FORMATS, default: "text" as const })
          .option("print-key", { type: "boolean", default: false, describe: "text and hex: KEY<tab>VALUE" })
          .option("timeout-ms", { type: "number", describe: "stop after this long without a record" }),
      (a) =>
        withAdmin(a, async (admin) =>
          (await import("./cli/consume.js")).runConsume(
            admin,
            {
              topic: a.topic,
              fromBeginning: a["from-beginning"],
              group: a.group,
              groupProtocol: a["group-protocol"],
              maxMessages: a["max-messages"],
              partition: a.partition,
              format: a.format,
              printKey: a["print-key"],
              timeoutMs: a["timeout-ms"],
            },
            out,
            stopSignal(),
          ),
        ),
    )
    .command(
      "groups <action> [group]",
      "list groups, describe one with its lag, reset its offsets",
      (y) =>
        bootstrapOption(y)
          .positional("action", { choices: ["list", "describe", "reset-offsets"] as const, demandOption: true })
          .positional("group", { type: "string" })
          .option("topic", { alias: "t", type: "string" })
          .option("to-earliest", { type: "boolean", default: false })
          .option("to-latest", { type: "boolean", default: false })
          .option("to-offset", { type: "number" })
          .option("execute", { type: "boolean", default: false, describe: "apply the reset (else a dry run)" }),
      (a) =>
        withAdmin(a, async (admin) =>
          (await import("./cli/groups.js")).runGroups(
            admin,
            {
              action: a.action,
              group: a.group,
              topic: a.topic,
              toEarliest: a["to-earliest"],
              toLatest: a["to-latest"],
              toOffset: a["to-offset"],
              execute: a.execute,
            },
            out,
          ),
        ),
    )
    .strict()
    .help()
    // A failed command prints its error, not the usage (usage is for bad flags).
    .fail((msg, err) => {
      if (err !== undefined && err !== null) throw err;
      process.stderr.write(`${msg} (tskafka --help)\n`);
      process.exit(64);
    })
    .parseAsync();
}

main().catch((e: unknown) => {
  // ConfigError, by name: the client commands do not load the broker's config modules.
  if (e instanceof Error && e.name === "ConfigError") {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  const err = e as Error;
  process.stderr.write(
    `tskafka: ${err.constructor.name === "Error" || err.name === "Error" ? err.message : (err.stack ?? String(e))}\n`,
  );
  process.exit(1);
});
