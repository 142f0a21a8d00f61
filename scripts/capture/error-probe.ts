// A session of requests no well-behaved client sends in one go: each asks for a broker's error path
// (unknown topics, ids, partitions and members, bad configs and arguments, out-of-range offsets,
// fenced epochs), a few for its edge cases (special ListOffsets timestamps, standalone offset commits,
// validate-only creations). Captured against Apache Kafka 4.4 (kafka44-errors), it gives golden frames
// of Kafka's error answers and, replayed by scripts/diff/differential.ts, a check of tskafka's.
// Requests are built with @tskafka/protocol and sent one at a time on one connection.
import { connect, type Socket } from "node:net";
import {
  ApiKey,
  buildRecordBatch,
  createApiVersionsRequest,
  createConsumerGroupDescribeRequest,
  createConsumerGroupHeartbeatRequest,
  createCreatePartitionsRequest,
  createCreatePartitionsRequestCreatePartitionsTopic,
  createCreateTopicsRequest,
  createCreateTopicsRequestCreatableTopic,
  createCreateTopicsRequestCreatableTopicConfig,
  createDeleteGroupsRequest,
  createDeleteRecordsRequest,
  createDeleteRecordsRequestDeleteRecordsPartition,
  createDeleteRecordsRequestDeleteRecordsTopic,
  createDeleteTopicsRequest,
  createDeleteTopicsRequestDeleteTopicState,
  createDescribeConfigsRequest,
  createDescribeConfigsRequestDescribeConfigsResource,
  createDescribeGroupsRequest,
  createFetchRequest,
  createFetchRequestFetchPartition,
  createFetchRequestFetchTopic,
  createFindCoordinatorRequest,
  createHeartbeatRequest,
  createIncrementalAlterConfigsRequest,
  createIncrementalAlterConfigsRequestAlterableConfig,
  createIncrementalAlterConfigsRequestAlterConfigsResource,
  createInitProducerIdRequest,
  createJoinGroupRequest,
  createJoinGroupRequestJoinGroupRequestProtocol,
  createLeaveGroupRequest,
  createLeaveGroupRequestMemberIdentity,
  createListOffsetsRequest,
  createListOffsetsRequestListOffsetsPartition,
  createListOffsetsRequestListOffsetsTopic,
  createMetadataRequest,
  createMetadataRequestMetadataRequestTopic,
  createOffsetCommitRequest,
  createOffsetCommitRequestOffsetCommitRequestPartition,
  createOffsetCommitRequestOffsetCommitRequestTopic,
  createOffsetDeleteRequest,
  createOffsetDeleteRequestOffsetDeleteRequestPartition,
  createOffsetDeleteRequestOffsetDeleteRequestTopic,
  createOffsetFetchRequest,
  createOffsetFetchRequestOffsetFetchRequestGroup,
  createOffsetFetchRequestOffsetFetchRequestTopics,
  createProduceRequest,
  createProduceRequestPartitionProduceData,
  createProduceRequestTopicProduceData,
  createSyncGroupRequest,
  decodeResponseFrame,
  encodeRequestFrame,
  ZERO_UUID,
  type CreateTopicsResponse,
  type MetadataResponse,
} from "@tskafka/protocol";

class ProbeClient {
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((frame: Buffer) => void) | undefined;
  private closed: ((err: Error) => void) | undefined;
  private correlationId = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly clientId: string,
  ) {
    socket.on("close", () => this.closed?.(new Error("connection closed")));
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const end = 4 + this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(0, end);
        this.buffered = this.buffered.subarray(end);
        const w = this.waiting;
        this.waiting = undefined;
        w?.(frame);
      }
    });
  }

  static connect(host: string, port: number, clientId: string): Promise<ProbeClient> {
    return new Promise((done, fail) => {
      const socket = connect({ host, port }, () => {
        socket.off("error", fail);
        done(new ProbeClient(socket, clientId));
      });
      socket.once("error", fail);
    });
  }

  /** Sends one request and returns the decoded response body (bounded at 15 s). */
  send<T = unknown>(apiKey: number, version: number, body: unknown): Promise<T> {
    const correlationId = ++this.correlationId;
    const frame = encodeRequestFrame(
      { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: this.clientId },
      body as never,
    );
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`api ${apiKey} v${version}: no answer in 15 s`)), 15_000);
      this.closed = (err) => {
        clearTimeout(timer);
        fail(new Error(`api ${apiKey} v${version}: ${err.message}`));
      };
      this.waiting = (response) => {
        clearTimeout(timer);
        this.closed = undefined;
        try {
          done(decodeResponseFrame(response, apiKey, version).body as T);
        } catch (err) {
          fail(err as Error);
        }
      };
      this.socket.write(frame);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

const TOPIC = "k44-errors";
const GROUP = "k44-errors-group";
/** A topic id no broker has. */
const UNKNOWN_ID = "AAAAAAAAAAAAAAAAAAAAAQ";

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

export async function runErrorProbe(host: string, port: number): Promise<void> {
  const c = await ProbeClient.connect(host, port, "fixtures-errors");
  try {
    await errorSession(c);
  } finally {
    c.close();
  }
}

async function errorSession(c: ProbeClient): Promise<void> {
  // KIP-1242: a cluster id that is not the broker's.
  await c.send(
    ApiKey.ApiVersions,
    5,
    createApiVersionsRequest({
      clientSoftwareName: "tskafka-errors",
      clientSoftwareVersion: "0.1.0",
      clusterId: UNKNOWN_ID,
      nodeId: 7,
    }),
  );
  await c.send(
    ApiKey.Metadata,
    13,
    createMetadataRequest({
      topics: [
        createMetadataRequestMetadataRequestTopic({ name: `${TOPIC}-missing` }),
        createMetadataRequestMetadataRequestTopic({ name: null, topicId: UNKNOWN_ID }),
      ],
      allowAutoTopicCreation: false,
    }),
  );

  // --- topics ---
  const topic = (
    name: string,
    numPartitions: number,
    replicationFactor: number,
    configs: [string, string | null][] = [],
  ) =>
    createCreateTopicsRequestCreatableTopic({
      name,
      numPartitions,
      replicationFactor,
      configs: configs.map(([n, value]) => createCreateTopicsRequestCreatableTopicConfig({ name: n, value })),
    });
  const created = await c.send<CreateTopicsResponse>(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      timeoutMs: 30_000,
      topics: [
        topic(TOPIC, 2, 1),
        topic("bad name!", 1, 1),
        topic(`${TOPIC}-zero`, 0, 1),
        topic(`${TOPIC}-rf3`, 1, 3),
        topic(`${TOPIC}-badconfig`, 1, 1, [["cleanup.policy", "sometimes"]]),
        topic(`${TOPIC}-unknownconfig`, 1, 1, [["no.such.config", "1"]]),
        topic(`${TOPIC}-nullconfig`, 1, 1, [["retention.ms", null]]),
        topic("__consumer_offsets", 1, 1),
      ],
    }),
  );
  const topicId = created.topics.find((t) => t.name === TOPIC)?.topicId;
  if (topicId === undefined || created.topics.find((t) => t.name === TOPIC)?.errorCode !== 0)
    throw new Error(`could not create ${TOPIC}`);
  await c.send(
    ApiKey.CreateTopics,
    7,
    createCreateTopicsRequest({
      timeoutMs: 30_000,
      validateOnly: true,
      topics: [topic(`${TOPIC}-validate`, 3, 1), topic(TOPIC, 1, 1)],
    }),
  );
  // Kafka's broker learns of the new partitions a moment after its controller answered.
  for (let i = 0; i < 50; i++) {
    const md = await c.send<MetadataResponse>(
      ApiKey.Metadata,
      13,
      createMetadataRequest({
        topics: [createMetadataRequestMetadataRequestTopic({ name: TOPIC })],
        allowAutoTopicCreation: false,
      }),
    );
    if (
      md.topics[0]?.errorCode === 0 &&
      md.topics[0].partitions.length === 2 &&
      md.topics[0].partitions.every((p) => p.leaderId >= 0)
    )
      break;
    await delay(100);
  }
  await delay(1_000);
  await c.send(
    ApiKey.CreatePartitions,
    3,
    createCreatePartitionsRequest({
      timeoutMs: 30_000,
      topics: [
        createCreatePartitionsRequestCreatePartitionsTopic({ name: TOPIC, count: 1, assignments: null }),
        createCreatePartitionsRequestCreatePartitionsTopic({ name: `${TOPIC}-missing`, count: 3, assignments: null }),
      ],
    }),
  );
  await c.send(
    ApiKey.CreatePartitions,
    3,
    createCreatePartitionsRequest({
      timeoutMs: 30_000,
      validateOnly: true,
      topics: [createCreatePartitionsRequestCreatePartitionsTopic({ name: TOPIC, count: 4, assignments: null })],
    }),
  );

  // --- produce, fetch, list offsets, delete records ---
  const batch = (values: string[]): Buffer =>
    buildRecordBatch(
      values.map((v, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.from(v),
        timestamp: 1_700_000_000_000n + BigInt(i),
      })),
    );
  const corrupt = batch(["corrupt"]);
  corrupt.writeUInt32BE(corrupt.readUInt32BE(17) ^ 1, 17); // the batch's CRC no longer matches its bytes
  const partition = (index: number, records: Buffer) => createProduceRequestPartitionProduceData({ index, records });
  await c.send(
    ApiKey.Produce,
    13,
    createProduceRequest({
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        createProduceRequestTopicProduceData({
          name: "",
          topicId,
          partitionData: [partition(0, batch(["first", "second"])), partition(1, batch(["third"]))],
        }),
      ],
    }),
  );
  await c.send(
    ApiKey.Produce,
    13,
    createProduceRequest({
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        createProduceRequestTopicProduceData({
          name: "",
          topicId,
          partitionData: [partition(1, corrupt), partition(7, batch(["nowhere"]))],
        }),
        createProduceRequestTopicProduceData({
          name: "",
          topicId: UNKNOWN_ID,
          partitionData: [partition(0, batch(["unknown"]))],
        }),
      ],
    }),
  );
  await c.send(
    ApiKey.Produce,
    13,
    createProduceRequest({
      acks: 2,
      timeoutMs: 10_000,
      topicData: [
        createProduceRequestTopicProduceData({ name: "", topicId, partitionData: [partition(0, batch(["acks two"]))] }),
      ],
    }),
  );
  const fetchPartition = (p: number, fetchOffset: bigint, currentLeaderEpoch = -1) =>
    createFetchRequestFetchPartition({ partition: p, fetchOffset, currentLeaderEpoch, partitionMaxBytes: 65_536 });
  await c.send(
    ApiKey.Fetch,
    18,
    createFetchRequest({
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1_048_576,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        createFetchRequestFetchTopic({ topicId, partitions: [fetchPartition(0, 1n), fetchPartition(1, 50n)] }),
        createFetchRequestFetchTopic({ topicId: UNKNOWN_ID, partitions: [fetchPartition(0, 0n)] }),
      ],
    }),
  );
  await c.send(
    ApiKey.Fetch,
    18,
    createFetchRequest({
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1_048_576,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        createFetchRequestFetchTopic({ topicId, partitions: [fetchPartition(0, 0n, 7), fetchPartition(5, 0n)] }),
      ],
    }),
  );
  const listOffsets = (partitions: [number, bigint, number?][]) =>
    createListOffsetsRequest({
      replicaId: -1,
      timeoutMs: 10_000,
      topics: [
        createListOffsetsRequestListOffsetsTopic({
          name: TOPIC,
          partitions: partitions.map(([partitionIndex, timestamp, currentLeaderEpoch]) =>
            createListOffsetsRequestListOffsetsPartition({
              partitionIndex,
              timestamp,
              currentLeaderEpoch: currentLeaderEpoch ?? -1,
            }),
          ),
        }),
      ],
    });
  // -3 max timestamp (KIP-734), -4 earliest local (KIP-405), -5 latest tiered (KIP-1005), a timestamp search.
  await c.send(
    ApiKey.ListOffsets,
    11,
    listOffsets([
      [0, -3n],
      [1, -4n],
    ]),
  );
  await c.send(
    ApiKey.ListOffsets,
    11,
    listOffsets([
      [0, -5n],
      [1, 1_700_000_000_000n],
    ]),
  );
  await c.send(
    ApiKey.ListOffsets,
    11,
    listOffsets([
      [0, 1_800_000_000_000n, 7],
      [9, -1n],
    ]),
  );
  await c.send(
    ApiKey.DeleteRecords,
    2,
    createDeleteRecordsRequest({
      timeoutMs: 10_000,
      topics: [
        createDeleteRecordsRequestDeleteRecordsTopic({
          name: TOPIC,
          partitions: [
            createDeleteRecordsRequestDeleteRecordsPartition({ partitionIndex: 0, offset: 100n }),
            createDeleteRecordsRequestDeleteRecordsPartition({ partitionIndex: 1, offset: 1n }),
            createDeleteRecordsRequestDeleteRecordsPartition({ partitionIndex: 9, offset: 0n }),
          ],
        }),
        createDeleteRecordsRequestDeleteRecordsTopic({
          name: `${TOPIC}-missing`,
          partitions: [createDeleteRecordsRequestDeleteRecordsPartition({ partitionIndex: 0, offset: 0n })],
        }),
      ],
    }),
  );

  // --- configs ---
  await c.send(
    ApiKey.DescribeConfigs,
    4,
    createDescribeConfigsRequest({
      resources: [
        createDescribeConfigsRequestDescribeConfigsResource({
          resourceType: 2,
          resourceName: `${TOPIC}-missing`,
          configurationKeys: null,
        }),
        createDescribeConfigsRequestDescribeConfigsResource({
          resourceType: 2,
          resourceName: TOPIC,
          configurationKeys: ["retention.ms", "no.such.config"],
        }),
        createDescribeConfigsRequestDescribeConfigsResource({
          resourceType: 4,
          resourceName: "not-a-number",
          configurationKeys: null,
        }),
      ],
    }),
  );
  const alter = (
    resourceType: number,
    resourceName: string,
    name: string,
    configOperation: number,
    value: string | null,
  ) =>
    createIncrementalAlterConfigsRequestAlterConfigsResource({
      resourceType,
      resourceName,
      configs: [createIncrementalAlterConfigsRequestAlterableConfig({ name, configOperation, value })],
    });
  const alterConfigs = (...resources: ReturnType<typeof alter>[]) =>
    c.send(ApiKey.IncrementalAlterConfigs, 1, createIncrementalAlterConfigsRequest({ resources }));
  await alterConfigs(
    alter(2, TOPIC, "retention.ms", 0, "soon"),
    alter(2, `${TOPIC}-missing`, "retention.ms", 0, "1000"),
    alter(4, "42", "log.retention.ms", 0, "1000"),
  );
  await alterConfigs(alter(2, TOPIC, "no.such.config", 0, "1"));
  await alterConfigs(alter(2, TOPIC, "retention.ms", 2, "1000"));
  // The same resource twice in one request.
  await alterConfigs(alter(2, TOPIC, "retention.ms", 0, "1000"), alter(2, TOPIC, "segment.ms", 0, "1000"));
  await alterConfigs(alter(2, TOPIC, "cleanup.policy", 2, "compact"));

  // --- classic groups ---
  await c.send(ApiKey.FindCoordinator, 6, createFindCoordinatorRequest({ keyType: 0, coordinatorKeys: [GROUP, ""] }));
  const protocols = [
    createJoinGroupRequestJoinGroupRequestProtocol({
      name: "range",
      metadata: Buffer.from([0, 3, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]),
    }),
  ];
  await c.send(
    ApiKey.JoinGroup,
    9,
    createJoinGroupRequest({
      groupId: GROUP,
      sessionTimeoutMs: 1,
      rebalanceTimeoutMs: 10_000,
      memberId: "",
      protocolType: "consumer",
      protocols,
    }),
  );
  await c.send(
    ApiKey.JoinGroup,
    9,
    createJoinGroupRequest({
      groupId: GROUP,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId: "",
      protocolType: "consumer",
      protocols: [],
    }),
  );
  await c.send(
    ApiKey.JoinGroup,
    9,
    createJoinGroupRequest({
      groupId: GROUP,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId: "nobody",
      protocolType: "consumer",
      protocols,
    }),
  );
  await c.send(ApiKey.Heartbeat, 4, createHeartbeatRequest({ groupId: GROUP, generationId: 1, memberId: "nobody" }));
  await c.send(
    ApiKey.SyncGroup,
    5,
    createSyncGroupRequest({
      groupId: GROUP,
      generationId: 1,
      memberId: "nobody",
      protocolType: "consumer",
      protocolName: "range",
      assignments: [],
    }),
  );
  await c.send(
    ApiKey.LeaveGroup,
    5,
    createLeaveGroupRequest({
      groupId: GROUP,
      members: [createLeaveGroupRequestMemberIdentity({ memberId: "nobody" })],
    }),
  );
  // Offsets of a group without members (as an admin or a consumer with assign() commits them), then with a member that is not there.
  const commit = (generationIdOrMemberEpoch: number, memberId: string, partitions: [number, bigint][], id = topicId) =>
    createOffsetCommitRequest({
      groupId: GROUP,
      generationIdOrMemberEpoch,
      memberId,
      topics: [
        createOffsetCommitRequestOffsetCommitRequestTopic({
          name: "",
          topicId: id,
          partitions: partitions.map(([partitionIndex, committedOffset]) =>
            createOffsetCommitRequestOffsetCommitRequestPartition({
              partitionIndex,
              committedOffset,
              committedMetadata: "probe",
            }),
          ),
        }),
      ],
    });
  await c.send(
    ApiKey.OffsetCommit,
    10,
    commit(-1, "", [
      [0, 1n],
      [1, 1n],
      [9, 0n],
    ]),
  );
  await c.send(ApiKey.OffsetCommit, 10, commit(-1, "", [[0, 0n]], UNKNOWN_ID));
  await c.send(ApiKey.OffsetCommit, 10, commit(3, "nobody", [[0, 2n]]));
  await c.send(
    ApiKey.OffsetFetch,
    10,
    createOffsetFetchRequest({
      groups: [
        createOffsetFetchRequestOffsetFetchRequestGroup({
          groupId: GROUP,
          topics: [
            createOffsetFetchRequestOffsetFetchRequestTopics({ name: "", topicId, partitionIndexes: [0, 1, 5] }),
          ],
        }),
        createOffsetFetchRequestOffsetFetchRequestGroup({ groupId: `${GROUP}-missing`, topics: null }),
      ],
    }),
  );
  await c.send(
    ApiKey.DescribeGroups,
    6,
    createDescribeGroupsRequest({ groups: [GROUP, `${GROUP}-missing`], includeAuthorizedOperations: true }),
  );
  await c.send(
    ApiKey.OffsetDelete,
    0,
    createOffsetDeleteRequest({
      groupId: GROUP,
      topics: [
        createOffsetDeleteRequestOffsetDeleteRequestTopic({
          name: TOPIC,
          partitions: [createOffsetDeleteRequestOffsetDeleteRequestPartition({ partitionIndex: 1 })],
        }),
      ],
    }),
  );
  await c.send(
    ApiKey.OffsetDelete,
    0,
    createOffsetDeleteRequest({
      groupId: `${GROUP}-missing`,
      topics: [
        createOffsetDeleteRequestOffsetDeleteRequestTopic({
          name: TOPIC,
          partitions: [createOffsetDeleteRequestOffsetDeleteRequestPartition({ partitionIndex: 0 })],
        }),
      ],
    }),
  );

  // --- KIP-848 ---
  const heartbeat = (init: Parameters<typeof createConsumerGroupHeartbeatRequest>[0]) =>
    createConsumerGroupHeartbeatRequest({
      groupId: `${GROUP}-848`,
      memberId: "k44-errors-member-0000",
      rebalanceTimeoutMs: 10_000,
      topicPartitions: [],
      ...init,
    });
  await c.send(ApiKey.ConsumerGroupHeartbeat, 1, heartbeat({ memberEpoch: 0 }));
  await c.send(ApiKey.ConsumerGroupHeartbeat, 1, heartbeat({ memberEpoch: 0, subscribedTopicRegex: "(unclosed" }));
  await c.send(
    ApiKey.ConsumerGroupHeartbeat,
    1,
    heartbeat({ memberEpoch: 0, subscribedTopicNames: [TOPIC], serverAssignor: "no-such-assignor" }),
  );
  await c.send(ApiKey.ConsumerGroupHeartbeat, 1, heartbeat({ memberEpoch: 5, subscribedTopicNames: [TOPIC] }));
  await c.send(
    ApiKey.ConsumerGroupHeartbeat,
    1,
    heartbeat({ memberId: "", memberEpoch: 0, subscribedTopicNames: [TOPIC] }),
  );
  await c.send(
    ApiKey.ConsumerGroupDescribe,
    1,
    createConsumerGroupDescribeRequest({ groupIds: [`${GROUP}-848`, GROUP], includeAuthorizedOperations: true }),
  );
  await c.send(ApiKey.DeleteGroups, 3, createDeleteGroupsRequest({ groupsNames: [GROUP, `${GROUP}-missing`] }));

  // --- an idempotent producer's epoch bump (KIP-360) with a producer id of its own making ---
  await c.send(
    ApiKey.InitProducerId,
    5,
    createInitProducerIdRequest({
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: 424242n,
      producerEpoch: 0,
    }),
  );

  // --- deletion ---
  await c.send(
    ApiKey.DeleteTopics,
    6,
    createDeleteTopicsRequest({
      timeoutMs: 30_000,
      topics: [
        createDeleteTopicsRequestDeleteTopicState({ name: `${TOPIC}-missing`, topicId: ZERO_UUID }),
        createDeleteTopicsRequestDeleteTopicState({ name: null, topicId: UNKNOWN_ID }),
      ],
    }),
  );
  await c.send(
    ApiKey.DeleteTopics,
    6,
    createDeleteTopicsRequest({
      timeoutMs: 30_000,
      topics: [createDeleteTopicsRequestDeleteTopicState({ name: null, topicId })],
    }),
  );
}
