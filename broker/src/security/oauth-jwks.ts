import { statSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { JWTVerifyGetKey, JSONWebKeySet } from "jose";
import type { OAuthToken, TokenRefusal, TokenValidator } from "./oauth-bearer.js";
import { OAuthOptionError } from "./oauth-unsecured.js";

/**
 * Signed OAUTHBEARER tokens checked as Kafka 4.4's OAuthBearerValidatorCallbackHandler checks them: the
 * signature against a JSON Web Key Set (any algorithm but none; the `jose` library does the JWS work),
 * exp and iat required, the issuer and audience when configured (Kafka 4.4 requires them unless the
 * allow.unverified keys say otherwise), a principal in the sub claim, the allowed clock skew.
 * The key set comes from a file: URL, reread when the file changes, or from an http(s) URL, fetched
 * again after sasl.oauthbearer.jwks.endpoint.refresh.ms. `jose` (46 modules) is loaded with the first
 * token checked: most brokers never check one.
 */

type Jose = typeof import("jose");
let joseLib: Promise<Jose> | undefined;
const jose = (): Promise<Jose> => (joseLib ??= import("jose"));

export interface JwksOptions {
  readonly jwksUrl: string;
  readonly refreshMs: number;
  readonly audience: readonly string[];
  readonly issuer: string | undefined;
  readonly subClaim: string;
  readonly scopeClaim: string;
  readonly clockSkewSeconds: number;
}

/** The keys of a key set file: JSON with a `keys` array, as jose's createLocalJWKSet wants it. */
function readKeySet(path: string): JSONWebKeySet {
  const set = JSON.parse(readFileSync(path, "utf8")) as JSONWebKeySet;
  if (typeof set !== "object" || set === null || !Array.isArray(set.keys))
    throw new Error("JSON Web Key Set malformed");
  return set;
}

/** A key set file, read again when its modification time changes (as Kafka's cached JWKS file). */
function fileKeys(path: string): () => Promise<JWTVerifyGetKey> {
  let seen = statSync(path).mtimeMs;
  let set = readKeySet(path); // a key set that cannot be read stops start-up
  let keys: JWTVerifyGetKey | undefined;
  return async () => {
    const mtime = statSync(path).mtimeMs;
    if (mtime !== seen) {
      set = readKeySet(path);
      keys = undefined;
      seen = mtime;
    }
    if (keys === undefined) keys = (await jose()).createLocalJWKSet(set);
    return keys;
  };
}

function keySource(o: JwksOptions): () => Promise<JWTVerifyGetKey> {
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
  let remote: Promise<JWTVerifyGetKey> | undefined;
  return () => (remote ??= jose().then((j) => j.createRemoteJWKSet(url, { cacheMaxAge: o.refreshMs })));
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
        const { payload } = await (
          await jose()
        ).jwtVerify(token, await keys(), {
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
