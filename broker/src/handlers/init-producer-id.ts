import { ApiKey, createInitProducerIdResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * InitProducerId v0-5 for idempotent producers (the Java client's default). As in Kafka, a request
 * without a transactional id always gets a new producer id with epoch 0: the id and epoch it carries
 * (v3+) are only checked for consistency (both -1 or neither), since the epoch bump of KIP-360 is for
 * transactional ids; idempotent clients bump their epoch locally. Some clients (@platformatic/kafka)
 * send 0/0 there, so reusing what the request names would hand one id to many producers.
 * Transactions are not served: a transactional id is refused with an authorization error, which
 * clients report at once instead of retrying.
 */
export const initProducerIdHandler = defineHandler({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (request.transactionalId !== null) {
      return createInitProducerIdResponse({
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1n,
        producerEpoch: -1,
      });
    }
    if ((request.producerId === -1n) !== (request.producerEpoch === -1)) {
      return createInitProducerIdResponse({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 });
    }
    const producerId = await ctx.services.producerIds.allocate();
    return createInitProducerIdResponse({ producerId, producerEpoch: 0 });
  },
});
