import type { OAuthToken, TokenRefusal, TokenValidator } from "./oauth-bearer.js";

/**
 * Kafka's unsecured OAUTHBEARER validator, the one a broker uses when no server callback handler is
 * configured: the token must be an unsigned JWS (`alg: none`, empty signature) with an exp claim and a
 * principal claim, its iat (if any) not in the future and exp not past (both within the allowed clock
 * skew), exp after iat, and the required scope present. For tests and development only, as in Kafka.
 * Its settings are the OAuthBearerLoginModule options of the listener's JAAS text.
 */

export class OAuthOptionError extends Error {}

export interface UnsecuredOptions {
  readonly principalClaim: string;
  readonly scopeClaim: string;
  readonly requiredScope: readonly string[];
  readonly clockSkewMs: number;
}

/** The unsecuredValidator* options of a JAAS text (blank ones take Kafka's defaults). */
export function unsecuredOptions(options: ReadonlyMap<string, string>): UnsecuredOptions {
  const get = (k: string): string | undefined => {
    const v = options.get(k)?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const skewText = get("unsecuredValidatorAllowableClockSkewMs") ?? "0";
  const clockSkewMs = Number(skewText);
  if (!/^-?\d+$/.test(skewText))
    throw new OAuthOptionError(`unsecuredValidatorAllowableClockSkewMs: not a number: ${skewText}`);
  if (clockSkewMs < 0) throw new OAuthOptionError(`Allowable clock skew millis must not be negative: ${skewText}`);
  return {
    principalClaim: get("unsecuredValidatorPrincipalClaimName") ?? "sub",
    scopeClaim: get("unsecuredValidatorScopeClaimName") ?? "scope",
    requiredScope: (get("unsecuredValidatorRequiredScope") ?? "").split(" ").filter((s) => s !== ""),
    clockSkewMs,
  };
}

class Refused extends Error {
  constructor(
    readonly reason: string,
    readonly scope?: string,
  ) {
    super(reason);
  }
}

function jsonPart(part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    throw new Refused("malformed JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Refused("malformed JSON");
  return value as Record<string, unknown>;
}

function numberClaim(claims: Record<string, unknown>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number") throw new Refused(`The '${name}' claim was not of type Number: ${typeof v}`);
  return v;
}

/** A string claim is a scope of one item (not split), a list is a scope of its non-blank items. */
function scopeOf(claims: Record<string, unknown>, name: string): string[] {
  const v = claims[name];
  if (typeof v === "string") return v.trim() === "" ? [] : [v.trim()];
  if (Array.isArray(v)) return v.map((s) => String(s).trim()).filter((s) => s !== "");
  if (v === undefined || v === null) return [];
  throw new Refused(`The '${name}' claim was not of type List: ${typeof v}`);
}

/** The token's claims once they pass Kafka's unsecured checks at `now`; throws Refused. */
function check(token: string, o: UnsecuredOptions, now: number): OAuthToken {
  if (token.includes("..")) throw new Refused("Malformed compact serialization contains '..'");
  const parts = token.split(".");
  if (parts.length !== 3 && parts.length !== 5) throw new Refused("Malformed compact serialization");
  const header = jsonPart(parts[0]!);
  const claims = jsonPart(parts[1]!);
  if (header.alg !== "none") throw new Refused("Unsecured JWS must have 'none' for an algorithm");
  if (parts[2] !== "") throw new Refused("Unsecured JWS must not contain a digital signature");
  const scope = scopeOf(claims, o.scopeClaim);
  const exp = numberClaim(claims, "exp");
  if (exp === undefined) throw new Refused("No expiration time in JWT");
  const principal = claims[o.principalClaim];
  if (typeof principal !== "string" || principal.trim() === "")
    throw new Refused(`No principal name in JWT claim: ${o.principalClaim}`);
  const iat = numberClaim(claims, "iat");
  if (iat !== undefined && 1000 * iat > now + o.clockSkewMs)
    throw new Refused(
      `The Issued At value (${iat} seconds) was after the indicated time (${now} ms) plus allowable clock skew (${o.clockSkewMs} ms)`,
    );
  if (now - o.clockSkewMs >= 1000 * exp)
    throw new Refused(
      `The indicated time (${now} ms) minus allowable clock skew (${o.clockSkewMs} ms) was on or after the Expiration Time value (${exp} seconds)`,
    );
  if (iat !== undefined && exp <= iat)
    throw new Refused(`The Expiration Time time (${exp} seconds) was not after the Issued At time (${iat} seconds)`);
  const missing = o.requiredScope.find((s) => !scope.includes(s));
  if (missing !== undefined)
    throw new Refused(
      `The provided scope (${scope.join(", ")}) was missing a required scope (${missing})`,
      `[${o.requiredScope.join(", ")}]`,
    );
  return { principal, expiresAtMs: Math.round(exp * 1000), scope };
}

export function unsecuredValidator(options: UnsecuredOptions): TokenValidator {
  return {
    validate(token: string): Promise<OAuthToken | TokenRefusal> {
      try {
        return Promise.resolve(check(token, options, Date.now()));
      } catch (e) {
        if (!(e instanceof Refused)) throw e;
        const refusal: TokenRefusal =
          e.scope !== undefined
            ? { status: "insufficient_scope", scope: e.scope, reason: e.reason }
            : { status: "invalid_token", reason: e.reason };
        return Promise.resolve(refusal);
      }
    },
  };
}
