import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, haveCommand, skipUnless, startBroker, type BrokerProcess } from "./harness.js";

/**
 * Differential test against Apache Kafka 4.4: the client sessions captured from Kafka 4.4
 * (generated/test/fixtures/kafka44-*: the Java 4.4 client and tools, librdkafka, franz-go, ApiVersions
 * probes and a session of error paths) are replayed request by request against a live Apache Kafka 4.4
 * and a live tskafka by scripts/diff/differential.ts, which compares both answers field by field
 * (made-up identifiers mapped, what legitimately differs ignored: see its compare.ts). Every difference
 * must be listed below as a known one, with its reason; a known difference no longer seen is reported,
 * so the list can shrink.
 *
 * Apache Kafka starts once for the file (in the tool, 10-25 s here), tskafka here with the test harness.
 * By hand, with every difference printed: `npx tsx scripts/diff/differential.ts [folder...]`
 * (`--trace FILE-PART` shows the requests and both answers of matching exchanges).
 */

const KAFKA_VERSION = "4.4.0";
const KAFKA_LIB = join(REPO_ROOT, ".cache", "kafka", KAFKA_VERSION, "lib");
const TOOL = join("scripts", "diff", "differential.ts");
const skip = skipUnless(
  existsSync(join(KAFKA_LIB, ".complete")) &&
    existsSync(join(KAFKA_LIB, `kafka_2.13-${KAFKA_VERSION}.jar`)) &&
    haveCommand("java", ["-version"]),
  `Java and the Apache Kafka ${KAFKA_VERSION} jars (scripts/kafka/fetch.sh ${KAFKA_VERSION})`,
);
const TOOL_TIMEOUT_MS = 85_000;

/** The tool's report (scripts/diff/differential.ts, Report). */
interface Difference {
  file: string;
  api: string;
  apiKey: number;
  version: number;
  path: string;
  pattern: string;
  kafka: string;
  tskafka: string;
}
interface FolderReport {
  folder: string;
  exchanges: number;
  compared: number;
  differences: Difference[];
  notes: string[];
}

/**
 * KNOWN DIFFERENCES between tskafka and Apache Kafka 4.4, each with its reason. `path` uses the tool's
 * syntax: fields separated by '.', `[]` any array element, `[key=value]` one element, `*` any field
 * name, `**.` any prefix. `kafka`/`tskafka`, when given, must match the rendered values too. `owner`
 * says who has it: "lead" for handlers being changed for Kafka 4.x, "open" for what nobody works on yet.
 */
interface Known {
  api: string;
  /** Only in the exchanges of these fixture files (`<folder>/<NNN>-<apiKey>-v<version>`). */
  file?: RegExp;
  path: string;
  kafka?: RegExp;
  tskafka?: RegExp;
  reason: string;
  owner: "lead" | "open" | "by design";
}

const KNOWN: readonly Known[] = [
  // --- ApiVersions ---
  {
    api: "ApiVersions",
    path: "apiKeys[]",
    tskafka: /^\(absent\)$/,
    reason:
      "APIs tskafka does not implement (README 'Not yet': transactions, ACLs, quotas, SASL, delegation tokens, replication and KRaft internals, share and streams groups...)",
    owner: "by design",
  },
  {
    api: "ApiVersions",
    path: "apiKeys[].minVersion",
    tskafka: /^0$/,
    reason:
      "tskafka still serves the old versions Kafka 4.0 removed (KIP-896), for Kafka 3.x-era clients; clients pick the highest common version",
    owner: "by design",
  },
  {
    api: "ApiVersions",
    path: "supportedFeatures[]",
    reason:
      "Kafka 4.4 lists kraft.version, metadata.version, share.version, streams.version, transaction.version, eligible.leader.replicas.version (v3: only features whose minimum is not 0); tskafka lists group.version, transaction.version, share.version and streams.version",
    owner: "lead",
  },
  {
    api: "ApiVersions",
    path: "supportedFeatures[name=group.version].minVersion",
    reason: "Kafka 4.4 supports group.version 0-1, tskafka 1-1",
    owner: "lead",
  },
  {
    api: "ApiVersions",
    path: "finalizedFeatures[]",
    reason:
      "Kafka 4.4 finalizes metadata.version 33, transaction.version 2, share.version 2, streams.version 1, eligible.leader.replicas.version 1; tskafka group.version 1, transaction.version 2, share.version 2 and streams.version 1",
    owner: "lead",
  },
  // --- Topic configs ---
  ...["CreateTopics", "DescribeConfigs"].map((api): Known => ({
    api,
    path: "**.configs[name=min.insync.replicas].configSource",
    reason:
      "Kafka 4.4's storage format writes a cluster-wide min.insync.replicas (for eligible leader replicas), so its source is DYNAMIC_DEFAULT_BROKER_CONFIG; tskafka has no such record",
    owner: "open",
  })),
  {
    api: "DescribeConfigs",
    path: "**.configs[name=min.insync.replicas].synonyms.length",
    reason: "as its configSource above: Kafka lists the cluster-wide and the default value as synonyms",
    owner: "open",
  },
  {
    api: "DescribeConfigs",
    path: "**.configs[name=min.insync.replicas].synonyms[].source",
    reason:
      "as its configSource above: Kafka's first synonym is the cluster-wide value (DYNAMIC_DEFAULT_BROKER_CONFIG), tskafka's the default",
    owner: "open",
  },
];

function patternRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    if (pattern.startsWith("**.", i)) {
      re += "(?:.*\\.)?";
      i += 2;
    } else if (pattern.startsWith("[]", i)) {
      re += "\\[[^\\]]*\\]";
      i += 1;
    } else if (pattern[i] === "*") re += "[^.\\[\\]]*";
    else re += pattern[i]!.replace(/[.[\]()+?^$|{}\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

const KNOWN_COMPILED = KNOWN.map((k) => ({ ...k, regex: patternRegex(k.path) }));

function knownFor(d: Difference): (typeof KNOWN_COMPILED)[number] | undefined {
  return KNOWN_COMPILED.find(
    (k) =>
      k.api === d.api &&
      (k.file === undefined || k.file.test(d.file)) &&
      k.regex.test(d.path) &&
      (k.kafka === undefined || k.kafka.test(d.kafka)) &&
      (k.tskafka === undefined || k.tskafka.test(d.tskafka)),
  );
}

/** The captured kafka44 client sessions (not the broker's own clients). */
function sessionFolders(): string[] {
  const index = JSON.parse(readFileSync(join(REPO_ROOT, "generated", "test", "fixtures", "index.json"), "utf8")) as {
    client: string;
  }[];
  return [...new Set(index.map((e) => e.client))]
    .filter((c) => c.startsWith("kafka44-") && c !== "kafka44-kafka-broker")
    .sort();
}

function runTool(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", TOOL, ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // SIGTERM first: the tool stops the Apache Kafka it started.
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    }, TOOL_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const folders = sessionFolders();

describe(`tskafka against Apache Kafka ${KAFKA_VERSION}, captured sessions replayed`, { skip }, () => {
  let broker: BrokerProcess | undefined;
  let tmp: string;
  const reports = new Map<string, FolderReport>();
  let toolError: string | undefined;

  before(
    async () => {
      tmp = mkdtempSync(join(tmpdir(), "tskafka-diff-"));
      // The same settings the tool gives Apache Kafka (scripts/diff/differential.ts, COMMON_PROPERTIES).
      broker = await startBroker({
        properties: {
          "num.partitions": 1,
          "auto.create.topics.enable": true,
          "group.initial.rebalance.delay.ms": 0,
          "offsets.topic.num.partitions": 1,
        },
      });
      const json = join(tmp, "report.json");
      const r = await runTool([
        "--kafka-version",
        KAFKA_VERSION,
        "--tskafka-port",
        String(broker.port),
        "--json",
        json,
        ...folders,
      ]);
      if (r.code !== 0 || !existsSync(json)) {
        toolError = `differential.ts exited ${r.code}:\n${r.stderr.slice(-4000)}`;
        return;
      }
      const report = JSON.parse(readFileSync(json, "utf8")) as { folders: FolderReport[] };
      for (const f of report.folders) reports.set(f.folder, f);
    },
    { timeout: TOOL_TIMEOUT_MS + 30_000 },
  );

  after(async () => {
    await broker?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("the captured kafka44 sessions are there", () => {
    assert.ok(folders.length >= 6, `kafka44 sessions in the fixture index: ${folders.join(", ")}`);
  });

  for (const folder of folders) {
    test(`${folder}: every answer is Kafka 4.4's, or a known difference`, (t) => {
      assert.equal(toolError, undefined, toolError);
      const f = reports.get(folder);
      assert.ok(f !== undefined, `no report for ${folder}`);
      for (const note of f.notes) t.diagnostic(note);
      const unknown = f.differences.filter((d) => knownFor(d) === undefined);
      const lines = unknown.map(
        (d) => `${d.file} ${d.api} v${d.version} ${d.path}: Kafka ${d.kafka} | tskafka ${d.tskafka}`,
      );
      assert.deepEqual(
        lines,
        [],
        `${unknown.length} difference(s) from Apache Kafka ${KAFKA_VERSION} not in KNOWN:\n${lines.join("\n")}`,
      );
      const known = f.differences.length - unknown.length;
      t.diagnostic(`${f.compared}/${f.exchanges} exchanges compared; ${known} known difference(s)`);
    });
  }

  // A KNOWN entry nothing matches any more is a fixed difference the list would hide if it came back.
  test("every known difference still occurs", () => {
    assert.equal(toolError, undefined, toolError);
    const all = [...reports.values()].flatMap((f) => f.differences);
    const stale = KNOWN_COMPILED.filter((k) => !all.some((d) => knownFor(d) === k)).map(
      (k) => `${k.api} ${k.path} (${k.reason})`,
    );
    assert.deepEqual(stale, [], `not seen any more, remove them from KNOWN:\n${stale.join("\n")}`);
  });
});
