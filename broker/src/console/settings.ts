import type { X509Certificate } from "node:crypto";
import type { ClientSecurity } from "../cli/client-security.js";
import type { BrokerConfig } from "../config.js";
import type { ConsoleMode } from "./console.js";
import { consoleLogin } from "./login.js";

/**
 * What the console may do and whom it talks to, from `http.console*` and the listeners. The console is a
 * Kafka client of its own broker, so its principal is what its listener makes of it: User:ANONYMOUS on
 * PLAINTEXT, or the user of its own login (http.console.sasl.jaas.config) on a SASL listener.
 *
 * `auto` turns it off when an authorizer is configured and the console has no login: whoever reaches the
 * HTTP port would otherwise act as ANONYMOUS, maybe from where no Kafka listener is reachable. With a
 * login the operator has named a principal for it, so `auto` is read-write and the ACLs of that
 * principal decide what the console sees and does; read-only or read-write opt in explicitly either way.
 */

export interface ConsoleSettings {
  /** HOST:PORT of the listener the console connects to; undefined when there is none it can use. */
  readonly bootstrap: string | undefined;
  readonly security: ClientSecurity;
  /** The principal its requests carry, as shown on its pages. */
  readonly principal: string;
  readonly mode: ConsoleMode;
  /** Why the console is off, shown on its page. */
  readonly offReason?: string;
}

interface Bound {
  readonly name: string;
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
}

/** `servedCertificate`: the certificate a TLS listener serves now (the console trusts exactly that one). */
export function consoleSettings(
  config: BrokerConfig,
  bound: readonly Bound[],
  servedCertificate: (listener: string) => X509Certificate | undefined = () => undefined,
): ConsoleSettings {
  const setting = config.props["http.console"];
  const login = consoleLogin(config.props["http.console.sasl.jaas.config"]);
  const chosen = pickListener(config, bound, login !== undefined);
  const principal =
    login !== undefined && chosen?.protocol.startsWith("SASL_") ? `User:${login.username}` : "User:ANONYMOUS";
  const base = {
    bootstrap: chosen === undefined ? undefined : `${loopbackFor(chosen.host)}:${chosen.port}`,
    security:
      chosen === undefined ? { protocol: "PLAINTEXT" as const } : security(config, chosen, login, servedCertificate),
    principal,
  };
  if (setting === "off") return { ...base, mode: "off", offReason: "http.console=off" };
  if (chosen === undefined) return { ...base, mode: "off", offReason: noListenerReason(config, login !== undefined) };
  if (chosen.protocol.startsWith("SASL_") && login === undefined)
    return {
      ...base,
      mode: "off",
      offReason: `listener ${chosen.name} is ${chosen.protocol}: the console needs a login (http.console.sasl.jaas.config)`,
    };
  if (setting === "read-only" || setting === "read-write") return { ...base, mode: setting };
  if (config.props["authorizer.class.name"] !== "" && login === undefined)
    return {
      ...base,
      mode: "off",
      offReason:
        "authorizer.class.name is set; set http.console=read-only or read-write to turn it on as User:ANONYMOUS under the ACLs, or give it a login of its own (http.console.sasl.jaas.config)",
    };
  return { ...base, mode: "read-write" };
}

/** http.console.listener, else a SASL listener for a console with a login, else the first PLAINTEXT one. */
function pickListener(config: BrokerConfig, bound: readonly Bound[], hasLogin: boolean): Bound | undefined {
  const named = config.props["http.console.listener"];
  if (named !== "") return bound.find((l) => l.name.toUpperCase() === named.toUpperCase());
  if (hasLogin)
    return bound.find((l) => l.protocol === "SASL_PLAINTEXT") ?? bound.find((l) => l.protocol === "SASL_SSL");
  return bound.find((l) => l.protocol === "PLAINTEXT");
}

function noListenerReason(config: BrokerConfig, hasLogin: boolean): string {
  const named = config.props["http.console.listener"];
  if (named !== "") return `http.console.listener names ${named}, and there is no such listener`;
  return hasLogin
    ? "the console has a login (http.console.sasl.jaas.config) and there is no SASL_PLAINTEXT or SASL_SSL listener"
    : "the console needs a PLAINTEXT listener to talk to, and there is none (or a login of its own for a SASL one: http.console.sasl.jaas.config)";
}

/** How the console reaches its listener: TLS trusting the certificate that listener serves, SASL with its login. */
function security(
  config: BrokerConfig,
  l: Bound,
  login: { username: string; password: string } | undefined,
  servedCertificate: (listener: string) => X509Certificate | undefined,
): ClientSecurity {
  const tls = l.protocol === "SSL" || l.protocol === "SASL_SSL";
  const sasl = l.protocol.startsWith("SASL_") && login !== undefined;
  return {
    protocol: l.protocol as ClientSecurity["protocol"],
    ...(tls
      ? {
          // Its own broker on loopback: the chain and the name cannot be checked against a CA the broker
          // may not have, so the one certificate this listener serves now is the one trusted.
          tls: { rejectUnauthorized: false },
          verifyPeer: (cert: X509Certificate | undefined) => {
            const served = servedCertificate(l.name);
            if (cert === undefined || served === undefined || cert.fingerprint256 !== served.fingerprint256)
              return `listener ${l.name} did not present its own certificate`;
            return undefined;
          },
        }
      : {}),
    ...(sasl ? { sasl: { mechanism: config.props["http.console.sasl.mechanism"], ...login } } : {}),
  };
}

/** Where to reach a listener bound on `host` from this process. */
function loopbackFor(host: string): string {
  if (host === "" || host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
