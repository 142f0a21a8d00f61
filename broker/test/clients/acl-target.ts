import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ApiKey,
  createApiVersionsRequest,
  createSaslAuthenticateRequest,
  createSaslHandshakeRequest,
} from "@tskafka/protocol";
import { freePort } from "../harness.js";
import { BrokerProcess, SEC_TARGET_KIND, type SecTargetKind } from "./broker-process.js";
import { RawClient } from "./raw-client.js";

/**
 * The broker of the ACL tests (security-acls.test.ts): one SASL_PLAINTEXT listener with PLAIN users from its
 * JAAS line, and, when asked, Kafka's KRaft authorizer with `admin` as the super user. By default the broker
 * under test; with TSKAFKA_SEC_TARGET=kafka, Apache Kafka 4.4.0 from its jars (broker-process.ts; its
 * controller listener authenticates as `admin` too, since a KRaft node with StandardAuthorizer must find its
 * own principal among super.users). Either can be restarted on its data.
 */

/** The PLAIN users of the run (made up here, for loopback test brokers only). */
export const ACL_USERS = {
  admin: { name: "admin", password: "admin-pw-1" },
  alice: { name: "alice", password: "alice-pw-2" },
} as const;

export const STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

export interface AclTarget {
  readonly kind: SecTargetKind;
  /** host:port of the SASL_PLAINTEXT listener. */
  readonly bootstrap: string;
  readonly port: number;
  /** Stops the broker and starts it again on the same data and config. */
  restart(): Promise<void>;
  /** Everything it printed or logged. */
  log(): string;
  cleanup(): Promise<void>;
}

const jaas = (): string =>
  "org.apache.kafka.common.security.plain.PlainLoginModule required " +
  `username="${ACL_USERS.admin.name}" password="${ACL_USERS.admin.password}" ` +
  `user_${ACL_USERS.admin.name}="${ACL_USERS.admin.password}" user_${ACL_USERS.alice.name}="${ACL_USERS.alice.password}";`;

/** SaslHandshake v1 and SaslAuthenticate v2 with PLAIN; throws when the broker refuses. */
export async function saslPlain(client: RawClient, user: string, password: string): Promise<void> {
  const h = await client.request(ApiKey.SaslHandshake, 1, createSaslHandshakeRequest({ mechanism: "PLAIN" }));
  if (h.errorCode !== 0) throw new Error(`SaslHandshake: error ${h.errorCode}`);
  const a = await client.request(
    ApiKey.SaslAuthenticate,
    2,
    createSaslAuthenticateRequest({ authBytes: Buffer.from(`\u0000${user}\u0000${password}`) }),
  );
  if (a.errorCode !== 0) throw new Error(`SaslAuthenticate: error ${a.errorCode} ${a.errorMessage ?? ""}`);
}

/** A raw client on the listener, authenticated as `user`. */
export async function rawAs(port: number, user: { name: string; password: string }): Promise<RawClient> {
  const c = await RawClient.connect(port, { requestTimeoutMs: 15_000 });
  try {
    await saslPlain(c, user.name, user.password);
  } catch (e) {
    c.close();
    throw e;
  }
  return c;
}

/** Whether the listener authenticates the super user (Kafka opens its listeners once the node is up). */
async function probe(port: number): Promise<undefined> {
  const c = await RawClient.connect(port, { requestTimeoutMs: 3_000, connectTimeoutMs: 2_000 });
  try {
    await c.request(ApiKey.ApiVersions, 3, createApiVersionsRequest({}));
    await saslPlain(c, ACL_USERS.admin.name, ACL_USERS.admin.password);
    return undefined;
  } finally {
    c.close();
  }
}

/** server.properties of both brokers: the listener, its PLAIN users and the authorizer keys. */
function commonProps(port: number, authorizer: boolean): Record<string, string> {
  return {
    listeners: `SASL_PLAINTEXT://127.0.0.1:${port}`,
    "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT",
    "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas(),
    ...(authorizer
      ? { "authorizer.class.name": STANDARD_AUTHORIZER, "super.users": `User:${ACL_USERS.admin.name}` }
      : {}),
  };
}

/** Kafka's own traffic (inter-broker, controller) over SASL_PLAINTEXT as `admin`. */
const kafkaSaslProps = (): Record<string, string> => ({
  "inter.broker.listener.name": "SASL_PLAINTEXT",
  "sasl.mechanism.inter.broker.protocol": "PLAIN",
  "sasl.mechanism.controller.protocol": "PLAIN",
  "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
  "listener.name.controller.plain.sasl.jaas.config": jaas(),
});

/** Starts the target; `authorizer` turns Kafka's StandardAuthorizer on with `admin` as the super user. */
export async function startAclTarget(options: { authorizer: boolean }): Promise<AclTarget> {
  const root = mkdtempSync(join(tmpdir(), `tskafka-acl-${SEC_TARGET_KIND}-`));
  const port = await freePort();
  const broker = await BrokerProcess.start({
    root,
    properties: commonProps(port, options.authorizer),
    controllerProtocol: "SASL_PLAINTEXT",
    kafkaProperties: kafkaSaslProps(),
  });
  try {
    await broker.waitReady(() => probe(port));
  } catch (e) {
    await broker.cleanup();
    throw e;
  }
  return {
    kind: SEC_TARGET_KIND,
    bootstrap: `127.0.0.1:${port}`,
    port,
    async restart() {
      await broker.restart();
      await broker.waitReady(() => probe(port));
    },
    log: () => broker.log(),
    cleanup: () => broker.cleanup(),
  };
}
