import { statSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey, type JSONWebKeySet } from "jose";
import type { OAuthToken, TokenRefusal, TokenValidator } from "./oauth-bearer.js";
import { OAuthOptionError } from "./oauth-unsecured.js";

/**
 * Signed OAUTHBEARER tokens checked as Kafka 4.4's OAuthBearerValidatorCallbackHandler checks them: the
 * signature against a JSON Web Key Set (any algorithm but none; the `jose` library does the JWS work),
 * exp and iat required, the issuer and audience when configured (Kafka 4.4 requires them unless the
 * allow.unverified keys say otherwise), a principal in the sub claim, the allowed clock skew.
 * The key set comes from a file: URL, reread when the file changes, or from an http(s) URL, fetched
 * again after sasl.oauthbearer.jwks.endpoint.refresh.ms.
 */

export interface JwksOptions {
  readonly jwksUrl: string;
  readonly refreshMs: number;
  readonly audience: readonly string[];
  readonly issuer: string | undefined;
  readonly subClaim: string;
  readonly scopeClaim: string;
  readonly clockSkewSeconds: number;
}

/** A key set file, read again when its modification time changes (as Kafka's cached JWKS file). */
function fileKeys(path: string): JWTVerifyGetKey {
  let seen = -1;
  let keys: JWTVerifyGetKey | undefined;
  const load = (): JWTVerifyGetKey => {
    const mtime = statSync(path).mtimeMs;
    if (keys === undefined || mtime !== seen) {
      keys = createLocalJWKSet(JSON.parse(readFileSync(path, "utf8")) as JSONWebKeySet);
      seen = mtime;
    }
    return keys;
  };
  load(); // a key set that cannot be read stops start-up
  return (header, token) => load()(header, token);
}

function keySource(o: JwksOptions): JWTVerifyGetKey {
  let url: URL;
  try {
    url = new URL(o.jwksUrl);
  } catch (e) {
    throw new OAuthOptionError(`the URL ${o.jwksUrl} is malformed: ${(e as Error).message}`);
  }
  if (url.protocol === "file:") {
    try {
      return fileKeys(fileURLToPath(url));
    } catch (e) {
      throw new OAuthOptionError(`cannot read the key set ${o.jwksUrl}: ${(e as Error).message}`);
    }
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new OAuthOptionError(`the URL ${o.jwksUrl} has an invalid protocol; only http, https and file are supported`);
  return createRemoteJWKSet(url, { cacheMaxAge: o.refreshMs });
}

function scopeOf(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.map(String);
  return [];
}

/** Throws OAuthOptionError when the key set cannot be read. */
export function jwksValidator(o: JwksOptions): TokenValidator {
  const keys = keySource(o);
  return {
    async validate(token: string): Promise<OAuthToken | TokenRefusal> {
      try {
        const { payload } = await jwtVerify(token, keys, {
          requiredClaims: ["exp", "iat"],
          clockTolerance: o.clockSkewSeconds,
          ...(o.issuer !== undefined ? { issuer: o.issuer } : {}),
          ...(o.audience.length > 0 ? { audience: [...o.audience] } : {}),
        });
        const sub = payload[o.subClaim];
        if (typeof sub !== "string" || sub.trim() === "")
          return { status: "invalid_token", reason: `the ${o.subClaim} claim is missing or empty` };
        const scope = scopeOf(payload[o.scopeClaim])
          .map((s) => s.trim())
          .filter((s) => s !== "");
        return { principal: sub.trim(), expiresAtMs: payload.exp! * 1000, scope };
      } catch (e) {
        return { status: "invalid_token", reason: `Could not validate the access token: ${(e as Error).message}` };
      }
    },
  };
}
