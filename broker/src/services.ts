import type { ApiVersionsResponse } from "@tskafka/protocol";
import type { ElectionService } from "./cluster/controller.js";
import type { FetchSessionCache } from "./cluster/fetch-sessions.js";
import type { FetchWaiters } from "./cluster/fetch-waiters.js";
import type { Leadership } from "./cluster/leadership.js";
import type { ClusterMetadata } from "./cluster/metadata.js";
import type { PartitionLogs } from "./cluster/partition-logs.js";
import type { ProducerIds } from "./cluster/producer-ids.js";
import type { ReassignmentService } from "./cluster/reassignments.js";
import type { TopicAdmin } from "./cluster/topic-admin.js";
import type { BrokerConfig } from "./config.js";
import type { GroupService } from "./group/coordinator.js";
import type { Logger } from "./logger.js";
import type { ClientQuotas } from "./quota/client-quotas.js";
import type { Replication } from "./replication/replication.js";
import type { Authorizer } from "./security/authorizer.js";
import type { ShareService } from "./share/coordinator.js";
import type { ShareStateCoordinator } from "./share/state-coordinator.js";
import type { TransactionService } from "./txn/coordinator.js";

/**
 * What handlers may use: each service answers one kind of question, none of them is the broker itself
 * (handlers cannot start, stop or rewire it).
 */
export interface Services {
  /** The config in force: server.properties and flags with the dynamic broker configs over them. */
  readonly config: BrokerConfig;
  readonly log: Logger;
  /** Cluster state: the cluster id, topics, dynamic broker configs, features. */
  readonly metadata: ClusterMetadata;
  /** Creating, deleting and growing topics with their logs. */
  readonly topics: TopicAdmin;
  readonly partitions: PartitionLogs;
  /** This broker's role in each partition (leader, follower, none) and the changes of it. */
  readonly leadership: Leadership;
  /** Leader elections on request (ElectLeaders), as the controller makes them. */
  readonly controller: ElectionService;
  /** Partition reassignments between brokers (AlterPartitionReassignments, ListPartitionReassignments). */
  readonly reassignments: ReassignmentService;
  /** Who leads each partition at which epoch, whether a read or write may be taken here, acks=all. */
  readonly replication: Replication;
  readonly groups: GroupService;
  /** Share groups (KIP-932): membership, share sessions and share-partition state. */
  readonly shareGroups: ShareService;
  /** The share coordinator: the persisted state of the share-partitions whose `__share_group_state` partition is led here. */
  readonly shareState: Pick<
    ShareStateCoordinator,
    "initialize" | "read" | "write" | "delete" | "summary" | "ensureStateTopic"
  >;
  /** The transaction coordinator: transactional ids, their transactions and markers. */
  readonly transactions: TransactionService;
  /** Whether a session may do an operation on a resource (allows everything when none is configured). */
  readonly authorizer: Authorizer;
  /** The client quotas in force (produce, fetch and request rates), for throttling. */
  readonly quotas: ClientQuotas;
  readonly fetchWaiters: FetchWaiters;
  readonly fetchSessions: FetchSessionCache;
  readonly producerIds: ProducerIds;
  /** The ApiVersions answer, built once from the handler registry. */
  apiVersionsResponse(): ApiVersionsResponse;
}
