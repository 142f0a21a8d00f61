import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  createAlterClientQuotasRequest,
  createDescribeClientQuotasRequest,
  type AlterClientQuotasResponse,
  type DescribeClientQuotasResponse,
} from "@tskafka/protocol";
import type { ClientQuotaEntry, QuotaEntity } from "../src/cluster/metadata.js";
import { alterClientQuotasHandler } from "../src/handlers/alter-client-quotas.js";
import { describeClientQuotasHandler } from "../src/handlers/describe-client-quotas.js";
import type { RequestContext } from "../src/handlers/handler.js";
import { ALLOW_ALL } from "../src/security/authorizer.js";
import { buildConfig } from "../src/config.js";
import { ClientQuota, ClientQuotas } from "../src/quota/client-quotas.js";
import { ConnectionQuotas } from "../src/quota/connection-quotas.js";
import { quotaChangeProblem } from "../src/quota/quota-keys.js";
import { SampledRate, throttleTimeMs } from "../src/quota/rate.js";

/**
 * The quota arithmetic on its own (the broker-level behaviour, against Kafka 4.4 too, is in
 * security-quotas.test.ts): Kafka's sampled rate and throttle time, the precedence of quota entities,
 * and the connection limits.
 */

const who = (user: string) => ({ principal: `User:${user}`, host: "127.0.0.1" });
const entry = (entity: QuotaEntity, values: Record<string, number>): ClientQuotaEntry => ({ entity, values });

describe("SampledRate (Kafka's Rate over 11 samples of 1 s)", () => {
  test("a young rate counts at least 10 windows; old samples expire", () => {
    const r = new SampledRate(11, 1000);
    r.record(10_000, 0);
    assert.equal(r.elapsedMs(0), 10_000);
    assert.equal(r.measure(0), 1000);
    r.record(5000, 500);
    assert.equal(r.measure(500), 15_000 / 10.5);
    // At 11 s the first sample (started at 0) is gone.
    assert.equal(r.measure(11_000), 0);
    assert.ok(r.idle(11_000));
  });

  test("the throttle time brings the rate back to the bound over the same window", () => {
    const r = new SampledRate(11, 1000);
    r.record(20 * 1024 * 1024, 0);
    // 2 MiB/s over 10 s against 1 MiB/s: (2 - 1) / 1 * 10 s.
    assert.equal(throttleTimeMs(r, 1024 * 1024, 0), 10_000);
    assert.equal(throttleTimeMs(r, 1024 * 1024, 0, 1000), 1000);
    assert.equal(throttleTimeMs(r, 4 * 1024 * 1024, 0), 0);
  });
});

describe("ClientQuota: Kafka's precedence of quota entities", () => {
  // Each level in Kafka's order, most specific first, with its own limit.
  const levels: [QuotaEntity, number][] = [
    [{ user: "u", "client-id": "c" }, 1],
    [{ user: "u", "client-id": null }, 2],
    [{ user: "u" }, 3],
    [{ user: null, "client-id": "c" }, 4],
    [{ user: null, "client-id": null }, 5],
    [{ user: null }, 6],
    [{ "client-id": "c" }, 7],
    [{ "client-id": null }, 8],
  ];

  test("the most specific quota applies, level after level", () => {
    for (let first = 0; first < levels.length; first++) {
      const q = new ClientQuota("producer_byte_rate", 11, 1000);
      q.update(levels.slice(first).map(([entity, value]) => entry(entity, { producer_byte_rate: value })));
      // maxValueInWindow is the limit times 10 windows of 1 s.
      assert.equal(q.maxValueInWindow(who("u"), "c"), levels[first]![1] * 10, `from level ${first + 1}`);
    }
  });

  test("a client-id quota is shared by every user of that client id; a user quota by its clients", () => {
    const q = new ClientQuota("producer_byte_rate", 11, 1000);
    q.update([entry({ "client-id": "c" }, { producer_byte_rate: 100 })]);
    assert.equal(q.record(who("a"), "c", 1000, 0), 0);
    assert.ok(q.record(who("b"), "c", 1000, 0) > 0, "the second user shares the first one's usage");
    assert.equal(q.record(who("a"), "other", 5000, 0), 0, "no quota for another client id");
    q.update([entry({ user: null }, { producer_byte_rate: 100 })]);
    assert.equal(q.record(who("a"), "x", 1000, 0), 0);
    assert.ok(q.record(who("a"), "y", 1000, 0) > 0, "one bucket per user under a default user quota");
    assert.equal(q.record(who("b"), "y", 1000, 0), 0, "another user has its own");
  });

  test("unrecord takes back a throttled fetch; no quota records nothing", () => {
    const q = new ClientQuota("consumer_byte_rate", 11, 1000);
    assert.equal(q.record(who("a"), "c", 1e12, 0), 0);
    q.update([entry({ "client-id": "c" }, { consumer_byte_rate: 100 })]);
    const t = q.record(who("a"), "c", 2000, 0);
    assert.equal(t, 10_000);
    q.unrecord(who("a"), "c", 2000, 0);
    assert.equal(q.record(who("a"), "c", 1000, 0), 0);
  });

  test("request_percentage: a millisecond of handling is 0.1 percent-second, throttled one window at most", () => {
    const quotas = new ClientQuotas(11, 1);
    quotas.update([entry({ "client-id": "c" }, { request_percentage: 1 })]);
    assert.equal(quotas.recordRequestTime(who("a"), "c", 100), 0);
    assert.equal(quotas.recordRequestTime(who("a"), "c", 10_000), 1000);
  });
});

describe("quotaChangeProblem: Kafka 4.4's controller checks", () => {
  test("entity types, combinations, keys and values", () => {
    assert.equal(quotaChangeProblem({}, []), "Invalid empty client quota entity");
    assert.equal(quotaChangeProblem({ "client-id": "c" }, [{ key: "producer_byte_rate", value: 1 }]), undefined);
    assert.equal(quotaChangeProblem({ ip: null }, [{ key: "connection_creation_rate", value: 3 }]), undefined);
    assert.equal(quotaChangeProblem({ ip: "not an ip!" }, []), "not an ip! is not a valid IP or resolvable host.");
    assert.equal(
      quotaChangeProblem({ user: "u" }, [{ key: "connection_creation_rate", value: 1e10 }]),
      "Invalid configuration key connection_creation_rate",
    );
    assert.equal(
      quotaChangeProblem({ ip: "1.2.3.4" }, [{ key: "connection_creation_rate", value: 3e9 }]),
      "Proposed value for connection_creation_rate is too large for an INT.",
    );
    assert.equal(quotaChangeProblem({ user: "u" }, [{ key: "request_percentage", value: 0.5 }]), undefined);
  });
});

describe("ConnectionQuotas (Kafka's ConnectionQuotas, refusing at once)", () => {
  const config = (props: Record<string, string>) =>
    buildConfig({
      file: new Map(
        Object.entries({
          listeners: "PLAINTEXT://127.0.0.1:9092,OTHER://127.0.0.1:9093",
          "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT",
          ...props,
        }),
      ),
    });

  test("per IP, with overrides; per listener; broker-wide; released on close", () => {
    const c = config({
      "max.connections.per.ip": "2",
      "max.connections.per.ip.overrides": "10.0.0.9:3",
      "listener.name.other.max.connections": "1",
      "max.connections": "7",
    });
    const q = new ConnectionQuotas(() => c, 11, 1000);
    assert.equal(q.admit("PLAINTEXT", "10.0.0.1"), undefined);
    assert.equal(q.admit("PLAINTEXT", "10.0.0.1"), undefined);
    assert.match(q.admit("PLAINTEXT", "10.0.0.1")!, /maximum of 2 connections/);
    q.release("PLAINTEXT", "10.0.0.1");
    assert.equal(q.admit("PLAINTEXT", "10.0.0.1"), undefined);
    for (let i = 0; i < 3; i++) assert.equal(q.admit("PLAINTEXT", "10.0.0.9"), undefined);
    assert.match(q.admit("PLAINTEXT", "10.0.0.9")!, /maximum of 3 connections/);
    assert.equal(q.admit("OTHER", "10.0.0.2"), undefined);
    assert.match(q.admit("OTHER", "10.0.0.3")!, /listener OTHER has the configured maximum of 1/);
    // 2 + 3 + 1 open: one more fits, the 8th anywhere is over max.connections.
    assert.equal(q.admit("PLAINTEXT", "10.0.0.4"), undefined);
    assert.match(q.admit("PLAINTEXT", "10.0.0.5")!, /maximum of 7 connections \(max.connections\)/);
  });

  test("connection_creation_rate of an ip, its default, and max.connection.creation.rate", () => {
    const q = new ConnectionQuotas(() => config({ "max.connection.creation.rate": "3" }), 11, 1000);
    q.update([
      entry({ ip: "10.0.0.1" }, { connection_creation_rate: 1 }),
      entry({ ip: null }, { connection_creation_rate: 2 }),
    ]);
    // The rate counts 10 windows at first: 1/s lets 10 connections through, the 11th is over.
    for (let i = 0; i < 10; i++) assert.equal(q.admit("PLAINTEXT", "10.0.0.1", 0), undefined);
    assert.match(q.admit("PLAINTEXT", "10.0.0.1", 0)!, /connection_creation_rate/);
    for (let i = 0; i < 19; i++) assert.equal(q.admit("PLAINTEXT", "10.0.0.2", 0), undefined, `connection ${i}`);
    assert.match(q.admit("PLAINTEXT", "10.0.0.2", 0)!, /max.connection.creation.rate/);
  });
});

describe("Describe/AlterClientQuotas ask the authorizer for the cluster", () => {
  const asked: string[] = [];
  const ctx = {
    session: who("mallory"),
    services: {
      authorizer: {
        ...ALLOW_ALL,
        enabled: true,
        authorize: (_who: unknown, operation: number, resourceType: number, name: string) => {
          asked.push(`${operation}/${resourceType}/${name}`);
          return false;
        },
      },
    },
  } as unknown as RequestContext;

  test("DESCRIBE_CONFIGS, or CLUSTER_AUTHORIZATION_FAILED with no entries", async () => {
    const r = (await describeClientQuotasHandler.handle(
      createDescribeClientQuotasRequest({ components: [] }),
      ctx,
    )) as DescribeClientQuotasResponse;
    assert.deepEqual([r.errorCode, r.errorMessage, r.entries], [31, "Cluster authorization failed.", null]);
    assert.equal(asked.pop(), "10/4/kafka-cluster");
  });

  test("ALTER_CONFIGS, or every entry CLUSTER_AUTHORIZATION_FAILED", async () => {
    const entity = [{ entityType: "client-id", entityName: "c" }];
    const r = (await alterClientQuotasHandler.handle(
      createAlterClientQuotasRequest({
        entries: [
          { entity, ops: [{ key: "producer_byte_rate", value: 1, remove: false }] },
          { entity, ops: [] },
        ],
      }),
      ctx,
    )) as AlterClientQuotasResponse;
    assert.deepEqual(
      r.entries.map((e) => [e.errorCode, e.errorMessage, e.entity[0]!.entityName]),
      [
        [31, "Cluster authorization failed.", "c"],
        [31, "Cluster authorization failed.", "c"],
      ],
    );
    assert.equal(asked.pop(), "11/4/kafka-cluster");
  });
});
