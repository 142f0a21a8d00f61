// Golden fixtures: request frames sent by real clients (kafkajs, kcat, kafka-python, the Java
// client, the broker's own inter-broker client) and Apache Kafka 3.9.1's real responses, and in
// the kafka44-* folders today's clients (the Java 4.4 client and tools, librdkafka through
// confluent-kafka, franz-go) with Apache Kafka 4.4's responses, captured by
// scripts/capture/capture-fixtures.ts. Every frame must decode, and re-encode to exactly the
// bytes on the wire.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeRequestFrame, encodeRequestFrame, decodeResponseFrame, encodeResponseFrame } from "../src/index.js";

interface FixtureEntry {
  file: string;
  client: string;
  apiKey: number;
  apiName?: string;
  version: number;
  correlationId: number;
  response: boolean;
}

// The fixtures stay beside the sources; compiled tests run from dist/test.
const here = dirname(fileURLToPath(import.meta.url));
const fixturesDir = join(here.endsWith(`${sep}dist${sep}test`) ? join(here, "..", "..", "test") : here, "fixtures");
const index = JSON.parse(readFileSync(join(fixturesDir, "index.json"), "utf8")) as FixtureEntry[];

/** Fails with the first differing offset and the bytes around it, in hex. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const length = Math.min(actual.length, expected.length);
  let at = 0;
  while (at < length && actual[at] === expected[at]) at++;
  if (at === length && actual.length === expected.length) return;
  const from = Math.max(0, at - 8);
  const to = Math.min(Math.max(actual.length, expected.length), at + 8);
  const hex = (bytes: Uint8Array): string => Buffer.from(bytes.subarray(from, to)).toString("hex");
  assert.fail(
    `${what}: first difference at byte ${at} of ${expected.length} (re-encoded is ${actual.length} bytes); ` +
      `bytes ${from}..${to}: expected ${hex(expected)}, got ${hex(actual)}`,
  );
}

/** The frame less its last `trailing` bytes, with the size prefix saying so. */
function withoutTrailingBytes(frame: Buffer, trailing: number): Buffer {
  if (trailing === 0) return frame;
  const cut = Buffer.from(frame.subarray(0, frame.length - trailing));
  cut.writeInt32BE(cut.length - 4, 0);
  return cut;
}

function label(entry: FixtureEntry): string {
  return `${entry.file} ${entry.apiName ?? `api ${entry.apiKey}`} v${entry.version}`;
}

test("the fixture index lists existing files and covers the core APIs", () => {
  assert.ok(index.length > 0, "index.json is empty");
  for (const entry of index) {
    assert.ok(existsSync(join(fixturesDir, `${entry.file}.req.bin`)), `${entry.file}.req.bin is missing`);
    if (entry.response)
      assert.ok(existsSync(join(fixturesDir, `${entry.file}.res.bin`)), `${entry.file}.res.bin is missing`);
  }
  const have = new Set(index.filter((e) => e.response).map((e) => `${e.apiKey}/${e.version}`));
  // ApiVersions v0-3, then Metadata, Produce, Fetch, ListOffsets, FindCoordinator, JoinGroup, SyncGroup.
  for (const version of [0, 1, 2, 3]) assert.ok(have.has(`18/${version}`), `no ApiVersions v${version} exchange`);
  for (const apiKey of [3, 0, 1, 2, 10, 11, 14]) {
    assert.ok(
      [...have].some((k) => k.startsWith(`${apiKey}/`)),
      `no exchange for api key ${apiKey}`,
    );
  }
});

test("the Kafka 4.4 fixtures cover the clients and the 4.x versions they speak", () => {
  // Captured by `scripts/capture/capture-fixtures.ts --kafka 4.4.0`: today's clients against Apache Kafka 4.4.
  const modern = index.filter((e) => e.client.startsWith("kafka44-") && e.response);
  for (const client of [
    "probe",
    "java-admin",
    "java-producer",
    "java-classic",
    "java-consumer",
    "confluent",
    "franz",
  ]) {
    assert.ok(
      modern.some((e) => e.client === `kafka44-${client}`),
      `no exchange of kafka44-${client}`,
    );
  }
  const have = new Set(modern.map((e) => `${e.apiName ?? e.apiKey} v${e.version}`));
  const wanted = [
    ...[0, 1, 2, 3, 4, 5].map((v) => `ApiVersions v${v}`),
    "Produce v13",
    "Fetch v18",
    "ListOffsets v11",
    "Metadata v13",
    "InitProducerId v5",
    "CreateTopics v7",
    "DeleteTopics v6",
    "CreatePartitions v3",
    "DescribeConfigs v4",
    "IncrementalAlterConfigs v1",
    "DescribeCluster v2",
    "DescribeLogDirs v5",
    "DescribeTopicPartitions v0",
    "FindCoordinator v6",
    "JoinGroup v9",
    "SyncGroup v5",
    "Heartbeat v4",
    "LeaveGroup v5",
    "OffsetCommit v10",
    "OffsetFetch v10",
    "DescribeGroups v6",
    "ListGroups v5",
    "DeleteGroups v3",
    "ConsumerGroupHeartbeat v1",
    "ConsumerGroupDescribe v1",
  ];
  const missing = wanted.filter((w) => !have.has(w));
  assert.deepEqual(missing, [], `no Kafka 4.4 exchange of ${missing.join(", ")}`);
});

const clients = [...new Set(index.map((e) => e.client))].sort();
for (const client of clients) {
  describe(`fixtures from ${client}`, () => {
    for (const entry of index.filter((e) => e.client === client)) {
      test(`${label(entry)} request re-encodes byte for byte`, () => {
        const frame = readFileSync(join(fixturesDir, `${entry.file}.req.bin`));
        const decoded = decodeRequestFrame(frame);
        assert.equal(decoded.apiKey, entry.apiKey, "api key");
        assert.equal(decoded.apiVersion, entry.version, "api version");
        const encoded = encodeRequestFrame(decoded.header, decoded.body);
        // Bytes after the body (librdkafka 2.x sends a few with Metadata) are ignored, by Kafka and
        // by the decoder: what re-encodes is the frame without them, its size prefix adjusted.
        assertSameBytes(encoded, withoutTrailingBytes(frame, decoded.trailingBytes), `${entry.file}.req.bin`);
      });
      if (!entry.response) continue;
      test(`${label(entry)} response re-encodes byte for byte`, () => {
        const frame = readFileSync(join(fixturesDir, `${entry.file}.res.bin`));
        const decoded = decodeResponseFrame(frame, entry.apiKey, entry.version);
        const encoded = encodeResponseFrame(decoded.header, decoded.body, entry.apiKey, entry.version);
        assertSameBytes(encoded, frame, `${entry.file}.res.bin`);
      });
    }
  });
}
