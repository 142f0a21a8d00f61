import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { escapeSaslName, saltedPassword, SCRAM_MIN_ITERATIONS, type ScramMechanism } from "../security/scram.js";

/**
 * The client side of SASL PLAIN and SCRAM-SHA-256/512 for the CLI and the console: the tokens a client
 * sends in SaslAuthenticate, one step at a time, and the check of the server's signature (a SCRAM
 * server proves that it knows the credential too).
 */

export type ClientMechanism = "PLAIN" | ScramMechanism;
export const CLIENT_MECHANISMS: readonly ClientMechanism[] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

export interface SaslCredentials {
  readonly mechanism: ClientMechanism;
  readonly username: string;
  readonly password: string;
}

/** One exchange: `respond` gets the server's last bytes (empty at first) and answers the next token, or undefined when done. */
export interface SaslClientExchange {
  respond(server: Buffer): Buffer | undefined;
}

export function saslClient(c: SaslCredentials): SaslClientExchange {
  if (c.mechanism === "PLAIN") {
    let sent = false;
    return {
      respond: () => {
        if (sent) return undefined;
        sent = true;
        return Buffer.from(`\u0000${c.username}\u0000${c.password}`, "utf8");
      },
    };
  }
  return new ScramClientExchange(c.mechanism, c.username, c.password);
}

const hashOf = (m: ScramMechanism): "sha256" | "sha512" => (m === "SCRAM-SHA-256" ? "sha256" : "sha512");
const hmac = (m: ScramMechanism, key: Buffer, data: string): Buffer => createHmac(hashOf(m), key).update(data).digest();

/** RFC 5802 from the client's side, without channel binding (`n,,`), as Kafka's clients speak it. */
class ScramClientExchange implements SaslClientExchange {
  private step = 0;
  private readonly nonce = randomBytes(24).toString("base64url");
  private readonly bare: string;
  private serverSignature: Buffer = Buffer.alloc(0);

  constructor(
    private readonly mechanism: ScramMechanism,
    username: string,
    private readonly password: string,
  ) {
    this.bare = `n=${escapeSaslName(username)},r=${this.nonce}`;
  }

  respond(server: Buffer): Buffer | undefined {
    this.step++;
    if (this.step === 1) return Buffer.from(`n,,${this.bare}`, "utf8");
    if (this.step === 2) return Buffer.from(this.final(server.toString("utf8")), "utf8");
    this.verify(server.toString("utf8"));
    return undefined;
  }

  private final(serverFirst: string): string {
    const attrs = new Map(serverFirst.split(",").map((kv) => [kv.slice(0, 1), kv.slice(2)] as const));
    const nonce = attrs.get("r") ?? "";
    const iterations = Number(attrs.get("i"));
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length)
      throw new Error("SCRAM: the server's nonce does not extend ours");
    if (!Number.isInteger(iterations) || iterations < SCRAM_MIN_ITERATIONS)
      throw new Error(`SCRAM: the server asks for ${attrs.get("i")} iterations (at least ${SCRAM_MIN_ITERATIONS})`);
    const salted = saltedPassword(
      this.mechanism,
      this.password,
      Buffer.from(attrs.get("s") ?? "", "base64"),
      iterations,
    );
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.bare},${serverFirst},${withoutProof}`;
    const clientKey = hmac(this.mechanism, salted, "Client Key");
    const storedKey = createHash(hashOf(this.mechanism)).update(clientKey).digest();
    const signature = hmac(this.mechanism, storedKey, authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    this.serverSignature = hmac(this.mechanism, hmac(this.mechanism, salted, "Server Key"), authMessage);
    return `${withoutProof},p=${proof.toString("base64")}`;
  }

  private verify(serverFinal: string): void {
    const v = /^v=([A-Za-z0-9+/=]+)$/.exec(serverFinal.trim());
    const got = Buffer.from(v?.[1] ?? "", "base64");
    if (got.length !== this.serverSignature.length || !timingSafeEqual(got, this.serverSignature))
      throw new Error("SCRAM: the server's signature is wrong (it does not know the credential)");
  }
}
