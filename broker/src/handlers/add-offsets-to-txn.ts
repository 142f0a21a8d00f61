import { ApiKey, createAddOffsetsToTxnResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * AddOffsetsToTxn v0-4 (transactions v1): the group's `__consumer_offsets` partition joins the
 * producer's transaction, before TxnOffsetCommit stages the offsets there. Before v2 (KIP-588) a fenced
 * producer gets INVALID_PRODUCER_EPOCH. As Kafka authorizes: WRITE on the transactional id
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then READ on the group (GROUP_AUTHORIZATION_FAILED).
 */
export const addOffsetsToTxnHandler = defineHandler({
  apiKey: ApiKey.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, ctx) {
    if (!allowed(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId))
      return createAddOffsetsToTxnResponse({ errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED });
    if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return createAddOffsetsToTxnResponse({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
    const code = await ctx.services.transactions.addOffsets(
      request.transactionalId,
      request.producerId,
      request.producerEpoch,
      request.groupId,
    );
    const errorCode =
      ctx.apiVersion < 2 && code === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : code;
    return createAddOffsetsToTxnResponse({ errorCode });
  },
});
