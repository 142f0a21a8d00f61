import { ApiKey, createInitProducerIdResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, clusterAllowed } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

/**
 * InitProducerId v0-5. Without a transactional id (idempotent producers, the Java client's default) it
 * always gets a new producer id with epoch 0, as in Kafka: the id and epoch it carries (v3+) are only
 * checked for consistency (both -1 or neither), since the epoch bump of KIP-360 is for transactional
 * ids; idempotent clients bump their epoch locally. Some clients (@platformatic/kafka) send 0/0 there,
 * so reusing what the request names would hand one id to many producers.
 * With a transactional id the transaction coordinator answers (txn/coordinator.ts): a new or bumped
 * epoch, KIP-360's recovery with the producer's id and epoch, INVALID_TRANSACTION_TIMEOUT. Before v4
 * (KIP-588) a fenced producer gets INVALID_PRODUCER_EPOCH instead of PRODUCER_FENCED, as Kafka answers
 * the clients that do not know the newer code. As Kafka authorizes (before anything else): WRITE on the
 * transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); without one, IDEMPOTENT_WRITE on the cluster
 * or WRITE on some topic (CLUSTER_AUTHORIZATION_FAILED).
 */
export const initProducerIdHandler = defineHandler({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const refused = authorizationError(ctx, request.transactionalId);
    if (refused !== ErrorCode.NONE)
      return createInitProducerIdResponse({ errorCode: refused, producerId: -1n, producerEpoch: -1 });
    if ((request.producerId === -1n) !== (request.producerEpoch === -1)) {
      return createInitProducerIdResponse({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 });
    }
    if (request.transactionalId !== null) {
      const expected =
        request.producerId === -1n ? null : { producerId: request.producerId, producerEpoch: request.producerEpoch };
      const r = await ctx.services.transactions.initProducerId(
        request.transactionalId,
        request.transactionTimeoutMs,
        expected,
      );
      const errorCode =
        ctx.apiVersion < 4 && r.errorCode === ErrorCode.PRODUCER_FENCED
          ? ErrorCode.INVALID_PRODUCER_EPOCH
          : r.errorCode;
      return createInitProducerIdResponse({ errorCode, producerId: r.producerId, producerEpoch: r.producerEpoch });
    }
    const producerId = await ctx.services.producerIds.allocate();
    return createInitProducerIdResponse({ producerId, producerEpoch: 0 });
  },
});

function authorizationError(ctx: RequestContext, transactionalId: string | null): number {
  if (transactionalId !== null) {
    return allowed(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)
      ? ErrorCode.NONE
      : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  }
  const authorizer = ctx.services.authorizer;
  const idempotent =
    clusterAllowed(ctx, AclOperation.IDEMPOTENT_WRITE, false) ||
    authorizer.authorizeByResourceType(ctx.session, AclOperation.WRITE, ResourceType.TOPIC);
  return idempotent ? ErrorCode.NONE : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
}
