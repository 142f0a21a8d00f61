import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, test } from "node:test";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { ConfigError, buildConfig } from "../src/config.js";
import type { ClusterMetadata } from "../src/cluster/metadata.js";
import { buildListeners } from "../src/server/listener.js";
import { sessionLifetimeMs } from "../src/server/session.js";
import { createOAuthBearerServer, parseClientFirstMessage } from "../src/security/oauth-bearer.js";
import { jwksValidator } from "../src/security/oauth-jwks.js";
import { unsecuredOptions, unsecuredValidator } from "../src/security/oauth-unsecured.js";
import { SaslAuthenticationError } from "../src/security/sasl-mechanism.js";

/**
 * OAUTHBEARER's parts without a broker: the client first message (RFC 7628), Kafka's unsecured
 * validator and its error challenges, the JWKS validator (tokens signed here with jose), the session
 * lifetime of KIP-368, and the settings that stop start-up. The exchanges with real clients, against
 * our broker and Apache Kafka, are in security-oauth.test.ts.
 */

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
const now = (): number => Math.floor(Date.now() / 1000);
const unsigned = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: "none" }): string =>
  `${b64(header)}.${b64(claims)}.`;
const message = (token: string, gs2 = "n,,", extra = ""): Buffer =>
  Buffer.from(`${gs2}\u0001auth=Bearer ${token}\u0001${extra}\u0001`, "utf8");

describe("OAUTHBEARER", () => {
  test("the client first message: token, authorization id, extensions; malformed ones refused", () => {
    assert.deepEqual(parseClientFirstMessage(message("abc.def.")), { token: "abc.def.", authzid: "" });
    assert.deepEqual(parseClientFirstMessage(message("t", "n,a=alice,", "traceId=42\u0001")), {
      token: "t",
      authzid: "alice",
    });
    for (const bad of [
      Buffer.from("n,,\u0001auth=Bearer t\u0001", "utf8"), // no terminator
      Buffer.from("n,,\u0001\u0001", "utf8"), // no auth
      Buffer.from("n,,\u0001auth=Basic dXNlcg==\u0001\u0001", "utf8"),
      Buffer.from("p=tls,,\u0001auth=Bearer t\u0001\u0001", "utf8"),
    ])
      assert.throws(() => parseClientFirstMessage(bad), SaslAuthenticationError, JSON.stringify(bad.toString()));
  });

  test("Kafka's unsecured validator: claims, times, scope, and the error challenge then \\x01", async () => {
    const v = unsecuredValidator(unsecuredOptions(new Map([["unsecuredValidatorRequiredScope", "a b"]])));
    const good = await v.validate(unsigned({ sub: "alice", exp: now() + 60, iat: now(), scope: ["a", "b", "c"] }));
    assert.equal("principal" in good && good.principal, "alice");
    const cases: [Record<string, unknown>, string][] = [
      [{ sub: "alice", exp: now() - 1 }, "invalid_token"],
      [{ sub: "alice", exp: now() + 60, iat: now() + 30 }, "invalid_token"],
      [{ sub: "alice" }, "invalid_token"],
      [{ exp: now() + 60 }, "invalid_token"],
      [{ sub: "alice", exp: now() + 60, scope: "a b" }, "insufficient_scope"], // a string is one scope item
    ];
    for (const [claims, status] of cases) {
      const r = await v.validate(unsigned(claims));
      assert.equal("status" in r && r.status, status, JSON.stringify(claims));
    }
    const signedLooking = await v.validate(`${b64({ alg: "HS256" })}.${b64({ sub: "a", exp: now() + 60 })}.sig`);
    assert.equal("status" in signedLooking && signedLooking.status, "invalid_token");
    // The exchange: the challenge as Kafka words it, then the failure with it as its message.
    const server = createOAuthBearerServer(v);
    const first = await server.evaluate(message(unsigned({ sub: "alice", exp: now() + 60 })));
    assert.equal(first.challenge.toString(), '{"status":"insufficient_scope", "scope":"[a, b]"}');
    await assert.rejects(server.evaluate(Buffer.from([1])), {
      message: '{"status":"insufficient_scope", "scope":"[a, b]"}',
    });
    // Another principal claim; the authorization id must be the principal.
    const byName = unsecuredValidator(unsecuredOptions(new Map([["unsecuredValidatorPrincipalClaimName", "user"]])));
    const s2 = createOAuthBearerServer(byName);
    const step = await s2.evaluate(message(unsigned({ user: "bob", exp: now() + 60 })));
    assert.equal(step.authenticatedUser, "bob");
    assert.ok(step.credentialExpiresAtMs! > Date.now());
    await assert.rejects(
      createOAuthBearerServer(byName).evaluate(message(unsigned({ user: "bob", exp: now() + 60 }), "n,a=eve,")),
      /authorization id \(eve\) that is different from the token's principal name \(bob\)/,
    );
  });

  test("signed tokens against a JWKS file: signature, audience, issuer, expiry; the file reread when it changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tskafka-jwks-"));
    try {
      const [k1, k2] = [await generateKeyPair("ES256"), await generateKeyPair("ES256")];
      const file = join(dir, "jwks.json");
      const publish = async (pair: typeof k1): Promise<void> =>
        writeFileSync(
          file,
          JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k", alg: "ES256" }] }),
        );
      await publish(k1);
      const v = jwksValidator({
        jwksUrl: pathToFileURL(file).href,
        refreshMs: 3_600_000,
        audience: ["kafka"],
        issuer: "https://iss",
        subClaim: "sub",
        scopeClaim: "scope",
        clockSkewSeconds: 30,
      });
      const sign = (pair: typeof k1, aud = "kafka", exp: string | number = "5m"): Promise<string> =>
        new SignJWT({})
          .setProtectedHeader({ alg: "ES256", kid: "k" })
          .setSubject("carol")
          .setIssuer("https://iss")
          .setAudience(aud)
          .setIssuedAt()
          .setExpirationTime(exp)
          .sign(pair.privateKey);
      const ok = await v.validate(await sign(k1));
      assert.equal("principal" in ok && ok.principal, "carol");
      for (const bad of [await sign(k2), await sign(k1, "other"), await sign(k1, "kafka", now() - 120)]) {
        const r = await v.validate(bad);
        assert.equal("status" in r && r.status, "invalid_token");
      }
      await new Promise((r) => setTimeout(r, 20)); // a later modification time
      await publish(k2);
      const rotated = await v.validate(await sign(k2));
      assert.equal("principal" in rotated && rotated.principal, "carol", JSON.stringify(rotated));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("signed tokens against an http JWKS endpoint, fetched again after sasl.oauthbearer.jwks.endpoint.refresh.ms", async () => {
    const [k1, k2] = [await generateKeyPair("ES256"), await generateKeyPair("ES256")];
    let published = k1;
    let fetches = 0;
    const server = createServer((_req, res) => {
      fetches++;
      void exportJWK(published.publicKey).then((jwk) => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ keys: [{ ...jwk, kid: "k", alg: "ES256" }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const v = jwksValidator({
        jwksUrl: `http://127.0.0.1:${port}/jwks`,
        refreshMs: 200,
        audience: [],
        issuer: undefined,
        subClaim: "user",
        scopeClaim: "scope",
        clockSkewSeconds: 0,
      });
      const sign = (pair: typeof k1): Promise<string> =>
        new SignJWT({ user: "dave" })
          .setProtectedHeader({ alg: "ES256", kid: "k" })
          .setIssuedAt()
          .setExpirationTime("5m")
          .sign(pair.privateKey);
      const first = await v.validate(await sign(k1));
      assert.equal("principal" in first && first.principal, "dave", JSON.stringify(first));
      published = k2;
      await new Promise((r) => setTimeout(r, 300));
      const rotated = await v.validate(await sign(k2));
      assert.equal("principal" in rotated && rotated.principal, "dave", JSON.stringify(rotated));
      assert.ok(fetches >= 2, `fetches: ${fetches}`);
    } finally {
      server.close();
    }
  });

  test("KIP-368 session lifetime: the shorter of connections.max.reauth.ms and the credential's", () => {
    const t = 1_000_000;
    assert.equal(sessionLifetimeMs(undefined, 0, t), undefined);
    assert.equal(sessionLifetimeMs(undefined, 5000, t), 5000);
    assert.equal(sessionLifetimeMs(t + 3000, 0, t), 3000);
    assert.equal(sessionLifetimeMs(t + 3000, 5000, t), 3000);
    assert.equal(sessionLifetimeMs(t + 9000, 5000, t), 5000);
    assert.equal(sessionLifetimeMs(t - 10, 5000, t), 0);
  });

  test("settings that stop start-up: no JAAS line, another handler class, a JWKS without audience", () => {
    const start = (props: Record<string, string>): void => {
      const config = buildConfig({
        file: new Map(Object.entries({ listeners: "SASL_PLAINTEXT://127.0.0.1:0", ...props })),
      });
      buildListeners(config, {} as ClusterMetadata);
    };
    const jaas = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;";
    const base = { "sasl.enabled.mechanisms": "OAUTHBEARER" };
    assert.throws(
      () => start(base),
      (e: Error) => e instanceof ConfigError && /OAuthBearerLoginModule/.test(e.message),
    );
    start({ ...base, "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config": jaas });
    const handler = "listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class";
    assert.throws(
      () => start({ ...base, "sasl.jaas.config": jaas, [handler]: "com.example.Handler" }),
      /only org\.apache\.kafka\.common\.security\.oauthbearer\.OAuthBearerValidatorCallbackHandler/,
    );
    const validator = "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler";
    assert.throws(
      () =>
        start({
          ...base,
          "sasl.jaas.config": jaas,
          [handler]: validator,
          "sasl.oauthbearer.jwks.endpoint.url": "https://idp.test/jwks",
        }),
      /sasl\.oauthbearer\.expected\.audience: required/,
    );
  });
});
