import { timingSafeEqual, createHash } from "node:crypto";
import { SaslAuthenticationError, type SaslMechanismServer, type SaslStep } from "./sasl-mechanism.js";

/**
 * SASL PLAIN (RFC 4616) with the users of a JAAS text as Kafka's PlainLoginModule takes them:
 * `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`
 * (the `username`/`password` options are the broker's own client login and are ignored here).
 */

const PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule";

export class JaasSyntaxError extends Error {}

/** The options of a JAAS text's first login module: `<class> <flag> key=value ...;`. */
export function parseJaasOptions(text: string): { module: string; options: Map<string, string> } {
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^\s=;"]+)|(=)|(;))/y;
  const tokens: { text: string; kind: "word" | "quoted" | "=" | ";" }[] = [];
  let pos = 0;
  const trimmed = text.trimEnd();
  while (pos < trimmed.length) {
    re.lastIndex = pos;
    const m = re.exec(trimmed);
    if (m === null) throw new JaasSyntaxError(`unexpected text at ${pos}: ${trimmed.slice(pos, pos + 20)}`);
    pos = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ text: m[1].replace(/\\(.)/g, "$1"), kind: "quoted" });
    else if (m[2] !== undefined) tokens.push({ text: m[2], kind: "word" });
    else tokens.push({ text: m[3] ?? m[4]!, kind: m[3] !== undefined ? "=" : ";" });
  }
  const [module, flag, ...rest] = tokens;
  if (
    module?.kind !== "word" ||
    flag?.kind !== "word" ||
    !/^(required|requisite|sufficient|optional)$/i.test(flag.text)
  )
    throw new JaasSyntaxError('expected `<LoginModule class> required key="value" ...;`');
  const options = new Map<string, string>();
  let i = 0;
  for (; i + 2 < rest.length && rest[i]!.kind === "word" && rest[i + 1]!.kind === "="; i += 3) {
    const value = rest[i + 2]!;
    if (value.kind !== "word" && value.kind !== "quoted") throw new JaasSyntaxError(`no value for ${rest[i]!.text}`);
    options.set(rest[i]!.text, value.text);
  }
  if (rest[i]?.kind !== ";") throw new JaasSyntaxError('expected `key="value"` options ending with `;`');
  return { module: module.text, options };
}

/** The users (name to password) of a PlainLoginModule JAAS text; throws JaasSyntaxError when it is not one. */
export function plainUsers(jaas: string): Map<string, string> {
  const { module, options } = parseJaasOptions(jaas);
  if (module !== PLAIN_MODULE) throw new JaasSyntaxError(`expected ${PLAIN_MODULE}, found ${module}`);
  const users = new Map<string, string>();
  for (const [k, v] of options) if (k.startsWith("user_") && k.length > 5) users.set(k.slice(5), v);
  return users;
}

/** Equal-time comparison of two passwords (digests, so that their lengths do not show). */
function samePassword(a: string, b: string): boolean {
  const h = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(h(a), h(b));
}

class PlainServer implements SaslMechanismServer {
  readonly mechanism = "PLAIN";
  private done = false;

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  evaluate(token: Buffer): Promise<SaslStep> {
    if (this.done) return Promise.reject(new SaslAuthenticationError("PLAIN takes one token"));
    this.done = true;
    const parts = token.toString("utf8").split("\u0000");
    if (parts.length !== 3)
      return Promise.reject(new SaslAuthenticationError("Invalid SASL/PLAIN response: expected 3 tokens"));
    const [authzid, user, password] = parts as [string, string, string];
    if (user === "")
      return Promise.reject(new SaslAuthenticationError("Authentication failed: username not specified"));
    if (password === "")
      return Promise.reject(new SaslAuthenticationError("Authentication failed: password not specified"));
    if (authzid !== "" && authzid !== user)
      return Promise.reject(
        new SaslAuthenticationError(
          "Authentication failed: Client requested an authorization id that is different from username",
        ),
      );
    const expected = this.users.get(user);
    // Unknown users are compared too, so that their answer takes as long as a wrong password's.
    const ok = samePassword(password, expected ?? "\u0000unknown") && expected !== undefined;
    if (!ok) return Promise.reject(new SaslAuthenticationError("Authentication failed: Invalid username or password"));
    return Promise.resolve({ challenge: Buffer.alloc(0), authenticatedUser: user });
  }
}

/** The server side of one PLAIN exchange against `users`. */
export function createPlainServer(users: ReadonlyMap<string, string>): SaslMechanismServer {
  return new PlainServer(users);
}
