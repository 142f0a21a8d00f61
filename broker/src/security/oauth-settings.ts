import { ConfigError } from "../config.js";
import { OAUTH_VALIDATOR_CLASS } from "../config-security-keys.js";
import type { TokenValidator } from "./oauth-bearer.js";
import { jwksValidator, type JwksOptions } from "./oauth-jwks.js";
import { OAuthOptionError, unsecuredOptions, unsecuredValidator } from "./oauth-unsecured.js";
import { JaasSyntaxError, parseJaasOptions } from "./plain.js";

/**
 * OAUTHBEARER's settings on one listener, with Kafka's keys: the OAuthBearerLoginModule JAAS text (the
 * unsecured validator's options), sasl.server.callback.handler.class and the sasl.oauthbearer.* keys of
 * the JWKS validator. A setting that cannot work stops start-up naming its key (ConfigError).
 */

const OAUTH_MODULE = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";

/** A setting's value for OAUTHBEARER on the listener (its default when not set). */
type Setting = (key: string) => string | undefined;

/**
 * The token validator of OAUTHBEARER on a listener: Kafka 4.4's JWKS one when its server callback
 * handler is configured, else the unsecured one with the JAAS text's options.
 */
export function oauthValidatorFrom(get: Setting, name: (key: string) => string, listener: string): TokenValidator {
  const jaasKey = name("sasl.jaas.config");
  const jaas = get("sasl.jaas.config");
  if (jaas === undefined)
    throw new ConfigError(`config: ${jaasKey}: OAUTHBEARER on listener ${listener} needs ${OAUTH_MODULE}`);
  let options: Map<string, string>;
  try {
    const parsed = parseJaasOptions(jaas);
    if (parsed.module !== OAUTH_MODULE) throw new JaasSyntaxError(`expected ${OAUTH_MODULE}, found ${parsed.module}`);
    options = parsed.options;
  } catch (e) {
    if (e instanceof JaasSyntaxError) throw new ConfigError(`config: ${jaasKey}: ${e.message}`);
    throw e;
  }
  const handler = get("sasl.server.callback.handler.class");
  try {
    if (handler === undefined) return unsecuredValidator(unsecuredOptions(options));
    if (handler !== OAUTH_VALIDATOR_CLASS)
      throw new ConfigError(
        `config: ${name("sasl.server.callback.handler.class")}: only ${OAUTH_VALIDATOR_CLASS} is supported`,
      );
    return jwksValidator(jwksOptions(get, name));
  } catch (e) {
    if (e instanceof OAuthOptionError) throw new ConfigError(`config: listener ${listener} OAUTHBEARER: ${e.message}`);
    throw e;
  }
}

function jwksOptions(get: Setting, name: (key: string) => string): JwksOptions {
  const url = get("sasl.oauthbearer.jwks.endpoint.url");
  if (url === undefined)
    throw new ConfigError(
      `config: ${name("sasl.oauthbearer.jwks.endpoint.url")}: required by ${OAUTH_VALIDATOR_CLASS}`,
    );
  const audience = (get("sasl.oauthbearer.expected.audience") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const issuer = get("sasl.oauthbearer.expected.issuer");
  // As Kafka 4.4: the audience and the issuer are checked unless the broker is told not to.
  for (const [what, missing] of [
    ["audience", audience.length === 0],
    ["issuer", issuer === undefined],
  ] as const)
    if (missing && get(`sasl.oauthbearer.allow.unverified.${what}`) !== "true")
      throw new ConfigError(
        `config: ${name(`sasl.oauthbearer.expected.${what}`)}: required to verify the token's ${what} (or set sasl.oauthbearer.allow.unverified.${what}=true)`,
      );
  return {
    jwksUrl: url,
    refreshMs: Number(get("sasl.oauthbearer.jwks.endpoint.refresh.ms")),
    audience,
    issuer,
    subClaim: get("sasl.oauthbearer.sub.claim.name") ?? "sub",
    scopeClaim: get("sasl.oauthbearer.scope.claim.name") ?? "scope",
    clockSkewSeconds: Number(get("sasl.oauthbearer.clock.skew.seconds")),
  };
}
