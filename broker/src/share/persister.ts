import {
  ApiKey,
  createDeleteShareGroupStateRequest,
  createInitializeShareGroupStateRequest,
  createReadShareGroupStateRequest,
  createReadShareGroupStateSummaryRequest,
  createWriteShareGroupStateRequest,
} from "@tskafka/protocol";
import { coordinatorNode } from "../cluster/coordinator-partitions.js";
import type { InterBrokerClients } from "../cluster/inter-broker.js";
import { NO_LEADER, type ClusterMetadata } from "../cluster/metadata.js";
import type { BrokerConfig } from "../config.js";
import { ErrorCode } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Answer, PersistedState, ShareStateCoordinator, StateError, StateSummary } from "./state-coordinator.js";
import { stateBatchFromWire, stateBatchToWire, type ShareStateKey } from "./state-records.js";

/**
 * The share-partition leader's way to its share coordinator (Kafka's DefaultStatePersister): each
 * share-partition's key ("group:topicId:partition") names a `__share_group_state` partition, whose leader
 * is the coordinator (what FindCoordinator with key type 2 answers). That is this broker's own
 * coordinator, called directly, or another broker's, asked over the inter-broker connection. A coordinator
 * that moved, is loading, or cannot be reached is asked again (NOT_COORDINATOR,
 * COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, a lost connection) until `PERSISTER_RETRY_MS`.
 */

export interface SharePersister {
  initialize(key: ShareStateKey, stateEpoch: number, startOffset: number): Promise<StateError>;
  read(key: ShareStateKey, leaderEpoch: number): Promise<Answer<PersistedState>>;
  write(key: ShareStateKey, state: PersistedState): Promise<StateError>;
  delete(key: ShareStateKey): Promise<StateError>;
  summary(key: ShareStateKey): Promise<Answer<StateSummary>>;
}

export interface PersisterHost {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metadata: Pick<ClusterMetadata, "topic" | "partitionStates">;
  readonly interBroker: Pick<InterBrokerClients, "send">;
}

/** How long an operation is tried again while its coordinator moves or loads. */
const PERSISTER_RETRY_MS = 30_000;
const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;

const RETRIABLE: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.REQUEST_TIMED_OUT,
]);

const unavailable = (e: unknown): StateError => ({
  errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
  errorMessage: (e as Error).message,
});

const UNANSWERED: StateError = {
  errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
  errorMessage: "no answer for the partition",
};

export class CoordinatorPersister implements SharePersister {
  constructor(
    private readonly host: PersisterHost,
    private readonly local: ShareStateCoordinator,
  ) {}

  initialize(key: ShareStateKey, stateEpoch: number, startOffset: number): Promise<StateError> {
    return this.retried(
      key,
      () => this.local.initialize(key, stateEpoch, startOffset),
      async (node) => {
        const res = await this.host.interBroker.send(
          node,
          ApiKey.InitializeShareGroupState,
          0,
          createInitializeShareGroupStateRequest({
            groupId: key.groupId,
            topics: [
              {
                topicId: key.topicId,
                partitions: [{ partition: key.partition, stateEpoch, startOffset: BigInt(startOffset) }],
              },
            ],
          }),
        );
        return res.results[0]?.partitions[0] ?? UNANSWERED;
      },
    );
  }

  read(key: ShareStateKey, leaderEpoch: number): Promise<Answer<PersistedState>> {
    return this.retried<Answer<PersistedState>>(
      key,
      () => this.local.read(key, leaderEpoch),
      async (node) => {
        const res = await this.host.interBroker.send(
          node,
          ApiKey.ReadShareGroupState,
          0,
          createReadShareGroupStateRequest({
            groupId: key.groupId,
            topics: [{ topicId: key.topicId, partitions: [{ partition: key.partition, leaderEpoch }] }],
          }),
        );
        const p = res.results[0]?.partitions[0];
        if (p === undefined) return UNANSWERED;
        if (p.errorCode !== ErrorCode.NONE) return { errorCode: p.errorCode, errorMessage: p.errorMessage };
        return {
          errorCode: 0,
          errorMessage: null,
          stateEpoch: p.stateEpoch,
          leaderEpoch,
          startOffset: Number(p.startOffset),
          batches: p.stateBatches.map(stateBatchFromWire),
        };
      },
    );
  }

  write(key: ShareStateKey, s: PersistedState): Promise<StateError> {
    return this.retried(
      key,
      () => this.local.write(key, s),
      async (node) => {
        const res = await this.host.interBroker.send(
          node,
          ApiKey.WriteShareGroupState,
          0,
          createWriteShareGroupStateRequest({
            groupId: key.groupId,
            topics: [
              {
                topicId: key.topicId,
                partitions: [
                  {
                    partition: key.partition,
                    stateEpoch: s.stateEpoch,
                    leaderEpoch: s.leaderEpoch,
                    startOffset: BigInt(s.startOffset),
                    deliveryCompleteCount: s.deliveryComplete ?? -1,
                    stateBatches: s.batches.map(stateBatchToWire),
                  },
                ],
              },
            ],
          }),
        );
        return res.results[0]?.partitions[0] ?? UNANSWERED;
      },
    );
  }

  delete(key: ShareStateKey): Promise<StateError> {
    return this.retried(
      key,
      () => this.local.delete(key),
      async (node) => {
        const res = await this.host.interBroker.send(
          node,
          ApiKey.DeleteShareGroupState,
          0,
          createDeleteShareGroupStateRequest({
            groupId: key.groupId,
            topics: [{ topicId: key.topicId, partitions: [{ partition: key.partition }] }],
          }),
        );
        return res.results[0]?.partitions[0] ?? UNANSWERED;
      },
    );
  }

  summary(key: ShareStateKey): Promise<Answer<StateSummary>> {
    return this.retried<Answer<StateSummary>>(
      key,
      () => Promise.resolve(this.local.summary(key)),
      async (node) => {
        const res = await this.host.interBroker.send(
          node,
          ApiKey.ReadShareGroupStateSummary,
          1,
          createReadShareGroupStateSummaryRequest({
            groupId: key.groupId,
            topics: [{ topicId: key.topicId, partitions: [{ partition: key.partition, leaderEpoch: 0 }] }],
          }),
        );
        const p = res.results[0]?.partitions[0];
        if (p === undefined) return UNANSWERED;
        if (p.errorCode !== ErrorCode.NONE) return { errorCode: p.errorCode, errorMessage: p.errorMessage };
        return {
          errorCode: 0,
          errorMessage: null,
          stateEpoch: p.stateEpoch,
          leaderEpoch: p.leaderEpoch,
          startOffset: Number(p.startOffset),
          deliveryComplete: p.deliveryCompleteCount,
        };
      },
    );
  }

  /** The coordinator of `key`: this node's own, another broker, or none now. */
  private coordinator(key: ShareStateKey): number {
    const k = `${key.groupId}:${key.topicId}:${key.partition}`;
    return coordinatorNode("share", k, this.host.metadata, this.host.config);
  }

  private async retried<T extends StateError>(
    key: ShareStateKey,
    local: () => Promise<T>,
    remote: (node: number) => Promise<T | StateError>,
  ): Promise<T | StateError> {
    const deadline = Date.now() + PERSISTER_RETRY_MS;
    let backoff = FIRST_BACKOFF_MS;
    for (;;) {
      if (this.host.metadata.topic("__share_group_state") === undefined) await this.local.ensureStateTopic();
      const node = this.coordinator(key);
      let answer: T | StateError;
      if (node === NO_LEADER) answer = { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null };
      else if (node === this.host.config.nodeId) answer = await local();
      else answer = await remote(node).catch(unavailable);
      if (!RETRIABLE.has(answer.errorCode) || Date.now() + backoff > deadline) return answer;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
}
