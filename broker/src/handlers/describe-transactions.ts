import { ApiKey, createDescribeTransactionsResponse } from "@tskafka/protocol";
import { defineHandler } from "./handler.js";

/**
 * DescribeTransactions v0 (KIP-664, `kafka-transactions.sh describe`): per transactional id its state,
 * producer id and epoch, timeout, start time and partitions; TRANSACTIONAL_ID_NOT_FOUND for an id the
 * coordinator does not know, INVALID_REQUEST for "".
 */
export const describeTransactionsHandler = defineHandler({
  apiKey: ApiKey.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    return createDescribeTransactionsResponse({
      transactionStates: request.transactionalIds.map((id) => ctx.services.transactions.describe(id)),
    });
  },
});
