import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import {
  ApiKey,
  createApiVersionsRequest,
  createDescribeClusterRequest,
  createFindCoordinatorRequest,
  createMetadataRequest,
  decodeResponse,
  encodeRequestFrame,
  type ApiRequests,
  type ApiResponses,
} from "@tskafka/protocol";
import { createPlainServer, plainUsers } from "../src/security/plain.js";
import { mapPrincipal, opensslCipherName, parseMappingRules } from "../src/security/tls.js";
import { ScramClient } from "./scram-client.js";
import { freePort, haveCommand, skipUnless, startBroker, waitFor, type BrokerProcess } from "./harness.js";

/**
 * Several listeners (PLAINTEXT, SSL with requested client certificates, SASL_PLAINTEXT with PLAIN) on a
 * broker started as a process, spoken to with Node's own net/tls and the generated codecs: advertised
 * addresses per listener, TLS and mutual TLS, SASL PLAIN with SaslHandshake v1 + SaslAuthenticate and
 * with the v0 bare tokens, and the pre-authentication rules (gating, 512 KiB frames, failure closes).
 * Certificates are made at test time with openssl in a temp directory.
 */

const SASL_AUTHENTICATION_FAILED = 58;
const UNSUPPORTED_SASL_MECHANISM = 33;
const ILLEGAL_SASL_STATE = 34;
const CLIENT_DN = "CN=client one,OU=eng,O=Test Org,C=US";

/** A Kafka connection over any socket: requests in order, answers matched in order. */
class Wire {
  private buffered = Buffer.alloc(0);
  private readonly waiting: ((frame: Buffer | Error) => void)[] = [];
  private correlationId = 0;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        this.waiting.shift()?.(frame);
      }
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        for (const w of this.waiting.splice(0)) w(new Error("connection closed"));
        resolve();
      }),
    );
  }

  /** The next frame (its payload), or an error when the connection closes first. */
  nextFrame(): Promise<Buffer> {
    return new Promise((resolve, reject) => this.waiting.push((f) => (f instanceof Error ? reject(f) : resolve(f))));
  }

  async request<K extends keyof ApiRequests & keyof ApiResponses>(
    apiKey: K,
    version: number,
    body: ApiRequests[K],
  ): Promise<ApiResponses[K]> {
    const correlationId = ++this.correlationId;
    const header = { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: "listeners-test" };
    const reply = this.nextFrame();
    this.socket.write(encodeRequestFrame(header, body));
    return decodeResponse(await reply, apiKey, version).body as ApiResponses[K];
  }

  /** Resolves when the broker closes the connection; fails after `ms`. */
  async closedWithin(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function plainConnect(port: number): Promise<Wire> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, "127.0.0.1", () => resolve(new Wire(s)));
    s.once("error", reject);
  });
}

function tlsWire(port: number, ca: string, client?: { cert: string; key: string }): Promise<Wire> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost", ...client }, () =>
      resolve(new Wire(s)),
    );
    s.once("error", reject);
  });
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore", timeout: 30_000 });
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all PEM. */
async function makeCertificates(dir: string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(dir, ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test ca"]);
  await writeFile(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  for (const [name, subj] of [
    ["server", "/CN=localhost"],
    ["client", "/C=US/O=Test Org/OU=eng/CN=client one"],
  ] as const) {
    openssl(dir, ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj]);
    const ext = name === "server" ? ["-extfile", "san.ext"] : [];
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-out",
      `${name}.pem`,
      ...ext,
    ]);
  }
  const bundle = (await readFile(join(dir, "server.pem"), "utf8")) + (await readFile(join(dir, "server.key"), "utf8"));
  await writeFile(join(dir, "server-keystore.pem"), bundle);
}

/** SASL PLAIN's one token. */
const plainToken = (user: string, password: string): Buffer => Buffer.from(`\u0000${user}\u0000${password}`, "utf8");

const skip = skipUnless(haveCommand("openssl", ["version"]), "openssl");

describe("listeners, TLS and SASL PLAIN", { skip, timeout: 120_000 }, () => {
  let broker: BrokerProcess;
  let dir: string;
  let ca: string;
  let sslPort: number;
  let saslPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tskafka-tls-"));
    await makeCertificates(dir);
    ca = await readFile(join(dir, "ca.pem"), "utf8");
    sslPort = await freePort();
    saslPort = await freePort();
    broker = await startBroker({
      properties: {
        listeners: `PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:${sslPort},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
        "advertised.listeners": "SSL://ssl-advertised.test:29093,SASL_PLAINTEXT://sasl-advertised.test:29094",
        "inter.broker.listener.name": "PLAINTEXT",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": join(dir, "server-keystore.pem"),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": join(dir, "ca.pem"),
        "listener.name.ssl.ssl.client.auth": "requested",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config":
          'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret" user_bob="bob pw";',
        "connection.failed.authentication.delay.ms": 100,
      },
    });
  });

  after(async () => {
    if (process.env.DEBUG_LISTENERS) console.log(broker?.output());
    await broker?.stop();
    await broker?.cleanup();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test("PLAINTEXT is as before: ApiVersions, Metadata with its own address", async () => {
    const c = await plainConnect(broker.port);
    const versions = await c.request(
      ApiKey.ApiVersions,
      3,
      createApiVersionsRequest({ clientSoftwareName: "t", clientSoftwareVersion: "1" }),
    );
    assert.equal(versions.errorCode, 0);
    const keys = versions.apiKeys.map((k) => k.apiKey);
    assert.ok(keys.includes(ApiKey.SaslHandshake) && keys.includes(ApiKey.SaslAuthenticate));
    const md = await c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: [] }));
    assert.deepEqual(
      md.brokers.map((b) => [b.host, b.port]),
      [["127.0.0.1", broker.port]],
    );
    const hs = await c.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" });
    assert.equal(hs.errorCode, ILLEGAL_SASL_STATE, "no SASL on a PLAINTEXT listener");
    c.close();
  });

  test("SSL: ApiVersions over TLS; Metadata, DescribeCluster, FindCoordinator answer the SSL advertised address", async () => {
    const c = await tlsWire(sslPort, ca);
    const versions = await c.request(
      ApiKey.ApiVersions,
      3,
      createApiVersionsRequest({ clientSoftwareName: "t", clientSoftwareVersion: "1" }),
    );
    assert.equal(versions.errorCode, 0);
    const md = await c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: [] }));
    assert.deepEqual(
      md.brokers.map((b) => [b.host, b.port]),
      [["ssl-advertised.test", 29093]],
    );
    const dc = await c.request(ApiKey.DescribeCluster, 1, createDescribeClusterRequest({ endpointType: 1 }));
    assert.deepEqual([dc.brokers[0]!.host, dc.brokers[0]!.port], ["ssl-advertised.test", 29093]);
    const fc = await c.request(
      ApiKey.FindCoordinator,
      4,
      createFindCoordinatorRequest({ keyType: 0, coordinatorKeys: ["g"] }),
    );
    assert.deepEqual([fc.coordinators[0]!.host, fc.coordinators[0]!.port], ["ssl-advertised.test", 29093]);
    c.close();
  });

  test("mutual TLS: the client certificate's subject is the principal", async () => {
    const cert = await readFile(join(dir, "client.pem"), "utf8");
    const key = await readFile(join(dir, "client.key"), "utf8");
    const c = await tlsWire(sslPort, ca, { cert, key });
    const versions = await c.request(ApiKey.ApiVersions, 0, createApiVersionsRequest());
    assert.equal(versions.errorCode, 0);
    await waitFor("the principal in the log", () => broker.output().includes(`as User:${CLIENT_DN}`), 5_000);
    c.close();
  });

  test("SASL PLAIN (handshake v1, SaslAuthenticate v2): success, then requests are served", async () => {
    const c = await plainConnect(saslPort);
    const versions = await c.request(
      ApiKey.ApiVersions,
      3,
      createApiVersionsRequest({ clientSoftwareName: "t", clientSoftwareVersion: "1" }),
    );
    assert.equal(versions.errorCode, 0, "ApiVersions is served before authentication");
    const hs = await c.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" });
    assert.equal(hs.errorCode, 0);
    assert.deepEqual(hs.mechanisms, ["PLAIN", "SCRAM-SHA-256"]);
    const auth = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: plainToken("bob", "bob pw") });
    assert.equal(auth.errorCode, 0, auth.errorMessage ?? "");
    assert.equal(auth.sessionLifetimeMs, 0n);
    const md = await c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: [] }));
    assert.deepEqual(
      md.brokers.map((b) => [b.host, b.port]),
      [["sasl-advertised.test", 29094]],
    );
    const again = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: plainToken("bob", "bob pw") });
    assert.equal(again.errorCode, SASL_AUTHENTICATION_FAILED, "once authenticated, as Kafka");
    c.close();
    await waitFor("the log line", () => broker.output().includes("authenticated as User:bob"), 5_000);
  });

  test("SASL PLAIN with a wrong password: SASL_AUTHENTICATION_FAILED, a log line, then closed", async () => {
    const c = await plainConnect(saslPort);
    await c.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" });
    const started = Date.now();
    const auth = await c.request(ApiKey.SaslAuthenticate, 1, { authBytes: plainToken("alice", "wrong") });
    assert.equal(auth.errorCode, SASL_AUTHENTICATION_FAILED);
    assert.match(auth.errorMessage ?? "", /Invalid username or password/);
    await c.closedWithin(5_000);
    assert.ok(Date.now() - started >= 90, "closed after connection.failed.authentication.delay.ms");
    await waitFor(
      "the failure in the log",
      () => /failed authentication from .* SASL_PLAINTEXT/.test(broker.output()),
      5_000,
    );
  });

  test("an unknown user and an unsupported mechanism are refused and closed", async () => {
    const c = await plainConnect(saslPort);
    await c.request(ApiKey.SaslHandshake, 0, { mechanism: "PLAIN" });
    c.socket.write(Buffer.concat([Buffer.from([0, 0, 0, 13]), plainToken("nobody", "secret")]));
    await c.closedWithin(5_000);
    const d = await plainConnect(saslPort);
    const hs = await d.request(ApiKey.SaslHandshake, 1, { mechanism: "GSSAPI" });
    assert.equal(hs.errorCode, UNSUPPORTED_SASL_MECHANISM);
    assert.deepEqual(hs.mechanisms, ["PLAIN", "SCRAM-SHA-256"]);
    await d.closedWithin(5_000);
  });

  test("SaslHandshake v0: the following frames are bare tokens, then requests again", async () => {
    const c = await plainConnect(saslPort);
    const hs = await c.request(ApiKey.SaslHandshake, 0, { mechanism: "PLAIN" });
    assert.equal(hs.errorCode, 0);
    const token = plainToken("alice", "alice-secret");
    const size = Buffer.alloc(4);
    size.writeInt32BE(token.length, 0);
    const reply = c.nextFrame();
    c.socket.write(Buffer.concat([size, token]));
    assert.equal((await reply).length, 0, "PLAIN's empty challenge, as a bare size-prefixed token");
    const md = await c.request(ApiKey.Metadata, 1, createMetadataRequest({ topics: [] }));
    assert.equal(md.brokers[0]!.host, "sasl-advertised.test");
    c.close();
  });

  test("a request before authentication closes the connection", async () => {
    const c = await plainConnect(saslPort);
    await assert.rejects(c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: [] })), /closed/);
    await c.closedWithin(5_000);
    const d = await plainConnect(saslPort);
    await assert.rejects(
      d.request(ApiKey.SaslAuthenticate, 2, { authBytes: plainToken("alice", "alice-secret") }),
      /closed/,
    );
  });

  test("a 1 MB frame before authentication closes the connection; the broker goes on", async () => {
    const c = await plainConnect(saslPort);
    const big = Buffer.alloc(4 + 1024 * 1024, 7);
    big.writeInt32BE(1024 * 1024, 0);
    c.socket.write(big);
    await c.closedWithin(5_000);
    const t = await tlsWire(sslPort, ca);
    const v = await t.request(ApiKey.ApiVersions, 0, createApiVersionsRequest());
    assert.equal(v.errorCode, 0);
    t.close();
    assert.equal(broker.process.exitCode, null);
  });
});

describe("listener settings that stop start-up", { skip, timeout: 60_000 }, () => {
  for (const [key, properties] of [
    ["ssl.keystore.type", { listeners: "SSL://127.0.0.1:9093" }],
    ["listener.security.protocol.map", { listeners: "PLAINTEXT://127.0.0.1:1,EXTERNAL://127.0.0.1:9094" }],
    ["listener.security.protocol.map", { "listener.security.protocol.map": "PLAINTEXT:TLS" }],
    ["listeners", { listeners: "PLAINTEXT://127.0.0.1:1,PLAINTEXT://127.0.0.1:2" }],
    ["advertised.listeners", { "advertised.listeners": "SSL://somewhere:1" }],
    [
      "listener.name.sasl_plaintext.sasl.enabled.mechanisms",
      {
        listeners: "PLAINTEXT://127.0.0.1:1,SASL_PLAINTEXT://127.0.0.1:9095",
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "GSSAPI",
      },
    ],
    [
      "sasl.jaas.config",
      {
        listeners: "PLAINTEXT://127.0.0.1:1,SASL_PLAINTEXT://127.0.0.1:9095",
        "sasl.enabled.mechanisms": "PLAIN",
        "sasl.jaas.config": "PlainLoginModule user_a=1",
      },
    ],
  ] as const) {
    test(`${key}: ${JSON.stringify(properties)}`, async () => {
      await assert.rejects(startBroker({ properties, timeoutMs: 10_000 }), (e: Error) => {
        assert.match(e.message, new RegExp(`config: ${key.replaceAll(".", "\\.")}`));
        return true;
      });
    });
  }
});

/** A PEM text as a properties value over continuation lines, as one writes it in server.properties. */
const continued = (pem: string): string => pem.trim().split("\n").join(" \\\n  ");

describe("PKCS12 and inline PEM key stores, required client certificates, SASL_SSL", { skip, timeout: 120_000 }, () => {
  let broker: BrokerProcess;
  let dir: string;
  let ca: string;
  let sslPort: number;
  let saslSslPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tskafka-tls-"));
    await makeCertificates(dir);
    ca = await readFile(join(dir, "ca.pem"), "utf8");
    openssl(dir, [
      "pkcs12",
      "-export",
      "-in",
      "server.pem",
      "-inkey",
      "server.key",
      "-out",
      "server.p12",
      "-passout",
      "pass:p12-pass",
    ]);
    openssl(dir, ["pkcs8", "-topk8", "-in", "server.key", "-out", "server-enc.key", "-passout", "pass:key-pass"]);
    sslPort = await freePort();
    saslSslPort = await freePort();
    broker = await startBroker({
      properties: {
        listeners: `PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:${sslPort},SASL_SSL://127.0.0.1:${saslSslPort}`,
        "ssl.client.auth": "required",
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": join(dir, "ca.pem"),
        "listener.name.ssl.ssl.keystore.type": "PKCS12",
        "listener.name.ssl.ssl.keystore.location": join(dir, "server.p12"),
        "listener.name.ssl.ssl.keystore.password": "p12-pass",
        "listener.name.ssl.ssl.enabled.protocols": "TLSv1.2",
        "listener.name.ssl.ssl.cipher.suites": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ssl.principal.mapping.rules": "RULE:^CN=([^,]*),OU=eng,.*$/$1/U,DEFAULT",
        "listener.name.sasl_ssl.ssl.client.auth": "none",
        "listener.name.sasl_ssl.ssl.keystore.type": "PEM",
        "listener.name.sasl_ssl.ssl.keystore.certificate.chain": continued(
          await readFile(join(dir, "server.pem"), "utf8"),
        ),
        "listener.name.sasl_ssl.ssl.keystore.key": continued(await readFile(join(dir, "server-enc.key"), "utf8")),
        "listener.name.sasl_ssl.ssl.key.password": "key-pass",
        "sasl.enabled.mechanisms": "PLAIN",
        "sasl.jaas.config":
          'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="x" user_carol="carol-pw";',
      },
    });
  });

  after(async () => {
    if (process.env.DEBUG_LISTENERS) console.log(broker?.output());
    await broker?.stop();
    await broker?.cleanup();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test("SSL with ssl.client.auth=required: a client without a certificate is refused, one with it served", async () => {
    const outcome = await tlsWire(sslPort, ca)
      .then((c) => c.request(ApiKey.ApiVersions, 0, createApiVersionsRequest()))
      .then(
        () => "served",
        () => "refused",
      );
    assert.equal(outcome, "refused");
    const cert = await readFile(join(dir, "client.pem"), "utf8");
    const key = await readFile(join(dir, "client.key"), "utf8");
    const c = await tlsWire(sslPort, ca, { cert, key });
    const v = await c.request(ApiKey.ApiVersions, 0, createApiVersionsRequest());
    assert.equal(v.errorCode, 0);
    const tlsSocket = c.socket as TLSSocket;
    assert.equal(tlsSocket.getProtocol(), "TLSv1.2", "ssl.enabled.protocols of the listener");
    assert.equal(tlsSocket.getCipher().name, "ECDHE-ECDSA-AES128-GCM-SHA256", "ssl.cipher.suites by IANA name");
    c.close();
    await waitFor("the principal in the log", () => broker.output().includes(`as User:CLIENT ONE`), 5_000);
  });

  test("SASL_SSL with an inline encrypted PEM key: PLAIN users from sasl.jaas.config", async () => {
    const c = await tlsWire(saslSslPort, ca);
    const hs = await c.request(ApiKey.SaslHandshake, 1, { mechanism: "PLAIN" });
    assert.deepEqual([hs.errorCode, hs.mechanisms], [0, ["PLAIN"]]);
    const auth = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: plainToken("carol", "carol-pw") });
    assert.equal(auth.errorCode, 0, auth.errorMessage ?? "");
    const md = await c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: [] }));
    assert.deepEqual([md.brokers[0]!.host, md.brokers[0]!.port], ["127.0.0.1", saslSslPort]);
    c.close();
  });
});

describe("SCRAM through the listener: the --add-scram user authenticates", { timeout: 60_000 }, () => {
  let broker: BrokerProcess;
  let saslPort: number;

  before(async () => {
    saslPort = await freePort();
    broker = await startBroker({
      properties: {
        listeners: `PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
      },
      args: ["--add-scram", "SCRAM-SHA-512=[name=dora,password=dora-pw]"],
    });
  });

  after(async () => {
    await broker?.stop();
    await broker?.cleanup();
  });

  for (const [password, ok] of [
    ["dora-pw", true],
    ["not-it", false],
  ] as const) {
    test(`SCRAM-SHA-512 with ${ok ? "the right" : "a wrong"} password`, async () => {
      const c = await plainConnect(saslPort);
      const hs = await c.request(ApiKey.SaslHandshake, 1, { mechanism: "SCRAM-SHA-512" });
      assert.equal(hs.errorCode, 0);
      const scram = new ScramClient("SCRAM-SHA-512", "dora", password);
      const first = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from(scram.first()) });
      assert.equal(first.errorCode, 0, first.errorMessage ?? "");
      const final = await c.request(ApiKey.SaslAuthenticate, 2, {
        authBytes: Buffer.from(scram.final(first.authBytes.toString())),
      });
      if (!ok) {
        assert.equal(final.errorCode, SASL_AUTHENTICATION_FAILED);
        await c.closedWithin(5_000);
        return;
      }
      assert.equal(final.errorCode, 0, final.errorMessage ?? "");
      scram.verify(final.authBytes.toString());
      const md = await c.request(ApiKey.Metadata, 12, createMetadataRequest({ topics: [] }));
      assert.equal(md.brokers[0]!.port, saslPort);
      c.close();
    });
  }
});

describe("PLAIN's JAAS users and tokens (unit)", () => {
  test("Kafka's JAAS syntax: quoted and bare values, only user_ options are users", () => {
    const users = plainUsers(
      'org.apache.kafka.common.security.plain.PlainLoginModule required\n  username="admin" password="a;b" user_admin="a;b"\n  user_x=bare user_q="with \\"quote\\"";',
    );
    assert.deepEqual(
      [...users],
      [
        ["admin", "a;b"],
        ["x", "bare"],
        ["q", 'with "quote"'],
      ],
    );
    assert.throws(() => plainUsers('org.apache.kafka.common.security.plain.PlainLoginModule required user_a="1"'), /;/);
    assert.throws(() => plainUsers('org.example.Other required user_a="1";'), /PlainLoginModule/);
  });

  test("PLAIN: an authorization id other than the user is refused", async () => {
    const server = createPlainServer(new Map([["a", "pw"]]));
    await assert.rejects(server.evaluate(Buffer.from("b\u0000a\u0000pw")), /authorization id/);
    const ok = await createPlainServer(new Map([["a", "pw"]])).evaluate(Buffer.from("a\u0000a\u0000pw"));
    assert.equal(ok.authenticatedUser, "a");
  });
});

test("ssl.cipher.suites: IANA names to OpenSSL's", () => {
  assert.equal(opensslCipherName("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"), "ECDHE-RSA-AES256-GCM-SHA384");
  assert.equal(opensslCipherName("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"), "ECDHE-RSA-AES128-SHA");
  assert.equal(opensslCipherName("TLS_RSA_WITH_AES_256_CBC_SHA256"), "AES256-SHA256");
  assert.equal(opensslCipherName("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"), "ECDHE-ECDSA-CHACHA20-POLY1305");
  assert.equal(opensslCipherName("TLS_AES_256_GCM_SHA384"), "TLS_AES_256_GCM_SHA384");
});

test("ssl.principal.mapping.rules: Kafka's rules, first match wins", () => {
  const rules = parseMappingRules(
    "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/, RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, DEFAULT",
  );
  assert.equal(mapPrincipal(rules, "CN=kafka-server1,OU=ServiceUsers,O=Org,C=US"), "kafka-server1");
  assert.equal(mapPrincipal(rules, "CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Cupertino,ST=CA,C=US"), "duke@javasoft");
  assert.equal(mapPrincipal(rules, "O=other"), "O=other");
  assert.equal(mapPrincipal(parseMappingRules("RULE:^CN=(.*)$/$1/"), "O=other"), undefined);
  assert.throws(() => parseMappingRules("RULE:no-slashes"), /RULE:pattern/);
});
