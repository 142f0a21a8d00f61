import { ApiKey, createAddOffsetsToTxnResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * AddOffsetsToTxn v0-4 (transactions v1): the group's `__consumer_offsets` partition joins the
 * producer's transaction, before TxnOffsetCommit stages the offsets there. Before v2 (KIP-588) a fenced
 * producer gets INVALID_PRODUCER_EPOCH.
 */
export const addOffsetsToTxnHandler = defineHandler({
  apiKey: ApiKey.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, ctx) {
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
