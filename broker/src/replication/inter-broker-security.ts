import { clientSecurity, type ClientSecurity } from "../cli/client-security.js";
import { listenerSetting, type BrokerConfig } from "../config.js";
import type { BrokerEndpoint } from "../cluster/metadata.js";

/**
 * How a follower connects to its leader's inter-broker listener, as Kafka's inter-broker client does: the
 * listener's security protocol; for TLS the listener's own ssl.* settings (its trust store checks the
 * leader's certificate, its key store is the client certificate); for SASL the mechanism of
 * sasl.mechanism.inter.broker.protocol, logging in with the username and password of that listener's
 * JAAS config for the mechanism (`listener.name.<name>.<mechanism>.sasl.jaas.config`, else sasl.jaas.config).
 */
export function interBrokerSecurity(config: BrokerConfig, listener: BrokerEndpoint): ClientSecurity {
  const name = listener.name.toLowerCase();
  const mechanism = String(config.props["sasl.mechanism.inter.broker.protocol"] ?? "GSSAPI");
  const get = (key: string): string | undefined => {
    if (key === "security.protocol") return listener.securityProtocol;
    if (key === "sasl.mechanism") return mechanism;
    if (key === "sasl.jaas.config") return listenerSetting(config, name, `${mechanism.toLowerCase()}.${key}`);
    return listenerSetting(config, name, key);
  };
  return clientSecurity(get, `listener.name.${name}.`);
}
