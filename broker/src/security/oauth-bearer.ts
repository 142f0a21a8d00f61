import { SaslAuthenticationError, type SaslMechanismServer, type SaslStep } from "./sasl-mechanism.js";

/**
 * SASL OAUTHBEARER (RFC 7628) as Kafka's server speaks it: the client's first message
 * `n,[a=<authzid>],\x01auth=Bearer <token>\x01[<key>=<value>\x01...]\x01` carries a bearer token that a
 * validator checks (oauth-unsecured.ts or oauth-jwks.ts). A refused token is answered with the error
 * challenge (`{"status":"invalid_token"}`) and no error; the client then sends `\x01` and gets
 * SASL_AUTHENTICATION_FAILED with that same JSON as its message. Extensions are accepted and ignored,
 * as both of Kafka's validators do.
 */

export const OAUTHBEARER = "OAUTHBEARER";

/** A token that passed its validator. */
export interface OAuthToken {
  readonly principal: string;
  /** When it expires (ms since the epoch): the session ends then at the latest. */
  readonly expiresAtMs: number;
  readonly scope: readonly string[];
}

/** Why a token is refused: what the error challenge says, and what only the broker logs. */
export interface TokenRefusal {
  readonly status: "invalid_token" | "insufficient_scope";
  /** The scope the broker wanted, for insufficient_scope. */
  readonly scope?: string;
  readonly reason: string;
}

export interface TokenValidator {
  validate(token: string): Promise<OAuthToken | TokenRefusal>;
}

export const isRefusal = (v: OAuthToken | TokenRefusal): v is TokenRefusal => "status" in v;

const SEP = "\u0001";
/** RFC 7628's gs2 header, key/value pairs and terminator; saslname without `=` and `,` unless escaped. */
const FIRST_MESSAGE = new RegExp(
  `^n,(?:a=((?:[\\x01-\\x2B\\x2D-\\x3C\\x3E-\\x7F]|=2C|=3D)+))?,${SEP}((?:[A-Za-z]+=[\\x21-\\x7E \\t\\r\\n]+${SEP})*)${SEP}$`,
);
const AUTH_VALUE = /^(\w+) +([-_~+/.a-zA-Z0-9]+=*)$/;

/** The token and authorization id of a client's first message; throws a SaslAuthenticationError when it is not one. */
export function parseClientFirstMessage(message: Buffer): { token: string; authzid: string } {
  // Kafka answers a malformed message with its generic words, and keeps the reason for its log.
  const invalid = (detail: string): SaslAuthenticationError =>
    new SaslAuthenticationError(
      `Authentication failed during authentication due to invalid credentials with SASL mechanism ${OAUTHBEARER}`,
      detail,
    );
  const m = FIRST_MESSAGE.exec(message.toString("utf8"));
  if (m === null) throw invalid("Invalid OAUTHBEARER client first message");
  const pairs = new Map<string, string>();
  for (const kv of m[2]!.split(SEP).filter((s) => s !== "")) {
    const eq = kv.indexOf("=");
    pairs.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  const auth = pairs.get("auth");
  if (auth === undefined) throw invalid("Invalid OAUTHBEARER client first message: 'auth' not specified");
  const a = AUTH_VALUE.exec(auth);
  if (a === null) throw invalid("Invalid OAUTHBEARER client first message: invalid 'auth' format");
  if (a[1]!.toLowerCase() !== "bearer") throw invalid(`Invalid scheme in OAUTHBEARER client first message: ${a[1]}`);
  return { token: a[2]!, authzid: m[1] ?? "" };
}

/** Kafka's error challenge: the status, and the scope when there is one (its own spacing). */
export function errorChallenge(refusal: TokenRefusal): string {
  const scope = refusal.scope !== undefined ? `, "scope":"${refusal.scope}"` : "";
  return `{"status":"${refusal.status}"${scope}}`;
}

class OAuthBearerServer implements SaslMechanismServer {
  readonly mechanism = OAUTHBEARER;
  /** The error challenge sent, waiting for the client's `\x01`. */
  private refused: { challenge: string; reason: string } | undefined;

  constructor(private readonly validator: TokenValidator) {}

  async evaluate(message: Buffer): Promise<SaslStep> {
    const refused = this.refused;
    if (message.length === 1 && message[0] === 1 && refused !== undefined)
      throw new SaslAuthenticationError(refused.challenge, `${refused.challenge} (${refused.reason})`);
    this.refused = undefined;
    const { token, authzid } = parseClientFirstMessage(message);
    const result = await this.validator.validate(token);
    if (isRefusal(result)) {
      const challenge = errorChallenge(result);
      this.refused = { challenge, reason: result.reason };
      return { challenge: Buffer.from(challenge, "utf8") };
    }
    if (authzid !== "" && authzid !== result.principal)
      throw new SaslAuthenticationError(
        `Authentication failed: Client requested an authorization id (${authzid}) that is different from the token's principal name (${result.principal})`,
      );
    return {
      challenge: Buffer.alloc(0),
      authenticatedUser: result.principal,
      credentialExpiresAtMs: result.expiresAtMs,
    };
  }
}

/** The server side of one OAUTHBEARER exchange with tokens checked by `validator`. */
export function createOAuthBearerServer(validator: TokenValidator): SaslMechanismServer {
  return new OAuthBearerServer(validator);
}
