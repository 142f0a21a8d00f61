import type { TlsOptions } from "node:tls";
import { ConfigError, listenerSetting, withoutMechanism, type BrokerConfig } from "../config.js";
import type { ListenerConfig } from "../config-listeners.js";
import type { ClusterMetadata } from "../cluster/metadata.js";
import { OAUTHBEARER, createOAuthBearerServer, type TokenValidator } from "../security/oauth-bearer.js";
import { oauthValidatorFrom } from "../security/oauth-settings.js";
import { JaasSyntaxError, createPlainServer, plainUsers } from "../security/plain.js";
import type { SaslMechanismServer } from "../security/sasl-mechanism.js";
import { createScramServer, isScramMechanism } from "../security/scram.js";
import { TlsConfigError, tlsServerSettings, type TlsServerSettings } from "../security/tls.js";
import { identityChange } from "../security/tls-reload.js";

/** The mechanisms this broker serves. */
const SERVED = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", OAUTHBEARER];

/**
 * One listener ready to run: its address and protocol, its TLS settings (SSL, SASL_SSL) and its SASL
 * mechanisms (SASL_*). Built at start-up so that a bad setting stops it naming the key.
 */
export interface ListenerRuntime {
  readonly config: ListenerConfig;
  readonly tls: TlsServerSettings | undefined;
  /** The enabled mechanisms, in the order configured (empty on a listener without SASL). */
  readonly mechanisms: readonly string[];
  /** A fresh server side of `mechanism` for one connection (undefined when it is not enabled). */
  createMechanism(mechanism: string): SaslMechanismServer | undefined;
  /** connections.max.reauth.ms for `mechanism` here (KIP-368): 0 when sessions are not limited. */
  reauthMs(mechanism: string): number;
}

/** The name a listener's setting was given under: its `listener.name.` form when that one is set. */
function givenName(config: BrokerConfig, listener: string, key: string): string {
  const prefixed = `listener.name.${listener.toLowerCase()}.${key}`;
  const own = Object.keys(config.listenerSettings).find((k) => k.toLowerCase() === prefixed.toLowerCase());
  return own ?? withoutMechanism(key);
}

/** A listener's TLS settings from the config (also a reloaded one); throws ConfigError naming the key. */
export function tlsFor(config: BrokerConfig, l: ListenerConfig): TlsServerSettings | undefined {
  if (l.protocol !== "SSL" && l.protocol !== "SASL_SSL") return undefined;
  try {
    // As Kafka (KIP-684): a SASL_SSL listener asks for client certificates only when its own
    // listener.name.<name>.ssl.client.auth says so, never from the broker-wide key.
    const own = (key: string): string | undefined =>
      givenName(config, l.name, key) === key ? undefined : listenerSetting(config, l.name, key);
    return tlsServerSettings((key) =>
      l.protocol === "SASL_SSL" && key === "ssl.client.auth" ? own(key) : listenerSetting(config, l.name, key),
    );
  } catch (e) {
    if (!(e instanceof TlsConfigError)) throw e;
    throw new ConfigError(`config: ${givenName(config, l.name, e.key)} (listener ${l.name}): ${e.message}`);
  }
}

function plainUsersFor(config: BrokerConfig, l: ListenerConfig): Map<string, string> {
  const jaas = listenerSetting(config, l.name, "plain.sasl.jaas.config");
  const key = givenName(config, l.name, "plain.sasl.jaas.config");
  if (jaas === undefined)
    throw new ConfigError(`config: ${key}: PLAIN on listener ${l.name} needs its users (user_<name>="<password>")`);
  try {
    return plainUsers(jaas);
  } catch (e) {
    if (e instanceof JaasSyntaxError) throw new ConfigError(`config: ${key}: ${e.message}`);
    throw e;
  }
}

function saslMechanisms(config: BrokerConfig, l: ListenerConfig): string[] {
  if (l.protocol !== "SASL_PLAINTEXT" && l.protocol !== "SASL_SSL") return [];
  const text = listenerSetting(config, l.name, "sasl.enabled.mechanisms") ?? "";
  const mechanisms = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const key = givenName(config, l.name, "sasl.enabled.mechanisms");
  const unserved = mechanisms.find((m) => !SERVED.includes(m));
  if (unserved !== undefined)
    throw new ConfigError(
      `config: ${key}: mechanism ${unserved} is not supported (listener ${l.name}); use ${SERVED.join(", ")}`,
    );
  if (mechanisms.length === 0) throw new ConfigError(`config: ${key}: listener ${l.name} needs a SASL mechanism`);
  return mechanisms;
}

/**
 * The TLS settings `next` gives a listener that now serves `current` (a key store replaced at runtime),
 * when they may replace them: Kafka's rule on the certificate's identity. Throws ConfigError.
 */
export function reloadedTls(current: TlsOptions, next: BrokerConfig, l: ListenerConfig): TlsServerSettings {
  const tls = tlsFor(next, l)!;
  const allow = (key: string): boolean => listenerSetting(next, l.name, key) === "true";
  const problem = identityChange(current, tls.options, {
    dn: allow("ssl.allow.dn.changes"),
    san: allow("ssl.allow.san.changes"),
  });
  if (problem !== undefined) throw new ConfigError(problem);
  return tls;
}

/** The settings of one mechanism on a listener as text (`listener.name.<l>.<mechanism>.<key>` first). */
const mechanismSetting = (
  config: BrokerConfig,
  l: ListenerConfig,
  mechanism: string,
  key: string,
): string | undefined => listenerSetting(config, l.name, `${mechanism.toLowerCase()}.${key}`);

/** OAUTHBEARER's token validator on a listener, from its settings (`listener.name.<l>.oauthbearer.<key>` first). */
function oauthValidator(config: BrokerConfig, l: ListenerConfig): TokenValidator {
  return oauthValidatorFrom(
    (key) => mechanismSetting(config, l, OAUTHBEARER, key),
    (key) => givenName(config, l.name, `oauthbearer.${key}`),
    l.name,
  );
}

/** The runtime of every configured listener; throws ConfigError naming the key at fault. */
export function buildListeners(config: BrokerConfig, metadata: ClusterMetadata): ListenerRuntime[] {
  return config.listeners.map((l) => {
    const tls = tlsFor(config, l);
    const mechanisms = saslMechanisms(config, l);
    const users = mechanisms.includes("PLAIN") ? plainUsersFor(config, l) : new Map<string, string>();
    const oauth = mechanisms.includes(OAUTHBEARER) ? oauthValidator(config, l) : undefined;
    const lookup = (mechanism: string) => (user: string) =>
      metadata.scramCredentials(user).find((c) => c.credential.mechanism === mechanism)?.credential;
    const reauth = new Map(
      mechanisms.map((m) => [m, Number(mechanismSetting(config, l, m, "connections.max.reauth.ms") ?? 0)]),
    );
    return {
      config: l,
      tls,
      mechanisms,
      createMechanism(mechanism: string): SaslMechanismServer | undefined {
        if (!mechanisms.includes(mechanism)) return undefined;
        if (mechanism === "PLAIN") return createPlainServer(users);
        if (mechanism === OAUTHBEARER) return createOAuthBearerServer(oauth!);
        return isScramMechanism(mechanism) ? createScramServer(mechanism, lookup(mechanism)) : undefined;
      },
      reauthMs: (mechanism: string): number => reauth.get(mechanism) ?? 0,
    };
  });
}
