import type { BrokerConfig } from "../config.js";
import type { ConsoleMode } from "./console.js";

/**
 * What the console may do and whom it talks to, from `http.console` and the listeners. The console is a
 * client of the first PLAINTEXT listener, so its principal is User:ANONYMOUS. `auto` turns it off when an
 * authorizer is configured: whoever reaches the HTTP port would otherwise act as ANONYMOUS, maybe from
 * where the Kafka listener is not reachable; an operator opts in with read-only or read-write, and the
 * ACLs of User:ANONYMOUS then decide what the console sees and does.
 */
export function consoleSettings(
  config: BrokerConfig,
  bound: readonly { protocol: string; host: string; port: number }[],
): { bootstrap: string | undefined; mode: ConsoleMode; offReason?: string } {
  const setting = config.props["http.console"];
  const plain = bound.find((l) => l.protocol === "PLAINTEXT");
  const bootstrap = plain === undefined ? undefined : `${loopbackFor(plain.host)}:${plain.port}`;
  if (setting === "off") return { bootstrap, mode: "off", offReason: "http.console=off" };
  if (bootstrap === undefined)
    return {
      bootstrap,
      mode: "off",
      offReason: "the console needs a PLAINTEXT listener to talk to, and there is none",
    };
  if (setting === "read-only" || setting === "read-write") return { bootstrap, mode: setting };
  if (config.props["authorizer.class.name"] !== "")
    return {
      bootstrap,
      mode: "off",
      offReason:
        "authorizer.class.name is set; set http.console=read-only or read-write to turn it on as User:ANONYMOUS under the ACLs",
    };
  return { bootstrap, mode: "read-write" };
}

/** Where to reach a listener bound on `host` from this process. */
function loopbackFor(host: string): string {
  if (host === "" || host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
