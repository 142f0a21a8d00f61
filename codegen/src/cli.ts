#!/usr/bin/env node
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { compileReleases, loadSchemas, RELEASES, SCHEMA_FOLDERS, type CompiledSchema, type Release } from "./load.js";
import { lockDrift, readLock, writeLock } from "./lock.js";
import { compareAll, generateAll, writeAll } from "./project.js";
import { SchemaError } from "./schema.js";

/** The codegen CLI: `generate` (default), `check`, `lock`, and `fetch` for the schema inputs. */

const GENERATOR_VERSION = "0.2.0";
const DEFAULT_SCHEMAS = "schemas/kafka";
const LOCK = "schemas/kafka.lock.json";
const SHARED = "../shared/kafka-schemas";

async function load(root: string, schemaDir: string, updateLock: boolean): Promise<CompiledSchema[]> {
  const lockPath = join(root, LOCK);
  const schemas = await loadSchemas(join(root, schemaDir));
  if (updateLock) {
    await writeLock(lockPath, schemas);
  } else {
    const drift = lockDrift(await readLock(lockPath), schemas);
    if (drift.length > 0) {
      throw new SchemaError(
        `the schemas in ${schemaDir} are not the ones ${LOCK} pins:\n${drift.join("\n")}\n` +
          "Fetch the pinned ones with `npm run schemas:fetch`, or accept new ones with `npm run codegen -- --update-lock`.",
      );
    }
  }
  return compileReleases(schemas);
}

/** `4.4` from `4.4.0`. */
function releaseOf(version: string): Release {
  const r = /^(\d+\.\d+)/.exec(version)?.[1];
  const known = RELEASES.find((x) => x === r);
  if (known === undefined)
    throw new Error(`Kafka ${version} is not one of the releases compiled here (${RELEASES.join(", ")})`);
  return known;
}

async function fetchFromDir(from: string, to: string): Promise<number> {
  await rm(to, { recursive: true, force: true });
  let n = 0;
  if (!existsSync(join(from, "message")))
    throw new Error(`${join(from, "message")}: missing (expected Kafka's message/ schema folder)`);
  for (const folder of SCHEMA_FOLDERS) {
    const src = join(from, folder);
    if (!existsSync(src)) continue;
    await mkdir(join(to, folder), { recursive: true });
    for (const name of await readdir(src)) {
      if (!name.endsWith(".json")) continue;
      await cp(join(src, name), join(to, folder, name));
      n++;
    }
  }
  for (const extra of ["LICENSE", "NOTICE"])
    if (existsSync(join(from, extra))) await cp(join(from, extra), join(to, extra));
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
    // Kafka 4 keeps the share coordinator's records in a jar of their own.
    if (Number(version.split(".")[0]) >= 4)
      jars.push(["kafka-share-coordinator", "share-coordinator", /^common\/message\/[A-Za-z]+\.json$/]);
    let n = 0;
    for (const [artifact, folder, pattern] of jars) {
      execFileSync(
        "mvn",
        ["-q", "dependency:copy", `-Dartifact=org.apache.kafka:${artifact}:${version}`, `-DoutputDirectory=${work}`],
        { stdio: "inherit" },
      );
      const jar = join(work, `${artifact}-${version}.jar`);
      const listing = execFileSync("unzip", ["-Z1", jar], { encoding: "utf8" })
        .split("\n")
        .filter((l) => pattern.test(l));
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

/** `schemas:fetch`: every release's schema files into `<schemas>/<release>/`, then a check against the lock. */
async function fetchAll(root: string, schemas: string, from: string, maven: string | undefined): Promise<void> {
  const to = resolve(root, schemas);
  const lines: string[] = [];
  for (const release of RELEASES) {
    const dest = join(to, release);
    if (maven !== undefined && releaseOf(maven) === release) {
      const n = await fetchFromMaven(maven, dest);
      const tests = join(from, release, "message-test");
      if (existsSync(tests)) {
        await mkdir(join(dest, "message-test"), { recursive: true });
        for (const name of await readdir(tests)) await cp(join(tests, name), join(dest, "message-test", name));
      }
      lines.push(`${release}: ${n} files from the jars of Kafka ${maven}`);
    } else {
      if (!existsSync(join(from, release)))
        throw new Error(`${join(from, release)}: not found; pass --from DIR or --maven VERSION`);
      lines.push(`${release}: ${await fetchFromDir(join(from, release), dest)} files from ${join(from, release)}`);
    }
  }
  const drift = lockDrift(await readLock(join(root, LOCK)), await loadSchemas(to));
  console.log(`schemas:fetch into ${schemas}:\n  ${lines.join("\n  ")}`);
  console.log(
    drift.length === 0 ? "they match the lock" : `${drift.length} differ from the lock:\n${drift.join("\n")}`,
  );
  if (drift.length > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const root = process.cwd();
  await yargs(hideBin(process.argv))
    .scriptName("codegen")
    .option("schemas", {
      type: "string",
      default: DEFAULT_SCHEMAS,
      describe: "schema root, one folder per Kafka release (3.9/, 4.4/)",
    })
    .command(
      ["generate", "$0"],
      "regenerate generated/ from the schemas",
      (y) =>
        y.option("update-lock", {
          type: "boolean",
          default: false,
          describe: "accept the schemas as they are and rewrite the lock",
        }),
      async (argv) => {
        const started = Date.now();
        const schemas = await load(root, argv.schemas, argv["update-lock"]);
        const files = await generateAll(schemas, { generatorVersion: GENERATOR_VERSION });
        const { written, removed } = await writeAll(root, files);
        console.log(
          `codegen: ${schemas.length} messages from Kafka ${RELEASES.join(" and ")} -> ${files.size} files (${written} written, ${removed} removed) in ${Date.now() - started} ms`,
        );
      },
    )
    .command(
      "check",
      "exit 1 when generated/ differs from what the generator produces",
      (y) => y,
      async (argv) => {
        const schemas = await load(root, argv.schemas, false);
        const files = await generateAll(schemas, { generatorVersion: GENERATOR_VERSION });
        if (!reportDrift(await compareAll(root, files))) process.exitCode = 1;
        else console.log(`codegen:check: ${files.size} generated files match the generator`);
      },
    )
    .command(
      "fetch",
      "materialise every release's schema files into the schema root",
      (y) =>
        y
          .option("from", {
            type: "string",
            describe: `a folder with one Kafka schema folder per release (default ${SHARED})`,
          })
          .option("maven", {
            type: "string",
            describe: "a Kafka version (e.g. 4.4.0) whose jars to extract that release's schemas from",
          }),
      (argv) => fetchAll(root, argv.schemas, argv.from ?? SHARED, argv.maven),
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
