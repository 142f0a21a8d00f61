import { ApiKey } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { defineHandler } from "./handler.js";

/**
 * SaslHandshake v0-1: picks the SASL mechanism of a connection on a SASL listener and answers the
 * enabled ones. After v0 the client sends bare SASL tokens (the connection reads them); after v1 it
 * sends SaslAuthenticate requests. A mechanism that is not enabled is UNSUPPORTED_SASL_MECHANISM and
 * the connection is closed; a handshake where none is expected (not a SASL listener, or already
 * authenticated) is ILLEGAL_SASL_STATE, as Kafka answers it.
 */
export const saslHandshakeHandler = defineHandler({
  apiKey: ApiKey.SaslHandshake,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const session = ctx.session;
    const mechanisms = [...session.runtime.mechanisms];
    if (!session.usesSasl || session.state !== "handshake")
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    if (!session.startSasl(request.mechanism, ctx.apiVersion)) {
      session.closeReason = `SASL mechanism ${request.mechanism} is not enabled on listener ${session.listener}`;
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    }
    return { errorCode: ErrorCode.NONE, mechanisms };
  },
});
