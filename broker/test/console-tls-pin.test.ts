import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { after, before, test } from "node:test";
import { KafkaConnection } from "../src/cli/kafka-connection.js";
import { buildConfig } from "../src/config.js";
import { consoleSettings } from "../src/console/settings.js";
import { KEY_PASSWORD, haveOpenssl, makeCertificates, type Certificates } from "./clients/security-target.js";
import { skipUnless } from "./harness.js";

/**
 * The console on a TLS listener of its own broker trusts exactly the certificate that listener serves
 * (its chain and name are not checked: the broker may have no CA for itself): a TLS server on loopback
 * with the test's server certificate is accepted when that is the certificate served, refused otherwise.
 */

const skip = skipUnless(haveOpenssl(), "openssl");
let dir: string;
let certs: Certificates;
let server: Server;
let port: number;

before(async () => {
  if (skip !== undefined) return;
  dir = mkdtempSync(join(tmpdir(), "tskafka-pin-"));
  certs = makeCertificates(dir);
  const pem = readFileSync(certs.serverPem, "utf8");
  server = createServer({ key: pem, cert: pem, passphrase: KEY_PASSWORD }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});

after(async () => {
  if (server !== undefined) await new Promise((r) => server.close(r));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function settingsServing(cert: X509Certificate) {
  const config = buildConfig({ file: new Map([["http.console.listener", "SSL"]]), warn: () => undefined });
  return consoleSettings(config, [{ name: "SSL", protocol: "SSL", host: "127.0.0.1", port }], (name) =>
    name === "SSL" ? cert : undefined,
  );
}

test("the listener's own certificate: connected", { skip }, async () => {
  const s = settingsServing(new X509Certificate(readFileSync(certs.serverPem)));
  assert.equal(s.bootstrap, `127.0.0.1:${port}`);
  assert.equal(s.mode, "read-write");
  const conn = await KafkaConnection.open("127.0.0.1", port, "pin-test", s.security);
  conn.close();
});

test("any other certificate (another CA's, or the CA itself): refused", { skip }, async () => {
  for (const other of [certs.strangerCert, certs.ca]) {
    const s = settingsServing(new X509Certificate(readFileSync(other)));
    await assert.rejects(
      KafkaConnection.open("127.0.0.1", port, "pin-test", s.security),
      /over TLS: listener SSL did not present its own certificate/,
    );
  }
});
