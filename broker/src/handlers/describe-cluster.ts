import { ApiKey, createDescribeClusterResponse } from "@tskafka/protocol";
import { controllerId, fencedBrokers, liveBrokers } from "../cluster/cluster-view.js";
import { ErrorCode } from "../errors.js";
import { AclOperation, CLUSTER_RESOURCE, ResourceType } from "../security/acl.js";
import { authorizedOperations, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/** EndpointType of DescribeCluster v1: brokers (1) or controllers (2). */
const BROKERS = 1;

/**
 * DescribeCluster v0-2: the live brokers at their address on the request's listener, with their racks,
 * and the controller. A request for the controller endpoints (v1+) is answered as a broker answers it:
 * MISMATCHED_ENDPOINT_TYPE. v2 (KIP-1073) with IncludeFencedBrokers also lists the fenced brokers, as
 * Kafka 4.4 does: those registered once and not live now (stopped, killed and past their session), at
 * their last registration's address, IsFenced. The cluster's authorized operations, when asked for, are 0
 * without DESCRIBE on it, as Kafka answers.
 */
export const describeClusterHandler = defineHandler({
  apiKey: ApiKey.DescribeCluster,
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    if (ctx.apiVersion >= 1 && request.endpointType !== BROKERS) {
      return createDescribeClusterResponse({
        errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE,
        errorMessage:
          "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER",
        endpointType: request.endpointType,
      });
    }
    return createDescribeClusterResponse({
      clusterId: ctx.services.metadata.clusterId,
      controllerId: controllerId(ctx.services),
      brokers: [
        ...liveBrokers(ctx.services, ctx.session?.listener).map((b) => ({ ...b, isFenced: false })),
        ...(ctx.apiVersion >= 2 && request.includeFencedBrokers
          ? fencedBrokers(ctx.services, ctx.session?.listener).map((b) => ({ ...b, isFenced: true }))
          : []),
      ]
        .sort((a, b) => a.nodeId - b.nodeId)
        .map(({ nodeId, ...b }) => ({ brokerId: nodeId, ...b })),
      ...(request.includeClusterAuthorizedOperations
        ? {
            clusterAuthorizedOperations: clusterAllowed(ctx, AclOperation.DESCRIBE)
              ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_RESOURCE)
              : 0,
          }
        : {}),
    });
  },
});
