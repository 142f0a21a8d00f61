import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, freePort, startBroker } from "./harness.js";
import { RawClient } from "./clients/raw-client.js";

/** `--config FILE` with Kafka's server.properties keys, and the process's exit codes. */

const MAIN = join(REPO_ROOT, "broker", "dist", "src", "main.js");

interface Running {
  output(): string;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves once the broker says it listens. */
  listening: Promise<void>;
}

function spawnMain(args: string[]): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let onListen: () => void = () => undefined;
  const listening = new Promise<void>((resolve) => (onListen = resolve));
  const collect = (d: Buffer): void => {
    out += d.toString();
    if (out.includes(" listening on ")) onListen();
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  void exited.then(() => clearTimeout(timer));
  return { output: () => out, exited, kill: (s) => child.kill(s), listening };
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "tskafka-config-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("config", { timeout: 60_000 }, () => {
  for (const [key, value] of [
    ["num.partitions", "many"],
    ["message.max.bytes", "-5"],
    ["listeners", "not a listener"],
    ["log.message.timestamp.type", "Sometimes"],
    ["listeners", "PLAINTEXT://127.0.0.1:70000"],
    ["log.cleaner.backoff.ms", "0"],
  ] as const) {
    test(`a bad ${key} stops start-up naming the key`, { timeout: 10_000 }, async () => {
      await withTempDir(async (dir) => {
        const file = join(dir, "server.properties");
        await writeFile(file, `# a comment\nnum.partitions=2\n${key}=${value}\n`);
        const run = spawnMain(["--port", String(await freePort()), "--data-dir", join(dir, "data"), "--config", file]);
        const code = await run.exited;
        assert.notEqual(code, 0);
        assert.notEqual(code, null);
        assert.match(run.output(), new RegExp(`config: ${key.replaceAll(".", "\\.")}`));
        assert.doesNotMatch(run.output(), / listening on /);
      });
    });
  }

  test("a missing config file stops start-up", { timeout: 10_000 }, async () => {
    const run = spawnMain([
      "--port",
      String(await freePort()),
      "--config",
      join(tmpdir(), "no-such-dir-tskafka", "x.properties"),
    ]);
    assert.notEqual(await run.exited, 0);
    assert.match(run.output(), /cannot read/);
  });

  test(
    "--log-format json: every line is one JSON object with time, level and message",
    { timeout: 15_000 },
    async () => {
      const broker = await startBroker({ args: ["--log-format", "json"], properties: { "no.such.key": "x" } });
      try {
        const client = await RawClient.connect(broker.port);
        client.close();
      } finally {
        assert.equal(await broker.stop(), 0);
        await broker.cleanup();
      }
      const lines = broker
        .output()
        .split("\n")
        .filter((l) => l !== "");
      const events = lines.map((l) => JSON.parse(l) as { time: string; level: string; message: string });
      for (const e of events) {
        assert.deepEqual(Object.keys(e), ["time", "level", "message"]);
        assert.ok(!Number.isNaN(Date.parse(e.time)), e.time);
      }
      assert.ok(events.some((e) => e.level === "warn" && /unknown key no\.such\.key/.test(e.message)));
      assert.ok(events.some((e) => e.level === "info" && /listening on 127\.0\.0\.1/.test(e.message)));
    },
  );

  test(
    "an unknown key is a warning; num.partitions and message.max.bytes take effect",
    { timeout: 15_000 },
    async () => {
      const broker = await startBroker({
        properties: { "no.such.key": "x", "num.partitions": 3, "message.max.bytes": 2000 },
      });
      try {
        assert.match(broker.output(), /WARN .*unknown key no\.such\.key/);
        const client = await RawClient.connect(broker.port);
        try {
          const md = await client.metadata(["cfg-topic"]);
          assert.equal(md.topics[0]!.partitions.length, 3);
          const small = await client.produce("cfg-topic", 2, [{ value: "a".repeat(500) }]);
          assert.equal(small.errorCode, 0);
          const big = await client.produce("cfg-topic", 2, [{ value: "b".repeat(3000) }]);
          assert.equal(big.errorCode, 10, "MESSAGE_TOO_LARGE");
          const got = await client.fetchAll("cfg-topic", 2);
          assert.deepEqual(
            got.map((r) => r.record.value!.length),
            [500],
          );
        } finally {
          client.close();
        }
      } finally {
        assert.equal(await broker.stop(), 0);
        await broker.cleanup();
      }
    },
  );

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`listeners and log.dirs from the file; ${signal} exits 0`, { timeout: 15_000 }, async () => {
      await withTempDir(async (dir) => {
        const port = await freePort();
        const dataDir = join(dir, "kafka-logs");
        const file = join(dir, "server.properties");
        await writeFile(file, `listeners=PLAINTEXT://127.0.0.1:${port}\nlog.dirs=${dataDir}\nnode.id=7\n`);
        const run = spawnMain(["--config", file]);
        await Promise.race([run.listening, run.exited.then(() => assert.fail(`exited early:\n${run.output()}`))]);
        assert.match(run.output(), new RegExp(`node 7 listening on 127\\.0\\.0\\.1:${port}`));
        const client = await RawClient.connect(port);
        try {
          const md = await client.metadata(["in-log-dirs"]);
          assert.deepEqual(
            md.brokers.map((b) => [b.nodeId, b.port]),
            [[7, port]],
          );
          assert.equal((await client.produce("in-log-dirs", 0, [{ value: "v" }])).errorCode, 0);
        } finally {
          client.close();
        }
        assert.ok(existsSync(join(dataDir, "in-log-dirs-0")), "partition directory under log.dirs");
        run.kill(signal);
        assert.equal(await run.exited, 0);
        assert.match(run.output(), new RegExp(`${signal}: shutting down`));
      });
    });
  }
});
