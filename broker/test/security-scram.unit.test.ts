import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import { test } from "node:test";
import { FileClusterMetadata } from "../src/cluster/file-metadata.js";
import type { MetadataEvent } from "../src/cluster/metadata.js";
import {
  SaslAuthenticationError,
  type SaslMechanismServer,
  type ScramCredential,
} from "../src/security/sasl-mechanism.js";
import {
  bootstrapScramCredentials,
  createScramServer,
  escapeSaslName,
  parseAddScram,
  scramCredentialLookup,
  scramCredential,
  unescapeSaslName,
  type ScramMechanism,
} from "../src/security/scram.js";
import { ScramClient as Client } from "./scram-client.js";
import { withTempDir } from "./temp.js";

/** SCRAM-SHA-256/512 server exchanges against a client written here, RFC 7677's example, the credential store. */

async function exchange(server: SaslMechanismServer, client: Client): Promise<string | undefined> {
  const s1 = await server.evaluate(Buffer.from(client.first()));
  assert.equal(s1.authenticatedUser, undefined);
  const s2 = await server.evaluate(Buffer.from(client.final(s1.challenge.toString())));
  client.verify(s2.challenge.toString());
  return s2.authenticatedUser;
}

const store = (entries: Record<string, ScramCredential>) => (user: string) => entries[user];

test("RFC 7677's SCRAM-SHA-256 example, message for message", async () => {
  const credential = scramCredential(
    "SCRAM-SHA-256",
    "pencil",
    4096,
    Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"),
  );
  const server = createScramServer("SCRAM-SHA-256", store({ user: credential }), {
    serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
  });
  const s1 = await server.evaluate(Buffer.from("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
  assert.equal(
    s1.challenge.toString(),
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  );
  const s2 = await server.evaluate(
    Buffer.from(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    ),
  );
  assert.equal(s2.challenge.toString(), "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  assert.equal(s2.authenticatedUser, "user");
});

for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
  test(`${mechanism}: a full exchange, escaped names, authzid, extensions`, async () => {
    const users = {
      alice: scramCredential(mechanism, "alice-secret", 8192),
      "a,b=c": scramCredential(mechanism, "pw", 4096),
    };
    assert.equal(
      await exchange(createScramServer(mechanism, store(users)), new Client(mechanism, "alice", "alice-secret")),
      "alice",
    );
    assert.equal(
      await exchange(createScramServer(mechanism, store(users)), new Client(mechanism, "a,b=c", "pw")),
      "a,b=c",
    );
    const withAuthzid = new Client(mechanism, "alice", "alice-secret", undefined, "n,a=alice,");
    assert.equal(await exchange(createScramServer(mechanism, store(users)), withAuthzid), "alice");
    const withExtension = new Client(mechanism, "alice", "alice-secret", undefined, "n,,", ",foo=bar");
    assert.equal(await exchange(createScramServer(mechanism, store(users)), withExtension), "alice");
  });

  test(`${mechanism}: a wrong password and an unknown user fail alike, at the proof`, async () => {
    const users = { alice: scramCredential(mechanism, "alice-secret", 4096) };
    const messages: string[] = [];
    for (const [user, password] of [
      ["alice", "wrong"],
      ["bob", "alice-secret"],
    ]) {
      const server = createScramServer(mechanism, store(users));
      const client = new Client(mechanism, user!, password!);
      const s1 = await server.evaluate(Buffer.from(client.first()));
      assert.match(s1.challenge.toString(), /^r=[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
      const err = await server.evaluate(Buffer.from(client.final(s1.challenge.toString()))).then(
        () => assert.fail("authenticated"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof SaslAuthenticationError);
      messages.push(err.message);
    }
    assert.equal(messages[0], messages[1]);
    assert.match(messages[0]!, /invalid credentials with SASL mechanism/);
  });
}

test("the unknown user's salt is the same on every attempt (no hint from a changing salt)", async () => {
  const salt = async () => {
    const s = await createScramServer("SCRAM-SHA-256", () => undefined).evaluate(Buffer.from("n,,n=ghost,r=abc"));
    return s.challenge.toString().split(",")[1];
  };
  assert.equal(await salt(), await salt());
});

test("a credential of the other mechanism does not authenticate", async () => {
  const users = { alice: scramCredential("SCRAM-SHA-512", "pw", 4096) };
  await assert.rejects(
    exchange(createScramServer("SCRAM-SHA-256", store(users)), new Client("SCRAM-SHA-256", "alice", "pw")),
  );
});

test("refused client messages", async () => {
  const users = { alice: scramCredential("SCRAM-SHA-256", "pw", 4096) };
  const firstFails = async (text: string) =>
    assert.rejects(
      createScramServer("SCRAM-SHA-256", store(users)).evaluate(Buffer.from(text)),
      SaslAuthenticationError,
    );
  await firstFails("y,,n=alice,r=abc"); // channel binding asked for
  await firstFails("p=tls-unique,,n=alice,r=abc");
  await firstFails("n,a=bob,n=alice,r=abc"); // authzid other than the user
  await firstFails("n,,n=alice,r=abc,tokenauth=true"); // delegation tokens
  await firstFails("n,,m=x,n=alice,r=abc");
  await firstFails("n,,n=al=ice,r=abc"); // bad escape
  await firstFails("n,,n=,r=abc");
  await firstFails("garbage");
  const finalFails = async (override: { nonce?: string; channel?: string }) => {
    const server = createScramServer("SCRAM-SHA-256", store(users));
    const client = new Client("SCRAM-SHA-256", "alice", "pw");
    const s1 = await server.evaluate(Buffer.from(client.first()));
    await assert.rejects(server.evaluate(Buffer.from(client.final(s1.challenge.toString(), override))));
    await assert.rejects(server.evaluate(Buffer.from("again")), /already over/);
  };
  await finalFails({ nonce: "other" });
  await finalFails({ channel: "eSws" }); // "y,," though the client said "n,,"
});

test("SASL names: =2C and =3D", () => {
  assert.equal(escapeSaslName("a,b=c"), "a=2Cb=3Dc");
  assert.equal(unescapeSaslName("a=2Cb=3Dc"), "a,b=c");
  assert.equal(unescapeSaslName("a=2"), undefined);
});

test("scramCredential: Kafka's iteration bounds, random salts, no password kept", () => {
  assert.throws(() => scramCredential("SCRAM-SHA-256", "pw", 4095), RangeError);
  assert.throws(() => scramCredential("SCRAM-SHA-512", "pw", 16385), RangeError);
  const a = scramCredential("SCRAM-SHA-512", "pw", 4096);
  const b = scramCredential("SCRAM-SHA-512", "pw", 4096);
  assert.notDeepEqual(a.salt, b.salt);
  assert.equal(a.storedKey.length, 64);
  assert.equal(a.serverKey.length, 64);
  assert.deepEqual(Object.keys(a).sort(), ["iterations", "mechanism", "salt", "serverKey", "storedKey"]);
});

test("parseAddScram: Kafka's --add-scram syntax", () => {
  const a = parseAddScram("SCRAM-SHA-512=[name=alice,password=alice-secret]");
  assert.equal(a.user, "alice");
  assert.equal(a.credential.mechanism, "SCRAM-SHA-512");
  assert.equal(a.credential.iterations, 4096);
  const salt = Buffer.from("1lv4pdnw4fwq7notcxm0yy1k7q").toString("base64");
  const b = parseAddScram(`SCRAM-SHA-256=[name="bob",iterations=8192,salt="${salt}",password="pw"]`);
  assert.equal(b.user, "bob");
  assert.equal(b.credential.iterations, 8192);
  assert.deepEqual(b.credential, scramCredential("SCRAM-SHA-256", "pw", 8192, Buffer.from(salt, "base64")));
  const salted = pbkdf2Sync("pw", Buffer.from(salt, "base64"), 4096, 32, "sha256").toString("base64");
  const c = parseAddScram(`SCRAM-SHA-256=[name=carol,salt=${salt},saltedpassword=${salted}]`);
  assert.deepEqual(c.credential, scramCredential("SCRAM-SHA-256", "pw", 4096, Buffer.from(salt, "base64")));
  for (const bad of [
    "SCRAM-SHA-1=[name=a,password=b]",
    "SCRAM-SHA-256",
    "SCRAM-SHA-256=name=a,password=b",
    "SCRAM-SHA-256=[password=b]",
    "SCRAM-SHA-256=[name=a]",
    "SCRAM-SHA-256=[name=a,password=b,color=red]",
    "SCRAM-SHA-256=[name=a,password=b,iterations=100]",
    "SCRAM-SHA-256=[name=a,password=b,iterations=20000]",
    "SCRAM-SHA-256=[name=a,password=b,iterations=lots]",
    "SCRAM-SHA-256=[name=a,password=b,salt=@@@]",
    `SCRAM-SHA-256=[name=a,saltedpassword=${salted}]`,
  ]) {
    assert.throws(() => parseAddScram(bad), Error, bad);
  }
});

test("credentials as cluster metadata: kept across a reopen, watched, deleted", async () => {
  await withTempDir("tskafka-scram-", async (dir) => {
    const m = await FileClusterMetadata.open(dir);
    const events: MetadataEvent[] = [];
    m.watch("scramCredentials", (e) => events.push(e));
    const alice = scramCredential("SCRAM-SHA-256", "a", 4096);
    const alice512 = scramCredential("SCRAM-SHA-512", "a", 8192);
    const bob = scramCredential("SCRAM-SHA-512", "b", 4096);
    await m.alterScramCredentials(
      [
        { user: "alice", credential: alice },
        { user: "alice", credential: alice512 },
        { user: "bob", credential: bob },
      ],
      [],
    );
    assert.equal(m.scramCredentials().length, 3);
    assert.deepEqual(m.scramCredentials("bob"), [{ user: "bob", credential: bob }]);
    assert.deepEqual(m.scramCredentials("nobody"), []);
    await m.alterScramCredentials([], [{ user: "alice", mechanism: "SCRAM-SHA-256" }]);
    await m.close();
    const again = await FileClusterMetadata.open(dir);
    assert.deepEqual(again.scramCredentials("alice"), [{ user: "alice", credential: alice512 }]);
    assert.deepEqual(again.scramCredentials("bob"), [{ user: "bob", credential: bob }]);
    await again.alterScramCredentials([], [{ user: "bob", mechanism: "SCRAM-SHA-512" }]);
    await again.close();
    assert.deepEqual((await FileClusterMetadata.open(dir)).scramCredentials("bob"), []);
    assert.deepEqual(events, [
      { kind: "scramCredentials", users: ["alice", "bob"] },
      { kind: "scramCredentials", users: ["alice"] },
    ]);
  });
});

test("bootstrapScramCredentials: stores first users once, never reverts a later change", async () => {
  await withTempDir("tskafka-scram-", async (dir) => {
    const m = await FileClusterMetadata.open(dir);
    const specs = ["SCRAM-SHA-512=[name=alice,password=first]", "SCRAM-SHA-256=[name=alice,password=first]"];
    assert.equal((await bootstrapScramCredentials(m, specs)).length, 2);
    const changed = scramCredential("SCRAM-SHA-512", "second", 4096);
    await m.alterScramCredentials([{ user: "alice", credential: changed }], []);
    assert.deepEqual(await bootstrapScramCredentials(m, specs), []);
    assert.equal(scramCredentialLookup(m, "SCRAM-SHA-512")("alice"), changed);
    await assert.rejects(bootstrapScramCredentials(m, ["SCRAM-SHA-512=[name=bob,password=x]", "bad"]));
    assert.deepEqual(m.scramCredentials("bob"), [], "nothing stored when a spec is bad");
    const server = createScramServer("SCRAM-SHA-256", scramCredentialLookup(m, "SCRAM-SHA-256"));
    const client = new Client("SCRAM-SHA-256", "alice", "first");
    const s1 = await server.evaluate(Buffer.from(client.first()));
    const s2 = await server.evaluate(Buffer.from(client.final(s1.challenge.toString())));
    assert.equal(s2.authenticatedUser, "alice");
    await m.close();
  });
});
