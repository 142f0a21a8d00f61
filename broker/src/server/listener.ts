import { ConfigError, listenerSetting, type BrokerConfig } from "../config.js";
import type { ListenerConfig } from "../config-listeners.js";
import type { ClusterMetadata } from "../cluster/metadata.js";
import { JaasSyntaxError, createPlainServer, plainUsers } from "../security/plain.js";
import type { SaslMechanismServer } from "../security/sasl-mechanism.js";
import { createScramServer, isScramMechanism } from "../security/scram.js";
import { TlsConfigError, tlsServerSettings, type TlsServerSettings } from "../security/tls.js";

/** The mechanisms this broker serves. */
const SERVED = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

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
}

/** The name a listener's setting was given under: its `listener.name.` form when that one is set. */
function givenName(config: BrokerConfig, listener: string, key: string): string {
  const prefixed = `listener.name.${listener.toLowerCase()}.${key}`;
  const own = Object.keys(config.listenerSettings).find((k) => k.toLowerCase() === prefixed.toLowerCase());
  return own ?? (key.endsWith(".sasl.jaas.config") ? "sasl.jaas.config" : key);
}

function tlsFor(config: BrokerConfig, l: ListenerConfig): TlsServerSettings | undefined {
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

/** The runtime of every configured listener; throws ConfigError naming the key at fault. */
export function buildListeners(config: BrokerConfig, metadata: ClusterMetadata): ListenerRuntime[] {
  return config.listeners.map((l) => {
    const tls = tlsFor(config, l);
    const mechanisms = saslMechanisms(config, l);
    const users = mechanisms.includes("PLAIN") ? plainUsersFor(config, l) : new Map<string, string>();
    const lookup = (mechanism: string) => (user: string) =>
      metadata.scramCredentials(user).find((c) => c.credential.mechanism === mechanism)?.credential;
    return {
      config: l,
      tls,
      mechanisms,
      createMechanism(mechanism: string): SaslMechanismServer | undefined {
        if (!mechanisms.includes(mechanism)) return undefined;
        if (mechanism === "PLAIN") return createPlainServer(users);
        return isScramMechanism(mechanism) ? createScramServer(mechanism, lookup(mechanism)) : undefined;
      },
    };
  });
}
