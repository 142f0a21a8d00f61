import { bool, choice, int, list, long, password, string } from "./config-def.js";
import { protocolMapCheck } from "./config-listeners.js";
import { parseMappingRules } from "./security/tls.js";

function mappingRulesProblem(value: string): string | undefined {
  try {
    parseMappingRules(value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * The security keys of server.properties (Kafka's names and defaults): listener protocols, TLS and
 * SASL. The `ssl.*` and `sasl.*` ones may also be given per listener as `listener.name.<name>.<key>`.
 */

const ssl = { importance: "high", dynamic: "read-only", appliedIn: "TLS listeners" } as const;
const sasl = { importance: "high", dynamic: "read-only", appliedIn: "SASL listeners" } as const;
/** As Kafka: a key store or trust store may be replaced at runtime, per broker and listener (new connections use it). */
const sslStore = { ...ssl, dynamic: "per-broker" } as const;
const oauth = { importance: "medium", dynamic: "read-only", appliedIn: "SASL OAUTHBEARER (JWKS validation)" } as const;

/** Kafka 4.4's validator of signed tokens (the value of sasl.server.callback.handler.class that turns on JWKS checks). */
export const OAUTH_VALIDATOR_CLASS = "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler";

const TLS_VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;

export const LISTENER_KEYS = {
  "listener.security.protocol.map": string({
    default: "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
    check: protocolMapCheck,
    importance: "low",
    doc: "The security protocol of each listener name, as NAME:PROTOCOL pairs.",
    dynamic: "read-only",
    appliedIn: "listeners",
  }),
  "inter.broker.listener.name": string({
    default: null,
    importance: "medium",
    doc: "The listener brokers reach each other on (fetches, transaction markers); else the one of security.inter.broker.protocol.",
    dynamic: "read-only",
    appliedIn: "requests between brokers",
  }),
  "security.inter.broker.protocol": choice({
    default: "PLAINTEXT",
    oneOf: ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"],
    importance: "medium",
    doc: "The security protocol between brokers when inter.broker.listener.name is not set.",
    dynamic: "read-only",
    appliedIn: "replication (follower)",
  }),
  "connection.failed.authentication.delay.ms": int({
    default: "100",
    min: 0,
    importance: "low",
    doc: "How long a connection that failed authentication waits before it is closed (against brute force).",
    dynamic: "read-only",
    appliedIn: "SASL listeners",
  }),
} as const;

export const SECURITY_KEYS = {
  "ssl.keystore.type": choice({
    default: "JKS",
    oneOf: ["JKS", "PKCS12", "PEM"],
    doc: "Format of the key store: PEM or PKCS12 (JKS, Kafka's default, is refused when a TLS listener needs it).",
    ...sslStore,
  }),
  "ssl.keystore.location": string({
    default: null,
    doc: "File of the key store: PKCS12, or PEM with the certificate chain and the private key.",
    ...sslStore,
  }),
  "ssl.keystore.password": password({ default: null, doc: "Password of a PKCS12 key store file.", ...sslStore }),
  "ssl.key.password": password({
    default: null,
    doc: "Password of the private key when it is encrypted.",
    ...sslStore,
  }),
  "ssl.keystore.certificate.chain": password({
    default: null,
    doc: "The certificate chain in PEM, inline (with ssl.keystore.type=PEM).",
    ...sslStore,
  }),
  "ssl.keystore.key": password({
    default: null,
    doc: "The private key in PEM, inline (with ssl.keystore.type=PEM).",
    ...sslStore,
  }),
  "ssl.truststore.type": choice({
    default: "JKS",
    oneOf: ["JKS", "PKCS12", "PEM"],
    doc: "Format of the trust store: PEM or PKCS12 (JKS is refused when a listener needs it).",
    ...sslStore,
  }),
  "ssl.truststore.location": string({
    default: null,
    doc: "File of the certificates trusted to sign client certificates.",
    ...sslStore,
  }),
  "ssl.truststore.password": password({ default: null, doc: "Password of a PKCS12 trust store file.", ...sslStore }),
  "ssl.truststore.certificates": password({
    default: null,
    doc: "Trusted certificates in PEM, inline (with ssl.truststore.type=PEM).",
    ...sslStore,
  }),
  "ssl.client.auth": choice({
    default: "none",
    oneOf: ["none", "requested", "required"],
    doc: "Whether TLS clients must present a certificate (required), may (requested) or not (none); SASL_SSL only per listener.",
    ...ssl,
  }),
  "ssl.enabled.protocols": list({
    default: "TLSv1.2,TLSv1.3",
    oneOf: TLS_VERSIONS,
    doc: "The TLS versions accepted.",
    ...ssl,
  }),
  "ssl.cipher.suites": list({
    default: "",
    doc: "Cipher suites allowed, by their IANA names as in Kafka (OpenSSL names work too); empty for Node's defaults.",
    ...ssl,
  }),
  "ssl.allow.dn.changes": bool({
    default: "false",
    doc: "Whether a key store replaced at runtime may have a certificate of another distinguished name.",
    ...ssl,
  }),
  "ssl.allow.san.changes": bool({
    default: "false",
    doc: "Whether a key store replaced at runtime may have a certificate of other subject alternative names.",
    ...ssl,
  }),
  "ssl.principal.mapping.rules": string({
    default: "DEFAULT",
    check: mappingRulesProblem,
    doc: "How a client certificate's subject becomes a principal: RULE:pattern/replacement/[LU] rules, DEFAULT keeps it.",
    ...ssl,
  }),
  "sasl.enabled.mechanisms": list({
    default: "GSSAPI",
    doc: "SASL mechanisms offered: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (GSSAPI, the default, is not served).",
    ...sasl,
  }),
  "sasl.mechanism.inter.broker.protocol": string({
    default: "GSSAPI",
    importance: "medium",
    doc: "SASL mechanism followers log in to their leaders with, as the user of the listener's JAAS config for it.",
    dynamic: "read-only",
    appliedIn: "replication (follower)",
  }),
  "sasl.jaas.config": password({
    default: null,
    doc: 'JAAS settings for every listener: PlainLoginModule users as user_<name>="<password>"; OAuthBearerLoginModule unsecuredValidator* options.',
    ...sasl,
  }),
  "sasl.server.callback.handler.class": string({
    default: null,
    doc: "OAuthBearerValidatorCallbackHandler (Kafka's class name) checks OAUTHBEARER tokens against a JWKS; unset, Kafka's unsecured validator.",
    ...sasl,
  }),
  "connections.max.reauth.ms": long({
    default: "0",
    min: 0,
    importance: "medium",
    doc: "Longest SASL session before the client must re-authenticate (KIP-368), also per listener and mechanism; 0: no limit but a token's expiry.",
    dynamic: "read-only",
    appliedIn: "SASL listeners",
  }),
  "sasl.oauthbearer.jwks.endpoint.url": string({
    default: null,
    doc: "Where the JSON Web Key Set that signs OAUTHBEARER tokens is: a file: URL (reread when it changes) or an http(s) URL.",
    ...oauth,
  }),
  "sasl.oauthbearer.jwks.endpoint.refresh.ms": long({
    default: "3600000",
    min: 0,
    doc: "How long keys fetched from an http(s) JWKS endpoint are kept before they are fetched again.",
    ...oauth,
  }),
  "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms": long({
    default: "100",
    min: 0,
    doc: "Accepted for compatibility: a failed JWKS fetch fails that token and is tried again at the next one.",
    ...oauth,
    appliedIn: null,
  }),
  "sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms": long({
    default: "10000",
    min: 0,
    doc: "Accepted for compatibility, as sasl.oauthbearer.jwks.endpoint.retry.backoff.ms.",
    ...oauth,
    appliedIn: null,
  }),
  "sasl.oauthbearer.expected.audience": list({
    default: null,
    doc: "Audiences a token's aud claim must name one of; required unless sasl.oauthbearer.allow.unverified.audience is true.",
    ...oauth,
  }),
  "sasl.oauthbearer.expected.issuer": string({
    default: null,
    doc: "The iss claim a token must have; required unless sasl.oauthbearer.allow.unverified.issuer is true.",
    ...oauth,
  }),
  "sasl.oauthbearer.allow.unverified.audience": bool({
    default: "false",
    doc: "Accept tokens whatever their audience when sasl.oauthbearer.expected.audience is not set (insecure).",
    ...oauth,
  }),
  "sasl.oauthbearer.allow.unverified.issuer": bool({
    default: "false",
    doc: "Accept tokens whatever their issuer when sasl.oauthbearer.expected.issuer is not set (insecure).",
    ...oauth,
  }),
  "sasl.oauthbearer.sub.claim.name": string({
    default: "sub",
    doc: "The claim that names the principal of a signed token.",
    ...oauth,
  }),
  "sasl.oauthbearer.scope.claim.name": string({
    default: "scope",
    doc: "The claim that holds a signed token's scope.",
    ...oauth,
  }),
  "sasl.oauthbearer.clock.skew.seconds": int({
    default: "30",
    min: 0,
    doc: "Clock difference allowed when a signed token's exp, iat and nbf are checked.",
    ...oauth,
  }),
} as const;
