#!/usr/bin/env node
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { loadSchemas, SCHEMA_FOLDERS } from "./load.js";
import { lockDrift, readLock, writeLock } from "./lock.js";
import { compareAll, generateAll, writeAll } from "./project.js";
import { SchemaError } from "./schema.js";

/** The codegen CLI: `generate` (default), `check`, `lock`, and `fetch` for the schema inputs. */

const GENERATOR_VERSION = "0.1.0";
const DEFAULT_SCHEMAS = "schemas/kafka";
const LOCK = "schemas/kafka.lock.json";

async function load(root: string, schemaDir: string, updateLock: boolean) {
  const lockPath = join(root, LOCK);
  const lock = await readLock(lockPath);
  const schemas = await loadSchemas(join(root, schemaDir));
  if (updateLock) {
    await writeLock(lockPath, lock.kafkaVersion, schemas);
    return { schemas, kafkaVersion: lock.kafkaVersion };
  }
  const drift = lockDrift(lock, schemas);
  if (drift.length > 0) {
    throw new SchemaError(
      `the schemas in ${schemaDir} are not the ones ${LOCK} pins (Kafka ${lock.kafkaVersion}):\n${drift.join("\n")}\n` +
        "Fetch the pinned ones with `npm run schemas:fetch`, or accept new ones with `npm run codegen -- --update-lock`.",
    );
  }
  return { schemas, kafkaVersion: lock.kafkaVersion };
}

async function fetchFromDir(from: string, to: string): Promise<number> {
  await rm(to, { recursive: true, force: true });
  let n = 0;
  for (const folder of SCHEMA_FOLDERS) {
    const src = join(from, folder);
    if (!existsSync(src)) throw new Error(`${src}: missing (expected Kafka's ${folder}/ schema folder)`);
    await mkdir(join(to, folder), { recursive: true });
    for (const name of await readdir(src)) {
      if (!name.endsWith(".json")) continue;
      await cp(join(src, name), join(to, folder, name));
      n++;
    }
  }
  for (const extra of ["LICENSE", "NOTICE"]) if (existsSync(join(from, extra))) await cp(join(from, extra), join(to, extra));
  return n;
}

/**
 * Extracts the schema files from Kafka's jars, brought by Maven: kafka-clients holds `common/message/`,
 * the coordinators' jars hold their record schemas. The four test messages ship in no jar; they are
 * taken from `--from` when given.
 */
async function fetchFromMaven(version: string, to: string): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), "tskafka-schemas-"));
  try {
    const jars: [string, string, RegExp][] = [
      ["kafka-clients", "message", /^common\/message\/[A-Za-z]+\.json$/],
      ["kafka-group-coordinator", "group-coordinator", /^common\/message\/[A-Za-z]+\.json$/],
      ["kafka-transaction-coordinator", "transaction-coordinator", /^common\/message\/[A-Za-z]+\.json$/],
    ];
    let n = 0;
    for (const [artifact, folder, pattern] of jars) {
      execFileSync(
        "mvn",
        ["-q", "dependency:copy", `-Dartifact=org.apache.kafka:${artifact}:${version}`, `-DoutputDirectory=${work}`],
        { stdio: "inherit" },
      );
      const jar = join(work, `${artifact}-${version}.jar`);
      const listing = execFileSync("unzip", ["-Z1", jar], { encoding: "utf8" }).split("\n").filter((l) => pattern.test(l));
      const dest = join(to, folder);
      await rm(dest, { recursive: true, force: true });
      await mkdir(dest, { recursive: true });
      execFileSync("unzip", ["-q", "-j", "-o", jar, ...listing, "-d", dest]);
      n += listing.length;
    }
    return n;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function reportDrift(drift: Awaited<ReturnType<typeof compareAll>>): boolean {
  const problems = drift.missing.length + drift.stale.length + drift.changed.length;
  if (problems === 0) return true;
  console.error(`generated/ differs from what the generator produces (${problems} files):`);
  for (const f of drift.missing) console.error(`  missing  ${f}`);
  for (const f of drift.stale) console.error(`  stale    ${f}`);
  for (const c of drift.changed.slice(0, 50)) {
    console.error(`  changed  ${c.path}:${c.line}`);
    console.error(`    expected: ${c.expected.trim()}`);
    console.error(`    on disk:  ${c.actual.trim()}`);
  }
  if (drift.changed.length > 50) console.error(`  ... and ${drift.changed.length - 50} more changed files`);
  console.error("Run `npm run codegen` and commit the result.");
  return false;
}

async function main(): Promise<void> {
  const root = process.cwd();
  await yargs(hideBin(process.argv))
    .scriptName("codegen")
    .option("schemas", { type: "string", default: DEFAULT_SCHEMAS, describe: "schema root (message/, group-coordinator/, ...)" })
    .command(
      ["generate", "$0"],
      "regenerate generated/ from the schemas",
      (y) => y.option("update-lock", { type: "boolean", default: false, describe: "accept the schemas as they are and rewrite the lock" }),
      async (argv) => {
        const started = Date.now();
        const { schemas, kafkaVersion } = await load(root, argv.schemas, argv["update-lock"]);
        const files = await generateAll(schemas, { kafkaVersion, generatorVersion: GENERATOR_VERSION });
        const { written, removed } = await writeAll(root, files);
        console.log(
          `codegen: ${schemas.length} schemas -> ${files.size} files (${written} written, ${removed} removed) in ${Date.now() - started} ms`,
        );
      },
    )
    .command(
      "check",
      "exit 1 when generated/ differs from what the generator produces",
      (y) => y,
      async (argv) => {
        const { schemas, kafkaVersion } = await load(root, argv.schemas, false);
        const files = await generateAll(schemas, { kafkaVersion, generatorVersion: GENERATOR_VERSION });
        if (!reportDrift(await compareAll(root, files))) process.exitCode = 1;
        else console.log(`codegen:check: ${files.size} generated files match the generator`);
      },
    )
    .command(
      "fetch",
      "materialise the schema files into the schema root",
      (y) =>
        y
          .option("from", { type: "string", describe: "a Kafka schema folder (message/, group-coordinator/, ...)" })
          .option("maven", { type: "string", describe: "a Kafka version whose jars to extract the schemas from" }),
      async (argv) => {
        const to = resolve(root, argv.schemas);
        let n = 0;
        if (argv.maven !== undefined) {
          n += await fetchFromMaven(argv.maven, to);
          const tests = argv.from === undefined ? undefined : join(argv.from, "message-test");
          if (tests !== undefined && existsSync(tests)) {
            await mkdir(join(to, "message-test"), { recursive: true });
            for (const name of await readdir(tests)) await cp(join(tests, name), join(to, "message-test", name));
          }
        } else {
          const from = argv.from ?? "../shared/kafka-schemas/3.9";
          if (!existsSync(from)) throw new Error(`${from}: not found; pass --from DIR or --maven VERSION`);
          n = await fetchFromDir(from, to);
        }
        const lock = await readLock(join(root, LOCK));
        const drift = lockDrift(lock, await loadSchemas(to));
        console.log(`schemas:fetch: ${n} files into ${argv.schemas}; ${drift.length === 0 ? "they match the lock" : `${drift.length} differ from the lock:\n${drift.join("\n")}`}`);
        if (drift.length > 0) process.exitCode = 1;
      },
    )
    .strict()
    .demandCommand(0)
    .help()
    .parseAsync();
}

main().catch((e: unknown) => {
  if (e instanceof SchemaError) {
    console.error(e.message);
  } else {
    console.error(e);
  }
  process.exit(1);
});
