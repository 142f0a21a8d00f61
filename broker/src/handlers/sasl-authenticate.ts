import { ApiKey, createSaslAuthenticateResponse } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { SaslAuthenticationError } from "../security/sasl-mechanism.js";
import { defineHandler } from "./handler.js";

/**
 * SaslAuthenticate v0-2: one SASL token of the mechanism chosen by SaslHandshake v1, answered with the
 * mechanism's challenge; the last one (v1+) with the session's lifetime (KIP-368: the client must
 * re-authenticate before it ends; 0 when it does not end). A failure is
 * SASL_AUTHENTICATION_FAILED with its message, answered after connection.failed.authentication.delay.ms
 * and then the connection is closed (a re-authentication with another mechanism gets no answer at all,
 * as in Kafka). Once authenticated, another one is
 * SASL_AUTHENTICATION_FAILED and the connection goes on, as in Kafka.
 */
export const saslAuthenticateHandler = defineHandler({
  apiKey: ApiKey.SaslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const session = ctx.session;
    if (session.authenticated) {
      return createSaslAuthenticateResponse({
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: "SaslAuthenticate request received after successful authentication",
      });
    }
    if (session.refuseBadMechanism()) return null;
    try {
      const challenge = await session.authenticate(request.authBytes);
      if (!session.authenticated)
        return createSaslAuthenticateResponse({ errorCode: ErrorCode.NONE, authBytes: challenge });
      ctx.services.log.info(session.authenticatedLine(ctx.remote));
      return createSaslAuthenticateResponse({
        errorCode: ErrorCode.NONE,
        authBytes: challenge,
        sessionLifetimeMs: BigInt(session.sessionLifetimeMs),
      });
    } catch (e) {
      const message = e instanceof SaslAuthenticationError ? e.message : "Authentication failed";
      if (!(e instanceof SaslAuthenticationError))
        ctx.services.log.error(`SASL from ${ctx.remote} failed: ${(e as Error).stack ?? String(e)}`);
      // As Kafka (KIP-306): the failure is answered only after the delay, which slows password guessing;
      // the connection is closed right after the answer.
      await new Promise((r) => setTimeout(r, ctx.services.config.props["connection.failed.authentication.delay.ms"]));
      session.delayClose = false;
      return createSaslAuthenticateResponse({ errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: message });
    }
  },
});
