import { ApiKey, createDescribeClusterResponse } from "@tskafka/protocol";
import { controllerId, liveBrokers } from "../cluster/cluster-view.js";
import { ErrorCode } from "../errors.js";
import { AclOperation, CLUSTER_RESOURCE, ResourceType } from "../security/acl.js";
import { authorizedOperations, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/** EndpointType of DescribeCluster v1: brokers (1) or controllers (2). */
const BROKERS = 1;

/**
 * DescribeCluster v0-2: the live brokers at their address on the request's listener, with their racks,
 * and the controller. A request for the controller
 * endpoints (v1+) is answered as a broker answers it: MISMATCHED_ENDPOINT_TYPE. v2 (KIP-1073) can ask
 * for fenced brokers too; a broker whose registration is gone is not listed (it has left the cluster). The cluster's authorized operations, when asked for,
 * are 0 without DESCRIBE on it, as Kafka answers.
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
      brokers: liveBrokers(ctx.services, ctx.session?.listener).map(({ nodeId, ...b }) => ({
        brokerId: nodeId,
        ...b,
        isFenced: false,
      })),
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
