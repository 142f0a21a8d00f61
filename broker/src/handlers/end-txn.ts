import { ApiKey, createEndTxnResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * EndTxn v0-5: commit or abort the producer's transaction. The answer comes once PrepareCommit or
 * PrepareAbort is written to `__transaction_state`; the markers follow. v5 is transactions v2 (KIP-890):
 * every end bumps the producer epoch and the answer carries the producer id and epoch to go on with.
 * Before v2 (KIP-588) a fenced producer gets INVALID_PRODUCER_EPOCH. As Kafka 4.4, v5 is
 * UNSUPPORTED_VERSION while the cluster finalizes transaction.version 0. WRITE on the transactional id
 * is needed (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), as Kafka checks.
 */
export const endTxnHandler = defineHandler({
  apiKey: ApiKey.EndTxn,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (!allowed(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId))
      return createEndTxnResponse({ errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED });
    if (ctx.apiVersion >= 5 && ctx.services.transactions.transactionVersion() === 0)
      return createEndTxnResponse({ errorCode: ErrorCode.UNSUPPORTED_VERSION });
    const r = await ctx.services.transactions.endTxn(
      request.transactionalId,
      request.producerId,
      request.producerEpoch,
      request.committed,
      ctx.apiVersion > 4 ? 2 : 0,
    );
    const errorCode =
      ctx.apiVersion < 2 && r.errorCode === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : r.errorCode;
    return createEndTxnResponse({ errorCode, producerId: r.producerId, producerEpoch: r.producerEpoch });
  },
});
