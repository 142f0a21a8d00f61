import type { SecurityProtocol } from "../config-listeners.js";
import { SaslAuthenticationError, type SaslMechanismServer, type SaslStep } from "../security/sasl-mechanism.js";
import type { RequestPrincipal } from "../security/authorizer.js";
import type { ListenerRuntime } from "./listener.js";

export const ANONYMOUS = "User:ANONYMOUS";

/** KIP-368: a client may start re-authenticating at most once a second. */
const MIN_REAUTH_INTERVAL_MS = 1000;

/**
 * How long a session lasts (KIP-368, as Kafka computes it): the credential's remaining lifetime (an
 * OAUTHBEARER token's), connections.max.reauth.ms when it is set, the shorter of both; undefined when
 * neither limits it.
 */
export function sessionLifetimeMs(
  credentialExpiresAtMs: number | undefined,
  reauthMs: number,
  now: number,
): number | undefined {
  if (credentialExpiresAtMs === undefined && reauthMs <= 0) return undefined;
  const credentialLeft = credentialExpiresAtMs === undefined ? Infinity : credentialExpiresAtMs - now;
  return Math.max(0, Math.min(credentialLeft, reauthMs > 0 ? reauthMs : Infinity));
}

/** Where a connection's SASL exchange is. */
export type SaslState = "none" | "handshake" | "authenticating" | "done" | "failed";

/**
 * The security state of one connection (`ctx.session`): its listener and protocol, the principal and
 * whether it is authenticated. On a SASL listener it starts unauthenticated and the SaslHandshake and
 * SaslAuthenticate handlers move it along; elsewhere it is authenticated from the start (a TLS client
 * certificate, when verified, gives the principal).
 */
export class Session implements RequestPrincipal {
  readonly listener: string;
  /** The client's IP address (an IPv4 one without the ::ffff: prefix), as ACL hosts name it. */
  readonly host: string;
  readonly securityProtocol: SecurityProtocol;
  private principalName: string;
  private saslState: SaslState;
  private mechanismServer: SaslMechanismServer | undefined = undefined;
  /** SaslHandshake v0: the following frames are bare SASL tokens, not requests. */
  private rawTokens = false;
  /** The reason the connection is to be closed after the response in hand, if it is. */
  closeReason: string | undefined = undefined;
  /** The close is an authentication failure: it waits connection.failed.authentication.delay.ms. */
  delayClose = false;
  /** The mechanism of the last completed authentication. */
  private mechanismName: string | undefined = undefined;
  /** When the session ends unless the client re-authenticates (ms since the epoch); undefined: never. */
  private expiresAt: number | undefined = undefined;
  private lifetime = 0;
  private lastReauthStart = 0;
  /** While re-authenticating: who the connection was, whom it must stay. */
  private reauth: { readonly principal: string; readonly mechanism: string } | undefined = undefined;
  /** Why a re-authentication with another mechanism fails (as Kafka, at the first token). */
  private badMechanism: string | undefined = undefined;
  /** The last completed authentication was a re-authentication. */
  reauthenticated = false;

  constructor(
    readonly runtime: ListenerRuntime,
    tlsPrincipal: string | undefined,
    remoteAddress = "",
  ) {
    this.host = remoteAddress.startsWith("::ffff:") ? remoteAddress.slice(7) : remoteAddress;
    this.listener = runtime.config.name;
    this.securityProtocol = runtime.config.protocol;
    this.principalName = tlsPrincipal === undefined ? ANONYMOUS : `User:${tlsPrincipal}`;
    this.saslState = this.usesSasl ? "handshake" : "none";
  }

  get usesSasl(): boolean {
    return this.securityProtocol === "SASL_PLAINTEXT" || this.securityProtocol === "SASL_SSL";
  }

  /** `User:<name>`, or User:ANONYMOUS. */
  get principal(): string {
    return this.principalName;
  }

  get authenticated(): boolean {
    return this.saslState === "none" || this.saslState === "done";
  }

  get state(): SaslState {
    return this.saslState;
  }

  /** True while the frames are bare tokens of a v0 handshake. */
  get expectsRawToken(): boolean {
    return this.rawTokens && this.saslState === "authenticating";
  }

  /** The session lifetime of the last completed authentication (SaslAuthenticate v1+); 0: unlimited. */
  get sessionLifetimeMs(): number {
    return this.lifetime;
  }

  /** The log line of a completed authentication or re-authentication. */
  authenticatedLine(remote: string): string {
    const what = this.reauthenticated ? "re-authenticated" : "authenticated";
    const lifetime = this.lifetime > 0 ? ` (session lifetime ${this.lifetime} ms)` : "";
    return `${remote} ${what} as ${this.principalName} on listener ${this.listener}${lifetime}`;
  }

  get reauthenticating(): boolean {
    return this.reauth !== undefined;
  }

  /** The authenticated session has run out (KIP-368): the connection is closed at its next request. */
  expired(now: number): boolean {
    return this.saslState === "done" && this.expiresAt !== undefined && now > this.expiresAt;
  }

  /**
   * A SaslHandshake on an authenticated connection (KIP-368): it starts a re-authentication when this
   * session has an end and the last re-authentication began a second ago or more; otherwise it is an
   * ordinary request (answered ILLEGAL_SASL_STATE), as in Kafka.
   */
  beginReauthentication(now: number): boolean {
    if (this.saslState !== "done" || this.expiresAt === undefined || this.mechanismName === undefined) return false;
    if (this.lastReauthStart !== 0 && now - this.lastReauthStart < MIN_REAUTH_INTERVAL_MS) return false;
    this.lastReauthStart = now;
    this.reauth = { principal: this.principalName, mechanism: this.mechanismName };
    this.saslState = "handshake";
    return true;
  }

  /** A SaslHandshake for `mechanism`: false when it is not enabled here. */
  startSasl(mechanism: string, handshakeVersion: number): boolean {
    const server = this.runtime.createMechanism(mechanism);
    if (server === undefined) return false;
    if (this.reauth !== undefined && mechanism !== this.reauth.mechanism)
      this.badMechanism = `SASL mechanism '${mechanism}' requested by client is not supported for re-authentication of mechanism '${this.reauth.mechanism}'`;
    this.mechanismServer = server;
    this.saslState = "authenticating";
    this.rawTokens = handshakeVersion === 0;
    return true;
  }

  /**
   * A re-authentication that asked for another mechanism than the session's: as Kafka, its first token
   * gets no answer and the connection is closed (true); false when that is not the case.
   */
  refuseBadMechanism(): boolean {
    if (this.badMechanism === undefined || this.saslState !== "authenticating") return false;
    this.saslState = "failed";
    this.mechanismServer = undefined;
    this.closeReason = `re-authentication failed: ${this.badMechanism}`;
    this.delayClose = true;
    return true;
  }

  /**
   * One SASL token: the challenge to answer with. On a failure the session is failed and the
   * connection is to be closed after the answer, with the delay; the error goes to the caller.
   */
  async authenticate(token: Buffer): Promise<Buffer> {
    const server = this.mechanismServer;
    if (server === undefined || this.saslState !== "authenticating")
      throw new SaslAuthenticationError("no SASL exchange is in progress");
    try {
      if (this.badMechanism !== undefined) throw new SaslAuthenticationError(this.badMechanism);
      const step = await server.evaluate(token);
      if (step.authenticatedUser !== undefined) this.complete(server.mechanism, step);
      return step.challenge;
    } catch (e) {
      this.saslState = "failed";
      this.mechanismServer = undefined;
      const doing = this.reauth !== undefined ? "re-authentication" : "authentication";
      const reason = e instanceof SaslAuthenticationError ? (e.detail ?? e.message) : (e as Error).message;
      this.closeReason = `${doing} with ${server.mechanism} failed: ${reason}`;
      this.delayClose = true;
      throw e;
    }
  }

  /** The end of an exchange: the principal (unchanged by a re-authentication, as Kafka requires) and the session's end. */
  private complete(mechanism: string, step: SaslStep): void {
    const principal = `User:${step.authenticatedUser!}`;
    const previous = this.reauth?.principal;
    if (previous !== undefined && previous !== principal) {
      const dotted = (p: string): string => p.replace(":", ".");
      throw new SaslAuthenticationError(
        `Cannot change principals during re-authentication from ${dotted(previous)}: ${dotted(principal)}`,
      );
    }
    const now = Date.now();
    const lifetime = sessionLifetimeMs(step.credentialExpiresAtMs, this.runtime.reauthMs(mechanism), now);
    this.lifetime = lifetime ?? 0;
    this.expiresAt = lifetime === undefined ? undefined : now + lifetime;
    this.principalName = principal;
    this.mechanismName = mechanism;
    this.saslState = "done";
    this.mechanismServer = undefined;
    this.reauthenticated = previous !== undefined;
    this.reauth = undefined;
  }
}
