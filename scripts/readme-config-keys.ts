// `npx tsx scripts/readme-config-keys.ts [--write]`: the README's table of server.properties keys
// (section "Options"), generated from the config table, broker/src/config-keys.ts. Prints the table;
// with --write, puts it in README.md between the config-keys markers and touches nothing else there.
// broker/test/config-table.test.ts fails when the README's table is not what this prints.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BROKER_KEYS, BROKER_KEY_NAMES, type BrokerKeyDef } from "../broker/src/config-keys.js";

const README = fileURLToPath(new URL("../README.md", import.meta.url));
const START = "<!-- config-keys:start -->";
const END = "<!-- config-keys:end -->";

/** Markdown's special characters of plain text escaped (`__consumer_offsets` is not bold). */
const cell = (text: string): string => text.replace(/[|_*]/g, (c) => `\\${c}`);

function row(name: string, def: BrokerKeyDef): string {
  const dflt = def.default === null || def.default === "" ? "" : `\`${def.default}\``;
  const dynamic = def.dynamic === "cluster-wide" ? "cluster-wide or per broker" : "no";
  const topic = def.topic === undefined ? "" : ` Topic config: \`${def.topic.name}\`.`;
  return `| \`${name}\` | ${dflt} | ${dynamic} | ${cell(def.doc)}${topic} |`;
}

export function configKeysTable(): string {
  const rows = BROKER_KEY_NAMES.map((name) => row(name, BROKER_KEYS[name]));
  return ["| key | default | changed at runtime | what it does |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

/** `text` with the part between the markers replaced by `table`. */
function withTable(text: string, table: string): string {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md: no ${START} ... ${END} section`);
  return `${text.slice(0, start + START.length)}\n${table}\n${text.slice(end)}`;
}

const table = configKeysTable();
if (process.argv.includes("--write")) writeFileSync(README, withTable(readFileSync(README, "utf8"), table));
else process.stdout.write(`${table}\n`);
