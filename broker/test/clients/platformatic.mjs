// @platformatic/kafka against the broker, for broker/test/clients-platformatic.test.ts. The client needs
// Node 22.22 or later, so the test runs this file as a child process under such a Node binary.
//
//   node platformatic.mjs <command> <bootstrap> '<JSON arguments>'
//
// Each command prints one JSON document on stdout (bigints as numbers) and exits 0, or prints the error
// on stderr and exits 1. Commands:
//   admin        topics, metadata and configs, with the errors of a few wrong calls, in one sequence
//   produce      records with keys, headers and timestamps to explicit partitions, one producer per run
//                (a compression, idempotent or not), acks=all, in several sends
//   read         reads topics from the beginning in a group until a count is reached
//   group        members of one group (classic, or KIP-848 with `protocol: "consumer"`) split a topic;
//                records produced once they are stable, each one committed; the group listed and
//                described and its committed offsets fetched before the members leave
//   group-admin  a group after its members left: described, listed, its offsets; then deleted
//
// The records of `produce` follow one rule, which the test repeats: see `recordOf`.

import {
  Admin,
  Consumer,
  ConfigResourceTypes,
  IncrementalAlterConfigOperationTypes,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";

const [command, bootstrap, rawArgs] = process.argv.slice(2);
const args = JSON.parse(rawArgs ?? "{}");
const brokers = [bootstrap];
const base = { bootstrapBrokers: brokers, timeout: 10_000, retries: 3, retryDelay: 200 };

/** Message i of partition p of a `produce` run tagged `tag`; record 0 has no key. */
function recordOf(tag, p, i) {
  return {
    key: i === 0 ? undefined : `${tag}-k${p}-${i}`,
    value: `${tag} ${p}/${i} \u00e9\u20ac ${"x".repeat(i * 29)}`,
    headers: { tag, seq: String(i) },
    timestamp: 1_700_000_000_000n + BigInt(p * 1000 + i),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, cond, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** An error as data: its class, code and the Kafka error codes it carries. */
function errorOf(e) {
  const codes = [];
  const walk = (x) => {
    if (x === null || typeof x !== "object") return;
    if (typeof x.apiCode === "number") codes.push(x.apiCode);
    if (x.response !== undefined) collectCodes(x.response, codes);
    for (const inner of x.errors ?? []) walk(inner);
  };
  walk(e);
  return { name: e.name, code: e.code, apiCodes: [...new Set(codes)].sort((a, b) => a - b) };
}

function collectCodes(x, codes) {
  if (x === null || typeof x !== "object") return;
  if (Array.isArray(x)) {
    for (const v of x) collectCodes(v, codes);
    return;
  }
  for (const [k, v] of Object.entries(x)) {
    if (k === "errorCode" && typeof v === "number" && v !== 0) codes.push(v);
    else collectCodes(v, codes);
  }
}

function configsOf(descriptions) {
  return descriptions.map((d) => ({
    resourceType: d.resourceType,
    resourceName: d.resourceName,
    configs: Object.fromEntries(
      d.configs
        .map((c) => [c.name, { value: c.value, source: c.configSource, readOnly: c.readOnly }])
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    ),
  }));
}

async function describeTopic(admin, topic, keys) {
  return configsOf(
    await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: keys }],
    }),
  )[0];
}

async function metadataOf(admin, topics) {
  const m = await admin.metadata({ topics, forceUpdate: true });
  return {
    brokers: [...m.brokers].map(([id, b]) => ({ id, host: b.host, port: b.port })),
    controllerId: m.controllerId,
    topics: Object.fromEntries(
      topics.map((t) => {
        const tm = m.topics.get(t);
        return [
          t,
          tm === undefined
            ? null
            : {
                partitionsCount: tm.partitionsCount,
                partitions: tm.partitions.map((p) => ({ leader: p.leader, replicas: p.replicas, isr: p.isr })),
              },
        ];
      }),
    ),
  };
}

async function admin() {
  const { topic, other } = args;
  const keys = ["retention.ms", "max.message.bytes", "segment.ms", "cleanup.policy"];
  const a = new Admin({ ...base, clientId: "plt-admin" });
  const out = {};
  try {
    out.created = (
      await a.createTopics({
        topics: [topic, other],
        partitions: 3,
        replicas: 1,
        configs: [
          { name: "retention.ms", value: "3600000" },
          { name: "max.message.bytes", value: "500000" },
        ],
      })
    )
      .map((t) => ({
        name: t.name,
        partitions: t.partitions,
        replicas: t.replicas,
        retention: t.configuration["retention.ms"],
        maxMessage: t.configuration["max.message.bytes"],
        idLength: t.id.length,
      }))
      .sort((x, y) => (x.name < y.name ? -1 : 1));
    try {
      await a.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      out.createAgain = "no error";
    } catch (e) {
      out.createAgain = errorOf(e);
    }
    out.listed = (await a.listTopics()).sort();
    out.metadata = await metadataOf(a, [topic, other]);
    out.configsCreated = await describeTopic(a, topic, keys);

    // AlterConfigs replaces the topic's whole set: max.message.bytes goes back to its default.
    await a.alterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: topic,
          configs: [{ name: "retention.ms", value: "7200000" }],
        },
      ],
    });
    out.configsAltered = await describeTopic(a, topic, keys);

    // IncrementalAlterConfigs changes only what it names.
    await a.incrementalAlterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: topic,
          configs: [
            { name: "segment.ms", configOperation: IncrementalAlterConfigOperationTypes.SET, value: "600000" },
            { name: "retention.ms", configOperation: IncrementalAlterConfigOperationTypes.DELETE, value: null },
          ],
        },
      ],
    });
    out.configsIncremental = await describeTopic(a, topic, keys);
    try {
      await a.alterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: topic,
            configs: [{ name: "retention.ms", value: "soon" }],
          },
        ],
      });
      out.alterInvalid = "no error";
    } catch (e) {
      out.alterInvalid = errorOf(e);
    }
    out.brokerConfigs = configsOf(
      await a.describeConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.BROKER,
            resourceName: "1",
            configurationKeys: ["log.retention.ms", "num.partitions"],
          },
        ],
      }),
    )[0];

    await a.createPartitions({ topics: [{ name: topic, count: 5 }] });
    out.metadataGrown = await metadataOf(a, [topic]);

    await a.deleteTopics({ topics: [other] });
    out.listedAfterDelete = (await a.listTopics()).sort();
    try {
      await a.deleteTopics({ topics: ["plt-no-such-topic"] });
      out.deleteMissing = "no error";
    } catch (e) {
      out.deleteMissing = errorOf(e);
    }
  } finally {
    await a.close();
  }
  return out;
}

async function produce() {
  const { runs, partitions, perPartition, chunk } = args;
  const out = [];
  for (const { topic, compression, idempotent } of runs) {
    const producer = new Producer({
      ...base,
      clientId: `plt-producer-${compression}`,
      serializers: stringSerializers,
      idempotent,
      autocreateTopics: true,
    });
    const offsets = [];
    try {
      for (let p = 0; p < partitions; p++) {
        for (let from = 0; from < perPartition; from += chunk) {
          const messages = [];
          for (let i = from; i < Math.min(perPartition, from + chunk); i++)
            messages.push({ topic, partition: p, ...recordOf(topic, p, i) });
          const r = await producer.send({ messages, compression, acks: ProduceAcks.ALL });
          for (const o of r.offsets ?? []) offsets.push([o.topic, o.partition, o.offset]);
        }
      }
      out.push({
        topic,
        compression,
        idempotent,
        producerId: producer.producerId,
        producerEpoch: producer.producerEpoch,
        offsets,
      });
    } finally {
      await producer.close();
    }
  }
  return out;
}

function recordJson(m) {
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value,
    headers: m.headerEntries,
    timestamp: m.timestamp,
  };
}

/** A member of the classic protocol, or of the KIP-848 one (`protocol` "consumer"). */
function consumerOptions(clientId, groupId, protocol = "classic") {
  const membership =
    protocol === "consumer"
      ? { groupProtocol: "consumer" }
      : { sessionTimeout: 6000, heartbeatInterval: 300, rebalanceTimeout: 10_000 };
  return {
    ...base,
    clientId,
    groupId,
    deserializers: stringDeserializers,
    ...membership,
    maxWaitTime: 100,
    autocommit: false,
  };
}

async function read() {
  const { topics, expected, groupId } = args;
  const consumer = new Consumer(consumerOptions("plt-reader", groupId));
  const records = [];
  try {
    const stream = await consumer.consume({ topics, mode: "earliest" });
    stream.on("data", (m) => records.push(recordJson(m)));
    await until(`${expected} records (have ${records.length})`, () => records.length >= expected);
    await sleep(300); // anything beyond the expected count would show up here
    await stream.close();
  } finally {
    await consumer.close();
  }
  return { records };
}

async function group() {
  const { topic, groupId, members, produce: count, expected, partitions, create, protocol } = args;
  if (create) {
    const a = new Admin({ ...base, clientId: "plt-group-admin" });
    try {
      await a.createTopics({ topics: [topic], partitions, replicas: 1 });
    } finally {
      await a.close();
    }
  }
  const consumers = [];
  const streams = [];
  const got = [];
  const commits = [];
  const out = {};
  try {
    for (let i = 0; i < members; i++) {
      const c = new Consumer(consumerOptions(`plt-member-${i}`, groupId, protocol));
      watchErrors(c, `member ${i}`);
      consumers.push(c);
      got.push([]);
      const stream = await c.consume({ topics: [topic], mode: "committed", fallbackMode: "earliest" });
      streams.push(stream);
      stream.on("data", (m) => {
        got[i].push(recordJson(m));
        commits.push(m.commit());
      });
    }
    const assigned = (c) => (c.assignments ?? []).filter((a) => a.topic === topic).flatMap((a) => a.partitions);
    const even = Math.floor(partitions / members);
    await until("an even split of the partitions in one generation", () => {
      const gens = new Set(consumers.map((c) => c.generationId));
      return gens.size === 1 && consumers.every((c) => assigned(c).length === even);
    });
    out.assignments = consumers.map((c) => assigned(c).sort((a, b) => a - b));
    out.generations = consumers.map((c) => c.generationId);
    // A fetch sent before a revocation may still be waiting (maxWaitTime); the client hands out what it
    // returns even for partitions it no longer owns. Let such fetches end before producing.
    await sleep(500);

    if (count > 0) {
      const producer = new Producer({ ...base, clientId: "plt-group-producer", serializers: stringSerializers });
      try {
        const messages = Array.from({ length: count }, (_, i) => ({
          topic,
          partition: i % partitions,
          key: `g${i}`,
          value: `m${i}`,
        }));
        await producer.send({ messages, acks: ProduceAcks.ALL });
      } finally {
        await producer.close();
      }
    }
    const total = () => got.reduce((n, g) => n + g.length, 0);
    await until(`${expected} records (have ${total()})`, () => total() >= expected);
    await sleep(300); // anything beyond the expected count would show up here
    await Promise.all(commits);
    out.records = got;

    const a = new Admin({ ...base, clientId: "plt-group-admin" });
    try {
      out.listed = [...(await a.listGroups({ types: ["classic", "consumer"] })).values()].filter(
        (g) => g.id === groupId,
      );
      out.committed = await committedOf(a, groupId);
      if (protocol === "consumer") return out; // DescribeGroups is for classic groups
      const described = (await a.describeGroups({ groups: [groupId] })).get(groupId);
      out.described = {
        id: described.id,
        state: described.state,
        protocolType: described.protocolType,
        protocol: described.protocol,
        members: [...described.members.values()]
          .map((m) => ({
            clientId: m.clientId,
            clientHost: m.clientHost,
            topics: m.metadata?.topics ?? null,
            assignment: [...(m.assignments?.values() ?? [])].map((x) => ({
              topic: x.topic,
              partitions: [...x.partitions].sort((p, q) => p - q),
            })),
          }))
          .sort((x, y) => (x.clientId < y.clientId ? -1 : 1)),
      };
    } finally {
      await a.close();
    }
    failOnClientErrors();
  } finally {
    closing = true;
    for (const s of streams) await s.close().catch(() => undefined);
    for (const c of consumers) await c.close().catch(() => undefined);
  }
  return out;
}

/**
 * A consumer reports failures of its background work (heartbeats, rejoins) as 'error' events, which
 * would end the process unheard. They fail the run, except once the members are being closed: closing
 * one member makes the others rejoin, and a member closed while its rejoin waits gets "Connection
 * closed" from its own client.
 */
let closing = false;
const clientErrors = [];
function watchErrors(client, name) {
  client.on("error", (e) => {
    if (!closing) clientErrors.push(`${name}: ${e?.stack ?? e}`);
  });
}
function failOnClientErrors() {
  if (clientErrors.length > 0) throw new Error(`client errors:\n${clientErrors.join("\n")}`);
}

async function committedOf(a, groupId) {
  const groups = await a.listConsumerGroupOffsets({ groups: [groupId] });
  return groups
    .flatMap((g) =>
      g.topics.flatMap((t) =>
        t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset })),
      ),
    )
    .sort((x, y) => (x.topic === y.topic ? x.partition - y.partition : x.topic < y.topic ? -1 : 1));
}

/** After the members left: the group as ListGroups/DescribeGroups/OffsetFetch show it, then deleted. */
async function groupAdmin() {
  const { groupId } = args;
  const a = new Admin({ ...base, clientId: "plt-group-admin" });
  const out = {};
  try {
    const d = (await a.describeGroups({ groups: [groupId] })).get(groupId);
    out.described = { state: d.state, protocolType: d.protocolType, protocol: d.protocol, members: d.members.size };
    out.listed = [...(await a.listGroups({ types: ["classic", "consumer"] })).values()].filter((g) => g.id === groupId);
    out.committed = await committedOf(a, groupId);
    out.topics = (await a.listTopics()).sort();
    out.topicsWithInternals = (await a.listTopics({ includeInternals: true })).sort();
    await a.deleteGroups({ groups: [groupId] });
    out.listedAfterDelete = [...(await a.listGroups({ types: ["classic", "consumer"] })).values()].filter(
      (g) => g.id === groupId,
    );
  } finally {
    await a.close();
  }
  return out;
}

const commands = { admin, produce, read, group, "group-admin": groupAdmin };

const timer = setTimeout(() => {
  console.error(`platformatic.mjs ${command}: gave up after 30 s`);
  process.exit(2);
}, 30_000);
timer.unref();

try {
  if (!(command in commands)) throw new Error(`unknown command ${command}`);
  const result = await commands[command]();
  process.stdout.write(
    JSON.stringify(result, (_, v) =>
      typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v,
    ) + "\n",
  );
  process.exit(0);
} catch (e) {
  console.error(e);
  if (e?.errors) console.error(e.errors);
  process.exit(1);
}
