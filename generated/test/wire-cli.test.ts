// The `wire` CLI, run as a user runs it: the compiled JS when `tsc -b generated` has built it from the
// current source, else the source through tsx. Input frames come from the golden fixtures.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { apis } from "../src/index.js";

interface FixtureEntry {
  file: string;
  apiKey: number;
  apiName?: string;
  version: number;
  response: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
// This file also runs compiled, from dist/test.
const packageDir = here.endsWith(`${sep}dist${sep}test`) ? join(here, "..", "..") : join(here, "..");
const fixturesDir = join(packageDir, "test", "fixtures");
const index = JSON.parse(readFileSync(join(fixturesDir, "index.json"), "utf8")) as FixtureEntry[];

const source = join(packageDir, "src", "wire", "cli.ts");
const compiled = join(packageDir, "dist", "src", "wire", "cli.js");
const command: string[] =
  existsSync(compiled) && statSync(compiled).mtimeMs >= statSync(source).mtimeMs
    ? [compiled]
    : ["--import", "tsx", source];

function wire(args: string[], input?: Buffer | string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...command, ...args], {
    input: input ?? "",
    encoding: "utf8",
    timeout: 20_000,
    cwd: packageDir,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fixture(pred: (e: FixtureEntry) => boolean): FixtureEntry {
  const e = index.find(pred);
  assert.ok(e, "no fixture matches");
  return e;
}

const read = (e: FixtureEntry, side: "req" | "res"): Buffer => readFileSync(join(fixturesDir, `${e.file}.${side}.bin`));

test("apis --json lists every API key with the union of versions and the releases defining each", () => {
  const r = wire(["apis", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { apiKey: number; name: string; releases: unknown }[];
  assert.equal(rows.length, Object.keys(apis).length);
  // Kafka 4.0 dropped Produce v0-2 (KIP-896); 4.4 adds v12-13.
  assert.deepEqual(
    rows.find((x) => x.apiKey === 0),
    {
      apiKey: 0,
      name: "Produce",
      validVersions: { min: 0, max: 13 },
      flexibleVersions: { min: 9, max: 13 },
      latestVersionUnstable: false,
      releases: [
        { release: "3.9", versions: { min: 0, max: 11 } },
        { release: "4.4", versions: { min: 3, max: 13 } },
      ],
    },
  );
  // An API only Kafka 4 has, and one it removed (ZooKeeper's LeaderAndIsr).
  assert.deepEqual(rows.find((x) => x.name === "StreamsGroupHeartbeat")?.releases, [
    { release: "4.4", versions: { min: 0, max: 1 } },
  ]);
  assert.deepEqual(rows.find((x) => x.apiKey === 4)?.releases, [{ release: "3.9", versions: { min: 0, max: 7 } }]);
  const plain = wire(["apis"]);
  assert.match(plain.stdout, /^\s*18\s+ApiVersions\s+v0-5\s+flexible 3-5\s+3\.9: v0-4, 4\.4: v0-5$/m);
});

test("decode prints a request frame as JSON, int64 as strings and bytes under a marker", () => {
  const e = fixture((x) => x.apiKey === 0 && x.version >= 3);
  const r = wire(["decode"], read(e, "req"));
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    apiKey: number;
    apiName: string;
    apiVersion: number;
    header: { correlationId: number };
    body: { topicData: { partitionData: { records: { $hex: string } | null }[] }[] };
  };
  assert.equal(out.apiKey, 0);
  assert.equal(out.apiName, "Produce");
  assert.equal(out.apiVersion, e.version);
  const records = out.body.topicData[0]?.partitionData[0]?.records;
  assert.ok(records !== null && records !== undefined && /^[0-9a-f]+$/.test(records.$hex), "records as hex");
});

test("decode --response needs the API and version, and prints int64 as strings", () => {
  const e = fixture((x) => x.apiKey === 2 && x.response && x.version >= 1);
  const r = wire(["decode", "--response", "--api", "2", "--version", String(e.version)], read(e, "res"));
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { body: { topics: { partitions: { offset: unknown }[] }[] } };
  assert.equal(typeof out.body.topics[0]?.partitions[0]?.offset, "string");
  const missing = wire(["decode", "--response"], read(e, "res"));
  assert.equal(missing.code, 64);
  assert.match(missing.stderr, /--response needs --api/);
});

test("--hex takes hex text", () => {
  const e = fixture((x) => x.apiKey === 18);
  const frame = read(e, "req");
  const text = frame.toString("hex").replace(/(.{16})/g, "$1 \n");
  const r = wire(["decode", "--hex"], text);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { apiKey: number }).apiKey, 18);
});

test("--check passes on every kind of fixture and names the first differing byte otherwise", () => {
  for (const e of [fixture((x) => x.apiKey === 3 && x.response), fixture((x) => x.apiKey === 1 && x.response)]) {
    const req = wire(["decode", "--check"], read(e, "req"));
    assert.equal(req.code, 0, req.stderr);
    assert.match(req.stdout, /^identical: \d+ bytes/);
    const res = wire(
      ["decode", "--check", "--response", "--api", String(e.apiKey), "--version", String(e.version)],
      read(e, "res"),
    );
    assert.equal(res.code, 0, res.stderr);
  }
  // A non-minimal varint (0x80 0x00 for zero) decodes, but re-encodes minimally: the bytes differ.
  const e = fixture((x) => x.apiKey === 18 && x.version >= 3);
  const frame = read(e, "req");
  const last = frame.length - 1; // the request body's empty tagged-field count
  assert.equal(frame[last], 0);
  const padded = Buffer.concat([frame.subarray(0, last), Buffer.from([0x80, 0x00])]);
  padded.writeInt32BE(padded.length - 4, 0);
  const r = wire(["decode", "--check"], padded);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^differs at byte 3: input has 0x\w\w, re-encoded has 0x\w\w/);
});

test("a malformed frame exits 2 naming message, version and field", () => {
  const e = fixture((x) => x.apiKey === 3 && x.version >= 1);
  const frame = read(e, "req");
  const cut = Buffer.from(frame.subarray(0, frame.length - 2));
  cut.writeInt32BE(cut.length - 4, 0);
  const r = wire(["decode"], cut);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^wire: cannot decode: MetadataRequest v\d+: \S+: /);
});

test("usage errors exit 64", () => {
  assert.equal(wire(["frobnicate"]).code, 64);
  assert.equal(wire(["decode", "--bogus"]).code, 64);
  assert.equal(wire(["--help"]).code, 0);
});
