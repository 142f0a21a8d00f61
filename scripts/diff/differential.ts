// Differential testing of tskafka against Apache Kafka: replays the request frames of captured client
// sessions (generated/test/fixtures/kafka44-<client>/, captured from Kafka 4.4 by
// scripts/capture/capture-fixtures.ts --kafka 4.4.0) in order against a live Apache Kafka and a live
// tskafka, decodes both answers with @tskafka/protocol and compares them field by field.
//
// Made-up identifiers are mapped, not compared (identities.ts): a topic id, member id, producer id or
// fetch session id in a later request is rewritten to each broker's own value, and in the answers each
// broker's values become shared symbols. What legitimately differs is ignored by an explicit list
// (compare.ts, IGNORED). Fetch waits are capped (--max-wait-ms), and after a request that creates,
// grows or deletes topics, or alters configs, both brokers are polled until they show it, as the
// capturing clients, seconds apart, never raced it either.
//
// Usage: npx tsx scripts/diff/differential.ts [--kafka-port P --tskafka-port P] [--kafka-version 4.4.0]
//                                             [--json FILE] [--max-wait-ms 200] [--trace FILE-PART] [--keep] [folder...]
// A broker whose port is not given is started here (loopback, a free port, a fresh folder under
// .cache/diff, removed at the end unless --keep) and stopped at the end. --trace prints the requests
// and both canonical answers of the exchanges whose file name contains FILE-PART. Folders default to every kafka44-* client folder of the fixtures.
// Exit status: 0 when it ran (differences or not; see the report), 1 when it could not run.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ApiKey,
  apiInfo,
  createApiVersionsRequest,
  createFindCoordinatorRequest,
  createMetadataRequest,
  createMetadataRequestMetadataRequestTopic,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  createDescribeConfigsRequest,
  createInitProducerIdRequest,
  createListOffsetsRequest,
  type DescribeConfigsResponse,
  type FindCoordinatorResponse,
  type InitProducerIdResponse,
  type ListOffsetsResponse,
  type MetadataResponse,
  type RequestHeader,
} from "@tskafka/protocol";
import { freeLoopbackPort, startApacheKafka, type ApacheKafka } from "../kafka/apache-kafka.js";
import { canonical, diff, jsonValue, render } from "./compare.js";
import { IdentityBook, isStruct } from "./identities.js";
import { Wire, type Outcome } from "./wire.js";
import { BROKER_NODE_FLAGS } from "../../broker/src/node-flags.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FIXTURES_DIR = join(repoRoot, "generated", "test", "fixtures");
const TSKAFKA_MAIN = join(repoRoot, "broker", "dist", "src", "main.js");

/** Broker settings both brokers get (Apache Kafka's as scripts/capture/capture-fixtures.ts had them). */
export const COMMON_PROPERTIES: Readonly<Record<string, string>> = {
  "num.partitions": "1",
  "auto.create.topics.enable": "true",
  "group.initial.rebalance.delay.ms": "0",
  "offsets.topic.num.partitions": "1",
};
const KAFKA_PROPERTIES = { ...COMMON_PROPERTIES, "group.coordinator.rebalance.protocols": "classic,consumer" };

export interface Exchange {
  /** Fixture path without suffix, e.g. kafka44-franz/012-1-v18. */
  file: string;
  apiKey: number;
  version: number;
  request: Buffer;
  /** Kafka's answer when the session was captured, if there was one. */
  captured: Buffer | undefined;
}

export interface Difference {
  file: string;
  api: string;
  apiKey: number;
  version: number;
  path: string;
  pattern: string;
  kafka: string;
  tskafka: string;
}

export interface FolderReport {
  folder: string;
  exchanges: number;
  /** Exchanges both brokers answered (or both, rightly, did not). */
  compared: number;
  differences: Difference[];
  notes: string[];
}

export interface Report {
  kafkaVersion: string;
  folders: FolderReport[];
}

interface IndexEntry {
  file: string;
  client: string;
  apiKey: number;
  version: number;
  response: boolean;
}

/** The client folders of kafka44 sessions in the fixture index (the broker's own clients left out). */
export function sessionFolders(prefix = "kafka44-"): string[] {
  const index = JSON.parse(readFileSync(join(FIXTURES_DIR, "index.json"), "utf8")) as IndexEntry[];
  return [...new Set(index.map((e) => e.client))]
    .filter((c) => c.startsWith(prefix) && c !== `${prefix}kafka-broker`)
    .sort();
}

/** A captured session: the request frames of one client folder in capture order. */
export function loadSession(folder: string): Exchange[] {
  const index = JSON.parse(readFileSync(join(FIXTURES_DIR, "index.json"), "utf8")) as IndexEntry[];
  return index
    .filter((e) => e.client === folder)
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
    .map((e) => ({
      file: e.file,
      apiKey: e.apiKey,
      version: e.version,
      request: readFileSync(join(FIXTURES_DIR, `${e.file}.req.bin`)),
      captured: e.response ? readFileSync(join(FIXTURES_DIR, `${e.file}.res.bin`)) : undefined,
    }));
}

function apiName(apiKey: number): string {
  return apiInfo(apiKey)?.name ?? `api${apiKey}`;
}

type Body = Record<string, unknown>;

interface Decoded {
  header: RequestHeader;
  body: Body;
}

function decodeRequest(frame: Buffer): Decoded {
  const d = decodeRequestFrame(frame);
  return { header: d.header, body: d.body as unknown as Body };
}

/** A response body, or why there is none to compare. */
type Answer = { body: Body; correlationId: number } | { missing: string };

function decodeAnswer(outcome: Outcome, apiKey: number, version: number): Answer {
  if (outcome.kind === "closed") return { missing: "connection closed without an answer" };
  if (outcome.kind === "timeout") return { missing: `no answer within ${outcome.ms} ms` };
  if (outcome.kind === "none") return { missing: "no answer due" };
  try {
    const r = decodeResponseFrame(outcome.frame, apiKey, version);
    return { body: r.body as unknown as Body, correlationId: r.header.correlationId };
  } catch (err) {
    // An ApiVersions version the broker does not serve is answered in v0 (KIP-511).
    if (apiKey === ApiKey.ApiVersions && version > 0) {
      try {
        const r = decodeResponseFrame(outcome.frame, apiKey, 0);
        return { body: { ...(r.body as unknown as Body), answeredAsV0: true }, correlationId: r.header.correlationId };
      } catch {
        /* the first error says more */
      }
    }
    return { missing: `undecodable answer: ${(err as Error).message}` };
  }
}

export interface ReplayOptions {
  kafkaPort: number;
  tskafkaPort: number;
  /** Fetch requests wait at most this long (ms) for data on either broker. */
  maxWaitMs?: number;
  /** Bound on any one answer. */
  requestTimeoutMs?: number;
  /** Prints the requests and canonical answers of exchanges whose file name contains this, to stderr. */
  trace?: string;
}

/** Replays one session against both brokers and compares every answer. */
export async function replaySession(
  folder: string,
  exchanges: readonly Exchange[],
  options: ReplayOptions,
): Promise<FolderReport> {
  const report: FolderReport = { folder, exchanges: exchanges.length, compared: 0, differences: [], notes: [] };
  const wires: [Wire, Wire] = [new Wire(options.kafkaPort), new Wire(options.tskafkaPort)];
  const book = new IdentityBook();
  const maxWaitMs = options.maxWaitMs ?? 200;
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  try {
    for (const exchange of exchanges) {
      const { apiKey, version, file } = exchange;
      const api = apiName(apiKey);
      const add = (path: string, pattern: string, kafka: string, tskafka: string): void => {
        report.differences.push({ file, api, apiKey, version, path, pattern, kafka, tskafka });
      };
      let captured: Body | undefined;
      if (exchange.captured !== undefined) {
        try {
          captured = decodeResponseFrame(exchange.captured, apiKey, version).body as unknown as Body;
        } catch (err) {
          report.notes.push(`${file}: captured response does not decode: ${(err as Error).message}`);
        }
      }
      let request: Decoded;
      try {
        request = decodeRequest(exchange.request);
      } catch (err) {
        report.notes.push(`${file}: request does not decode, not replayed: ${(err as Error).message}`);
        continue;
      }
      // Each broker gets the captured request with its own identifiers.
      const frames = ([0, 1] as const).map((target) => {
        const decoded = target === 0 ? request : decodeRequest(exchange.request);
        let changed = book.rewriteRequest(apiKey, decoded.body, target);
        if (
          apiKey === ApiKey.Fetch &&
          typeof decoded.body["maxWaitMs"] === "number" &&
          decoded.body["maxWaitMs"] > maxWaitMs
        ) {
          decoded.body["maxWaitMs"] = maxWaitMs;
          changed = true;
        }
        return {
          decoded,
          frame: changed ? encodeRequestFrame(decoded.header, decoded.body as never) : exchange.request,
        };
      });
      const expectResponse = !(apiKey === ApiKey.Produce && request.body["acks"] === 0);
      const outcomes = await Promise.all(wires.map((w, i) => w.exchange(frames[i]!.frame, expectResponse, timeoutMs)));
      if (!expectResponse) {
        report.compared++;
        continue;
      }
      const answers = outcomes.map((o) => decodeAnswer(o, apiKey, version)) as [Answer, Answer];
      const bodies = answers.map((a) => ("body" in a ? a.body : undefined)) as [Body | undefined, Body | undefined];
      book.learn(apiKey, captured, bodies);

      const [k, t] = answers;
      if ("missing" in k || "missing" in t) {
        if ("missing" in k && "missing" in t) report.compared++;
        else
          add("(answer)", "(answer)", "missing" in k ? k.missing : "answered", "missing" in t ? t.missing : "answered");
        continue;
      }
      report.compared++;
      if (k.correlationId !== request.header.correlationId || t.correlationId !== request.header.correlationId) {
        add("(header).correlationId", "(header).correlationId", String(k.correlationId), String(t.correlationId));
      }
      const ck = canonical(k.body, "", 0, book, apiKey);
      const ct = canonical(t.body, "", 1, book, apiKey);
      if (options.trace !== undefined && file.includes(options.trace)) {
        console.error(
          `--- ${file} ${api} v${version}\nrequest to kafka: ${render(frames[0]!.decoded.body)}\nrequest to tskafka: ${render(frames[1]!.decoded.body)}`,
        );
        console.error(`kafka: ${JSON.stringify(ck, jsonValue)}\ntskafka: ${JSON.stringify(ct, jsonValue)}`);
      }
      for (const d of diff(api, ck, ct)) add(d.path, d.pattern, d.kafka, d.tskafka);

      if (apiKey === ApiKey.CreateTopics || apiKey === ApiKey.CreatePartitions || apiKey === ApiKey.DeleteTopics) {
        await settleTopics(apiKey, request.body, bodies, wires, report, file);
      } else if (apiKey === ApiKey.IncrementalAlterConfigs || apiKey === ApiKey.AlterConfigs) {
        await settleConfigs(apiKey, request.body, bodies, wires, report, file);
      }
    }
  } finally {
    for (const w of wires) w.close();
  }
  return report;
}

// ---------------------------------------------------------------------------------------
// Waiting for topic changes to show in both brokers' metadata

let sideCorrelationId = 0x7000_0000;

async function metadataOf(
  wire: Wire,
  topics: readonly string[],
): Promise<Map<string, { errorCode: number; partitions: number; leaders: boolean }>> {
  const body = createMetadataRequest({
    topics: topics.map((name) => createMetadataRequestMetadataRequestTopic({ name })),
    allowAutoTopicCreation: false,
  });
  const frame = encodeRequestFrame(
    {
      requestApiKey: ApiKey.Metadata,
      requestApiVersion: 12,
      correlationId: sideCorrelationId++,
      clientId: "tskafka-differential",
    },
    body,
  );
  const outcome = await wire.exchange(frame, true, 5_000);
  const out = new Map<string, { errorCode: number; partitions: number; leaders: boolean }>();
  if (outcome.kind !== "response") return out;
  const r = decodeResponseFrame(outcome.frame, ApiKey.Metadata, 12).body as MetadataResponse;
  for (const t of r.topics) {
    if (t.name === null) continue;
    out.set(t.name, {
      errorCode: t.errorCode,
      partitions: t.partitions.length,
      leaders: t.partitions.every((p) => p.leaderId >= 0 && p.errorCode === 0),
    });
  }
  return out;
}

/**
 * After CreateTopics, CreatePartitions or DeleteTopics, polls each broker (at most 10 s) until its
 * metadata shows the changes it reported as done. Apache Kafka answers once its controller committed
 * a change; its broker's metadata and partitions follow a moment later.
 */
async function settleTopics(
  apiKey: number,
  body: Body,
  answers: readonly (Body | undefined)[],
  wires: readonly Wire[],
  report: FolderReport,
  file: string,
): Promise<void> {
  type Meta = { errorCode: number; partitions: number; leaders: boolean } | undefined;
  if (body["validateOnly"] === true) return;
  const requested = new Map(((body["topics"] as Body[] | undefined) ?? []).map((t) => [String(t["name"]), t]));
  const results = (answer: Body): Body[] =>
    ((apiKey === ApiKey.CreateTopics
      ? answer["topics"]
      : apiKey === ApiKey.CreatePartitions
        ? answer["results"]
        : answer["responses"]) as Body[] | undefined) ?? [];
  for (const [i, wire] of wires.entries()) {
    const answer = answers[i];
    if (answer === undefined) continue;
    const wants = new Map<string, (m: Meta) => boolean>();
    for (const r of results(answer)) {
      const name = r["name"];
      if (r["errorCode"] !== 0 || typeof name !== "string") continue;
      if (apiKey === ApiKey.CreateTopics) wants.set(name, (m) => m !== undefined && m.errorCode === 0 && m.leaders);
      else if (apiKey === ApiKey.CreatePartitions) {
        const count = Number(requested.get(name)?.["count"] ?? 0);
        wants.set(name, (m) => m !== undefined && m.errorCode === 0 && m.partitions >= count && m.leaders);
      } else wants.set(name, (m) => m === undefined || m.errorCode !== 0);
    }
    if (wants.size === 0) continue;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const md = await metadataOf(wire, [...wants.keys()]);
      // A partition in the metadata may not serve yet: new partitions must also answer ListOffsets.
      const serving = apiKey === ApiKey.DeleteTopics || (await partitionsServe(wire, md));
      if ([...wants].every(([name, want]) => want(md.get(name))) && serving) break;
      if (Date.now() > deadline) {
        report.notes.push(
          `${file}: metadata of ${[...wants.keys()].join(", ")} on port ${wire.port} did not settle in 10 s`,
        );
        break;
      }
      await delay(50);
    }
  }
}

/**
 * After IncrementalAlterConfigs or AlterConfigs, polls each broker (at most 10 s) until DescribeConfigs
 * shows the values it reported as set (and the deleted ones gone from the resource's own): Apache
 * Kafka's broker applies a config change a moment after its controller committed it.
 */
async function settleConfigs(
  apiKey: number,
  body: Body,
  answers: readonly (Body | undefined)[],
  wires: readonly Wire[],
  report: FolderReport,
  file: string,
): Promise<void> {
  if (body["validateOnly"] === true) return;
  const OWN_SOURCES = new Set([1, 2, 3]); // the topic's own, this broker's dynamic, the cluster's dynamic default
  for (const [i, wire] of wires.entries()) {
    const answer = answers[i];
    if (answer === undefined) continue;
    const done = new Set(
      ((answer["responses"] as Body[] | undefined) ?? [])
        .filter((r) => r["errorCode"] === 0)
        .map((r) => `${String(r["resourceType"])}:${String(r["resourceName"])}`),
    );
    for (const resource of (body["resources"] as Body[] | undefined) ?? []) {
      const type = Number(resource["resourceType"]);
      const name = String(resource["resourceName"]);
      if (!done.has(`${type}:${name}`) || (type !== 2 && type !== 4)) continue;
      // What each key must look like: a value that was set, or not the resource's own any more.
      const wants = new Map<string, (entry: { value: string | null; source: number } | undefined) => boolean>();
      for (const c of (resource["configs"] as Body[] | undefined) ?? []) {
        const key = String(c["name"]);
        const op = apiKey === ApiKey.AlterConfigs ? 0 : Number(c["configOperation"]);
        if (op === 0) wants.set(key, (e) => e !== undefined && e.value === c["value"]);
        else if (op === 1) wants.set(key, (e) => e === undefined || !OWN_SOURCES.has(e.source));
      }
      if (wants.size === 0) continue;
      const deadline = Date.now() + 10_000;
      for (;;) {
        const described = await side<DescribeConfigsResponse>(
          wire,
          ApiKey.DescribeConfigs,
          4,
          createDescribeConfigsRequest({
            resources: [{ resourceType: type, resourceName: name, configurationKeys: [...wants.keys()] }],
          }),
        );
        const entries = new Map(
          (described?.results[0]?.configs ?? []).map((e) => [e.name, { value: e.value, source: e.configSource }]),
        );
        if ([...wants].every(([key, want]) => want(entries.get(key)))) break;
        if (Date.now() > deadline) {
          report.notes.push(`${file}: configs of ${name} on port ${wire.port} did not settle in 10 s`);
          break;
        }
        await delay(50);
      }
    }
  }
}

/** Whether every partition of the topics in `md` that exist answers ListOffsets (latest) without error. */
async function partitionsServe(
  wire: Wire,
  md: Map<string, { errorCode: number; partitions: number }>,
): Promise<boolean> {
  const topics = [...md]
    .filter(([, m]) => m.errorCode === 0)
    .map(([name, m]) => ({
      name,
      partitions: Array.from({ length: m.partitions }, (_, partitionIndex) => ({
        partitionIndex,
        currentLeaderEpoch: -1,
        timestamp: -1n,
        maxNumOffsets: 1,
      })),
    }));
  if (topics.length === 0) return true;
  const r = await side<ListOffsetsResponse>(
    wire,
    ApiKey.ListOffsets,
    7,
    createListOffsetsRequest({ replicaId: -1, topics } as never),
  );
  return r !== undefined && r.topics.every((t) => t.partitions.every((p) => p.errorCode === 0));
}

/** Sends a side request (not part of a session) and decodes the answer, or undefined. */
async function side<T>(wire: Wire, apiKey: number, version: number, body: unknown): Promise<T | undefined> {
  const frame = encodeRequestFrame(
    {
      requestApiKey: apiKey,
      requestApiVersion: version,
      correlationId: sideCorrelationId++,
      clientId: "tskafka-differential",
    },
    body as never,
  );
  const outcome = await wire.exchange(frame, true, 5_000);
  return outcome.kind === "response" ? (decodeResponseFrame(outcome.frame, apiKey, version).body as T) : undefined;
}

/**
 * Brings both brokers to the steady state every captured session but the first one saw: Apache Kafka
 * creates __consumer_offsets on the first FindCoordinator (COORDINATOR_NOT_AVAILABLE until then) and
 * fetches its first block of producer ids from its controller on the first InitProducerId
 * (COORDINATOR_LOAD_IN_PROGRESS until then); tskafka has both from the start.
 */
export async function warmUp(ports: readonly number[], timeoutMs = 30_000): Promise<void> {
  for (const port of ports) {
    const wire = new Wire(port);
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const coordinator = await side<FindCoordinatorResponse>(
          wire,
          ApiKey.FindCoordinator,
          4,
          createFindCoordinatorRequest({ keyType: 0, coordinatorKeys: ["tskafka-differential-warm-up"] }),
        );
        const producer = await side<InitProducerIdResponse>(
          wire,
          ApiKey.InitProducerId,
          4,
          createInitProducerIdRequest({ transactionalId: null, transactionTimeoutMs: 60_000 }),
        );
        if (coordinator?.coordinators.every((c) => c.errorCode === 0) === true && producer?.errorCode === 0) break;
        if (Date.now() > deadline)
          throw new Error(`the broker on port ${port} is not ready for groups and producers after ${timeoutMs} ms`);
        await delay(200);
      }
    } finally {
      wire.close();
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

// ---------------------------------------------------------------------------------------
// Starting the brokers

export interface RunningBroker {
  port: number;
  stop(): Promise<void>;
}

/** Starts Apache Kafka `version` on free loopback ports, its data in `dir`. */
export async function startKafka(version: string, dir: string): Promise<RunningBroker> {
  rmSync(dir, { recursive: true, force: true });
  const kafka = await startApacheKafka({
    port: await freeLoopbackPort(),
    controllerPort: await freeLoopbackPort(),
    dataDir: dir,
    version,
    heap: "512m",
    properties: KAFKA_PROPERTIES,
    startTimeoutMs: 60_000,
  });
  return { port: kafka.port, stop: () => kafka.stop() };
}

/** Starts tskafka (built: broker/dist) on a free loopback port, its data in `dir`. */
export async function startTskafka(dir: string): Promise<RunningBroker> {
  rmSync(dir, { recursive: true, force: true });
  const port = await freeLoopbackPort();
  const child = spawnTskafka(port, dir);
  try {
    await waitForPort(child, port, 15_000);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { port, stop: () => stopChild(child) };
}

function spawnTskafka(port: number, dir: string): ChildProcess {
  if (!existsSync(TSKAFKA_MAIN)) throw new Error("broker/dist/src/main.js is missing: build first (npx tsc -b)");
  mkdirSync(dir, { recursive: true });
  const props = join(dir, "server.properties");
  writeFileSync(
    props,
    Object.entries(COMMON_PROPERTIES)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(""),
  );
  const out = openSync(join(dir, "broker.log"), "a");
  const child = spawn(
    process.execPath,
    [
      ...BROKER_NODE_FLAGS,
      TSKAFKA_MAIN,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--data-dir",
      join(dir, "data"),
      "--config",
      props,
      "--log-level",
      "info",
    ],
    { stdio: ["ignore", out, out] },
  );
  closeSync(out);
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));
  return child;
}

async function waitForPort(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tskafka exited (${child.exitCode}) before listening on ${port}`);
    const wire = new Wire(port);
    try {
      const frame = encodeRequestFrame(
        { requestApiKey: ApiKey.ApiVersions, requestApiVersion: 0, correlationId: 1, clientId: "tskafka-differential" },
        createApiVersionsRequest(),
      );
      if ((await wire.exchange(frame, true, 2_000)).kind === "response") return;
    } catch {
      /* not listening yet */
    } finally {
      wire.close();
    }
    if (Date.now() > deadline) throw new Error(`tskafka did not answer on ${port} within ${timeoutMs} ms`);
    await delay(100);
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    child.kill("SIGTERM");
  });
}

// ---------------------------------------------------------------------------------------
// The command line

/** One line per distinct (folder, API, version, field, values), with how often and the first file. */
export function summarize(report: Report): string {
  const lines: string[] = [];
  for (const f of report.folders) {
    lines.push(`${f.folder}: ${f.compared}/${f.exchanges} exchanges compared, ${f.differences.length} differences`);
    const groups = new Map<string, { n: number; d: (typeof f.differences)[number] }>();
    for (const d of f.differences) {
      const key = `${d.api} v${d.version} ${d.pattern} ${d.kafka} ${d.tskafka}`;
      const g = groups.get(key);
      if (g === undefined) groups.set(key, { n: 1, d });
      else g.n++;
    }
    for (const { n, d } of groups.values()) {
      lines.push(
        `  ${d.api} v${d.version} ${d.path}: kafka ${d.kafka} | tskafka ${d.tskafka}${n > 1 ? ` (x${n})` : ""} [${d.file}]`,
      );
    }
    for (const note of f.notes) lines.push(`  note: ${note}`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const at = args.indexOf(name);
    if (at < 0) return undefined;
    const value = args[at + 1];
    if (value === undefined) throw new Error(`${name} needs a value`);
    args.splice(at, 2);
    return value;
  };
  const kafkaVersion = option("--kafka-version") ?? "4.4.0";
  const jsonFile = option("--json");
  const maxWaitMs = Number(option("--max-wait-ms") ?? 200);
  const kafkaPortArg = option("--kafka-port");
  const tskafkaPortArg = option("--tskafka-port");
  const trace = option("--trace");
  const keep = args.includes("--keep");
  if (keep) args.splice(args.indexOf("--keep"), 1);
  const folders = args.length > 0 ? args : sessionFolders();
  for (const f of folders)
    if (loadSession(f).length === 0) throw new Error(`no captured session ${f} in the fixture index`);

  // Either broker may be one already running (by hand, or the test's tskafka); the others start here.
  const started = Date.now();
  // Per run, so that runs side by side (by hand and in the test) keep apart; removed at the end.
  const workDir = join(repoRoot, ".cache", "diff", `run-${process.pid}`);
  const running: RunningBroker[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(running.splice(0).map((b) => b.stop()));
    if (!keep) rmSync(workDir, { recursive: true, force: true });
  };
  const stopOnSignal = (): void => {
    void stopAll().then(() => process.exit(1));
  };
  process.once("SIGTERM", stopOnSignal);
  process.once("SIGINT", stopOnSignal);
  let kafkaPort: number;
  let tskafkaPort: number;
  try {
    if (tskafkaPortArg !== undefined) tskafkaPort = Number(tskafkaPortArg);
    else {
      const b = await startTskafka(join(workDir, "tskafka"));
      running.push(b);
      tskafkaPort = b.port;
    }
    if (kafkaPortArg !== undefined) kafkaPort = Number(kafkaPortArg);
    else {
      const b = await startKafka(kafkaVersion, join(workDir, "kafka"));
      running.push(b);
      kafkaPort = b.port;
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  console.error(
    `brokers up in ${Date.now() - started} ms: Apache Kafka ${kafkaVersion} on ${kafkaPort}, tskafka on ${tskafkaPort}`,
  );
  const report: Report = { kafkaVersion, folders: [] };
  try {
    await warmUp([kafkaPort, tskafkaPort]);
    for (const folder of folders) {
      const started = Date.now();
      report.folders.push(
        await replaySession(folder, loadSession(folder), {
          kafkaPort,
          tskafkaPort,
          maxWaitMs,
          ...(trace !== undefined ? { trace } : {}),
        }),
      );
      console.error(`${folder} replayed in ${Date.now() - started} ms`);
    }
  } finally {
    await stopAll();
  }
  if (jsonFile !== undefined) writeFileSync(jsonFile, `${JSON.stringify(report, null, 1)}\n`);
  console.log(summarize(report));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`differential: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  });
}
