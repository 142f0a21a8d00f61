import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import {
  ApiKey,
  createCreateTopicsRequest,
  createDeleteTopicsRequest,
  createDescribeClusterRequest,
  createDescribeConfigsRequest,
  createDescribeLogDirsRequest,
  createDescribeTopicPartitionsRequest,
  createIncrementalAlterConfigsRequest,
  createRequestHeader,
  decodeResponseFrame,
  encodeRequestFrame,
  type ApiRequests,
  type ApiResponses,
} from "@tskafka/protocol";
import { startBroker, type BrokerProcess } from "./harness.js";

/**
 * Every version of the admin APIs over the wire with the generated codecs, for what the real clients
 * do not reach: old and new versions, topic ids, incremental list operations, pagination.
 */

let broker: BrokerProcess;
let socket: Socket;
let correlation = 0;
let pending: Buffer = Buffer.alloc(0);
let waiter: ((frame: Buffer) => void) | undefined;

before(async () => {
  broker = await startBroker();
  socket = connect(broker.port, "127.0.0.1");
  await new Promise<void>((res, rej) => socket.once("connect", res).once("error", rej));
  socket.on("data", (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    if (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const frame = pending.subarray(0, 4 + pending.readInt32BE(0));
      pending = pending.subarray(frame.length);
      waiter?.(frame);
    }
  });
});

after(async () => {
  socket?.destroy();
  await broker?.cleanup();
});

async function call<K extends keyof ApiRequests & keyof ApiResponses>(
  apiKey: K,
  version: number,
  body: ApiRequests[K],
): Promise<ApiResponses[K]> {
  const header = createRequestHeader({
    requestApiKey: apiKey,
    requestApiVersion: version,
    correlationId: ++correlation,
    clientId: "admin-protocol",
  });
  const frame = await new Promise<Buffer>((res) => {
    waiter = res;
    socket.write(encodeRequestFrame(header, body));
  });
  return decodeResponseFrame(frame, apiKey, version).body as ApiResponses[K];
}

test("CreateTopics v0-7 and DeleteTopics v0-6, by name and (v6) by id", { timeout: 15_000 }, async () => {
  for (let v = 0; v <= 7; v++) {
    const name = `proto-v${v}`;
    const res = await call(
      ApiKey.CreateTopics,
      v,
      createCreateTopicsRequest({
        topics: [
          {
            name,
            numPartitions: 2,
            replicationFactor: -1,
            assignments: [],
            configs: [{ name: "retention.ms", value: "60000" }],
          },
        ],
      }),
    );
    const t = res.topics[0]!;
    assert.equal(t.errorCode, 0, `v${v}`);
    if (v >= 5) {
      assert.equal(t.numPartitions, 2);
      assert.equal(t.replicationFactor, 1);
      assert.equal(t.configs?.find((c) => c.name === "retention.ms")?.value, "60000");
      assert.equal(t.configs?.find((c) => c.name === "retention.ms")?.configSource, 1);
    }
    if (v >= 7) assert.notEqual(t.topicId, "AAAAAAAAAAAAAAAAAAAAAA");
    if (v >= 1) {
      const again = await call(
        ApiKey.CreateTopics,
        v,
        createCreateTopicsRequest({
          topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
        }),
      );
      assert.equal(again.topics[0]!.errorCode, 36);
      assert.equal(again.topics[0]!.errorMessage, `Topic '${name}' already exists.`);
    }
  }
  const v7 = await call(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      topics: [{ name: "by-id", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    }),
  );
  const id = v7.topics[0]!.topicId;
  for (let v = 0; v <= 5; v++) {
    const res = await call(
      ApiKey.DeleteTopics,
      v,
      createDeleteTopicsRequest({ topicNames: [`proto-v${v}`, "never-was"] }),
    );
    assert.deepEqual(
      res.responses.map((r) => [r.name, r.errorCode]),
      [
        [`proto-v${v}`, 0],
        ["never-was", 3],
      ],
      `v${v}`,
    );
  }
  const res = await call(
    ApiKey.DeleteTopics,
    6,
    createDeleteTopicsRequest({
      topics: [
        { name: null, topicId: id },
        { name: null, topicId: "AAAAAAAAAAAAAAAAAAAAAQ" },
      ],
    }),
  );
  assert.deepEqual(
    res.responses.map((r) => [r.name, r.errorCode]),
    [
      ["by-id", 0],
      [null, 100],
    ],
  );
});

test("DescribeConfigs v0-4: isDefault, sources, synonyms, documentation", { timeout: 15_000 }, async () => {
  await call(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      topics: [
        {
          name: "dc",
          numPartitions: 1,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: "segment.ms", value: "1000" }],
        },
      ],
    }),
  );
  for (let v = 0; v <= 4; v++) {
    const res = await call(
      ApiKey.DescribeConfigs,
      v,
      createDescribeConfigsRequest({
        resources: [
          { resourceType: 2, resourceName: "dc", configurationKeys: ["segment.ms", "retention.ms"] },
          { resourceType: 4, resourceName: "1", configurationKeys: null },
        ],
        includeSynonyms: v >= 1,
        includeDocumentation: v >= 3,
      }),
    );
    const [topic, brokerRes] = res.results;
    assert.equal(topic!.errorCode, 0);
    const seg = topic!.configs.find((c) => c.name === "segment.ms")!;
    const ret = topic!.configs.find((c) => c.name === "retention.ms")!;
    assert.equal(topic!.configs.length, 2);
    assert.equal(seg.value, "1000");
    if (v === 0) {
      assert.equal(seg.isDefault, false);
      assert.equal(ret.isDefault, true);
    } else {
      assert.equal(seg.configSource, 1);
      assert.equal(ret.configSource, 5);
      assert.deepEqual(
        seg.synonyms.map((s) => s.name),
        ["segment.ms"],
      );
    }
    if (v >= 3) {
      assert.equal(seg.configType, 5, "LONG");
      assert.ok((seg.documentation ?? "").length > 0);
    }
    assert.ok(brokerRes!.configs.some((c) => c.name === "num.partitions" && c.readOnly));
  }
});

test("IncrementalAlterConfigs v0-1: SET, DELETE, APPEND, SUBTRACT and their errors", { timeout: 15_000 }, async () => {
  await call(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      topics: [{ name: "inc", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    }),
  );
  const alter = (v: number, configs: { name: string; configOperation: number; value: string | null }[]) =>
    call(
      ApiKey.IncrementalAlterConfigs,
      v,
      createIncrementalAlterConfigsRequest({ resources: [{ resourceType: 2, resourceName: "inc", configs }] }),
    );
  const current = async () => {
    const res = await call(
      ApiKey.DescribeConfigs,
      4,
      createDescribeConfigsRequest({ resources: [{ resourceType: 2, resourceName: "inc", configurationKeys: null }] }),
    );
    return Object.fromEntries(
      res.results[0]!.configs.filter((c) => c.configSource === 1).map((c) => [c.name, c.value]),
    );
  };
  assert.equal(
    (await alter(0, [{ name: "cleanup.policy", configOperation: 2, value: "compact" }])).responses[0]!.errorCode,
    0,
  );
  assert.deepEqual(await current(), { "cleanup.policy": "delete,compact" });
  assert.equal(
    (
      await alter(1, [
        { name: "cleanup.policy", configOperation: 3, value: "delete" },
        { name: "retention.ms", configOperation: 0, value: "777" },
      ])
    ).responses[0]!.errorCode,
    0,
  );
  assert.deepEqual(await current(), { "cleanup.policy": "compact", "retention.ms": "777" });
  assert.equal(
    (await alter(1, [{ name: "cleanup.policy", configOperation: 1, value: null }])).responses[0]!.errorCode,
    0,
  );
  assert.deepEqual(await current(), { "retention.ms": "777" });
  const appendToLong = (await alter(1, [{ name: "retention.ms", configOperation: 2, value: "1" }])).responses[0]!;
  assert.equal(appendToLong.errorCode, 40);
  assert.equal(appendToLong.errorMessage, "Config value append is not allowed for config key: retention.ms");
  assert.equal(
    (await alter(1, [{ name: "retention.ms", configOperation: 0, value: "-5" }])).responses[0]!.errorCode,
    40,
  );
  assert.equal(
    (
      await alter(1, [
        { name: "a", configOperation: 0, value: "1" },
        { name: "a", configOperation: 1, value: null },
      ])
    ).responses[0]!.errorCode,
    42,
  );
  assert.deepEqual(await current(), { "retention.ms": "777" }, "failed alterations change nothing");
});

test(
  "DescribeTopicPartitions pages by partitions; DescribeCluster and DescribeLogDirs",
  { timeout: 15_000 },
  async () => {
    for (const [name, n] of [
      ["page-a", 3],
      ["page-b", 2],
    ] as const) {
      await call(
        ApiKey.CreateTopics,
        7,
        createCreateTopicsRequest({
          topics: [{ name, numPartitions: n, replicationFactor: 1, assignments: [], configs: [] }],
        }),
      );
    }
    const seen: string[] = [];
    let cursor: { topicName: string; partitionIndex: number } | null = null;
    for (let i = 0; i < 10; i++) {
      const res: ApiResponses[typeof ApiKey.DescribeTopicPartitions] = await call(
        ApiKey.DescribeTopicPartitions,
        0,
        createDescribeTopicPartitionsRequest({
          topics: [{ name: "page-b" }, { name: "page-a" }, { name: "page-none" }],
          responsePartitionLimit: 2,
          cursor,
        }),
      );
      for (const t of res.topics) {
        if (t.errorCode !== 0) seen.push(`${t.name}:error${t.errorCode}`);
        for (const p of t.partitions) seen.push(`${t.name}-${p.partitionIndex}`);
      }
      cursor = res.nextCursor;
      if (cursor === null) break;
    }
    assert.deepEqual(seen, ["page-a-0", "page-a-1", "page-a-2", "page-b-0", "page-b-1", "page-none:error3"]);

    for (let v = 0; v <= 1; v++) {
      const res = await call(
        ApiKey.DescribeCluster,
        v,
        createDescribeClusterRequest({ includeClusterAuthorizedOperations: true }),
      );
      assert.equal(res.errorCode, 0);
      assert.equal(res.controllerId, 1);
      assert.deepEqual(
        res.brokers.map((b) => [b.brokerId, b.port]),
        [[1, broker.port]],
      );
      assert.ok(res.clusterAuthorizedOperations > 0);
    }
    const controllers = await call(ApiKey.DescribeCluster, 1, createDescribeClusterRequest({ endpointType: 2 }));
    assert.equal(controllers.errorCode, 114);

    for (let v = 0; v <= 4; v++) {
      const res = await call(
        ApiKey.DescribeLogDirs,
        v,
        createDescribeLogDirsRequest({ topics: [{ topic: "page-a", partitions: [0, 2, 9] }] }),
      );
      assert.equal(res.results.length, 1);
      assert.deepEqual(
        res.results[0]!.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]),
        [["page-a", [0, 2]]],
      );
      if (v >= 4) assert.ok(res.results[0]!.totalBytes > 0n);
    }
  },
);
