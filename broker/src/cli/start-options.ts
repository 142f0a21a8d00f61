import type { Argv } from "yargs";
import type { LogFormat, LogLevel } from "../logger.js";

/** The flags of `tskafka start` (and of plain `tskafka`, as `npm start` runs it). */
export function startOptions<T>(y: Argv<T>) {
  return y
    .option("host", { type: "string", describe: "address to listen on (default from listeners: 127.0.0.1)" })
    .option("port", { type: "number", describe: "port to listen on (default 9092)" })
    .option("data-dir", { type: "string", describe: "the one log directory (log.dirs, default ./data)" })
    .option("node-id", { type: "number", describe: "this broker's node id (node.id, default 1)" })
    .option("config", { type: "string", describe: "a server.properties file" })
    .option("http-port", {
      type: "string",
      describe:
        "port of the HTTP listener (console at /, metrics at /metrics) on --host (http.listener); empty for none; npm start passes 9644",
    })
    .option("add-scram", {
      type: "string",
      array: true,
      describe: "MECHANISM=[name=<user>,password=<password>]: a SCRAM user to create at start-up if missing",
    })
    .option("log-level", { choices: ["debug", "info", "warn", "error"] as const, default: "info" as LogLevel })
    .option("log-format", {
      choices: ["text", "json"] as const,
      default: "text" as LogFormat,
      describe: "text lines, or one JSON object per line",
    });
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
