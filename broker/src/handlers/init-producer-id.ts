import { ApiKey, createInitProducerIdResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * InitProducerId v0-5 for idempotent producers (the Java client's default). A producer that
 * re-initialises with its id and epoch (KIP-360, v3+) gets the same id with the epoch bumped.
 * Transactions are not served: a transactional id is refused with an authorization error, which
 * clients report at once instead of retrying.
 */
export const initProducerIdHandler = defineHandler({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (request.transactionalId !== null) {
      return createInitProducerIdResponse({ errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 });
    }
    if (request.producerId >= 0n && request.producerEpoch >= 0 && request.producerEpoch < 32767) {
      return createInitProducerIdResponse({ producerId: request.producerId, producerEpoch: request.producerEpoch + 1 });
    }
    const producerId = await ctx.broker.producerIds.allocate();
    return createInitProducerIdResponse({ producerId, producerEpoch: 0 });
  },
});
