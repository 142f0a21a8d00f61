import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import type { ClusterMetadata, UserScramCredential } from "../cluster/metadata.js";
import {
  SaslAuthenticationError,
  type SaslMechanismServer,
  type SaslStep,
  type ScramCredential,
} from "./sasl-mechanism.js";

/**
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka speaks them: no channel binding (the
 * gs2 header is `n,,` or `n,a=<authzid>,`), the authorization id, when given, must be the user, Kafka's
 * `tokenauth` extension (delegation tokens) is refused, and the credentials hold only the salt, the
 * stored key and the server key, never the password.
 */
export type ScramMechanism = ScramCredential["mechanism"];

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ["SCRAM-SHA-256", "SCRAM-SHA-512"];

/** Kafka's bounds on the iteration count, for both mechanisms. */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

/** Kafka's mechanism numbers in AlterUserScramCredentials / DescribeUserScramCredentials (0: unknown). */
export const SCRAM_MECHANISM_TYPES: Readonly<Record<ScramMechanism, number>> = {
  "SCRAM-SHA-256": 1,
  "SCRAM-SHA-512": 2,
};

export function scramMechanismOfType(type: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => SCRAM_MECHANISM_TYPES[m] === type);
}

export function isScramMechanism(name: string): name is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(name);
}

const hashOf = (m: ScramMechanism): "sha256" | "sha512" => (m === "SCRAM-SHA-256" ? "sha256" : "sha512");
const hmac = (m: ScramMechanism, key: Buffer, data: Buffer | string): Buffer =>
  createHmac(hashOf(m), key).update(data).digest();
const digest = (m: ScramMechanism, data: Buffer): Buffer => createHash(hashOf(m)).update(data).digest();

/** SaltedPassword: PBKDF2 with the mechanism's HMAC, as long as its hash. */
export function saltedPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  const length = mechanism === "SCRAM-SHA-256" ? 32 : 64;
  return pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, length, hashOf(mechanism));
}

/** The stored form of a salted password (what Kafka's controller keeps from an AlterUserScramCredentials upsertion). */
export function credentialFromSaltedPassword(
  mechanism: ScramMechanism,
  salted: Buffer,
  salt: Buffer,
  iterations: number,
): ScramCredential {
  const clientKey = hmac(mechanism, salted, "Client Key");
  return {
    mechanism,
    salt: Buffer.from(salt),
    storedKey: digest(mechanism, clientKey),
    serverKey: hmac(mechanism, salted, "Server Key"),
    iterations,
  };
}

/** Throws a RangeError when `iterations` is out of Kafka's bounds. */
export function checkIterations(mechanism: ScramMechanism, iterations: number): void {
  if (!Number.isInteger(iterations) || iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
    throw new RangeError(
      `${mechanism} iterations must be between ${SCRAM_MIN_ITERATIONS} and ${SCRAM_MAX_ITERATIONS}, not ${iterations}`,
    );
  }
}

/** A credential for `password`; a random salt unless one is given. Throws when `iterations` is out of Kafka's bounds. */
export function scramCredential(
  mechanism: ScramMechanism,
  password: string,
  iterations: number,
  salt?: Buffer,
): ScramCredential {
  checkIterations(mechanism, iterations);
  const s = salt ?? randomBytes(32);
  return credentialFromSaltedPassword(mechanism, saltedPassword(mechanism, password, s, iterations), s, iterations);
}

/** RFC 5802's saslname: `=2C` for a comma and `=3D` for an equals sign; undefined when badly escaped. */
export function unescapeSaslName(name: string): string | undefined {
  if (/=(?!2C|3D)/.test(name)) return undefined;
  return name.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

export function escapeSaslName(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

/** Options for tests: a fixed server nonce instead of a random one (RFC 7677's example). */
export interface ScramServerOptions {
  readonly serverNonce?: string;
}

interface ClientFirst {
  readonly gs2Header: string;
  readonly user: string;
  readonly bare: string;
  readonly nonce: string;
}

/** What the client sends after a failed step, whatever the reason: no hint of which part was wrong. */
/** What Kafka tells a client for any failed SCRAM exchange; the real reason is only logged. */
const invalidCredentials = (m: ScramMechanism, detail?: string): SaslAuthenticationError =>
  new SaslAuthenticationError(
    `Authentication failed during authentication due to invalid credentials with SASL mechanism ${m}`,
    detail,
  );

/** printable ASCII except the comma (RFC 5802's `printable`). */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;

/** Parses client-first-message; throws SaslAuthenticationError on anything but Kafka's accepted forms. */
export function parseClientFirst(text: string): ClientFirst {
  const m = /^n,(?:a=([^,]*))?,((?:m=[^,]*,)?n=([^,]*),r=([^,]*)((?:,[^,=]+=[^,]*)*))$/.exec(text);
  if (m === null) throw new SaslAuthenticationError("Invalid SCRAM client first message");
  const [, authzid, bare, name, nonce, extensions] = m;
  if (bare!.startsWith("m=")) throw new SaslAuthenticationError("Mandatory SCRAM extensions are not supported");
  const user = unescapeSaslName(name!);
  if (user === undefined || user === "") throw new SaslAuthenticationError("Invalid SCRAM user name");
  if (!PRINTABLE.test(nonce!)) throw new SaslAuthenticationError("Invalid SCRAM client nonce");
  if (authzid !== undefined && authzid !== "" && unescapeSaslName(authzid) !== user) {
    throw new SaslAuthenticationError(
      "Authentication failed: Client requested an authorization id that is different from username",
    );
  }
  for (const ext of (extensions ?? "").split(",").slice(1)) {
    if (ext.split("=")[0] === "tokenauth") {
      throw new SaslAuthenticationError("Delegation token authentication (tokenauth) is not supported");
    }
  }
  const gs2Header = text.slice(0, text.length - bare!.length);
  return { gs2Header, user, bare: bare!, nonce: nonce! };
}

/**
 * A stand-in for an unknown user, so that the exchange goes on as for a known user and fails at the proof
 * like a wrong password: a salt derived from the name and a secret of this process (RFC 5802 section 9).
 */
const FAKE_SECRET = randomBytes(32);
function fakeCredential(mechanism: ScramMechanism, user: string): ScramCredential {
  const salt = hmac(mechanism, FAKE_SECRET, `salt:${user}`).subarray(0, 32);
  const key = hmac(mechanism, FAKE_SECRET, `key:${user}`);
  return { mechanism, salt, storedKey: digest(mechanism, key), serverKey: key, iterations: SCRAM_MIN_ITERATIONS };
}

class ScramServer implements SaslMechanismServer {
  private first: ClientFirst | undefined;
  private serverFirst = "";
  private credential: ScramCredential | undefined;
  private known = false;
  private done = false;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (user: string) => ScramCredential | undefined,
    private readonly options: ScramServerOptions,
  ) {}

  evaluate(token: Buffer): Promise<SaslStep> {
    try {
      return Promise.resolve(this.step(token.toString("utf8")));
    } catch (e) {
      this.done = true;
      return Promise.reject(e instanceof SaslAuthenticationError ? e : new SaslAuthenticationError(String(e)));
    }
  }

  private step(text: string): SaslStep {
    if (this.done) throw new SaslAuthenticationError("The SCRAM exchange is already over");
    if (this.first === undefined) return this.receiveClientFirst(text);
    this.done = true;
    return this.receiveClientFinal(text);
  }

  private receiveClientFirst(text: string): SaslStep {
    const first = parseClientFirst(text);
    const found = this.lookup(first.user);
    this.known = found !== undefined && found.mechanism === this.mechanism;
    const credential = this.known ? found! : fakeCredential(this.mechanism, first.user);
    const serverNonce = this.options.serverNonce ?? randomBytes(24).toString("base64url");
    this.first = first;
    this.credential = credential;
    this.serverFirst = `r=${first.nonce}${serverNonce},s=${credential.salt.toString("base64")},i=${credential.iterations}`;
    return { challenge: Buffer.from(this.serverFirst, "utf8") };
  }

  private receiveClientFinal(text: string): SaslStep {
    const first = this.first!;
    const credential = this.credential!;
    const m = /^(c=([^,]*),r=([^,]*)(?:,[^,=]+=[^,]*)*),p=([A-Za-z0-9+/]+={0,2})$/.exec(text);
    if (m === null) throw invalidCredentials(this.mechanism, "invalid SCRAM client final message");
    const [, withoutProof, channel, nonce, proofText] = m;
    if (channel !== Buffer.from(first.gs2Header, "utf8").toString("base64")) {
      throw invalidCredentials(this.mechanism, "invalid SCRAM channel binding");
    }
    const serverNonce = this.serverFirst.slice(2, this.serverFirst.indexOf(","));
    // RFC 5802 wants the server's nonce back. librdkafka before 2.6.1 (Debian's kcat, many distributions)
    // sends its own nonce again in front of it; Kafka 3.8.1-3.9 accepted that (the nonce must end with the
    // server's), Kafka 4 refuses it. We accept it: the server's random part is still checked.
    if (nonce !== serverNonce && !nonce!.endsWith(serverNonce)) {
      throw invalidCredentials(this.mechanism, "the nonce of the client final message is not the server's");
    }
    const authMessage = `${first.bare},${this.serverFirst},${withoutProof!}`;
    const clientSignature = hmac(this.mechanism, credential.storedKey, authMessage);
    const proof = Buffer.from(proofText!, "base64");
    if (proof.length !== clientSignature.length) throw invalidCredentials(this.mechanism);
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    const ok = timingSafeEqual(digest(this.mechanism, clientKey), credential.storedKey);
    if (!ok || !this.known) throw invalidCredentials(this.mechanism);
    const serverSignature = hmac(this.mechanism, credential.serverKey, authMessage);
    return { challenge: Buffer.from(`v=${serverSignature.toString("base64")}`, "utf8"), authenticatedUser: first.user };
  }
}

/** The server side of one SCRAM exchange; `lookup` answers the user's credential for this mechanism. */
export function createScramServer(
  mechanism: ScramMechanism,
  lookup: (user: string) => ScramCredential | undefined,
  options: ScramServerOptions = {},
): SaslMechanismServer {
  return new ScramServer(mechanism, lookup, options);
}

/** The lookup for `createScramServer`: the user's credential of `mechanism` in the cluster metadata. */
export function scramCredentialLookup(
  metadata: Pick<ClusterMetadata, "scramCredentials">,
  mechanism: ScramMechanism,
): (user: string) => ScramCredential | undefined {
  return (user) => metadata.scramCredentials(user).find((c) => c.credential.mechanism === mechanism)?.credential;
}

/**
 * The start-up bootstrap of first users (Kafka's `kafka-storage format --add-scram`, given once per
 * credential): every spec is parsed first (a bad one throws and nothing is stored), then each credential
 * is stored only if its user has none of that mechanism yet, so that a password changed later with
 * AlterUserScramCredentials is not reverted by the next start. Answers the credentials stored.
 */
export async function bootstrapScramCredentials(
  metadata: Pick<ClusterMetadata, "scramCredentials" | "alterScramCredentials">,
  specs: readonly string[],
): Promise<UserScramCredential[]> {
  const parsed = specs.map(parseAddScram);
  const lookups = new Map(SCRAM_MECHANISMS.map((m) => [m, scramCredentialLookup(metadata, m)]));
  const fresh = parsed.filter((p) => lookups.get(p.credential.mechanism)!(p.user) === undefined);
  if (fresh.length > 0) await metadata.alterScramCredentials(fresh, []);
  return fresh;
}

/**
 * Kafka's `kafka-storage format --add-scram` argument: `MECHANISM=[name=alice,password=secret]`, with
 * optional `iterations=` (default 4096), `salt=` (base64; random by default) and `saltedpassword=`
 * (base64, needs `salt`) instead of `password`; a value may be in double quotes. Throws on anything else.
 */
export function parseAddScram(spec: string): { user: string; credential: ScramCredential } {
  const text = spec.trim();
  const eq = text.indexOf("=");
  if (eq < 0) throw new Error(`Failed to find equals sign in SCRAM argument '${text}'`);
  const mechanism = text.slice(0, eq).trim();
  if (!isScramMechanism(mechanism)) throw new Error(`The add-scram mechanism ${mechanism} is not supported.`);
  const body = text.slice(eq + 1).trim();
  if (!body.startsWith("[") || !body.endsWith("]")) {
    throw new Error("Expected the SCRAM configuration to be in [brackets]");
  }
  const parts = new Map<string, string>();
  for (const component of body.slice(1, -1).split(",")) {
    const i = component.indexOf("=");
    if (i < 0) throw new Error(`No equals sign found in SCRAM component: ${component}`);
    let value = component.slice(i + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    parts.set(component.slice(0, i).trim(), value);
  }
  return { user: takeName(parts), credential: addScramCredential(mechanism, parts) };
}

function takeName(parts: Map<string, string>): string {
  const user = parts.get("name");
  if (user === undefined || user === "") throw new Error("You must supply 'name' to add-scram");
  parts.delete("name");
  return user;
}

function addScramCredential(mechanism: ScramMechanism, parts: Map<string, string>): ScramCredential {
  const take = (k: string): string | undefined => {
    const v = parts.get(k);
    parts.delete(k);
    return v;
  };
  const saltText = take("salt");
  const iterationsText = take("iterations");
  const password = take("password");
  const saltedText = take("saltedpassword");
  if (parts.size > 0) throw new Error(`Unknown SCRAM configurations: ${[...parts.keys()].join(", ")}`);
  const salt = saltText === undefined ? undefined : decodeBase64(saltText, "salt");
  const iterations = iterationsText === undefined ? SCRAM_MIN_ITERATIONS : Number(iterationsText);
  if (!/^\d+$/.test(iterationsText ?? "4096")) throw new Error(`Failed to parse iterations count: ${iterationsText}`);
  if (password !== undefined && saltedText !== undefined) {
    throw new Error("Supply only one of 'password' or 'saltedpassword' to add-scram");
  }
  if (password !== undefined) return scramCredential(mechanism, password, iterations, salt);
  if (saltedText === undefined) throw new Error("You must supply one of 'password' or 'saltedpassword' to add-scram");
  if (salt === undefined) throw new Error("You must supply 'salt' with 'saltedpassword' to add-scram");
  checkIterations(mechanism, iterations);
  return credentialFromSaltedPassword(mechanism, decodeBase64(saltedText, "saltedpassword"), salt, iterations);
}

function decodeBase64(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error(`Failed to decode given ${what}: ${text}`);
  }
  return Buffer.from(text, "base64");
}
