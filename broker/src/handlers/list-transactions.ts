import { ApiKey, createListTransactionsResponse } from "@tskafka/protocol";
import { defineHandler } from "./handler.js";

/**
 * ListTransactions v0-2 (KIP-664, `kafka-transactions.sh list` and `find-hanging`): the transactional ids
 * that pass every filter given: states (a name Kafka does not have is listed in unknownStateFilters),
 * producer ids, from v1 the duration (KIP-994: running longer than it), from v2 a regular expression the
 * whole id must match (KIP-1152, RE2/J; one that does not compile is INVALID_REGULAR_EXPRESSION).
 */
export const listTransactionsHandler = defineHandler({
  apiKey: ApiKey.ListTransactions,
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    const listed = ctx.services.transactions.list({
      stateFilters: request.stateFilters,
      producerIdFilters: request.producerIdFilters,
      durationFilter: ctx.apiVersion >= 1 ? request.durationFilter : -1n,
      transactionalIdPattern: ctx.apiVersion >= 2 ? request.transactionalIdPattern : null,
    });
    return createListTransactionsResponse(listed);
  },
});
