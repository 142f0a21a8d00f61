import { ApiKey, createFindCoordinatorResponse, type FindCoordinatorResponseCoordinator } from "@tskafka/protocol";
import { liveBrokers } from "../cluster/cluster-view.js";
import { coordinatorNode } from "../cluster/coordinator-partitions.js";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, clusterAllowed } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;
/** From v6: a share-partition, "group:topicId:partition", whose share coordinator a broker looks for. */
const KEY_TYPE_SHARE = 2;

/**
 * FindCoordinator v0-6: the coordinator of a group (key type 0), transactional id (key type 1) or, from v6,
 * share-partition (key type 2, "group:topicId:partition", asked by share-partition leaders) is the leader
 * of the `__consumer_offsets` (`__transaction_state`, `__share_group_state`) partition owning the key; the
 * first lookup creates the topic. A partition without a live leader is COORDINATOR_NOT_AVAILABLE, as in
 * Kafka. From v4 many keys are looked up at once (`coordinatorKeys`). As Kafka authorizes: DESCRIBE on the
 * group (GROUP_AUTHORIZATION_FAILED) or on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
 * CLUSTER_ACTION on the cluster for a share key (CLUSTER_AUTHORIZATION_FAILED); a share key not of three
 * parts with a partition number is INVALID_REQUEST.
 */
export const findCoordinatorHandler = defineHandler({
  apiKey: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, ctx) {
    const keyType = ctx.apiVersion >= 1 ? request.keyType : KEY_TYPE_GROUP;
    if (ctx.apiVersion >= 4) {
      const coordinators: FindCoordinatorResponseCoordinator[] = [];
      for (const key of request.coordinatorKeys) coordinators.push({ key, ...(await lookup(keyType, key, ctx)) });
      return createFindCoordinatorResponse({ coordinators });
    }
    return createFindCoordinatorResponse(await lookup(keyType, request.key, ctx));
  },
});

async function lookup(
  keyType: number,
  key: string,
  ctx: RequestContext,
): Promise<Omit<FindCoordinatorResponseCoordinator, "key">> {
  const unavailable = (errorCode: number, errorMessage: string | null) => ({
    errorCode,
    errorMessage,
    nodeId: -1,
    host: "",
    port: -1,
  });
  const share = keyType === KEY_TYPE_SHARE && ctx.apiVersion >= 6;
  if (keyType !== KEY_TYPE_GROUP && keyType !== KEY_TYPE_TRANSACTION && !share)
    return unavailable(ErrorCode.INVALID_REQUEST, `unknown coordinator key type ${keyType}`);
  if (share && !clusterAllowed(ctx, AclOperation.CLUSTER_ACTION))
    return unavailable(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
  if (share && !/^[^:]*:[^:]+:\d+$/.test(key))
    return unavailable(ErrorCode.INVALID_REQUEST, `Invalid share coordinator key: ${key}`);
  if (keyType === KEY_TYPE_GROUP && !allowed(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key))
    return unavailable(ErrorCode.GROUP_AUTHORIZATION_FAILED, ctx.apiVersion < 4 ? "Group authorization failed." : null);
  if (keyType === KEY_TYPE_TRANSACTION && !allowed(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)) {
    const message = ctx.apiVersion < 4 ? "Transactional Id authorization failed." : null;
    return unavailable(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, message);
  }
  try {
    if (keyType === KEY_TYPE_TRANSACTION) await ctx.services.transactions.ensureStateTopic();
    else if (share) await ctx.services.shareState.ensureStateTopic();
    else await ctx.services.groups.ensureOffsetsTopic();
  } catch (e) {
    return unavailable(ErrorCode.COORDINATOR_NOT_AVAILABLE, (e as Error).message);
  }
  const kind = keyType === KEY_TYPE_TRANSACTION ? "transaction" : share ? "share" : "group";
  const leader = coordinatorNode(kind, key, ctx.services.metadata, ctx.services.config);
  const node = liveBrokers(ctx.services, ctx.session?.listener).find((b) => b.nodeId === leader);
  if (node === undefined)
    return unavailable(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      ctx.apiVersion < 4 ? "The coordinator is not available." : "",
    );
  return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: node.nodeId, host: node.host, port: node.port };
}
