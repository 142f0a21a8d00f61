import type { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { parseProperties } from "../properties.js";
import { parseJaasOptions } from "../security/plain.js";
import { TlsConfigError, tlsClientOptions } from "../security/tls.js";
import { CLIENT_MECHANISMS, type ClientMechanism, type SaslCredentials } from "./sasl-client.js";

/**
 * How the CLI and the console reach a listener, from Kafka's client properties (what Kafka's tools
 * take with --command-config): security.protocol, sasl.mechanism with the username and password of a
 * sasl.jaas.config line, and the ssl.* stores (PEM or PKCS12, as the broker reads them).
 */

export type ClientProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";

export interface ClientSecurity {
  readonly protocol: ClientProtocol;
  /** TLS options (SSL, SASL_SSL). */
  readonly tls?: ConnectionOptions;
  /** The SASL login (SASL_PLAINTEXT, SASL_SSL). */
  readonly sasl?: SaslCredentials;
  /** A check of the server's certificate of our own (the console pins its broker's): why it is refused. */
  readonly verifyPeer?: (cert: X509Certificate | undefined) => string | undefined;
}

export const PLAINTEXT: ClientSecurity = { protocol: "PLAINTEXT" };

const PROTOCOLS: readonly ClientProtocol[] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];

/** A setting the client cannot use; the message names the key. */
export class ClientConfigError extends Error {
  override readonly name = "ConfigError";
}

/** The security of a client from its properties; `prefix` is put before key names in messages. */
export function clientSecurity(get: (key: string) => string | undefined, prefix = ""): ClientSecurity {
  const protocol = (get("security.protocol") ?? "PLAINTEXT").toUpperCase();
  if (!(PROTOCOLS as readonly string[]).includes(protocol))
    throw new ClientConfigError(`${prefix}security.protocol: expected one of ${PROTOCOLS.join(", ")}, got ${protocol}`);
  const p = protocol as ClientProtocol;
  let tls: ConnectionOptions | undefined;
  if (p === "SSL" || p === "SASL_SSL") {
    try {
      tls = tlsClientOptions(get);
    } catch (e) {
      if (e instanceof TlsConfigError) throw new ClientConfigError(`${prefix}${e.key}: ${e.message}`);
      throw e;
    }
  }
  const sasl = p === "SASL_PLAINTEXT" || p === "SASL_SSL" ? saslLogin(get, prefix) : undefined;
  return { protocol: p, ...(tls !== undefined ? { tls } : {}), ...(sasl !== undefined ? { sasl } : {}) };
}

/** sasl.mechanism (Kafka's default GSSAPI is not spoken here) and the login of sasl.jaas.config. */
function saslLogin(get: (key: string) => string | undefined, prefix: string): SaslCredentials {
  const mechanism = (get("sasl.mechanism") ?? "GSSAPI").toUpperCase();
  if (!(CLIENT_MECHANISMS as readonly string[]).includes(mechanism))
    throw new ClientConfigError(
      `${prefix}sasl.mechanism: ${mechanism} is not supported here (${CLIENT_MECHANISMS.join(", ")})`,
    );
  const jaas = get("sasl.jaas.config");
  if (jaas === undefined || jaas === "")
    throw new ClientConfigError(
      `${prefix}sasl.jaas.config: needed for SASL (a login module with username and password)`,
    );
  let options: Map<string, string>;
  try {
    options = parseJaasOptions(jaas).options;
  } catch (e) {
    throw new ClientConfigError(`${prefix}sasl.jaas.config: ${(e as Error).message}`);
  }
  const username = options.get("username");
  const password = options.get("password");
  if (username === undefined || password === undefined)
    throw new ClientConfigError(`${prefix}sasl.jaas.config: needs username="..." and password="..."`);
  return { mechanism: mechanism as ClientMechanism, username, password };
}

/** The security settings of a --command-config file. */
export function readCommandConfig(path: string): ClientSecurity {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ClientConfigError(`--command-config: cannot read ${path}: ${(e as Error).message}`);
  }
  const props = parseProperties(text);
  return clientSecurity((k) => props.get(k));
}
