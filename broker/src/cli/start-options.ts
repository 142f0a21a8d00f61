import { parseArgs } from "node:util";
import type { Argv, Options } from "yargs";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../logger.js";

/**
 * The flags of `tskafka start` (and of plain `tskafka`, as `npm start` runs it), described once: yargs
 * builds the help and the checks of the full command line from this table, and `parseStartArgs` reads a
 * plain start's arguments against it without loading yargs.
 */
export const START_FLAGS = {
  host: { type: "string", describe: "address to listen on (default from listeners: 127.0.0.1)" },
  port: { type: "number", describe: "port to listen on (default 9092)" },
  "data-dir": { type: "string", describe: "the one log directory (log.dirs, default ./data)" },
  "node-id": { type: "number", describe: "this broker's node id (node.id, default 1)" },
  config: { type: "string", describe: "a server.properties file" },
  "http-port": {
    type: "string",
    describe:
      "port of the HTTP listener (console at /, metrics at /metrics) on --host (http.listener); empty for none; npm start passes 9644",
  },
  "add-scram": {
    type: "string",
    array: true,
    describe: "MECHANISM=[name=<user>,password=<password>]: a SCRAM user to create at start-up if missing",
  },
  "log-level": { choices: LOG_LEVELS, default: "info" as LogLevel },
  "log-format": {
    choices: LOG_FORMATS,
    default: "text" as LogFormat,
    describe: "text lines, or one JSON object per line",
  },
} as const satisfies Record<string, Options>;

export function startOptions<T>(y: Argv<T>) {
  return y.options(START_FLAGS);
}

export interface StartArgs {
  host?: string | undefined;
  port?: number | undefined;
  "data-dir"?: string | undefined;
  "node-id"?: number | undefined;
  config?: string | undefined;
  "http-port"?: string | string[] | undefined;
  "add-scram"?: string[] | undefined;
  "log-level": LogLevel;
  "log-format": LogFormat;
}

type Flag = { type?: "string" | "number"; array?: true; choices?: readonly string[]; default?: string };

/**
 * The arguments of a plain start (`tskafka [start] [--flag value]...`), or undefined when the command
 * line needs yargs: help, a client command, or anything yargs would reject or read differently (an
 * unknown flag, a bad choice, a number that is not an integer); yargs then answers as it always has.
 * Loading yargs costs a start ~4 MiB and ~150 ms for a help text that `npm start` never prints.
 */
export function parseStartArgs(argv: readonly string[]): StartArgs | undefined {
  const flags = Object.entries(START_FLAGS) as [string, Flag][];
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(flags.map(([name, f]) => [name, { type: "string", multiple: f.array === true }])),
    });
  } catch {
    return undefined;
  }
  const { positionals, values } = parsed;
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== "start")) return undefined;
  const out: Record<string, unknown> = {};
  for (const [name, f] of flags) {
    const v = values[name] as string | string[] | undefined;
    if (v === undefined) {
      if (f.default !== undefined) out[name] = f.default;
    } else if (typeof v !== "string") {
      out[name] = v;
    } else if (f.type === "number") {
      const n = Number(v);
      if (v.trim() === "" || !Number.isSafeInteger(n)) return undefined;
      out[name] = n;
    } else if (f.choices !== undefined && !f.choices.includes(v)) {
      return undefined;
    } else {
      out[name] = v;
    }
  }
  return out as unknown as StartArgs;
}
