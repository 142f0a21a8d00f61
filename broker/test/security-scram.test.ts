import assert from "node:assert/strict";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  ApiKey,
  createAlterUserScramCredentialsRequest,
  createDescribeUserScramCredentialsRequest,
  createRequestHeader,
  decodeResponseFrame,
  encodeRequestFrame,
  type AlterUserScramCredentialsResponse,
  type ApiRequests,
  type ApiResponses,
  type DescribeUserScramCredentialsResponse,
} from "@tskafka/protocol";
import { FileClusterMetadata } from "../src/cluster/file-metadata.js";
import { ErrorCode } from "../src/errors.js";
import { createScramServer } from "../src/security/scram.js";
import { KAFKA44_REQUIREMENT, haveKafka44, toolBatch } from "./clients/java/kafka44.js";
import { startBroker, skipUnless, type BrokerProcess } from "./harness.js";
import { ScramClient } from "./scram-client.js";

/**
 * SCRAM credentials as cluster metadata over the wire: AlterUserScramCredentials and
 * DescribeUserScramCredentials v0 with the generated codecs (Kafka's per-user errors), the credentials
 * kept across a restart and never stored as passwords, and Kafka 4.4's kafka-configs (ConfigCommand)
 * adding, describing and deleting them over PLAINTEXT; a credential it made then authenticates a SCRAM
 * exchange with the password it was given.
 */

let first: BrokerProcess;
let broker: BrokerProcess;
let socket: Socket;
let correlation = 0;

async function open(b: BrokerProcess): Promise<void> {
  socket?.destroy();
  socket = connect(b.port, "127.0.0.1");
  await new Promise<void>((res, rej) => socket.once("connect", res).once("error", rej));
}

before(async () => {
  first = broker = await startBroker();
  await open(broker);
});

after(async () => {
  socket?.destroy();
  if (broker !== first) await broker?.cleanup();
  await first?.cleanup();
});

/** One request, one response (requests on this socket are sent one at a time). */
async function call<K extends keyof ApiRequests & keyof ApiResponses>(
  apiKey: K,
  body: ApiRequests[K],
): Promise<ApiResponses[K]> {
  const header = createRequestHeader({
    requestApiKey: apiKey,
    requestApiVersion: 0,
    correlationId: ++correlation,
    clientId: "security-scram",
  });
  const frame = await new Promise<Buffer>((res, rej) => {
    let pending = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      if (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        socket.off("data", onData);
        res(pending);
      }
    };
    socket.on("data", onData).once("error", rej);
    socket.write(encodeRequestFrame(header, body));
  });
  return decodeResponseFrame(frame, apiKey, 0).body as ApiResponses[K];
}

const SHA256 = 1;
const SHA512 = 2;

/** What Kafka's admin client sends for a password: a random salt and the PBKDF2 salted password. */
function upsertion(name: string, mechanism: number, password: string, iterations: number) {
  const salt = randomBytes(24);
  const hash = mechanism === SHA512 ? "sha512" : "sha256";
  const length = mechanism === SHA512 ? 64 : 32;
  const saltedPassword = pbkdf2Sync(password, salt, iterations, length, hash);
  return { name, mechanism, iterations, salt, saltedPassword };
}

const alter = (
  upsertions: ReturnType<typeof upsertion>[],
  deletions: { name: string; mechanism: number }[] = [],
): Promise<AlterUserScramCredentialsResponse> =>
  call(ApiKey.AlterUserScramCredentials, createAlterUserScramCredentialsRequest({ upsertions, deletions }));

const describe = (users: string[] | null): Promise<DescribeUserScramCredentialsResponse> =>
  call(
    ApiKey.DescribeUserScramCredentials,
    createDescribeUserScramCredentialsRequest({ users: users === null ? null : users.map((name) => ({ name })) }),
  );

/** user -> error code and "mechanism:iterations" list, sorted, for comparisons. */
function summary(res: DescribeUserScramCredentialsResponse): Record<string, string> {
  assert.equal(res.errorCode, ErrorCode.NONE);
  const out: Record<string, string> = {};
  for (const r of res.results) {
    const infos = r.credentialInfos.map((c) => `${c.mechanism}:${c.iterations}`).sort();
    out[r.user] = r.errorCode === ErrorCode.NONE ? infos.join(",") : `error ${r.errorCode}`;
  }
  return out;
}

const errors = (res: AlterUserScramCredentialsResponse): Record<string, number> =>
  Object.fromEntries(res.results.map((r) => [r.user, r.errorCode]));

let aliceSalted: Buffer;

test("AlterUserScramCredentials then DescribeUserScramCredentials", { timeout: 20_000 }, async () => {
  const alice = upsertion("alice", SHA256, "alice-secret", 8192);
  aliceSalted = alice.saltedPassword;
  const res = await alter([alice, upsertion("bob", SHA512, "bob-secret", 4096)]);
  assert.deepEqual(errors(res), { alice: ErrorCode.NONE, bob: ErrorCode.NONE });
  assert.deepEqual(errors(await alter([upsertion("alice", SHA512, "alice-secret", 16384)])), { alice: 0 });
  assert.deepEqual(summary(await describe(null)), { alice: "1:8192,2:16384", bob: "2:4096" });
  assert.deepEqual(summary(await describe([])), { alice: "1:8192,2:16384", bob: "2:4096" });
  const some = await describe(["bob", "nobody", "alice", "alice"]);
  assert.deepEqual(summary(some), {
    bob: "2:4096",
    nobody: `error ${ErrorCode.RESOURCE_NOT_FOUND}`,
    alice: `error ${ErrorCode.DUPLICATE_RESOURCE}`,
  });
  assert.match(some.results.find((r) => r.user === "nobody")!.errorMessage!, /does not exist: nobody/);
});

test("AlterUserScramCredentials refuses what Kafka's controller refuses, per user", { timeout: 20_000 }, async () => {
  const res = await alter(
    [
      upsertion("few", SHA256, "x", 4096),
      upsertion("many", SHA256, "x", 4096),
      upsertion("mech", 3, "x", 4096),
      upsertion("", SHA256, "x", 4096),
      upsertion("twice", SHA256, "x", 4096),
      upsertion("twice", SHA512, "x", 4096),
      upsertion("delup", SHA256, "x", 4096),
      { ...upsertion("nosalt", SHA256, "x", 4096), salt: Buffer.alloc(0) },
      upsertion("carol", SHA512, "carol-secret", 4096),
    ].map((u) => (u.name === "few" ? { ...u, iterations: 4095 } : u.name === "many" ? { ...u, iterations: 16385 } : u)),
    [
      { name: "delup", mechanism: SHA256 },
      { name: "ghost", mechanism: SHA256 },
      { name: "bob", mechanism: SHA256 },
    ],
  );
  assert.deepEqual(errors(res), {
    few: ErrorCode.UNACCEPTABLE_CREDENTIAL,
    many: ErrorCode.UNACCEPTABLE_CREDENTIAL,
    mech: ErrorCode.UNSUPPORTED_SASL_MECHANISM,
    "": ErrorCode.UNACCEPTABLE_CREDENTIAL,
    twice: ErrorCode.DUPLICATE_RESOURCE,
    delup: ErrorCode.RESOURCE_NOT_FOUND, // the deletion failed first: the user is already answered
    nosalt: ErrorCode.UNACCEPTABLE_CREDENTIAL,
    ghost: ErrorCode.RESOURCE_NOT_FOUND,
    bob: ErrorCode.RESOURCE_NOT_FOUND, // bob has SCRAM-SHA-512 only
    carol: ErrorCode.NONE,
  });
  assert.equal(res.results.find((r) => r.user === "few")!.errorMessage, "Too few iterations");
  assert.equal(res.results.find((r) => r.user === "many")!.errorMessage, "Too many iterations");
  assert.equal(res.results[0]!.user, "carol", "the accepted changes come first");
  assert.deepEqual(errors(await alter([], [{ name: "carol", mechanism: SHA512 }])), { carol: 0 });
  assert.deepEqual(summary(await describe(["carol", "few", "twice"])), {
    carol: `error ${ErrorCode.RESOURCE_NOT_FOUND}`,
    few: `error ${ErrorCode.RESOURCE_NOT_FOUND}`,
    twice: `error ${ErrorCode.RESOURCE_NOT_FOUND}`,
  });
});

test("credentials survive a restart and are not stored as passwords", { timeout: 30_000 }, async () => {
  socket.destroy();
  assert.equal(await broker.stop(), 0);
  const file = await readFile(join(first.dataDir, "__tskafka_scram_credentials.json"), "utf8");
  assert.ok(!file.includes("alice-secret"));
  assert.ok(!file.includes(aliceSalted.toString("base64")), "the salted password is not kept");
  broker = await startBroker({ dataDir: first.dataDir });
  await open(broker);
  assert.deepEqual(summary(await describe(null)), { alice: "1:8192,2:16384", bob: "2:4096" });
});

const skipJava = skipUnless(haveKafka44(), KAFKA44_REQUIREMENT);
const CONFIGS = "org.apache.kafka.tools.ConfigCommand";

test(
  "Kafka 4.4's kafka-configs adds, describes and deletes SCRAM credentials",
  { skip: skipJava, timeout: 120_000 },
  async () => {
    const configs = (...args: string[]) => [CONFIGS, "--bootstrap-server", broker.bootstrap, ...args];
    const user = ["--entity-type", "users", "--entity-name", "u"];
    const runs = await toolBatch([
      configs("--alter", "--add-config", "SCRAM-SHA-256=[iterations=8192,password=x]", ...user),
      configs("--alter", "--add-config", "SCRAM-SHA-512=[password=y]", ...user),
      configs("--describe", ...user),
      configs("--alter", "--delete-config", "SCRAM-SHA-512", ...user),
      configs("--describe", ...user),
    ]);
    for (const r of runs) assert.equal(r.code, 0, `${r.command}\n${r.out}`);
    assert.match(runs[0]!.out, /Completed updating config for user u/);
    assert.match(
      runs[2]!.out,
      /SCRAM credential configs for user-principal 'u' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096/,
    );
    assert.match(runs[4]!.out, /SCRAM credential configs for user-principal 'u' are SCRAM-SHA-256=iterations=8192\n/);

    // The credential the tool made authenticates a SCRAM exchange with its password, and only with it.
    socket.destroy();
    assert.equal(await broker.stop(), 0);
    const metadata = await FileClusterMetadata.open(first.dataDir);
    const lookup = (name: string) =>
      metadata.scramCredentials(name).find((c) => c.credential.mechanism === "SCRAM-SHA-256")?.credential;
    const server = createScramServer("SCRAM-SHA-256", lookup);
    const client = new ScramClient("SCRAM-SHA-256", "u", "x");
    const s1 = await server.evaluate(Buffer.from(client.first()));
    const s2 = await server.evaluate(Buffer.from(client.final(s1.challenge.toString())));
    client.verify(s2.challenge.toString());
    assert.equal(s2.authenticatedUser, "u");
    const wrong = new ScramClient("SCRAM-SHA-256", "u", "y");
    const other = createScramServer("SCRAM-SHA-256", lookup);
    const w1 = await other.evaluate(Buffer.from(wrong.first()));
    await assert.rejects(other.evaluate(Buffer.from(wrong.final(w1.challenge.toString()))));
    await metadata.close();
  },
);
