import type { Handler } from "./handler.js";
import { apiVersionsHandler } from "./api-versions.js";
import { metadataHandler } from "./metadata.js";
import { produceHandler } from "./produce.js";
import { fetchHandler } from "./fetch.js";
import { listOffsetsHandler } from "./list-offsets.js";
import { initProducerIdHandler } from "./init-producer-id.js";
import { createTopicsHandler } from "./create-topics.js";
import { deleteTopicsHandler } from "./delete-topics.js";
import { createPartitionsHandler } from "./create-partitions.js";
import { describeConfigsHandler } from "./describe-configs.js";
import { alterConfigsHandler } from "./alter-configs.js";
import { incrementalAlterConfigsHandler } from "./incremental-alter-configs.js";
import { describeClusterHandler } from "./describe-cluster.js";
import { deleteRecordsHandler } from "./delete-records.js";
import { describeTopicPartitionsHandler } from "./describe-topic-partitions.js";
import { describeLogDirsHandler } from "./describe-log-dirs.js";
import { alterReplicaLogDirsHandler } from "./alter-replica-log-dirs.js";
import { alterPartitionReassignmentsHandler } from "./alter-partition-reassignments.js";
import { electLeadersHandler } from "./elect-leaders.js";
import { listPartitionReassignmentsHandler } from "./list-partition-reassignments.js";
import { findCoordinatorHandler } from "./find-coordinator.js";
import { joinGroupHandler } from "./join-group.js";
import { syncGroupHandler } from "./sync-group.js";
import { heartbeatHandler } from "./heartbeat.js";
import { leaveGroupHandler } from "./leave-group.js";
import { offsetCommitHandler } from "./offset-commit.js";
import { offsetFetchHandler } from "./offset-fetch.js";
import { txnOffsetCommitHandler } from "./txn-offset-commit.js";
import { describeGroupsHandler } from "./describe-groups.js";
import { listGroupsHandler } from "./list-groups.js";
import { deleteGroupsHandler } from "./delete-groups.js";
import { offsetDeleteHandler } from "./offset-delete.js";
import { consumerGroupHeartbeatHandler } from "./consumer-group-heartbeat.js";
import { consumerGroupDescribeHandler } from "./consumer-group-describe.js";
import { updateFeaturesHandler } from "./update-features.js";
import { listConfigResourcesHandler } from "./list-config-resources.js";
import { addPartitionsToTxnHandler } from "./add-partitions-to-txn.js";
import { addOffsetsToTxnHandler } from "./add-offsets-to-txn.js";
import { endTxnHandler } from "./end-txn.js";
import { writeTxnMarkersHandler } from "./write-txn-markers.js";
import { describeTransactionsHandler } from "./describe-transactions.js";
import { listTransactionsHandler } from "./list-transactions.js";
import { describeProducersHandler } from "./describe-producers.js";
import { describeUserScramCredentialsHandler } from "./describe-user-scram-credentials.js";
import { alterUserScramCredentialsHandler } from "./alter-user-scram-credentials.js";
import { describeClientQuotasHandler } from "./describe-client-quotas.js";
import { alterClientQuotasHandler } from "./alter-client-quotas.js";
import { createAclsHandler } from "./create-acls.js";
import { describeAclsHandler } from "./describe-acls.js";
import { deleteAclsHandler } from "./delete-acls.js";
import { saslHandshakeHandler } from "./sasl-handshake.js";
import { saslAuthenticateHandler } from "./sasl-authenticate.js";
import { shareGroupHeartbeatHandler } from "./share-group-heartbeat.js";
import { shareGroupDescribeHandler } from "./share-group-describe.js";
import { shareFetchHandler } from "./share-fetch.js";
import { shareAcknowledgeHandler } from "./share-acknowledge.js";
import { describeShareGroupOffsetsHandler } from "./describe-share-group-offsets.js";
import { alterShareGroupOffsetsHandler } from "./alter-share-group-offsets.js";
import { deleteShareGroupOffsetsHandler } from "./delete-share-group-offsets.js";
import { initializeShareGroupStateHandler } from "./initialize-share-group-state.js";
import { readShareGroupStateHandler } from "./read-share-group-state.js";
import { writeShareGroupStateHandler } from "./write-share-group-state.js";
import { deleteShareGroupStateHandler } from "./delete-share-group-state.js";
import { readShareGroupStateSummaryHandler } from "./read-share-group-state-summary.js";
import { offsetForLeaderEpochHandler } from "./offset-for-leader-epoch.js";
import { streamsGroupHeartbeatHandler } from "./streams-group-heartbeat.js";
import { streamsGroupDescribeHandler } from "./streams-group-describe.js";

/** Every API this broker serves; ApiVersions advertises exactly these. */
export const HANDLERS: readonly Handler[] = [
  apiVersionsHandler,
  metadataHandler,
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  initProducerIdHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  createPartitionsHandler,
  describeConfigsHandler,
  alterConfigsHandler,
  incrementalAlterConfigsHandler,
  describeClusterHandler,
  deleteRecordsHandler,
  describeTopicPartitionsHandler,
  describeLogDirsHandler,
  alterReplicaLogDirsHandler,
  alterPartitionReassignmentsHandler,
  electLeadersHandler,
  listPartitionReassignmentsHandler,
  findCoordinatorHandler,
  joinGroupHandler,
  syncGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  txnOffsetCommitHandler,
  describeGroupsHandler,
  listGroupsHandler,
  deleteGroupsHandler,
  offsetDeleteHandler,
  consumerGroupHeartbeatHandler,
  consumerGroupDescribeHandler,
  updateFeaturesHandler,
  listConfigResourcesHandler,
  addPartitionsToTxnHandler,
  addOffsetsToTxnHandler,
  endTxnHandler,
  writeTxnMarkersHandler,
  describeTransactionsHandler,
  listTransactionsHandler,
  describeProducersHandler,
  describeUserScramCredentialsHandler,
  alterUserScramCredentialsHandler,
  describeClientQuotasHandler,
  alterClientQuotasHandler,
  describeAclsHandler,
  createAclsHandler,
  deleteAclsHandler,
  saslHandshakeHandler,
  saslAuthenticateHandler,
  shareGroupHeartbeatHandler,
  shareGroupDescribeHandler,
  shareFetchHandler,
  shareAcknowledgeHandler,
  describeShareGroupOffsetsHandler,
  alterShareGroupOffsetsHandler,
  deleteShareGroupOffsetsHandler,
  initializeShareGroupStateHandler,
  readShareGroupStateHandler,
  writeShareGroupStateHandler,
  deleteShareGroupStateHandler,
  readShareGroupStateSummaryHandler,
  offsetForLeaderEpochHandler,
  streamsGroupHeartbeatHandler,
  streamsGroupDescribeHandler,
];
