import type { SecurityProtocol } from "../config-listeners.js";
import { SaslAuthenticationError, type SaslMechanismServer } from "../security/sasl-mechanism.js";
import type { RequestPrincipal } from "../security/authorizer.js";
import type { ListenerRuntime } from "./listener.js";

export const ANONYMOUS = "User:ANONYMOUS";

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

  /** A SaslHandshake for `mechanism`: false when it is not enabled here. */
  startSasl(mechanism: string, handshakeVersion: number): boolean {
    const server = this.runtime.createMechanism(mechanism);
    if (server === undefined) return false;
    this.mechanismServer = server;
    this.saslState = "authenticating";
    this.rawTokens = handshakeVersion === 0;
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
      const step = await server.evaluate(token);
      if (step.authenticatedUser !== undefined) {
        this.principalName = `User:${step.authenticatedUser}`;
        this.saslState = "done";
        this.mechanismServer = undefined;
      }
      return step.challenge;
    } catch (e) {
      this.saslState = "failed";
      this.mechanismServer = undefined;
      const reason = e instanceof SaslAuthenticationError ? (e.detail ?? e.message) : (e as Error).message;
      this.closeReason = `authentication with ${server.mechanism} failed: ${reason}`;
      this.delayClose = true;
      throw e;
    }
  }
}
