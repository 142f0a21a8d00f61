// Recaptures the golden protocol fixtures: starts a real Apache Kafka that advertises the
// capture proxy's port, then runs real clients through the proxy, each producing and
// consuming a few small records (compressed, with a consumer group):
//   kafkajs (in process), kcat (librdkafka), kafka-python, and the Java client through
//   Kafka's own command-line tools; plus "probe", a few hand-sent ApiVersions frames so the
//   old versions no client here sends still get Kafka's real answer.
// Output: generated/test/fixtures/<client>/*.bin and generated/test/fixtures/index.json.
// Usage: npx tsx scripts/capture/capture-fixtures.ts [client...]   (default: all)
// Needs scripts/setup-test-deps.sh to have run (kcat, python3-kafka, the Kafka jars).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { freeLoopbackPort, kafkaClasspath, startApacheKafka } from '../kafka/apache-kafka.js';
import { startCaptureProxy, type FixtureEntry } from './capture.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixturesDir = join(repoRoot, 'generated', 'test', 'fixtures');
const workDir = join(repoRoot, '.cache', 'capture');
const clientTimeoutMs = 60_000;
// kafkajs is CommonJS; not all of its exports are visible to a named ESM import.
const { Kafka, Partitioners, CompressionTypes, ConfigResourceTypes, logLevel } = kafkajs;

const BROKER_CLIENT_ID = /^(broker-\d+-|AddPartitionsManager-)/;

type Runner = (bootstrap: string) => Promise<void>;

const runners: Record<string, Runner> = {
  probe: runProbe,
  kafkajs: runKafkaJs,
  kcat: runKcat,
  'kafka-python': runKafkaPython,
  java: runJava,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  for (const name of wanted) if (!(name in runners)) throw new Error(`unknown client ${name}`);
  const clients = wanted.length > 0 ? wanted : Object.keys(runners);

  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });

  const [kafkaPort, controllerPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const proxy = await startCaptureProxy({
    listenPort: 0, upstreamPort: kafkaPort, outDir: fixturesDir,
    // Kafka's own clients inside the broker, which connect to the advertised proxy address.
    relabel: (clientId) => (clientId !== null && BROKER_CLIENT_ID.test(clientId) ? 'kafka-broker' : undefined),
  });
  const bootstrap = `127.0.0.1:${proxy.port}`;
  console.log(`starting Apache Kafka on 127.0.0.1:${kafkaPort}, advertised through the proxy at ${bootstrap}`);
  const kafka = await startApacheKafka({
    port: kafkaPort,
    controllerPort,
    advertisedPort: proxy.port,
    dataDir: join(workDir, 'kafka'),
    // Lets the Java consumer also speak the KIP-848 protocol (ConsumerGroupHeartbeat).
    properties: { 'group.coordinator.rebalance.protocols': 'classic,consumer' },
  });
  const failures: string[] = [];
  try {
    for (const client of clients) {
      const runner = runners[client];
      if (runner === undefined) continue;
      console.log(`capturing ${client}`);
      proxy.client = client;
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
  }
  summarize([...new Set(proxy.entries.map((e) => e.client))]);
  if (failures.length > 0) {
    console.error(`failed clients:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}

// ---------------------------------------------------------------------------------------
// Clients

/** ApiVersions v0-v3 sent by hand: the header and body are tiny and fixed by the protocol. */
async function runProbe(bootstrap: string): Promise<void> {
  const [host, port] = splitHostPort(bootstrap);
  const clientId = Buffer.from('fixtures-probe');
  const frames: Buffer[] = [];
  for (let version = 0; version <= 3; version++) {
    const parts: Buffer[] = [];
    const head = Buffer.alloc(8);
    head.writeInt16BE(18, 0);
    head.writeInt16BE(version, 2);
    head.writeInt32BE(100 + version, 4);
    parts.push(head, int16(clientId.length), clientId);
    if (version >= 3) {
      // Flexible: empty header tags, then compact strings software name/version, body tags.
      const name = Buffer.from('tskafka-probe');
      const ver = Buffer.from('0.1.0');
      parts.push(Buffer.from([0]), Buffer.from([name.length + 1]), name, Buffer.from([ver.length + 1]), ver, Buffer.from([0]));
    }
    const body = Buffer.concat(parts);
    frames.push(Buffer.concat([int32(body.length), body]));
  }
  await new Promise<void>((done, fail) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    let answered = 0;
    const timer = setTimeout(() => { socket.destroy(); fail(new Error('probe timed out')); }, 10_000);
    socket.on('connect', () => { for (const f of frames) socket.write(f); });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        received = received.subarray(4 + received.readInt32BE(0));
        answered++;
      }
      if (answered === frames.length) { clearTimeout(timer); socket.end(); }
    });
    socket.on('close', () => { clearTimeout(timer); answered === frames.length ? done() : fail(new Error('probe cut short')); });
    socket.on('error', (err) => { clearTimeout(timer); fail(err); });
  });
}

async function runKafkaJs(bootstrap: string): Promise<void> {
  const topic = 'fixtures-kafkajs';
  const groupId = 'fixtures-kafkajs-group';
  const kafka = new Kafka({ clientId: 'fixtures-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING });

  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await admin.describeCluster();
  await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });

  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({
    topic,
    compression: CompressionTypes.GZIP,
    messages: [1, 2, 3].map((i) => ({ key: `k${i}`, value: `kafkajs value ${i}`, headers: { seq: String(i) } })),
  });
  await producer.send({ topic, messages: [{ value: 'kafkajs uncompressed' }] });
  await producer.disconnect();

  // A transaction brings InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn.
  const txProducer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner, transactionalId: 'fixtures-kafkajs-tx', idempotent: true, maxInFlightRequests: 1,
  });
  await txProducer.connect();
  const tx = await txProducer.transaction();
  await tx.send({ topic, messages: [{ key: 'tx', value: 'kafkajs in a transaction' }] });
  await tx.sendOffsets({ consumerGroupId: `${groupId}-tx`, topics: [{ topic, partitions: [{ partition: 0, offset: '1' }] }] });
  await tx.commit();
  await txProducer.disconnect();

  const consumer = kafka.consumer({ groupId, heartbeatInterval: 300, sessionTimeout: 10_000, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await withTimeout(new Promise<void>((done) => {
    void consumer.run({
      eachMessage: async () => {
        seen++;
        if (seen === 5) done();
      },
    });
  }), clientTimeoutMs, 'kafkajs consumer');
  // Stay a moment so heartbeats and the periodic offset commit go out.
  await delay(1_000);
  await consumer.disconnect();

  await admin.fetchTopicOffsets(topic);
  await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.listGroups();
  await admin.describeGroups([groupId]);
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '1' }] });
  await admin.deleteGroups([groupId]);
  await admin.createTopics({ topics: [{ topic: `${topic}-deleted`, numPartitions: 1 }] });
  await admin.deleteTopics({ topics: [`${topic}-deleted`] });
  await admin.disconnect();
}

async function runKcat(bootstrap: string): Promise<void> {
  const topic = 'fixtures-kcat';
  const common = ['-b', bootstrap, '-X', 'client.id=fixtures-kcat', '-q'];
  await run('kcat', [...common, '-L']);
  await run('kcat', [...common, '-P', '-t', topic, '-z', 'snappy', '-K', ':', '-H', 'origin=kcat'],
    'k1:kcat value 1\nk2:kcat value 2\nk3:kcat value 3\n');
  await run('kcat', [...common, '-P', '-t', topic, '-z', 'lz4'], 'kcat lz4 value\n');
  await run('kcat', [...common, '-P', '-t', topic, '-X', 'compression.codec=zstd'], 'kcat zstd value\n');
  await run('kcat', [...common, '-C', '-t', topic, '-o', 'beginning', '-e']);
  await run('kcat', [...common, '-G', 'fixtures-kcat-group', '-X', 'auto.offset.reset=earliest',
    '-X', 'heartbeat.interval.ms=300', '-c', '5', topic]);
  // Told the broker is 0.9, librdkafka skips ApiVersions and speaks the oldest versions
  // (Metadata v0, Produce v1 with a magic-1 message set, ListOffsets v0, Fetch v1).
  const legacy = ['-b', bootstrap, '-X', 'client.id=fixtures-kcat-legacy', '-q',
    '-X', 'api.version.request=false', '-X', 'broker.version.fallback=0.9.0'];
  await run('kcat', [...legacy, '-P', '-t', `${topic}-legacy`, '-K', ':'], 'k1:kcat legacy 1\nk2:kcat legacy 2\n');
  await run('kcat', [...legacy, '-C', '-t', `${topic}-legacy`, '-o', 'beginning', '-e']);
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
  await run('/usr/bin/python3', ['-c', KAFKA_PYTHON, bootstrap, 'fixtures-kafka-python']);
}

async function runJava(bootstrap: string): Promise<void> {
  const topic = 'fixtures-java';
  const classpath = kafkaClasspath();
  const log4j = join(workDir, 'tools-log4j.properties');
  writeFileSync(log4j, 'log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\n'
    + 'log4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n'
    + 'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n\n');
  const java = (mainClass: string, args: string[], input?: string): Promise<void> =>
    run('java', ['-Xmx256m', `-Dlog4j.configuration=file:${log4j}`, '-cp', classpath, mainClass, ...args], input);

  await java('org.apache.kafka.tools.TopicCommand',
    ['--bootstrap-server', bootstrap, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1']);
  await java('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', bootstrap, '--describe', '--topic', topic]);
  await java('kafka.tools.ConsoleProducer',
    ['--bootstrap-server', bootstrap, '--topic', topic, '--compression-codec', 'zstd',
      '--property', 'parse.key=true', '--property', 'key.separator=:',
      '--producer-property', 'client.id=fixtures-java', '--producer-property', 'linger.ms=5'],
    'k1:java value 1\nk2:java value 2\nk3:java value 3\n');
  await java('kafka.tools.ConsoleProducer',
    ['--bootstrap-server', bootstrap, '--topic', topic, '--compression-codec', 'lz4',
      '--producer-property', 'client.id=fixtures-java'], 'java lz4 value\n');
  await java('org.apache.kafka.tools.consumer.ConsoleConsumer',
    ['--bootstrap-server', bootstrap, '--topic', topic, '--group', 'fixtures-java-group', '--from-beginning',
      // One more than there are, so it polls (and heartbeats) until the timeout.
      '--max-messages', '5', '--timeout-ms', '2000', '--consumer-property', 'client.id=fixtures-java',
      '--consumer-property', 'heartbeat.interval.ms=300', '--consumer-property', 'fetch.max.wait.ms=200']);
  await java('org.apache.kafka.tools.consumer.ConsoleConsumer',
    ['--bootstrap-server', bootstrap, '--topic', topic, '--group', 'fixtures-java-group-848', '--from-beginning',
      '--max-messages', '4', '--consumer-property', 'client.id=fixtures-java',
      '--consumer-property', 'group.protocol=consumer', '--consumer-property', 'fetch.max.wait.ms=200']);
  await java('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    ['--bootstrap-server', bootstrap, '--describe', '--group', 'fixtures-java-group-848']);
  await java('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    ['--bootstrap-server', bootstrap, '--describe', '--group', 'fixtures-java-group']);
}

// ---------------------------------------------------------------------------------------
// Helpers

function run(command: string, args: string[], input?: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), clientTimeoutMs);
    child.on('error', (err) => { clearTimeout(timer); fail(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done();
      else fail(new Error(`${command} ${args.slice(-3).join(' ')} exited ${code ?? signal}\n${output.slice(-2000)}`));
    });
    child.stdin.end(input ?? '');
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then((v) => { clearTimeout(timer); done(v); }, (e: unknown) => { clearTimeout(timer); fail(e as Error); });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
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

/** Prints apiKey/versions per client and the fixtures' total size. */
function summarize(clients: string[]): void {
  const index = JSON.parse(readFileSync(join(fixturesDir, 'index.json'), 'utf8')) as FixtureEntry[];
  for (const client of clients) {
    const versions = new Map<string, Set<number>>();
    for (const e of index) {
      if (e.client !== client) continue;
      const name = `${e.apiName ?? 'api'}(${e.apiKey})`;
      const set = versions.get(name) ?? new Set<number>();
      set.add(e.version);
      versions.set(name, set);
    }
    const line = [...versions].map(([name, set]) => `${name} v${[...set].sort((a, b) => a - b).join(',')}`).join('; ');
    console.log(`${client}: ${line}`);
  }
  let bytes = 0;
  let files = 0;
  for (const dir of readdirSync(fixturesDir)) {
    const path = join(fixturesDir, dir);
    if (!statSync(path).isDirectory()) continue;
    for (const file of readdirSync(path)) { bytes += statSync(join(path, file)).size; files++; }
  }
  console.log(`${files} fixture files, ${(bytes / 1024).toFixed(1)} KiB`);
}

await main();
