import {
  ApiKey,
  createDescribeTransactionsResponse,
  createDescribeTransactionsResponseTransactionState,
} from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import { allowed, allowedNames } from "./authz.js";
import { defineHandler, type RequestContext } from "./handler.js";

/**
 * DescribeTransactions v0 (KIP-664, `kafka-transactions.sh describe`): per transactional id its state,
 * producer id and epoch, timeout, start time and partitions; TRANSACTIONAL_ID_NOT_FOUND for an id the
 * coordinator does not know, INVALID_REQUEST for "". As Kafka authorizes: an id the session may not
 * DESCRIBE is TRANSACTIONAL_ID_AUTHORIZATION_FAILED; only the topics it may DESCRIBE are listed.
 */
export const describeTransactionsHandler = defineHandler({
  apiKey: ApiKey.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    return createDescribeTransactionsResponse({
      transactionStates: request.transactionalIds.map((id) => describe(ctx, id)),
    });
  },
});

function describe(ctx: RequestContext, transactionalId: string) {
  if (!allowed(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactionalId)) {
    const errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    return createDescribeTransactionsResponseTransactionState({ transactionalId, errorCode });
  }
  const state = ctx.services.transactions.describe(transactionalId);
  if (!ctx.services.authorizer.enabled) return state;
  const describable = allowedNames(ctx, AclOperation.DESCRIBE);
  return { ...state, topics: state.topics.filter((t) => describable(t.topic)) };
}
