import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { REPO_ROOT } from "./harness.js";
import { lockForTarballs } from "./pack-lock.js";
import { withTempDir } from "./temp.js";

/**
 * The embeddable broker (`import { startBroker } from "tskafka"`): two brokers in one process, each
 * written and read with KafkaJS, share nothing; after stop() their temporary directories are gone and
 * the process exits by itself. Then the package as another project gets it: `npm pack` of tskafka and
 * @tskafka/protocol, installed offline from the tarballs, started from there.
 */

const run = promisify(execFile);

/** Runs in a child node (cwd: the repository, so "tskafka" resolves to the workspace package). */
const TWO_BROKERS = `
import { startBroker } from "tskafka";
import { Kafka, logLevel } from "kafkajs";

const brokers = [await startBroker(), await startBroker({ config: { "group.initial.rebalance.delay.ms": 0 } })];
const consumed = [];
for (const [i, b] of brokers.entries()) {
  const kafka = new Kafka({ clientId: "embedded-" + i, brokers: [b.bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: "shared-name", messages: [1, 2, 3].map((n) => ({ value: "broker" + i + "-" + n })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: "g", maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: "shared-name", fromBeginning: true });
  const seen = [];
  await new Promise((resolve) => {
    consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value.toString()); if (seen.length === 3) resolve(); } });
  });
  await consumer.disconnect();
  consumed.push(seen);
}
await Promise.all(brokers.map((b) => b.stop()));
console.log(JSON.stringify({ ports: brokers.map((b) => b.port), dataDirs: brokers.map((b) => b.dataDir), consumed, stoppedAt: Date.now() }));
`;

test(
  "two embedded brokers in one process serve KafkaJS apart, and stop() lets the process exit",
  { timeout: 60_000 },
  async () => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", TWO_BROKERS], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    // A child that never exits (the defect this test looks for) is killed before the test's timeout.
    const killer = setTimeout(() => child.kill("SIGKILL"), 45_000);
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    clearTimeout(killer);
    const exitedAt = Date.now();
    assert.equal(code, 0, `child failed:\n${out}\n${err}`);
    const report = JSON.parse(out.trim().split("\n").at(-1)!) as {
      ports: number[];
      dataDirs: string[];
      consumed: string[][];
      stoppedAt: number;
    };
    assert.notEqual(report.ports[0], report.ports[1]);
    assert.notEqual(report.ports[0], 0);
    // Same topic and group names on both: each broker has only its own records.
    assert.deepEqual(report.consumed, [
      ["broker0-1", "broker0-2", "broker0-3"],
      ["broker1-1", "broker1-2", "broker1-3"],
    ]);
    for (const dir of report.dataDirs) assert.equal(existsSync(dir), false, `${dir} is left behind`);
    assert.ok(exitedAt - report.stoppedAt < 1000, `exited ${exitedAt - report.stoppedAt} ms after stop()`);
  },
);

test(
  "npm pack of tskafka installs offline into another project and starts a broker",
  { timeout: 120_000 },
  async () => {
    await withTempDir("tskafka-pack-", async (dir) => {
      const packed = await run(
        "npm",
        ["pack", "--json", "-w", "tskafka", "-w", "@tskafka/protocol", "--pack-destination", dir],
        {
          cwd: REPO_ROOT,
          timeout: 60_000,
        },
      );
      const tarballs = JSON.parse(packed.stdout) as {
        name: string;
        filename: string;
        integrity: string;
        files: { path: string }[];
      }[];
      const broker = tarballs.find((t) => t.name === "tskafka")!;
      assert.ok(
        broker.files.some((f) => f.path === "dist/src/index.d.ts"),
        "types are packed",
      );
      assert.ok(
        broker.files.some((f) => f.path === "dist/src/main.js"),
        "the bin is packed",
      );
      assert.ok(!broker.files.some((f) => f.path.startsWith("dist/test/")), "tests are not packed");
      const project = join(dir, "app");
      await mkdir(project);
      const folders: Record<string, string> = { tskafka: "broker", "@tskafka/protocol": "generated" };
      const registry = (await run("npm", ["config", "get", "registry"], { cwd: REPO_ROOT })).stdout.trim();
      const lock = await lockForTarballs(
        REPO_ROOT,
        registry,
        tarballs.map((t) => ({ name: t.name, folder: folders[t.name]!, filename: t.filename, integrity: t.integrity })),
      );
      const deps = Object.fromEntries(tarballs.map((t) => [t.name, `file:../${t.filename}`]));
      await writeFile(
        join(project, "package.json"),
        JSON.stringify({ name: "app", private: true, type: "module", dependencies: deps }),
      );
      await writeFile(join(project, "package-lock.json"), JSON.stringify(lock, null, 2));
      // Offline: every package comes from npm's cache (filled by the repository's npm ci), none from the registry.
      await run("npm", ["ci", "--offline", "--no-audit", "--no-fund"], { cwd: project, timeout: 60_000 });
      assert.ok((await readdir(join(project, "node_modules"))).includes("prom-client"), "dependencies are installed");
      const script = `
      import { startBroker } from "tskafka";
      import { connect } from "node:net";
      const b = await startBroker({ config: { "http.listener": "http://127.0.0.1:0" } });
      await new Promise((resolve, reject) => connect(b.port, "127.0.0.1").once("connect", function () { this.destroy(); resolve(); }).once("error", reject));
      const metrics = await (await fetch(b.httpUrl + "/metrics")).text();
      await b.stop();
      console.log(metrics.includes("tskafka_connections_created_total") ? "ok" : "no metrics");
    `;
      const started = await run(process.execPath, ["--input-type=module", "-e", script], {
        cwd: project,
        timeout: 60_000,
      });
      assert.equal(started.stdout.trim(), "ok");
      const help = await run(join(project, "node_modules", ".bin", "tskafka"), ["--help"], {
        cwd: project,
        timeout: 60_000,
      });
      assert.match(help.stdout, /--http-port/);
    });
  },
);
