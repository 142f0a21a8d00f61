// Recaptures the golden protocol fixtures: starts a real Apache Kafka that advertises the
// capture proxy's port, then runs real clients through the proxy, each producing and
// consuming a few small records (compressed, with a consumer group):
//   kafkajs (in process), kcat (librdkafka), kafka-python, and the Java client through
//   Kafka's own command-line tools; plus "probe", a few hand-sent ApiVersions frames so the
//   old versions no client here sends still get Kafka's real answer.
// Output: generated/test/fixtures/<client>/*.bin and generated/test/fixtures/index.json.
// Usage: npx tsx scripts/capture/capture-fixtures.ts [client...]   (default: all)
// Needs scripts/setup-test-deps.sh to have run (kcat, python3-kafka, the Kafka jars).
//
// With `--kafka 4.4.0` it captures against Apache Kafka 4.4 instead, with today's clients, into
// folders of their own beside the 3.9-era ones (which stay): kafka44-<client>. Those clients are the
// Java 4.4 client through Kafka's tools (admin; producer; consumer with group.protocol=classic and
// =consumer), librdkafka through confluent-kafka (.cache/venv), franz-go (.cache/go/bin/franz),
// "probe" (ApiVersions v0-v5 by hand) and "errors" (requests for Kafka's error paths, see
// error-probe.ts). Each kafka44 folder is a session of its own (its own topics and groups, created
// at its start), so scripts/diff/differential.ts can replay it on its own.
// Usage: npx tsx scripts/capture/capture-fixtures.ts --kafka 4.4.0 [client...]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import kafkajs from "kafkajs";
import { createApiVersionsRequest, encodeRequestFrame } from "@tskafka/protocol";
import {
  DEFAULT_KAFKA_VERSION,
  freeLoopbackPort,
  kafkaClasspath,
  kafkaMajor,
  loggingOption,
  startApacheKafka,
} from "../kafka/apache-kafka.js";
import { startCaptureProxy, type FixtureEntry } from "./capture.js";
import { runErrorProbe } from "./error-probe.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixturesDir = join(repoRoot, "generated", "test", "fixtures");
const workDir = join(repoRoot, ".cache", "capture");
const clientTimeoutMs = 60_000;
// kafkajs is CommonJS; not all of its exports are visible to a named ESM import.
const { Kafka, Partitioners, CompressionTypes, ConfigResourceTypes, logLevel } = kafkajs;

const BROKER_CLIENT_ID = /^(broker-\d+-|AddPartitionsManager-)/;

type Runner = (bootstrap: string) => Promise<void>;

const runners39: Record<string, Runner> = {
  probe: runProbe,
  kafkajs: runKafkaJs,
  kcat: runKcat,
  "kafka-python": runKafkaPython,
  java: runJava,
};

/** The Kafka 4.4 sessions, in capture order; each is captured into kafka44-<name>. */
const runners44: Record<string, Runner> = {
  probe: (bootstrap) => runProbe(bootstrap, 5),
  "java-admin": runJava44Admin,
  "java-producer": runJava44Producer,
  "java-classic": (bootstrap) => runJava44Consumer(bootstrap, "classic"),
  "java-consumer": (bootstrap) => runJava44Consumer(bootstrap, "consumer"),
  confluent: runConfluent,
  franz: runFranz,
  errors: (bootstrap) => runErrorProbe(...splitHostPort(bootstrap)),
};

/** The Kafka version captured against (`--kafka VERSION`, default 3.9.1). */
let kafkaVersion = DEFAULT_KAFKA_VERSION;

/** Folder prefix of a Kafka 4.x capture: kafka44- for 4.4.0; none for the 3.9 fixtures. */
function folderPrefix(version: string): string {
  if (kafkaMajor(version) < 4) return "";
  const [major, minor] = version.split(".");
  return `kafka${major}${minor}-`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf("--kafka");
  if (at >= 0) {
    kafkaVersion = args[at + 1] ?? "";
    if (!/^[34]\.\d+\.\d+$/.test(kafkaVersion))
      throw new Error(`--kafka needs a version like 4.4.0, got '${kafkaVersion}'`);
    args.splice(at, 2);
  }
  const modern = kafkaMajor(kafkaVersion) >= 4;
  const runners = modern ? runners44 : runners39;
  const prefix = folderPrefix(kafkaVersion);
  const wanted = args;
  for (const name of wanted)
    if (!(name in runners))
      throw new Error(`unknown client ${name} (for Kafka ${kafkaVersion}: ${Object.keys(runners).join(", ")})`);
  const clients = wanted.length > 0 ? wanted : Object.keys(runners);

  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });

  const [kafkaPort, controllerPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const kafkaDataDir = mkdtempSync(join(tmpdir(), "kafka-"));
  const proxy = await startCaptureProxy({
    listenPort: 0,
    upstreamPort: kafkaPort,
    outDir: fixturesDir,
    // A 4.x session is replayed whole by the differential test: keep more of each API and version.
    maxPerApiVersion: modern ? 8 : 3,
    // Kafka's own clients inside the broker, which connect to the advertised proxy address.
    relabel: (clientId) => (clientId !== null && BROKER_CLIENT_ID.test(clientId) ? `${prefix}kafka-broker` : undefined),
  });
  const bootstrap = `127.0.0.1:${proxy.port}`;
  console.log(
    `starting Apache Kafka ${kafkaVersion} on 127.0.0.1:${kafkaPort}, advertised through the proxy at ${bootstrap}`,
  );
  const kafka = await startApacheKafka({
    port: kafkaPort,
    controllerPort,
    advertisedPort: proxy.port,
    version: kafkaVersion,
    // Outside the repository: Kafka answers DescribeLogDirs with this path, and it ends up in a fixture.
    dataDir: kafkaDataDir,
    // Lets the Java consumer also speak the KIP-848 protocol (ConsumerGroupHeartbeat).
    properties: { "group.coordinator.rebalance.protocols": "classic,consumer" },
  });
  const failures: string[] = [];
  try {
    for (const client of clients) {
      const runner = runners[client];
      if (runner === undefined) continue;
      console.log(`capturing ${prefix}${client}`);
      proxy.client = `${prefix}${client}`;
      try {
        await runner(bootstrap);
      } catch (err) {
        failures.push(`${client}: ${(err as Error).message}`);
        console.error(`${client} failed: ${(err as Error).message}`);
      }
      proxy.client = undefined;
      // Let the last responses of connections closing now reach the proxy.
      await delay(300);
    }
  } finally {
    await proxy.close();
    await kafka.stop();
    rmSync(kafkaDataDir, { recursive: true, force: true });
  }
  summarize([...new Set(proxy.entries.map((e) => e.client))], prefix);
  if (failures.length > 0) {
    console.error(`failed clients:\n  ${failures.join("\n  ")}`);
    process.exitCode = 1;
  }
}

// ---------------------------------------------------------------------------------------
// Clients

/** ApiVersions v0-v`max` sent by hand: the header and body are tiny and fixed by the protocol. */
async function runProbe(bootstrap: string, max = 3): Promise<void> {
  const [host, port] = splitHostPort(bootstrap);
  const clientId = Buffer.from("fixtures-probe");
  const frames: Buffer[] = [];
  for (let version = 0; version <= max; version++) {
    const parts: Buffer[] = [];
    const head = Buffer.alloc(8);
    head.writeInt16BE(18, 0);
    head.writeInt16BE(version, 2);
    head.writeInt32BE(100 + version, 4);
    parts.push(head, int16(clientId.length), clientId);
    if (version >= 4) {
      // v4 has v3's body; v5 adds a cluster id and node id (null and -1 from a client).
      frames.push(
        encodeRequestFrame(
          { requestApiKey: 18, requestApiVersion: version, correlationId: 100 + version, clientId: "fixtures-probe" },
          createApiVersionsRequest({ clientSoftwareName: "tskafka-probe", clientSoftwareVersion: "0.1.0" }),
        ),
      );
      continue;
    }
    if (version >= 3) {
      // Flexible: empty header tags, then compact strings software name/version, body tags.
      const name = Buffer.from("tskafka-probe");
      const ver = Buffer.from("0.1.0");
      parts.push(
        Buffer.from([0]),
        Buffer.from([name.length + 1]),
        name,
        Buffer.from([ver.length + 1]),
        ver,
        Buffer.from([0]),
      );
    }
    const body = Buffer.concat(parts);
    frames.push(Buffer.concat([int32(body.length), body]));
  }
  await new Promise<void>((done, fail) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    let answered = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      fail(new Error("probe timed out"));
    }, 10_000);
    socket.on("connect", () => {
      for (const f of frames) socket.write(f);
    });
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        received = received.subarray(4 + received.readInt32BE(0));
        answered++;
      }
      if (answered === frames.length) {
        clearTimeout(timer);
        socket.end();
      }
    });
    socket.on("close", () => {
      clearTimeout(timer);
      answered === frames.length ? done() : fail(new Error("probe cut short"));
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      fail(err);
    });
  });
}

async function runKafkaJs(bootstrap: string): Promise<void> {
  const topic = "fixtures-kafkajs";
  const groupId = "fixtures-kafkajs-group";
  const kafka = new Kafka({ clientId: "fixtures-kafkajs", brokers: [bootstrap], logLevel: logLevel.NOTHING });

  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await admin.describeCluster();
  await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    includeSynonyms: false,
  });

  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({
    topic,
    compression: CompressionTypes.GZIP,
    messages: [1, 2, 3].map((i) => ({ key: `k${i}`, value: `kafkajs value ${i}`, headers: { seq: String(i) } })),
  });
  await producer.send({ topic, messages: [{ value: "kafkajs uncompressed" }] });
  await producer.disconnect();

  // A transaction brings InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn.
  const txProducer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    transactionalId: "fixtures-kafkajs-tx",
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await txProducer.connect();
  const tx = await txProducer.transaction();
  await tx.send({ topic, messages: [{ key: "tx", value: "kafkajs in a transaction" }] });
  await tx.sendOffsets({
    consumerGroupId: `${groupId}-tx`,
    topics: [{ topic, partitions: [{ partition: 0, offset: "1" }] }],
  });
  await tx.commit();
  await txProducer.disconnect();

  const consumer = kafka.consumer({ groupId, heartbeatInterval: 300, sessionTimeout: 10_000, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await withTimeout(
    new Promise<void>((done) => {
      void consumer.run({
        eachMessage: async () => {
          seen++;
          if (seen === 5) done();
        },
      });
    }),
    clientTimeoutMs,
    "kafkajs consumer",
  );
  // Stay a moment so heartbeats and the periodic offset commit go out.
  await delay(1_000);
  await consumer.disconnect();

  await admin.fetchTopicOffsets(topic);
  await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.listGroups();
  await admin.describeGroups([groupId]);
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "1" }] });
  await admin.deleteGroups([groupId]);
  await admin.createTopics({ topics: [{ topic: `${topic}-deleted`, numPartitions: 1 }] });
  await admin.deleteTopics({ topics: [`${topic}-deleted`] });
  await admin.disconnect();
}

async function runKcat(bootstrap: string): Promise<void> {
  const topic = "fixtures-kcat";
  const common = ["-b", bootstrap, "-X", "client.id=fixtures-kcat", "-q"];
  await run("kcat", [...common, "-L"]);
  await run(
    "kcat",
    [...common, "-P", "-t", topic, "-z", "snappy", "-K", ":", "-H", "origin=kcat"],
    "k1:kcat value 1\nk2:kcat value 2\nk3:kcat value 3\n",
  );
  await run("kcat", [...common, "-P", "-t", topic, "-z", "lz4"], "kcat lz4 value\n");
  await run("kcat", [...common, "-P", "-t", topic, "-X", "compression.codec=zstd"], "kcat zstd value\n");
  await run("kcat", [...common, "-C", "-t", topic, "-o", "beginning", "-e"]);
  await run("kcat", [
    ...common,
    "-G",
    "fixtures-kcat-group",
    "-X",
    "auto.offset.reset=earliest",
    "-X",
    "heartbeat.interval.ms=300",
    "-c",
    "5",
    topic,
  ]);
  // Told the broker is 0.9, librdkafka skips ApiVersions and speaks the oldest versions
  // (Metadata v0, Produce v1 with a magic-1 message set, ListOffsets v0, Fetch v1).
  const legacy = [
    "-b",
    bootstrap,
    "-X",
    "client.id=fixtures-kcat-legacy",
    "-q",
    "-X",
    "api.version.request=false",
    "-X",
    "broker.version.fallback=0.9.0",
  ];
  await run("kcat", [...legacy, "-P", "-t", `${topic}-legacy`, "-K", ":"], "k1:kcat legacy 1\nk2:kcat legacy 2\n");
  await run("kcat", [...legacy, "-C", "-t", `${topic}-legacy`, "-o", "beginning", "-e"]);
}

const KAFKA_PYTHON = `
import sys, time
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
bootstrap, topic = sys.argv[1], sys.argv[2]
admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='fixtures-kafka-python')
admin.create_topics([NewTopic(topic, 1, 1)])
producer = KafkaProducer(bootstrap_servers=bootstrap, client_id='fixtures-kafka-python', compression_type='gzip', linger_ms=5)
for i in range(3):
    producer.send(topic, key=b'k%d' % i, value=b'kafka-python value %d' % i, headers=[('seq', b'%d' % i)])
producer.flush()
producer.close()
consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, client_id='fixtures-kafka-python',
                         group_id='fixtures-kafka-python-group', auto_offset_reset='earliest',
                         heartbeat_interval_ms=300, consumer_timeout_ms=20000, fetch_max_wait_ms=200)
seen = 0
for message in consumer:
    seen += 1
    if seen == 3:
        break
consumer.commit()
time.sleep(1)
consumer.close()
admin.describe_consumer_groups(['fixtures-kafka-python-group'])
admin.list_consumer_groups()
admin.close()
if seen != 3:
    sys.exit('consumed %d of 3 records' % seen)
`;

async function runKafkaPython(bootstrap: string): Promise<void> {
  // Debian's python3-kafka lives in the system interpreter.
  await run("/usr/bin/python3", ["-c", KAFKA_PYTHON, bootstrap, "fixtures-kafka-python"]);
}

async function runJava(bootstrap: string): Promise<void> {
  const topic = "fixtures-java";
  const classpath = kafkaClasspath();
  const log4j = join(workDir, "tools-log4j.properties");
  writeFileSync(
    log4j,
    "log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\n" +
      "log4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n" +
      "log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n\n",
  );
  const java = (mainClass: string, args: string[], input?: string): Promise<void> =>
    run("java", ["-Xmx256m", `-Dlog4j.configuration=file:${log4j}`, "-cp", classpath, mainClass, ...args], input);

  await java("org.apache.kafka.tools.TopicCommand", [
    "--bootstrap-server",
    bootstrap,
    "--create",
    "--topic",
    topic,
    "--partitions",
    "1",
    "--replication-factor",
    "1",
  ]);
  await java("org.apache.kafka.tools.TopicCommand", ["--bootstrap-server", bootstrap, "--describe", "--topic", topic]);
  await java(
    "kafka.tools.ConsoleProducer",
    [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--compression-codec",
      "zstd",
      "--property",
      "parse.key=true",
      "--property",
      "key.separator=:",
      "--producer-property",
      "client.id=fixtures-java",
      "--producer-property",
      "linger.ms=5",
    ],
    "k1:java value 1\nk2:java value 2\nk3:java value 3\n",
  );
  await java(
    "kafka.tools.ConsoleProducer",
    [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--compression-codec",
      "lz4",
      "--producer-property",
      "client.id=fixtures-java",
    ],
    "java lz4 value\n",
  );
  await java("org.apache.kafka.tools.consumer.ConsoleConsumer", [
    "--bootstrap-server",
    bootstrap,
    "--topic",
    topic,
    "--group",
    "fixtures-java-group",
    "--from-beginning",
    // One more than there are, so it polls (and heartbeats) until the timeout.
    "--max-messages",
    "5",
    "--timeout-ms",
    "2000",
    "--consumer-property",
    "client.id=fixtures-java",
    "--consumer-property",
    "heartbeat.interval.ms=300",
    "--consumer-property",
    "fetch.max.wait.ms=200",
  ]);
  await java("org.apache.kafka.tools.consumer.ConsoleConsumer", [
    "--bootstrap-server",
    bootstrap,
    "--topic",
    topic,
    "--group",
    "fixtures-java-group-848",
    "--from-beginning",
    "--max-messages",
    "4",
    "--consumer-property",
    "client.id=fixtures-java",
    "--consumer-property",
    "group.protocol=consumer",
    "--consumer-property",
    "fetch.max.wait.ms=200",
  ]);
  await java("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", [
    "--bootstrap-server",
    bootstrap,
    "--describe",
    "--group",
    "fixtures-java-group-848",
  ]);
  await java("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", [
    "--bootstrap-server",
    bootstrap,
    "--describe",
    "--group",
    "fixtures-java-group",
  ]);
}

// ---------------------------------------------------------------------------------------
// Kafka 4.4 sessions. Topic and group names start with k44-<session> so sessions stay apart
// when the differential test replays them one after another against the same brokers.

/** Runs a main class from the Kafka jars being captured against, logging warnings to stderr. */
function java44(mainClass: string, args: string[], input?: string): Promise<void> {
  const logging = loggingOption(kafkaVersion, workDir, "WARN", "stderr");
  return run(
    "java",
    ["-Xmx256m", "-XX:TieredStopAtLevel=1", logging, "-cp", kafkaClasspath(kafkaVersion), mainClass, ...args],
    input,
  );
}

const TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand";
const CONSOLE_PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
const CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
const GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";

async function createTopic44(
  bootstrap: string,
  topic: string,
  partitions: number,
  extra: string[] = [],
): Promise<void> {
  await java44(TOPIC_COMMAND, [
    "--bootstrap-server",
    bootstrap,
    "--create",
    "--topic",
    topic,
    "--partitions",
    String(partitions),
    "--replication-factor",
    "1",
    ...extra,
  ]);
}

/** Topic administration with the Java AdminClient, through Kafka's command-line tools. */
async function runJava44Admin(bootstrap: string): Promise<void> {
  const topic = "k44-java-admin";
  const b = ["--bootstrap-server", bootstrap];
  await createTopic44(bootstrap, topic, 2, ["--config", "retention.ms=86400000"]);
  // Already there: TOPIC_ALREADY_EXISTS (the tool exits 1, as it should).
  await java44(TOPIC_COMMAND, [...b, "--create", "--topic", topic, "--partitions", "1"]).catch(() => undefined);
  await java44(TOPIC_COMMAND, [...b, "--describe", "--topic", topic]);
  await java44(TOPIC_COMMAND, [...b, "--alter", "--topic", topic, "--partitions", "3"]);
  await java44(TOPIC_COMMAND, [...b, "--list"]);
  await java44("org.apache.kafka.tools.ConfigCommand", [
    ...b,
    "--entity-type",
    "topics",
    "--entity-name",
    topic,
    "--alter",
    "--add-config",
    "retention.ms=3600000,max.message.bytes=200000",
    "--delete-config",
    "cleanup.policy",
  ]);
  await java44("org.apache.kafka.tools.ConfigCommand", [
    ...b,
    "--entity-type",
    "topics",
    "--entity-name",
    topic,
    "--describe",
  ]);
  await java44("org.apache.kafka.tools.GetOffsetShell", [...b, "--topic", topic, "--time", "-1"]);
  await java44("org.apache.kafka.tools.GetOffsetShell", [...b, "--topic", topic, "--time", "-2"]);
  await java44("org.apache.kafka.tools.LogDirsCommand", [...b, "--describe", "--topic-list", topic]);
  await java44("org.apache.kafka.tools.ClusterTool", ["cluster-id", ...b]);
  await java44("org.apache.kafka.tools.FeatureCommand", [...b, "describe"]);
  await java44(TOPIC_COMMAND, [...b, "--delete", "--topic", topic]);
}

/** The Java producer: idempotent (its default) with two codecs, then acks=1 and acks=0 without idempotence. */
async function runJava44Producer(bootstrap: string): Promise<void> {
  const topic = "k44-java-producer";
  await createTopic44(bootstrap, topic, 2);
  const produce = (codec: string, input: string, extra: string[]): Promise<void> =>
    java44(
      CONSOLE_PRODUCER,
      [
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--compression-codec",
        codec,
        "--command-property",
        "client.id=fixtures-java",
        "--command-property",
        "linger.ms=5",
        ...extra,
      ],
      input,
    );
  await produce("zstd", "k1:java value 1\nk2:java value 2\nk3:java value 3\n", [
    "--reader-property",
    "parse.key=true",
    "--reader-property",
    "key.separator=:",
  ]);
  await produce("lz4", "java lz4 value\n", []);
  await produce("gzip", "java acks=1 value\n", [
    "--request-required-acks",
    "1",
    "--command-property",
    "enable.idempotence=false",
  ]);
  await produce("none", "java acks=0 value\n", [
    "--request-required-acks",
    "0",
    "--command-property",
    "enable.idempotence=false",
  ]);
}

/**
 * A topic with a few records, a console consumer in a group of the given protocol that reads them
 * and commits on close, then the group tool (describe, list, reset offsets, delete). For the consumer
 * protocol, also a second group subscribing by regular expression.
 */
async function runJava44Consumer(bootstrap: string, protocol: "classic" | "consumer"): Promise<void> {
  const topic = `k44-java-${protocol}`;
  const group = `${topic}-group`;
  const b = ["--bootstrap-server", bootstrap];
  await createTopic44(bootstrap, topic, 2);
  await java44(
    CONSOLE_PRODUCER,
    [...b, "--topic", topic, "--command-property", "client.id=fixtures-java", "--command-property", "linger.ms=5"],
    "java value 1\njava value 2\njava value 3\n",
  );
  const consume = (g: string, subscription: string[]): Promise<void> =>
    java44(CONSOLE_CONSUMER, [
      ...b,
      ...subscription,
      "--group",
      g,
      "--from-beginning",
      "--max-messages",
      "3",
      "--timeout-ms",
      "20000",
      "--command-property",
      "client.id=fixtures-java",
      "--command-property",
      `group.protocol=${protocol}`,
      // The consumer protocol takes its heartbeat interval from the broker.
      ...(protocol === "classic" ? ["--command-property", "heartbeat.interval.ms=300"] : []),
      "--command-property",
      "fetch.max.wait.ms=200",
    ]);
  await consume(group, ["--topic", topic]);
  if (protocol === "consumer") await consume(`${topic}-regex-group`, ["--include", `${topic}.*`]);
  await java44(GROUP_COMMAND, [...b, "--describe", "--group", group]);
  await java44(GROUP_COMMAND, [...b, "--describe", "--members", "--group", group]);
  await java44(GROUP_COMMAND, [...b, "--list"]);
  await java44(GROUP_COMMAND, [
    ...b,
    "--reset-offsets",
    "--group",
    group,
    "--topic",
    topic,
    "--to-earliest",
    "--execute",
  ]);
  await java44(GROUP_COMMAND, [...b, "--delete", "--group", group]);
}

const CONFLUENT = `
import sys, time
from confluent_kafka import Consumer, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource, ResourceType, OffsetSpec
bootstrap, topic = sys.argv[1], sys.argv[2]
T = 15
admin = AdminClient({'bootstrap.servers': bootstrap, 'client.id': 'fixtures-confluent'})
for f in admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)], request_timeout=T).values():
    f.result(timeout=T)
time.sleep(1)
admin.list_topics(timeout=T)
for f in admin.describe_topics(TopicCollection([topic]), request_timeout=T).values():
    f.result(timeout=T)
res = ConfigResource(ResourceType.TOPIC, topic)
admin.describe_configs([res], request_timeout=T)[res].result(timeout=T)
producer = Producer({'bootstrap.servers': bootstrap, 'client.id': 'fixtures-confluent', 'enable.idempotence': True,
                     'compression.type': 'snappy', 'linger.ms': 5})
for i in range(4):
    producer.produce(topic, key=b'k%d' % i, value=b'confluent value %d %s' % (i, b'xyz' * 10), partition=i % 2,
                     headers=[('seq', b'%d' % i)])
if producer.flush(T) != 0:
    sys.exit('records left unsent')
for protocol in ('classic', 'consumer'):
    conf = {'bootstrap.servers': bootstrap, 'client.id': 'fixtures-confluent', 'group.id': topic + '-' + protocol,
            'auto.offset.reset': 'earliest', 'enable.auto.commit': False, 'fetch.wait.max.ms': 200,
            'group.protocol': protocol}
    if protocol == 'classic':
        conf['heartbeat.interval.ms'] = 300
    consumer = Consumer(conf)
    consumer.subscribe([topic])
    seen, deadline = 0, time.time() + 20
    while seen < 4 and time.time() < deadline:
        m = consumer.poll(0.2)
        if m is not None and m.error() is None:
            seen += 1
    consumer.commit(asynchronous=False)
    consumer.close()
    if seen != 4:
        sys.exit('%s consumer saw %d of 4 records' % (protocol, seen))
admin.list_consumer_groups(request_timeout=T).result(timeout=T)
for f in admin.describe_consumer_groups([topic + '-classic', topic + '-consumer'], request_timeout=T).values():
    f.result(timeout=T)
offsets = admin.list_offsets({TopicPartition(topic, 0): OffsetSpec.latest(), TopicPartition(topic, 1): OffsetSpec.earliest()},
                             request_timeout=T)
for f in offsets.values():
    f.result(timeout=T)
for f in admin.delete_consumer_groups([topic + '-classic'], request_timeout=T).values():
    f.result(timeout=T)
for f in admin.delete_topics([topic], request_timeout=T).values():
    f.result(timeout=T)
`;

/** librdkafka (confluent-kafka from the project's venv): admin, an idempotent producer, both group protocols. */
async function runConfluent(bootstrap: string): Promise<void> {
  await run(join(repoRoot, ".cache", "venv", "bin", "python"), ["-c", CONFLUENT, bootstrap, "k44-confluent"]);
}

/** franz-go through our small program (scripts/clients/franz): kadm, an idempotent producer, both group protocols. */
async function runFranz(bootstrap: string): Promise<void> {
  const franz = join(repoRoot, ".cache", "go", "bin", "franz");
  const topic = "k44-franz";
  const common = ["--brokers", bootstrap, "--client-id", "fixtures-franz", "--deadline", "30s"];
  await run(franz, ["admin", "create", "--topic", topic, "--partitions", "2", ...common]);
  await run(franz, ["admin", "list", "--topic", topic, ...common]);
  await run(franz, ["admin", "describe-configs", "--topic", topic, ...common]);
  const records = [0, 1, 2, 3].map((i) =>
    JSON.stringify({
      key: `k${i}`,
      value: `franz value ${i} ${"abc".repeat(10)}`,
      headers: [{ key: "seq", value: String(i) }],
      partition: i % 2,
    }),
  );
  await run(franz, ["produce", "--topic", topic, "--codec", "lz4", ...common], `${records.join("\n")}\n`);
  for (const protocol of ["classic", "consumer"]) {
    await run(franz, [
      "consume",
      "--topic",
      topic,
      "--group",
      `${topic}-${protocol}`,
      "--count",
      "4",
      "--protocol",
      protocol,
      "--heartbeat-interval",
      "300ms",
      ...common,
    ]);
  }
  await run(franz, ["admin", "list-groups", ...common]);
  await run(franz, [
    "admin",
    "describe-consumer-groups",
    "--group",
    `${topic}-classic`,
    "--group",
    `${topic}-consumer`,
    ...common,
  ]);
  await run(franz, ["admin", "fetch-offsets", "--group", `${topic}-classic`, ...common]);
  await run(franz, ["admin", "end-offsets", "--topic", topic, ...common]);
  await run(franz, ["admin", "delete-groups", "--group", `${topic}-classic`, ...common]);
  await run(franz, ["admin", "delete-topics", "--topic", topic, ...common]);
}

// ---------------------------------------------------------------------------------------
// Helpers

function run(command: string, args: string[], input?: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), clientTimeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done();
      else fail(new Error(`${command} ${args.slice(-3).join(" ")} exited ${code ?? signal}\n${output.slice(-2000)}`));
    });
    child.stdin.end(input ?? "");
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        done(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        fail(e as Error);
      },
    );
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(":");
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n, 0);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
}

/** Prints apiKey/versions per client and the size of the fixtures under `prefix` (all when empty). */
function summarize(clients: string[], prefix: string): void {
  const index = JSON.parse(readFileSync(join(fixturesDir, "index.json"), "utf8")) as FixtureEntry[];
  for (const client of clients) {
    const versions = new Map<string, Set<number>>();
    for (const e of index) {
      if (e.client !== client) continue;
      const name = `${e.apiName ?? "api"}(${e.apiKey})`;
      const set = versions.get(name) ?? new Set<number>();
      set.add(e.version);
      versions.set(name, set);
    }
    const line = [...versions].map(([name, set]) => `${name} v${[...set].sort((a, b) => a - b).join(",")}`).join("; ");
    console.log(`${client}: ${line}`);
  }
  let bytes = 0;
  let files = 0;
  for (const dir of readdirSync(fixturesDir)) {
    if (prefix === "" ? /^kafka\d+-/.test(dir) : !dir.startsWith(prefix)) continue;
    const path = join(fixturesDir, dir);
    if (!statSync(path).isDirectory()) continue;
    for (const file of readdirSync(path)) {
      bytes += statSync(join(path, file)).size;
      files++;
    }
  }
  console.log(`${files} fixture files${prefix === "" ? "" : ` in ${prefix}*`}, ${(bytes / 1024).toFixed(1)} KiB`);
}

await main();
