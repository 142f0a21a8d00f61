/**
 * The server side of one SASL mechanism for one connection (RFC 4422): it gets the client's tokens in
 * turn and answers each with a challenge until it completes with an authenticated user, or throws
 * `SaslAuthenticationError` (answered SASL_AUTHENTICATION_FAILED, then the connection is closed).
 */
export interface SaslMechanismServer {
  readonly mechanism: string;
  /** One step: the client's token in, the server's challenge out (empty when there is none). */
  evaluate(token: Buffer): Promise<SaslStep>;
}

export interface SaslStep {
  readonly challenge: Buffer;
  /** Set on the last step: the authenticated user name (the principal is `User:<name>`). */
  readonly authenticatedUser?: string;
  /** Set with it when the credential expires (an OAUTHBEARER token): the session ends then at the latest. */
  readonly credentialExpiresAtMs?: number;
}

export class SaslAuthenticationError extends Error {
  /** `message` goes to the client; `detail`, when given, is what the broker logs instead (the real reason). */
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** A SCRAM credential as Kafka stores it (RFC 5802): never the password itself. */
export interface ScramCredential {
  readonly mechanism: "SCRAM-SHA-256" | "SCRAM-SHA-512";
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}
