import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { skipUnless } from "./harness.js";
import { runMain, type Run } from "./cli-run.js";
import {
  KEY_PASSWORD,
  SEC_TARGET_KIND,
  SEC_TARGET_REQUIREMENT,
  USERS,
  haveSecTarget,
  startSecTarget,
  type SecTarget,
} from "./clients/security-target.js";

/**
 * The `tskafka` CLI over secured listeners with Kafka's client properties (--command-config, as Kafka's
 * tools take them): SASL_SSL with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN over PEM and PKCS12 trust
 * stores, mutual TLS on the SSL listener, and the failures people meet (a wrong password, a mechanism the
 * listener lacks, a server certificate not trusted). Against tskafka, or Apache Kafka 4.4 with
 * TSKAFKA_SEC_TARGET=kafka: the same steps and expectations.
 */

const skip = skipUnless(haveSecTarget(), SEC_TARGET_REQUIREMENT);
const PKCS12_TRUST_PASSWORD = "trust-pw";

function cli(args: readonly string[], input = ""): Promise<Run> {
  return runMain(args, input, 30_000);
}

async function ok(args: readonly string[], input = ""): Promise<string> {
  const r = await cli(args, input);
  assert.equal(r.code, 0, `tskafka ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

let target: SecTarget;
/** Writes a client properties file; answers its path. */
let props: (name: string, p: Record<string, string>) => string;

before(
  async () => {
    if (skip !== undefined) return;
    target = await startSecTarget();
    props = (name, p) => {
      const file = join(target.certs.dir, `${name}.properties`);
      writeFileSync(
        file,
        Object.entries(p)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(""),
      );
      return file;
    };
  },
  { timeout: 150_000 },
);

after(async () => {
  await target?.cleanup();
});

const jaas = (module: "plain" | "scram", user: { name: string; password: string }): string =>
  `org.apache.kafka.common.security.${module}.${module === "plain" ? "Plain" : "Scram"}LoginModule required ` +
  `username="${user.name}" password="${user.password}";`;

describe(`the CLI over SASL_SSL and mutual TLS (${SEC_TARGET_KIND})`, { skip, timeout: 120_000 }, () => {
  test("SCRAM-SHA-512 with a PEM trust store: create, produce, consume, describe, delete", async () => {
    const config = props("scram512", {
      "security.protocol": "SASL_SSL",
      "sasl.mechanism": "SCRAM-SHA-512",
      "sasl.jaas.config": jaas("scram", USERS.scram),
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": target.certs.ca,
    });
    const b = ["-b", target.saslSsl, "--command-config", config];
    assert.match(await ok(["topics", "create", "sec-cli", "-p", "2", ...b]), /created topic sec-cli/);
    const lines = ["one", "two", "three"];
    await ok(["produce", "sec-cli", "--key", "k1", ...b], lines.join("\n") + "\n");
    const got = (await ok(["consume", "sec-cli", "--from-beginning", "-n", "3", "--timeout-ms", "15000", ...b]))
      .trim()
      .split("\n");
    assert.deepEqual(got, lines);
    assert.match(await ok(["topics", "describe", "sec-cli", ...b]), /Topic sec-cli {2}id \S+ {2}partitions 2/);
  });

  test("SCRAM-SHA-256, and PLAIN with a PKCS12 trust store", async () => {
    const sha256 = props("scram256", {
      "security.protocol": "SASL_SSL",
      "sasl.mechanism": "SCRAM-SHA-256",
      "sasl.jaas.config": jaas("scram", USERS.scram),
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": target.certs.ca,
    });
    assert.match(await ok(["topics", "list", "-b", target.saslSsl, "--command-config", sha256]), /sec-cli/);
    const p12 = join(target.certs.dir, "ca-trust.p12");
    const made = spawnSync(
      "openssl",
      [
        "pkcs12",
        "-export",
        "-nokeys",
        "-in",
        target.certs.ca,
        "-out",
        p12,
        "-passout",
        `pass:${PKCS12_TRUST_PASSWORD}`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(made.status, 0, made.stderr);
    const plain = props("plain", {
      "security.protocol": "SASL_SSL",
      "sasl.mechanism": "PLAIN",
      "sasl.jaas.config": jaas("plain", USERS.plain),
      "ssl.truststore.type": "PKCS12",
      "ssl.truststore.location": p12,
      "ssl.truststore.password": PKCS12_TRUST_PASSWORD,
    });
    const out = await ok([
      "consume",
      "sec-cli",
      "--from-beginning",
      "-n",
      "1",
      "-b",
      target.saslSsl,
      "--command-config",
      plain,
    ]);
    assert.equal(out, "one\n");
  });

  test("mutual TLS on the SSL listener with a PEM key store (encrypted key)", async () => {
    const config = props("mtls", {
      "security.protocol": "SSL",
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": target.certs.ca,
      "ssl.keystore.type": "PEM",
      "ssl.keystore.location": target.certs.clientPem,
      "ssl.key.password": KEY_PASSWORD,
    });
    assert.match(await ok(["topics", "list", "-b", target.ssl, "--command-config", config]), /sec-cli/);
    // Without the key store, the listener (ssl.client.auth=required) ends the handshake.
    const noCert = props("nocert", {
      "security.protocol": "SSL",
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": target.certs.ca,
    });
    const refused = await cli(["topics", "list", "-b", target.ssl, "--command-config", noCert]);
    assert.equal(refused.code, 1);
    assert.doesNotMatch(refused.stdout, /sec-cli/);
  });

  test("failures: a wrong password, a mechanism the listener lacks, an untrusted server, a bad file", async () => {
    const wrong = props("wrong", {
      "security.protocol": "SASL_SSL",
      "sasl.mechanism": "SCRAM-SHA-512",
      "sasl.jaas.config": jaas("scram", { name: USERS.scram.name, password: "not-it" }),
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": target.certs.ca,
    });
    const denied = await cli(["topics", "list", "-b", target.saslSsl, "--command-config", wrong]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /SASL authentication as alice failed/);

    const gssapi = props("gssapi", {
      "security.protocol": "SASL_SSL",
      "sasl.mechanism": "OAUTHBEARER",
      "sasl.jaas.config": jaas("plain", USERS.plain),
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": target.certs.ca,
    });
    const unsupported = await cli(["topics", "list", "-b", target.saslSsl, "--command-config", gssapi]);
    assert.equal(unsupported.code, 2);
    assert.match(unsupported.stderr, /sasl\.mechanism: OAUTHBEARER is not supported here/);

    const stranger = props("stranger", {
      "security.protocol": "SASL_SSL",
      "sasl.mechanism": "PLAIN",
      "sasl.jaas.config": jaas("plain", USERS.plain),
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": target.certs.strangerCert,
    });
    const untrusted = await cli(["topics", "list", "-b", target.saslSsl, "--command-config", stranger]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /over TLS: .*(certificate|issuer)/i);

    const jks = props("jks", { "security.protocol": "SSL", "ssl.truststore.location": target.certs.ca });
    const refused = await cli(["topics", "list", "-b", target.ssl, "--command-config", jks]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /ssl\.truststore\.type: JKS trust stores are not supported/);

    await ok([
      "topics",
      "delete",
      "sec-cli",
      "-b",
      target.saslSsl,
      "--command-config",
      join(target.certs.dir, "scram512.properties"),
    ]);
  });
});
