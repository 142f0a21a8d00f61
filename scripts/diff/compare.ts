// Field-by-field comparison of two decoded responses to the same request, after each broker's
// made-up identifiers were replaced by shared symbols (identities.ts). What legitimately differs
// between two brokers is listed once, in IGNORED, with the reason.
import { createHash } from "node:crypto";
import { iterateBatches, BATCH_HEADER_SIZE } from "@tskafka/protocol";
import { isStruct, type IdentityBook } from "./identities.js";

export interface FieldDifference {
  /** Where, with array elements named by their key: `topics[name=t].partitions[partitionIndex=0].errorCode`. */
  path: string;
  /** The same path without keys, for grouping a report: `topics[].partitions[].errorCode`. */
  pattern: string;
  /** Each broker's value, rendered as JSON ('(absent)' when it has none). */
  kafka: string;
  tskafka: string;
}

export interface IgnoreRule {
  /** An API name as the protocol package spells it (`Metadata`), or '*' for every API. */
  api: string;
  /**
   * A path: fields separated by '.', `[]` after an array for any of its elements or `[key=value]` for
   * one, `*` for any one field name, `**.` for any prefix.
   */
  path: string;
  reason: string;
}

/**
 * What legitimately differs between Apache Kafka and tskafka answering the same request: keep this list
 * explicit and small, a reason per entry. Anything else that differs is a difference.
 */
export const IGNORED: readonly IgnoreRule[] = [
  {
    api: "*",
    path: "throttleTimeMs",
    reason: "quota throttling is each broker's own (neither throttles here, but the value is not a protocol fact)",
  },
  {
    api: "*",
    path: "**.errorMessage",
    reason: "human-readable text; clients act on the error code beside it, which is compared",
  },
  {
    api: "ApiVersions",
    path: "finalizedFeaturesEpoch",
    reason: "the offset of Kafka's metadata log when it answered; tskafka has no such log",
  },
  { api: "*", path: "brokers[].host", reason: "each broker's own listener address" },
  { api: "*", path: "brokers[].port", reason: "each broker's own listener address" },
  { api: "FindCoordinator", path: "host", reason: "each broker's own listener address (v0-3)" },
  { api: "FindCoordinator", path: "port", reason: "each broker's own listener address (v0-3)" },
  { api: "FindCoordinator", path: "coordinators[].host", reason: "each broker's own listener address (v4+)" },
  { api: "FindCoordinator", path: "coordinators[].port", reason: "each broker's own listener address (v4+)" },
  { api: "*", path: "nodeEndpoints[].host", reason: "each broker's own listener address (Produce v10+, Fetch v16+)" },
  { api: "*", path: "nodeEndpoints[].port", reason: "each broker's own listener address (Produce v10+, Fetch v16+)" },
  { api: "DescribeLogDirs", path: "results[].logDir", reason: "a path on each broker's disk" },
  {
    api: "DescribeLogDirs",
    path: "results[].topics[name=__consumer_offsets].partitions[].partitionSize",
    reason: "group records hold broker-made member ids and timestamps, so their sizes differ",
  },
  { api: "DescribeLogDirs", path: "results[].totalBytes", reason: "the size of each broker's disk" },
  { api: "DescribeLogDirs", path: "results[].usableBytes", reason: "the free space of each broker's disk" },
];

/**
 * Values a broker makes up that are not identifiers but counters: KIP-848 epochs. Clients only send
 * back what they were given (the replay maps them, identities.ts); how often a coordinator bumps them
 * is its own business. Their special values (0 join, -1 leave, -2 static leave) are still compared.
 */
export const NORMALIZED: readonly (IgnoreRule & { normalize: (v: unknown) => unknown })[] = [
  {
    api: "ConsumerGroupHeartbeat",
    path: "memberEpoch",
    reason: "an epoch of the coordinator's making",
    normalize: positive,
  },
  {
    api: "ConsumerGroupDescribe",
    path: "groups[].groupEpoch",
    reason: "an epoch of the coordinator's making",
    normalize: positive,
  },
  {
    api: "ConsumerGroupDescribe",
    path: "groups[].assignmentEpoch",
    reason: "an epoch of the coordinator's making",
    normalize: positive,
  },
  {
    api: "ConsumerGroupDescribe",
    path: "groups[].members[].memberEpoch",
    reason: "an epoch of the coordinator's making",
    normalize: positive,
  },
];

function positive(v: unknown): unknown {
  return typeof v === "number" && v > 0 ? "(a positive epoch)" : v;
}

/**
 * A rule's path as a regular expression over concrete paths: `[]` stands for any element (`[name=x]`
 * or `[3]`), `[name=x]` for that one, `*` for any one field name, `**.` for any prefix.
 */
function patternRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    if (pattern.startsWith("**.", i)) {
      re += "(?:.*\\.)?";
      i += 2;
      continue;
    }
    if (pattern.startsWith("[]", i)) {
      re += "\\[[^\\]]*\\]";
      i += 1;
      continue;
    }
    const c = pattern[i]!;
    if (c === "*") re += "[^.\\[\\]]*";
    else re += c.replace(/[.[\]()+?^$|{}\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export interface CompiledRule extends IgnoreRule {
  regex: RegExp;
}

export function compileRules(rules: readonly IgnoreRule[]): CompiledRule[] {
  return rules.map((r) => ({ ...r, regex: patternRegex(r.path) }));
}

/** Whether `rule` covers the concrete `path` (array elements named by key or index) of API `api`. */
export function ruleMatches(rule: CompiledRule, api: string, path: string): boolean {
  return (rule.api === "*" || rule.api === api) && rule.regex.test(path);
}

const COMPILED_IGNORED = compileRules(IGNORED);
const COMPILED_NORMALIZED = NORMALIZED.map((r) => ({ ...r, regex: patternRegex(r.path) }));

/** Fields that name an array element, in order of preference (Kafka's mapKey fields, mostly). */
const KEY_FIELDS = [
  "apiKey",
  "name",
  "topic",
  "topicName",
  "topicId",
  "partitionIndex",
  "partition",
  "partitionId",
  "index",
  "groupId",
  "memberId",
  "resourceName",
  "brokerId",
  "nodeId",
  "key",
  "featureName",
];

/**
 * A decoded response as plain comparable values: identifiers the broker made up become symbols,
 * record batches become their header fields and a digest of their records (the CRC, which follows
 * from both, is left out), other bytes become hex.
 */
export function canonical(value: unknown, key: string, target: 0 | 1, book: IdentityBook, apiKey: number): unknown {
  const symbol = book.symbolOf(target, key, value, apiKey);
  if (symbol !== undefined) return symbol;
  if (Buffer.isBuffer(value)) return key === "records" ? canonicalRecords(value, target, book) : value.toString("hex");
  if (Array.isArray(value)) return value.map((item) => canonical(item, key, target, book, apiKey));
  if (isStruct(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "_unknownTaggedFields" && Array.isArray(v) && v.length === 0) continue;
      out[k] = canonical(v, k, target, book, apiKey);
    }
    return out;
  }
  return value;
}

function canonicalRecords(records: Buffer, target: 0 | 1, book: IdentityBook): unknown {
  const batches: unknown[] = [];
  try {
    const it = iterateBatches(records);
    for (;;) {
      const step = it.next();
      if (step.done === true) {
        if (step.value !== null) batches.push({ partialBatchBytes: step.value.available });
        break;
      }
      const { header, offset, length } = step.value;
      const { crc: _crc, ...fields } = header;
      const payload = records.subarray(offset + BATCH_HEADER_SIZE, offset + length);
      batches.push({
        ...fields,
        producerId: book.symbolOf(target, "producerId", header.producerId, -1) ?? header.producerId,
        records: createHash("sha256").update(payload).digest("hex").slice(0, 16),
      });
    }
  } catch {
    return records.toString("hex"); // A legacy message set (magic 0 or 1): compared as bytes.
  }
  return batches;
}

/** JSON.stringify's replacer for decoded messages: bigints as digits, bytes as hex. */
export function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return `${v}`;
  // Buffers reach a replacer already turned into { type: 'Buffer', data: [...] } by their toJSON.
  if (isStruct(v) && v["type"] === "Buffer" && Array.isArray(v["data"]))
    return Buffer.from(v["data"] as number[]).toString("hex");
  return v;
}

/** Renders a value for a report line (bigints as digits, bytes as hex, long text cut). */
export function render(value: unknown): string {
  if (value === undefined) return "(absent)";
  const text = JSON.stringify(value, jsonValue) ?? String(value);
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** Every difference between the canonical responses `a` (Kafka) and `b` (tskafka) of API `api`. */
export function diff(api: string, a: unknown, b: unknown): FieldDifference[] {
  const out: FieldDifference[] = [];
  walk(api, a, b, "", "", out);
  return out;
}

function ignored(api: string, path: string): boolean {
  return COMPILED_IGNORED.some((r) => ruleMatches(r, api, path));
}

function join(path: string, field: string): string {
  return path === "" ? field : `${path}.${field}`;
}

function walk(api: string, a: unknown, b: unknown, path: string, pattern: string, out: FieldDifference[]): void {
  if (path !== "" && ignored(api, path)) return;
  if (Array.isArray(a) && Array.isArray(b)) return walkArray(api, a, b, path, pattern, out);
  if (isStruct(a) && isStruct(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) walk(api, a[k], b[k], join(path, k), join(pattern, k), out);
    return;
  }
  if (a === b) return;
  const normalize = COMPILED_NORMALIZED.find((r) => ruleMatches(r, api, path))?.normalize;
  if (normalize !== undefined && normalize(a) === normalize(b)) return;
  out.push({
    path: path === "" ? "(body)" : path,
    pattern: pattern === "" ? "(body)" : pattern,
    kafka: render(a),
    tskafka: render(b),
  });
}

/** The key field that names every element of both arrays uniquely, if there is one. */
function keyField(a: unknown[], b: unknown[]): string | undefined {
  const all = [...a, ...b];
  if (all.length === 0 || !all.every(isStruct)) return undefined;
  for (const field of KEY_FIELDS) {
    const ok = [a, b].every((list) => {
      const seen = new Set<unknown>();
      for (const item of list as Record<string, unknown>[]) {
        const v = item[field];
        if ((typeof v !== "string" || v === "") && typeof v !== "number") return false;
        if (seen.has(v)) return false;
        seen.add(v);
      }
      return true;
    });
    if (ok) return field;
  }
  return undefined;
}

/**
 * Arrays whose elements have a key (Kafka's mapKey fields, mostly) are matched by key, in any order:
 * Kafka builds most of them from hash maps (Metadata's topics, ListOffsets' partitions, ListGroups'
 * groups, DescribeConfigs' entries...), so no client can rely on their order. Other arrays are
 * compared position by position.
 */
function walkArray(
  api: string,
  a: unknown[],
  b: unknown[],
  path: string,
  pattern: string,
  out: FieldDifference[],
): void {
  const field = keyField(a, b);
  const elementPattern = `${pattern}[]`;
  if (field === undefined) {
    if (a.length !== b.length) {
      out.push({
        path: `${path}.length`,
        pattern: `${elementPattern}.length`,
        kafka: render(a.length),
        tskafka: render(b.length),
      });
    }
    for (let i = 0; i < Math.min(a.length, b.length); i++) walk(api, a[i], b[i], `${path}[${i}]`, elementPattern, out);
    return;
  }
  const byKey = (list: unknown[]): Map<unknown, Record<string, unknown>> =>
    new Map((list as Record<string, unknown>[]).map((item) => [item[field], item]));
  const ma = byKey(a);
  const mb = byKey(b);
  const name = (k: unknown): string => `${path}[${field}=${String(k)}]`;
  for (const [k, item] of ma) {
    const other = mb.get(k);
    if (other === undefined) {
      if (!ignored(api, name(k)))
        out.push({ path: name(k), pattern: elementPattern, kafka: render(item), tskafka: "(absent)" });
    } else {
      walk(api, item, other, name(k), elementPattern, out);
    }
  }
  for (const [k, item] of mb) {
    if (!ma.has(k) && !ignored(api, name(k)))
      out.push({ path: name(k), pattern: elementPattern, kafka: "(absent)", tskafka: render(item) });
  }
}
