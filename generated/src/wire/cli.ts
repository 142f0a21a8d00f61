#!/usr/bin/env node
// `wire`: look at Kafka frames from the command line.
//   wire apis [--json]                         every API key, its versions and the Kafka releases defining them
//   wire decode [--hex] [--check] < FRAME      one size-prefixed request frame from stdin, as JSON
//   wire decode --response --api K --version V  a response frame (its API and version are not on the wire)
// Argument parsing is node:util's, so the package needs no command-line library.
import { parseArgs } from "node:util";
import { apis, apiInfo } from "../gen/apis.js";
import { decodeRequestFrame, decodeResponseFrame, encodeRequestFrame, encodeResponseFrame } from "../frames.js";
import { DecodeError, UnsupportedVersionError } from "../runtime/errors.js";

const USAGE = `usage:
  wire apis [--json]
  wire decode [--hex] [--check] < request-frame
  wire decode --response --api KEY --version V [--hex] [--check] < response-frame

  --hex      stdin is hex text (whitespace ignored) instead of raw bytes
  --check    re-encode the decoded frame and fail unless it is identical to the input
JSON output writes int64 values as strings and bytes as {"$hex": "..."}.`;

class UsageError extends Error {}

function range(r: { min: number; max: number } | null): string {
  return r === null ? "none" : r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`;
}

function listApis(json: boolean): string {
  const rows = Object.values(apis).map((a) => ({
    apiKey: a.apiKey,
    name: a.name,
    validVersions: a.validVersions,
    flexibleVersions: a.flexibleVersions,
    latestVersionUnstable: a.latestVersionUnstable,
    releases: a.releases,
  }));
  if (json) return JSON.stringify(rows, null, 2);
  const width = Math.max(...rows.map((r) => r.name.length));
  const releases = (r: (typeof rows)[number]): string =>
    r.releases.map((x) => `${x.release}: v${range(x.versions)}`).join(", ") +
    (r.latestVersionUnstable ? " (latest unstable)" : "");
  return rows
    .map(
      (r) =>
        `${String(r.apiKey).padStart(3)}  ${r.name.padEnd(width)}  v${range(r.validVersions)}  flexible ${range(r.flexibleVersions)}  ${releases(r)}`,
    )
    .join("\n");
}

/** JSON.stringify replacer: bigints as strings, buffers as hex under a marker key. */
function replacer(this: unknown, key: string, value: unknown): unknown {
  // Buffer.toJSON has already run on `value`; the holder still has the buffer itself.
  const raw = (this as Record<string, unknown>)[key];
  if (Buffer.isBuffer(raw)) return { $hex: raw.toString("hex") };
  if (typeof value === "bigint") return value.toString();
  return value;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseHex(text: string): Buffer {
  const clean = text.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new UsageError("--hex input is not an even number of hex digits");
  return Buffer.from(clean, "hex");
}

function intOption(value: string | undefined, name: string): number {
  if (value === undefined) throw new UsageError(`--response needs --${name}`);
  if (!/^\d+$/.test(value))
    throw new UsageError(`--${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
  return Number(value);
}

/** The first offset where two buffers differ, or -1 when they are identical. */
function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

interface DecodeOptions {
  readonly response: boolean;
  readonly api?: string | undefined;
  readonly version?: string | undefined;
  readonly hex: boolean;
  readonly check: boolean;
}

/** Returns the text to print and the exit code. */
function decode(input: Buffer, o: DecodeOptions): { out: string; code: number } {
  const frame = o.hex ? parseHex(input.toString("utf8")) : input;
  let json: unknown;
  let again: Buffer;
  if (o.response) {
    const apiKey = intOption(o.api, "api");
    const apiVersion = intOption(o.version, "version");
    const decoded = decodeResponseFrame(frame, apiKey, apiVersion);
    json = { apiKey, apiName: apiInfo(apiKey)?.name, apiVersion, header: decoded.header, body: decoded.body };
    again = o.check ? encodeResponseFrame(decoded.header, decoded.body, apiKey, apiVersion) : frame;
  } else {
    if (o.api !== undefined || o.version !== undefined) throw new UsageError("--api and --version go with --response");
    const decoded = decodeRequestFrame(frame);
    json = {
      apiKey: decoded.apiKey,
      apiName: apiInfo(decoded.apiKey)?.name,
      apiVersion: decoded.apiVersion,
      header: decoded.header,
      body: decoded.body,
    };
    again = o.check ? encodeRequestFrame(decoded.header, decoded.body) : frame;
  }
  if (!o.check) return { out: JSON.stringify(json, replacer, 2), code: 0 };
  const at = firstDifference(again, frame);
  if (at < 0) return { out: `identical: ${frame.length} bytes re-encode to the same frame`, code: 0 };
  const show = (b: Buffer): string => (at < b.length ? `0x${b[at]!.toString(16).padStart(2, "0")}` : "end of frame");
  return {
    out: `differs at byte ${at}: input has ${show(frame)}, re-encoded has ${show(again)} (input ${frame.length} bytes, re-encoded ${again.length})`,
    code: 1,
  };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      response: { type: "boolean", default: false },
      api: { type: "string" },
      version: { type: "string" },
      hex: { type: "boolean", default: false },
      check: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  switch (command) {
    case "apis":
      process.stdout.write(`${listApis(values.json)}\n`);
      return 0;
    case "decode": {
      const { out, code } = decode(await readStdin(), values);
      (code === 0 ? process.stdout : process.stderr).write(`${out}\n`);
      return code;
    }
    default:
      throw new UsageError(command === undefined ? "no command" : `unknown command ${command}`);
  }
}

// Output piped into `head` and the like may be cut short; that is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof DecodeError || e instanceof UnsupportedVersionError) {
      process.stderr.write(`wire: cannot decode: ${e.message}\n`);
      process.exitCode = 2;
    } else if (
      e instanceof UsageError ||
      (e instanceof TypeError && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      process.stderr.write(`wire: ${e.message}\n${USAGE}\n`);
      process.exitCode = 64;
    } else {
      throw e;
    }
  },
);
