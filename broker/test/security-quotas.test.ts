import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  ApiKey,
  createAlterClientQuotasRequest,
  createApiVersionsRequest,
  createDescribeClientQuotasRequest,
  createMetadataRequest,
  type AlterClientQuotasResponse,
  type DescribeClientQuotasResponse,
} from "@tskafka/protocol";
import { skipUnless } from "./harness.js";
import { KAFKA44_REQUIREMENT, haveKafka44, toolBatch, tool44Result } from "./clients/java/kafka44.js";
import { RawClient } from "./clients/raw-client.js";
import { SEC_TARGET_KIND, haveKafkaTarget } from "./clients/security-target.js";
import { startTxnTarget, type TxnTarget } from "./clients/txn-target.js";

/**
 * Client quotas and connection limits, as Kafka 4.4 has them: kafka-configs (ConfigCommand) sets and
 * describes producer_byte_rate / consumer_byte_rate of clients and users (kept across a restart); the
 * protocol's per-entity answers and filters; a producer and a consumer held to 1 MiB/s by their client-id
 * quotas (Kafka's perf tools, their throttle-time metrics); max.connections.per.ip refusing one more.
 * The target is this broker, or Apache Kafka 4.4.0 with TSKAFKA_SEC_TARGET=kafka: the expectations were
 * checked against it first.
 */

const MIB = 1024 * 1024;
const PER_IP = 10;
const CONFIGS = "org.apache.kafka.tools.ConfigCommand";

const skip = skipUnless(
  haveKafka44() && (SEC_TARGET_KIND === "tskafka" || haveKafkaTarget()),
  `${KAFKA44_REQUIREMENT}${SEC_TARGET_KIND === "kafka" ? " and Apache Kafka 4.4.0 as the target" : ""}`,
);

let target: TxnTarget;
let port: number;

/** A socket that has been answered ApiVersions, or that was closed first (false). */
function openAnswered(p: number): Promise<{ socket: Socket; answered: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: p });
    let done = false;
    const finish = (answered: boolean): void => {
      if (done) return;
      done = true;
      resolve({ socket, answered });
    };
    socket.once("connect", () => {
      // ApiVersions v0, correlation id 1, client id "q": header only.
      const body = Buffer.from([0, 18, 0, 0, 0, 0, 0, 1, 0, 1, 0x71]);
      const size = Buffer.alloc(4);
      size.writeInt32BE(body.length);
      socket.write(Buffer.concat([size, body]));
    });
    socket.once("data", () => finish(true));
    socket.once("close", () => finish(false));
    socket.once("error", () => finish(false));
    setTimeout(() => finish(false), 10_000).unref();
  });
}

describe(`client quotas and connection limits (${SEC_TARGET_KIND})`, { skip }, () => {
  before(async () => {
    target = await startTxnTarget({ "max.connections.per.ip": PER_IP }, SEC_TARGET_KIND);
    port = Number(target.bootstrap.split(":")[1]);
  });
  after(async () => {
    await target?.cleanup();
  });

  test(`max.connections.per.ip=${PER_IP} closes connection ${PER_IP + 1} at once`, async () => {
    const open = [];
    for (let i = 0; i < PER_IP; i++) open.push(await openAnswered(port));
    assert.deepEqual(
      open.map((o) => o.answered),
      Array<boolean>(PER_IP).fill(true),
    );
    const refused = await openAnswered(port);
    assert.equal(refused.answered, false, "connection 11 was served");
    refused.socket.destroy();
    for (const o of open) o.socket.destroy();
    // Each side logs it: ours "refused connection from 127.0.0.1", Kafka's "Rejected connection from /127.0.0.1".
    await waitUntil("the refusal is logged", () =>
      /(refused|Rejected) connection from \/?127\.0\.0\.1/.test(target.logTail(200_000)),
    );
    // Slots come back once the connections are closed.
    await waitUntil("a new connection is served", async () => {
      const again = await openAnswered(port);
      again.socket.destroy();
      return again.answered;
    });
  });

  test("an ip's connection_creation_rate refuses connections past it", { timeout: 60_000 }, async (t) => {
    const admin = await RawClient.connect(port, { requestTimeoutMs: 30_000 });
    const setRate = async (value: number | null): Promise<void> => {
      const r = await admin.request(
        ApiKey.AlterClientQuotas,
        1,
        createAlterClientQuotasRequest({
          entries: [
            {
              entity: [{ entityType: "ip", entityName: "127.0.0.1" }],
              ops: [{ key: "connection_creation_rate", value: value ?? 0, remove: value === null }],
            },
          ],
        }),
      );
      assert.equal(r.entries[0]!.errorCode, 0, r.entries[0]!.errorMessage ?? "");
    };
    try {
      await setRate(1);
      // 1 per second, counted over at least 10 windows: about 10 connections, then refusals.
      let firstRefused = -1;
      for (let i = 0; i < 20 && firstRefused < 0; i++) {
        const c = await openAnswered(port);
        c.socket.destroy();
        if (!c.answered) firstRefused = i;
        await new Promise((r) => setTimeout(r, 50));
      }
      t.diagnostic(`first refused connection: ${firstRefused}`);
      assert.ok(firstRefused >= 5 && firstRefused <= 12, `first refused connection: ${firstRefused}`);
    } finally {
      await setRate(null);
      admin.close();
    }
    await waitUntil("a new connection is served", async () => {
      const again = await openAnswered(port);
      again.socket.destroy();
      return again.answered;
    });
  });

  test("kafka-configs sets and describes client and user quotas", { timeout: 180_000 }, async () => {
    const configs = (...args: string[]) => [CONFIGS, "--bootstrap-server", target.bootstrap, ...args];
    const producer = ["--entity-type", "clients", "--entity-name", "quota-producer"];
    const consumer = ["--entity-type", "clients", "--entity-name", "quota-consumer"];
    const alice = ["--entity-type", "users", "--entity-name", "alice"];
    const aliceDefault = [...alice, "--entity-type", "clients", "--entity-default"];
    const runs = await toolBatch([
      configs("--alter", "--add-config", `producer_byte_rate=${MIB}`, ...producer),
      configs("--alter", "--add-config", `consumer_byte_rate=${MIB}`, ...consumer),
      configs("--alter", "--add-config", "producer_byte_rate=2097152,request_percentage=150.5", ...alice),
      configs("--alter", "--add-config", "consumer_byte_rate=4096", ...aliceDefault),
      configs("--describe", ...producer),
      configs("--describe", ...alice),
      configs("--describe", ...aliceDefault),
      configs("--alter", "--delete-config", "request_percentage", ...alice),
      configs("--describe", ...alice),
      configs("--alter", "--add-config", "connection_creation_rate=500", "--entity-type", "ips", "--entity-default"),
      configs("--describe", "--entity-type", "ips", "--entity-default"),
    ]);
    for (const r of runs) assert.equal(r.code, 0, `${r.command}\n${r.out}`);
    assert.match(runs[0]!.out, /Completed updating config for client quota-producer/);
    assert.match(runs[4]!.out, /Quota configs for client-id 'quota-producer' are producer_byte_rate=1048576.0/);
    assert.match(
      runs[5]!.out,
      /Quota configs for user-principal 'alice' are (producer_byte_rate=2097152.0, request_percentage=150.5|request_percentage=150.5, producer_byte_rate=2097152.0)/,
    );
    assert.match(
      runs[6]!.out,
      /Quota configs for user-principal 'alice', the default client-id are consumer_byte_rate=4096.0/,
    );
    assert.match(runs[8]!.out, /Quota configs for user-principal 'alice' are producer_byte_rate=2097152.0\n/);
    assert.match(runs[10]!.out, /Quota configs for the default ip are connection_creation_rate=500.0/);
  });

  test("AlterClientQuotas answers each entity as Kafka; DescribeClientQuotas filters exact, default, any, strict", async () => {
    const client = await RawClient.connect(port, { requestTimeoutMs: 30_000 });
    try {
      const alter = (
        entries: { entity: [string, string | null][]; ops: [string, number | null][] }[],
        validateOnly = false,
      ): Promise<AlterClientQuotasResponse> =>
        client.request(
          ApiKey.AlterClientQuotas,
          1,
          createAlterClientQuotasRequest({
            validateOnly,
            entries: entries.map((e) => ({
              entity: e.entity.map(([entityType, entityName]) => ({ entityType, entityName })),
              ops: e.ops.map(([key, value]) => ({ key, value: value ?? 0, remove: value === null })),
            })),
          }),
        );
      const answers = (r: AlterClientQuotasResponse) =>
        Object.fromEntries(
          r.entries.map((e) => [
            e.entity
              .map((x) => `${x.entityType}=${x.entityName ?? "<default>"}`)
              .sort()
              .join(","),
            `${e.errorCode}${e.errorMessage === null ? "" : ` ${e.errorMessage}`}`,
          ]),
        );
      const r = await alter([
        { entity: [["client-id", "p1"]], ops: [["producer_byte_rate", 1.5]] },
        { entity: [["client-id", "p2"]], ops: [["connection_creation_rate", 5]] },
        {
          entity: [
            ["ip", "127.0.0.1"],
            ["user", "u"],
          ],
          ops: [["connection_creation_rate", 5]],
        },
        { entity: [["ip", null]], ops: [["connection_creation_rate", 1000]] },
        { entity: [["ip", "10.1.2.3"]], ops: [["connection_creation_rate", 2.5]] },
        { entity: [["user", "u1"]], ops: [["consumer_byte_rate", 0]] },
        { entity: [["user", ""]], ops: [["consumer_byte_rate", 10]] },
        { entity: [["group", "g"]], ops: [["consumer_byte_rate", 10]] },
        {
          entity: [
            ["user", "u2"],
            ["client-id", null],
          ],
          ops: [["request_percentage", 12.5]],
        },
        {
          entity: [["client-id", "p3"]],
          ops: [
            ["producer_byte_rate", 10],
            ["producer_byte_rate", 20],
          ],
        },
      ]);
      assert.deepEqual(answers(r), {
        "client-id=p1": "42 producer_byte_rate cannot be a fractional value.",
        "client-id=p2": "42 Invalid configuration key connection_creation_rate",
        "ip=127.0.0.1,user=u":
          "42 Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId",
        "ip=<default>": "0",
        "ip=10.1.2.3": "42 connection_creation_rate cannot be a fractional value.",
        "user=u1": "42 Quota consumer_byte_rate must be greater than 0",
        "user=": "42 Empty user not supported",
        "group=g": "42 Unhandled client quota entity type: group",
        "client-id=<default>,user=u2": "0",
        "client-id=p3": "42 Ignoring duplicate entity ClientQuotaEntity(entries={client-id=p3})",
      });
      // validate_only checks without storing.
      const v = await alter([{ entity: [["client-id", "only-checked"]], ops: [["producer_byte_rate", 100]] }], true);
      assert.deepEqual(answers(v), { "client-id=only-checked": "0" });

      const describeQuotas = async (
        components: [string, 0 | 1 | 2, string | null][],
        strict: boolean,
      ): Promise<string[]> => {
        const d: DescribeClientQuotasResponse = await client.request(
          ApiKey.DescribeClientQuotas,
          1,
          createDescribeClientQuotasRequest({
            strict,
            components: components.map(([entityType, matchType, match]) => ({ entityType, matchType, match })),
          }),
        );
        assert.equal(d.errorCode, 0, d.errorMessage ?? "");
        return d
          .entries!.map(
            (e) =>
              e.entity
                .map((x) => `${x.entityType}=${x.entityName ?? "<default>"}`)
                .sort()
                .join(",") +
              " " +
              e.values
                .map((x) => `${x.key}=${x.value}`)
                .sort()
                .join(","),
          )
          .sort();
      };
      assert.deepEqual(await describeQuotas([["ip", 1, null]], true), ["ip=<default> connection_creation_rate=1000"]);
      assert.deepEqual(await describeQuotas([["user", 0, "u2"]], false), [
        "client-id=<default>,user=u2 request_percentage=12.5",
      ]);
      assert.deepEqual(await describeQuotas([["user", 0, "u2"]], true), []);
      assert.deepEqual(await describeQuotas([["client-id", 2, null]], true), [
        "client-id=quota-consumer consumer_byte_rate=1048576",
        "client-id=quota-producer producer_byte_rate=1048576",
      ]);
      assert.deepEqual(await describeQuotas([["client-id", 1, null]], false), [
        "client-id=<default>,user=alice consumer_byte_rate=4096",
        "client-id=<default>,user=u2 request_percentage=12.5",
      ]);
      // Refused filters: at the top level, no entries.
      const refused = async (components: [string, number, string | null][]) => {
        const d: DescribeClientQuotasResponse = await client.request(
          ApiKey.DescribeClientQuotas,
          0,
          createDescribeClientQuotasRequest({
            components: components.map(([entityType, matchType, match]) => ({ entityType, matchType, match })),
          }),
        );
        return [d.errorCode, d.errorMessage, d.entries];
      };
      assert.deepEqual(await refused([["group", 2, null]]), [35, "Unsupported entity type group", null]);
      assert.deepEqual(await refused([["user", 0, null]]), [
        42,
        "Request specified MATCH_TYPE_EXACT, but set match string to null.",
        null,
      ]);
      assert.deepEqual(
        await refused([
          ["ip", 2, null],
          ["user", 2, null],
        ]),
        [
          42,
          "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.",
          null,
        ],
      );
      // Removing the last value removes the entity.
      const removed = await alter([{ entity: [["ip", null]], ops: [["connection_creation_rate", null]] }]);
      assert.deepEqual(answers(removed), { "ip=<default>": "0" });
      assert.deepEqual(await describeQuotas([["ip", 2, null]], false), []);
    } finally {
      client.close();
    }
  });

  test(
    "a producer and a consumer held to 1 MiB/s by their client-id quotas, and told so",
    { timeout: 120_000 },
    async (t) => {
      const perfProducer = (topic: string, clientId: string, mib: number) => [
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        String((mib * MIB) / 10_240),
        "--record-size",
        "10240",
        "--throughput",
        "-1",
        "--print-metrics",
        "--producer-props",
        `bootstrap.servers=${target.bootstrap}`,
        `client.id=${clientId}`,
        "batch.size=262144",
        "linger.ms=5",
        "acks=1",
      ];
      // The consumer's records, written by a client without a quota.
      const [load] = await toolBatch([perfProducer("quota-fetch", "no-quota", 15)], 60_000);
      assert.equal(load!.code, 0, load!.out);
      const consume = tool44Result(
        "org.apache.kafka.tools.ConsumerPerformance",
        [
          "--bootstrap-server",
          target.bootstrap,
          "--topic",
          "quota-fetch",
          "--num-records",
          String((15 * MIB) / 10_240),
          "--timeout",
          "60000",
          "--print-metrics",
          "--command-property",
          "client.id=quota-consumer",
          "--command-property",
          "group.id=quota-consumers",
        ],
        { timeoutMs: 90_000 },
      );
      const produce = tool44Result(
        "org.apache.kafka.tools.ProducerPerformance",
        perfProducer("quota-produce", "quota-producer", 15).slice(1),
        {
          timeoutMs: 90_000,
        },
      );
      const [p, c] = await Promise.all([produce, consume]);
      assert.equal(p.code, 0, p.stdout + p.stderr);
      assert.equal(c.code, 0, c.stdout + c.stderr);
      // "N records sent, R records/sec (X MB/sec), ..."
      const produced = /records sent, [\d.]+ records\/sec \(([\d.]+) MB\/sec\)/.exec(p.stdout);
      assert.ok(produced, p.stdout);
      const producerMBs = Number(produced[1]);
      // Kafka's rate counts at least 10 windows: 10 MiB pass at once, the rest at the quota, so 15 MiB
      // take about 11 s (1.4 MB/s); unthrottled it is tens of MB/s.
      assert.ok(producerMBs > 0.3 && producerMBs < 3, `producer at ${producerMBs} MB/s`);
      assert.ok(metric(p.stdout, "producer-metrics:produce-throttle-time-max") > 0, "no produce throttle time");
      // ConsumerPerformance: "start.time, end.time, data.consumed.in.MB, MB.sec, ..." then its data line.
      const line = c.stdout
        .split("\n")
        .find((l) => /^\d{4}-\d\d-\d\d/.test(l))
        ?.split(",")
        .map((f) => f.trim());
      assert.ok(line, c.stdout);
      const consumerMBs = Number(line[3]);
      const throttle = (out: string, name: string) => metric(out, name).toFixed(0);
      t.diagnostic(
        `producer ${producerMBs} MB/s (throttle max ${throttle(p.stdout, "producer-metrics:produce-throttle-time-max")} ms), ` +
          `consumer ${consumerMBs} MB/s (throttle max ${throttle(c.stdout, "consumer-fetch-manager-metrics:fetch-throttle-time-max")} ms)`,
      );
      assert.ok(consumerMBs > 0.3 && consumerMBs < 3, `consumer at ${consumerMBs} MB/s\n${c.stdout}`);
      assert.ok(
        metric(c.stdout, "consumer-fetch-manager-metrics:fetch-throttle-time-max") > 0,
        "no fetch throttle time",
      );
    },
  );

  test("a client over its request_percentage is told the throttle time and not read from meanwhile", async () => {
    const admin = await RawClient.connect(port, { requestTimeoutMs: 30_000 });
    const client = await RawClient.connect(port, { requestTimeoutMs: 30_000, clientId: "quota-requests" });
    try {
      const set = await admin.request(
        ApiKey.AlterClientQuotas,
        1,
        createAlterClientQuotasRequest({
          entries: [
            {
              entity: [{ entityType: "client-id", entityName: "quota-requests" }],
              ops: [{ key: "request_percentage", value: 0.01, remove: false }],
            },
          ],
        }),
      );
      assert.equal(set.entries[0]!.errorCode, 0);
      // Kafka applies a quota once its metadata reaches the broker: the first throttled answer may take a moment.
      let throttleMs = 0;
      for (let i = 0; i < 2000 && throttleMs === 0; i++) {
        const m = await client.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: [] }));
        throttleMs = m.throttleTimeMs;
      }
      assert.ok(throttleMs > 0, "never throttled");
      // The request quota's throttle is bounded by one quota window (quota.window.size.seconds).
      assert.ok(throttleMs <= 1000, `throttled ${throttleMs} ms`);
      const sent = Date.now();
      await client.request(ApiKey.ApiVersions, 3, createApiVersionsRequest({}));
      const waited = Date.now() - sent;
      assert.ok(waited >= throttleMs * 0.8, `answered after ${waited} ms, throttled ${throttleMs} ms`);
    } finally {
      client.close();
      admin.close();
    }
  });

  test("the quotas outlive a kill -9 and restart", { timeout: 180_000 }, async () => {
    const configs = (...args: string[]) => [CONFIGS, "--bootstrap-server", target.bootstrap, ...args];
    const producer = ["--entity-type", "clients", "--entity-name", "quota-producer"];
    // Acknowledged quotas are on disk: even a crash keeps them.
    await target.kill9();
    await target.restart();
    const again = await toolBatch([
      configs("--describe", ...producer),
      configs("--describe", "--entity-type", "clients"),
    ]);
    assert.match(again[0]!.out, /Quota configs for client-id 'quota-producer' are producer_byte_rate=1048576.0/);
    assert.match(again[1]!.out, /Quota configs for client-id 'quota-consumer' are consumer_byte_rate=1048576.0/);
  });
});

/** The largest value printed for a metric by --print-metrics (`group:name:{tags} : value`). */
function metric(output: string, name: string): number {
  let max = -Infinity;
  for (const line of output.split("\n")) {
    if (!line.startsWith(`${name}:`)) continue;
    const value = Number(line.split(" : ").at(-1)?.trim());
    if (Number.isFinite(value)) max = Math.max(max, value);
  }
  return max;
}

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}\n${target.logTail(3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
