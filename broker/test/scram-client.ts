import assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { escapeSaslName, type ScramMechanism } from "../src/security/scram.js";

const hashOf = (m: ScramMechanism) => (m === "SCRAM-SHA-256" ? "sha256" : "sha512");
const hmac = (m: ScramMechanism, key: Buffer, data: string) => createHmac(hashOf(m), key).update(data).digest();

/** A SCRAM client per RFC 5802 for tests, independent of the server's code (only the name escaping is shared). */
export class ScramClient {
  private bare = "";
  private serverSignature = Buffer.alloc(0);

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly user: string,
    private readonly password: string,
    private readonly nonce = randomBytes(18).toString("base64"),
    private readonly gs2 = "n,,",
    private readonly extensions = "",
  ) {}

  first(): string {
    this.bare = `n=${escapeSaslName(this.user)},r=${this.nonce}${this.extensions}`;
    return this.gs2 + this.bare;
  }

  final(serverFirst: string, override: { nonce?: string; channel?: string } = {}): string {
    const attrs = new Map(serverFirst.split(",").map((kv) => [kv[0]!, kv.slice(2)] as const));
    const nonce = attrs.get("r")!;
    assert.ok(nonce.startsWith(this.nonce) && nonce.length > this.nonce.length, "the server appends its nonce");
    const salted = pbkdf2Sync(
      this.password,
      Buffer.from(attrs.get("s")!, "base64"),
      Number(attrs.get("i")),
      this.mechanism === "SCRAM-SHA-256" ? 32 : 64,
      hashOf(this.mechanism),
    );
    const channel = override.channel ?? Buffer.from(this.gs2).toString("base64");
    const withoutProof = `c=${channel},r=${override.nonce ?? nonce}`;
    const authMessage = `${this.bare},${serverFirst},${withoutProof}`;
    const clientKey = hmac(this.mechanism, salted, "Client Key");
    const storedKey = createHash(hashOf(this.mechanism)).update(clientKey).digest();
    const signature = hmac(this.mechanism, storedKey, authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    this.serverSignature = hmac(this.mechanism, hmac(this.mechanism, salted, "Server Key"), authMessage);
    return `${withoutProof},p=${proof.toString("base64")}`;
  }

  verify(serverFinal: string): void {
    assert.equal(serverFinal, `v=${this.serverSignature.toString("base64")}`);
  }
}
