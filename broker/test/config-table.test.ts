import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ApiKey,
  createDescribeConfigsRequest,
  createRequestHeader,
  type DescribeConfigsResponseDescribeConfigsResult,
} from "@tskafka/protocol";
import { invalidBrokerConfigs, invalidTopicConfig } from "../src/cluster/config-catalog.js";
import { ConfigType, defaultValue, invalidReason } from "../src/config-def.js";
import {
  BROKER_KEYS,
  BROKER_KEY_NAMES,
  TOPIC_KEY_NAMES,
  brokerKey,
  brokerSynonymsOf,
  toTopicUnit,
  topicKey,
} from "../src/config-keys.js";
import { KNOWN_KEYS, brokerLogDefaults, buildConfig, withDynamicConfigs, type BrokerConfig } from "../src/config.js";
import type { RequestContext } from "../src/handlers/handler.js";
import { ALLOW_ALL } from "../src/security/authorizer.js";
import type { Services } from "../src/services.js";
import { describeConfigsHandler } from "../src/handlers/describe-configs.js";
import { DEFAULT_LOG_CONFIG, LOG_CONFIG_NAMES } from "../src/log/config.js";
import { REPO_ROOT, startBroker, type BrokerProcess } from "./harness.js";
import { RawClient } from "./clients/raw-client.js";

/**
 * The one table of configuration keys (broker/src/config-keys.ts) and what is derived from it: every
 * key the broker accepts at start-up is described by DescribeConfigs (a type and documentation, not
 * UNKNOWN), through the handler and over the wire; the defaults and synonyms agree; the log defaults
 * and dynamic configs follow it; the README's list of keys is what scripts/readme-config-keys.ts prints.
 */

/** The drift that motivated the table: accepted at start-up, once described as UNKNOWN without docs. */
const ONCE_UNDESCRIBED = ["log.cleaner.backoff.ms", "offsets.retention.check.interval.ms", "offset.metadata.max.bytes"];

/** Valid values for the keys without a default. */
const SAMPLES: Record<string, string> = {
  "advertised.listeners": "PLAINTEXT://localhost:9092",
  "cluster.id": "a-cluster",
  "etcd.endpoints": "http://127.0.0.1:2379",
  "broker.rack": "rack-a",
  "replica.selector.class": "org.apache.kafka.common.replica.RackAwareReplicaSelector",
  "log.dirs": "./data-a,./data-b",
  "metadata.log.dir": "./data-a",
  "log.roll.ms": "3600000",
  "log.retention.ms": "60000",
  "log.retention.minutes": "10",
  "log.flush.interval.ms": "1000",
  "internal.log.segment.bytes": "16384",
  "internal.segment.bytes": "16384",
  "inter.broker.listener.name": "PLAINTEXT",
  "ssl.keystore.location": "server.p12",
  "ssl.keystore.password": "keystore-password",
  "ssl.key.password": "key-password",
  "ssl.keystore.certificate.chain": "certificate chain text",
  "ssl.keystore.key": "private key text",
  "ssl.truststore.location": "trust.pem",
  "ssl.truststore.password": "truststore-password",
  "ssl.truststore.certificates": "certificates text",
  "sasl.jaas.config": 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-pw";',
  "sasl.server.callback.handler.class":
    "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler",
  "sasl.oauthbearer.jwks.endpoint.url": "file:///etc/jwks.json",
  "sasl.oauthbearer.expected.audience": "kafka",
  "sasl.oauthbearer.expected.issuer": "https://issuer.test",
  "http.console.sasl.jaas.config":
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="console" password="console-pw";',
};

/** The accepted keys DescribeConfigs lists: all but tskafka's internal ones (for tests). */
const DESCRIBED_KEYS = [...KNOWN_KEYS].filter((k) => brokerKey(k)?.internal !== true);

const sample = (name: string): string => brokerKey(name)?.default ?? topicKey(name)?.default ?? SAMPLES[name]!;

/** Every accepted key set in server.properties; fails on a warning (an unknown key) or a refused value. */
function configWithEveryKey(): BrokerConfig {
  const warnings: string[] = [];
  const file = new Map([...KNOWN_KEYS].map((k) => [k, sample(k)]));
  const config = buildConfig({ file, warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, []);
  return config;
}

/** DescribeConfigs v4 through the handler, as the connection calls it. */
async function describeThroughHandler(config: BrokerConfig, resourceType: number, resourceName: string) {
  const metadata = { topic: () => ({ name: resourceName, configs: {} }) };
  const services = { config, metadata, authorizer: ALLOW_ALL } as unknown as Services;
  const header = createRequestHeader({ requestApiKey: ApiKey.DescribeConfigs, requestApiVersion: 4 });
  const ctx = { services, header, apiVersion: 4, clientId: null, remote: "test", closed: new Promise<void>(() => {}) };
  const request = createDescribeConfigsRequest({
    resources: [{ resourceType, resourceName, configurationKeys: null }],
    includeSynonyms: true,
    includeDocumentation: true,
  });
  const response = await describeConfigsHandler.handle(request, ctx as RequestContext);
  return response!.results[0]!;
}

/** The names in `keys` that a DescribeConfigs result lacks, or has without a type or documentation. */
function undescribed(result: DescribeConfigsResponseDescribeConfigsResult, keys: Iterable<string>): string[] {
  const byName = new Map(result.configs.map((c) => [c.name, c]));
  return [...keys].filter((k) => {
    const c = byName.get(k);
    return c === undefined || c.configType === ConfigType.UNKNOWN || (c.documentation ?? "").trim() === "";
  });
}

describe("the config table", () => {
  test("every default passes its own key's rules; docs are there and short", () => {
    for (const name of [...BROKER_KEY_NAMES, ...TOPIC_KEY_NAMES]) {
      const def = brokerKey(name) ?? topicKey(name)!;
      if (def.default !== null) assert.equal(invalidReason(def, def.default), undefined, name);
      assert.match(def.doc, /^\S.{8,150}\S$/, `${name}: a short sentence`);
    }
  });

  test("a topic config's default is its broker synonyms' default in its unit", () => {
    for (const name of BROKER_KEY_NAMES) {
      const topic = brokerKey(name)!.topic;
      if (topic !== undefined)
        assert.ok(topicKey(topic.name), `${name}: its topic config ${topic.name} is in the table`);
    }
    for (const name of TOPIC_KEY_NAMES) {
      const first = brokerSynonymsOf(name).find((k) => brokerKey(k)!.default !== null);
      if (first === undefined) continue;
      const def = brokerKey(first)!;
      const expected = toTopicUnit(Number(def.default), def.topic!.scale);
      assert.equal(Number(topicKey(name)!.default), expected, `${name} against ${first}`);
    }
  });

  test("the log defaults are the topic configs' defaults, every field with one", () => {
    assert.equal(Object.keys(DEFAULT_LOG_CONFIG).length, Object.keys(LOG_CONFIG_NAMES).length);
    for (const [field, name] of Object.entries(LOG_CONFIG_NAMES)) {
      const value = DEFAULT_LOG_CONFIG[field as keyof typeof DEFAULT_LOG_CONFIG];
      assert.notEqual(value, undefined, field);
      assert.equal(value, defaultValue(topicKey(name)!), field);
    }
    assert.equal(DEFAULT_LOG_CONFIG.flushMessages, 9223372036854775807);
    assert.equal(DEFAULT_LOG_CONFIG.retentionMs, 604_800_000);
    assert.equal(DEFAULT_LOG_CONFIG.messageTimestampType, "CreateTime");
  });

  test("broker log defaults follow Kafka's precedence of ms, minutes, hours, and dynamic values", () => {
    const config = buildConfig({
      file: new Map([
        ["log.retention.minutes", "10"],
        ["log.roll.hours", "2"],
      ]),
    });
    let defaults = brokerLogDefaults(config);
    assert.equal(defaults.retentionMs, 600_000);
    assert.equal(defaults.segmentMs, 7_200_000);
    assert.equal(defaults.flushMs, DEFAULT_LOG_CONFIG.flushMs, "no broker value: the topic default");
    const dynamic = withDynamicConfigs(config, { perBroker: { "log.retention.ms": "5000" }, clusterDefault: {} });
    defaults = brokerLogDefaults(dynamic);
    assert.equal(defaults.retentionMs, 5000);
    // Not dynamic, or not a valid value: a stored value is skipped, not applied.
    const skipped = withDynamicConfigs(config, {
      perBroker: { "num.partitions": "9" },
      clusterDefault: { "message.max.bytes": "x" },
    });
    assert.equal(skipped.props["num.partitions"], 1);
    assert.equal(skipped.props["message.max.bytes"], 1_048_588);
    const unlimited = buildConfig({
      file: new Map([
        ["log.retention.hours", "-1"],
        ["log.cleanup.policy", " compact , delete "],
      ]),
    });
    assert.equal(brokerLogDefaults(unlimited).retentionMs, -1);
    assert.equal(brokerLogDefaults(unlimited).cleanupPolicy, "compact,delete");
  });

  test("AlterConfigs accepts exactly the dynamic keys, with Kafka's messages", () => {
    for (const name of BROKER_KEY_NAMES) {
      const problem = invalidBrokerConfigs({ [name]: sample(name) }, true);
      const dynamic = BROKER_KEYS[name].dynamic;
      if (dynamic === "cluster-wide") assert.equal(problem, undefined, name);
      else if (dynamic === "per-broker")
        assert.equal(
          problem,
          `These security configs can be dynamically updated only per-listener using the listener prefix: [${name}]`,
        );
      else assert.equal(problem, `Cannot update these configs dynamically: [${name}]`);
    }
    const keystore = "listener.name.ssl.ssl.keystore.location";
    assert.equal(invalidBrokerConfigs({ [keystore]: "/tmp/k.p12" }, true), undefined);
    assert.equal(
      invalidBrokerConfigs({ [keystore]: "/tmp/k.p12" }, false),
      `Cannot update these configs at default cluster level, broker id must be specified: [${keystore}]`,
    );
    assert.equal(
      invalidBrokerConfigs({ "listener.name.ssl.ssl.client.auth": "required" }, true),
      "Cannot update these configs dynamically: [listener.name.ssl.ssl.client.auth]",
    );
    assert.equal(
      invalidBrokerConfigs({ "message.max.bytes": "abc" }, true),
      "Invalid value abc for configuration message.max.bytes: Not a number of type INT",
    );
    assert.equal(
      invalidBrokerConfigs({ "log.flush.interval.messages": "9223372036854775807" }, true),
      undefined,
      "Kafka's Long.MAX_VALUE",
    );
    assert.equal(
      invalidTopicConfig("retention.ms", "-5"),
      "Invalid value -5 for configuration retention.ms: Value must be at least -1",
    );
    assert.equal(
      invalidTopicConfig("cleanup.policy", "compact,sometimes"),
      "Invalid value compact,sometimes for configuration cleanup.policy: String must be one of: compact, delete",
    );
    for (const name of TOPIC_KEY_NAMES) assert.equal(invalidTopicConfig(name, sample(name)), undefined, name);
    // Kafka 4.4's words for its ranges, and its minimum of segment.bytes (tests use internal.segment.bytes).
    assert.equal(
      invalidTopicConfig("compression.gzip.level", "0"),
      "Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1",
    );
    assert.equal(
      invalidTopicConfig("max.decompressed.message.bytes", "0"),
      "Invalid value 0 for configuration max.decompressed.message.bytes: Value must be at least 1",
    );
    assert.equal(
      invalidTopicConfig("segment.bytes", "1048575"),
      "Invalid value 1048575 for configuration segment.bytes: Value must be at least 1048576",
    );
    assert.equal(invalidTopicConfig("internal.segment.bytes", "300"), undefined);
  });
});

describe("DescribeConfigs describes every accepted key", () => {
  test("through the handler: broker keys set in server.properties, and every topic config", async () => {
    const config = configWithEveryKey();
    const brokerResult = await describeThroughHandler(config, 4, "1");
    assert.equal(brokerResult.errorCode, 0);
    assert.deepEqual(undescribed(brokerResult, DESCRIBED_KEYS), []);
    for (const name of ONCE_UNDESCRIBED) {
      const c = brokerResult.configs.find((e) => e.name === name)!;
      assert.equal(c.configSource, 4, `${name}: STATIC_BROKER_CONFIG`);
      assert.equal(c.value, sample(name));
    }
    const topicResult = await describeThroughHandler(config, 2, "t");
    assert.equal(topicResult.errorCode, 0);
    const accepted = TOPIC_KEY_NAMES.filter((k) => topicKey(k)!.internal !== true);
    assert.deepEqual(undescribed(topicResult, accepted), []);
  });

  describe("over the wire, the broker as a process", { timeout: 30_000 }, () => {
    let broker: BrokerProcess;
    let client: RawClient;
    const properties = {
      "log.cleaner.backoff.ms": 20_000,
      "offsets.retention.check.interval.ms": 700_000,
      "offset.metadata.max.bytes": 5000,
    };

    before(async () => {
      broker = await startBroker({ properties });
      client = await RawClient.connect(broker.port);
    });

    after(async () => {
      client?.close();
      await broker?.cleanup();
    });

    test("DescribeConfigs v4 of the broker and of a topic: a type and documentation for every key", async () => {
      await client.metadata(["described"]);
      const res = await client.request(
        ApiKey.DescribeConfigs,
        4,
        createDescribeConfigsRequest({
          resources: [
            { resourceType: 4, resourceName: "1", configurationKeys: null },
            { resourceType: 2, resourceName: "described", configurationKeys: null },
          ],
          includeSynonyms: true,
          includeDocumentation: true,
        }),
      );
      const [brokerResult, topicResult] = res.results;
      assert.equal(brokerResult!.errorCode, 0);
      assert.deepEqual(undescribed(brokerResult!, DESCRIBED_KEYS), []);
      for (const [name, value] of Object.entries(properties)) {
        const c = brokerResult!.configs.find((e) => e.name === name)!;
        assert.deepEqual([c.value, c.configSource, c.readOnly], [String(value), 4, true], name);
      }
      assert.equal(topicResult!.errorCode, 0);
      assert.deepEqual(
        undescribed(
          topicResult!,
          TOPIC_KEY_NAMES.filter((k) => topicKey(k)!.internal !== true),
        ),
        [],
      );
    });
  });
});

describe("README", () => {
  test("the README's list of keys is what scripts/readme-config-keys.ts prints", { timeout: 60_000 }, () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", join("scripts", "readme-config-keys.ts")], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 50_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const m = /<!-- config-keys:start -->\n([\s\S]*?)\n<!-- config-keys:end -->/.exec(readme);
    assert.ok(m, "README.md has the config-keys markers");
    assert.equal(m[1], run.stdout.trimEnd(), "run `npx tsx scripts/readme-config-keys.ts --write`");
    for (const key of KNOWN_KEYS) assert.ok(m[1]!.includes(`| \`${key}\` |`), key);
  });
});
