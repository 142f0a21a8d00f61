import { ApiKey, createListTransactionsResponse } from "@tskafka/protocol";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowedNames } from "./authz.js";
import { defineHandler } from "./handler.js";

/**
 * ListTransactions v0-2 (KIP-664, `kafka-transactions.sh list` and `find-hanging`): the transactional ids
 * that pass every filter given: states (a name Kafka does not have is listed in unknownStateFilters),
 * producer ids, from v1 the duration (KIP-994: running longer than it), from v2 a regular expression the
 * whole id must match (KIP-1152, RE2/J; one that does not compile is INVALID_REGULAR_EXPRESSION). Only
 * the ids the session may DESCRIBE are listed, as Kafka filters them.
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
    const describable = allowedNames(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID);
    const transactionStates = listed.transactionStates.filter((t) => describable(t.transactionalId));
    return createListTransactionsResponse({ ...listed, transactionStates });
  },
});
