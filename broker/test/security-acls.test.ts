import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  ApiKey,
  createCreateAclsRequest,
  createDeleteAclsRequest,
  createDescribeAclsRequest,
  type CreateAclsRequestAclCreation,
  type DeleteAclsRequestDeleteAclsFilter,
} from "@tskafka/protocol";
import { skipUnless } from "./harness.js";
import { KAFKA44_REQUIREMENT, haveKafka44, toolBatch, type ToolRun } from "./clients/java/kafka44.js";
import { ACL_USERS, rawAs, startAclTarget, type AclTarget } from "./clients/acl-target.js";
import { SEC_TARGET_KIND, haveKafkaTarget } from "./clients/security-target.js";

/**
 * ACLs through Kafka 4.4's own tool (`kafka-acls.sh`, org.apache.kafka.tools.AclCommand) and the raw
 * protocol, against a broker with Kafka's StandardAuthorizer and `User:admin` as the super user: adding
 * allow, deny, prefixed and `--operation All` ACLs, listing them by topic, group and pattern type
 * (match, prefixed, any), removing them; the ACLs outlive a restart; a user who is not a super user cannot
 * add or list ACLs (no ALTER/DESCRIBE on the cluster); Kafka's answers to invalid ACLs; and without an
 * authorizer the tool reports that security is disabled. TSKAFKA_SEC_TARGET=kafka runs the same file
 * against Apache Kafka 4.4.0 (clients/acl-target.ts): the expectations are Kafka's.
 */

const skip =
  skipUnless(haveKafka44(), KAFKA44_REQUIREMENT) ??
  (SEC_TARGET_KIND === "kafka"
    ? skipUnless(haveKafkaTarget(), "Apache Kafka 4.4.0's jars for TSKAFKA_SEC_TARGET=kafka")
    : undefined);

const ACLS = "org.apache.kafka.tools.AclCommand";
const work = mkdtempSync(join(tmpdir(), "tskafka-acls-"));

/** A client properties file for a PLAIN user. */
function clientConfig(user: { name: string; password: string }): string {
  const file = join(work, `${user.name}.properties`);
  writeFileSync(
    file,
    [
      "security.protocol=SASL_PLAINTEXT",
      "sasl.mechanism=PLAIN",
      `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${user.name}" password="${user.password}";`,
      "",
    ].join("\n"),
  );
  return file;
}

let target: AclTarget;

before(async () => {
  if (skip !== undefined) return;
  target = await startAclTarget({ authorizer: true });
});

after(async () => {
  await target?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

/** Adds the broker's log to a failure. */
async function withLog<T>(t: () => AclTarget, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Error) e.message += `\n--- broker (${t().kind}) log tail ---\n${t().log().slice(-3000)}`;
    throw e;
  }
}

/** kafka-acls.sh commands as one user, in one JVM. */
function acls(
  t: AclTarget,
  user: { name: string; password: string },
  commands: readonly string[][],
): Promise<ToolRun[]> {
  const base = [ACLS, "--bootstrap-server", t.bootstrap, "--command-config", clientConfig(user)];
  return toolBatch(
    commands.map((c) => [...base, ...c]),
    120_000,
  );
}

const ok = (r: ToolRun): ToolRun => {
  assert.equal(r.code, 0, `${r.command}\n${r.out}`);
  return r;
};

/**
 * The ACLs a `--list` printed, as `TYPE:PATTERN:name principal host OPERATION PERMISSION`, sorted: the tool
 * prints "Current ACLs for resource `ResourcePattern(...)`:" and then one "(principal=..., ...)" line per ACL.
 */
function listed(out: string): string[] {
  const rows: string[] = [];
  let resource: string | undefined;
  for (const line of out.split("\n")) {
    const r = /ResourcePattern\(resourceType=(\w+), name=(.*), patternType=(\w+)\)/.exec(line);
    if (r !== null) {
      resource = `${r[1]}:${r[3]}:${r[2]}`;
      continue;
    }
    const a = /\(principal=(.*), host=(.*), operation=(\w+), permissionType=(\w+)\)/.exec(line);
    if (a !== null && resource !== undefined) rows.push(`${resource} ${a[1]} ${a[2]} ${a[3]} ${a[4]}`);
  }
  return rows.sort();
}

const ALICE_T1 = [
  "TOPIC:LITERAL:t1 User:alice * READ ALLOW",
  "TOPIC:LITERAL:t1 User:alice * WRITE ALLOW",
  "TOPIC:LITERAL:t1 User:alice 127.0.0.1 WRITE DENY",
];
const APP_PREFIX = ["TOPIC:PREFIXED:app- User:alice * DESCRIBE ALLOW"];
const GROUP = ["GROUP:LITERAL:g1 User:* * ALL ALLOW"];
const EVERYTHING = [...ALICE_T1, ...APP_PREFIX, ...GROUP].sort();

describe("ACLs with kafka-acls.sh and the ACL APIs", { skip, timeout: 600_000 }, () => {
  test("add allow, deny, prefixed and All ACLs; list them by topic, group and pattern type", async () => {
    await withLog(
      () => target,
      async () => {
        const runs = await acls(target, ACL_USERS.admin, [
          ["--add", "--allow-principal", "User:alice", "--operation", "Read", "--operation", "Write", "--topic", "t1"],
          [
            "--add",
            "--deny-principal",
            "User:alice",
            "--deny-host",
            "127.0.0.1",
            "--operation",
            "Write",
            "--topic",
            "t1",
          ],
          [
            "--add",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Describe",
            "--topic",
            "app-",
            "--resource-pattern-type",
            "prefixed",
          ],
          ["--add", "--allow-principal", "User:*", "--operation", "All", "--group", "g1"],
          // Adding an ACL that exists adds nothing.
          ["--add", "--allow-principal", "User:alice", "--operation", "Read", "--topic", "t1"],
          ["--list", "--topic", "t1"],
          ["--list", "--group", "g1"],
          ["--list", "--topic", "app-orders", "--resource-pattern-type", "match"],
          ["--list", "--topic", "app-", "--resource-pattern-type", "prefixed"],
          ["--list", "--topic", "app-", "--resource-pattern-type", "any"],
          ["--list"],
        ]);
        runs.forEach(ok);
        const [, , , , , byTopic, byGroup, match, prefixed, any, all] = runs.map((r) => listed(r.out));
        assert.deepEqual(byTopic, ALICE_T1);
        assert.deepEqual(byGroup, GROUP);
        assert.deepEqual(match, APP_PREFIX);
        assert.deepEqual(prefixed, APP_PREFIX);
        assert.deepEqual(any, APP_PREFIX);
        assert.deepEqual(all, EVERYTHING);
      },
    );
  });

  test("a user who is not a super user can neither add nor list ACLs", async () => {
    await withLog(
      () => target,
      async () => {
        const [add, list] = await acls(target, ACL_USERS.alice, [
          ["--add", "--allow-principal", "User:alice", "--operation", "All", "--topic", "mine"],
          ["--list"],
        ]);
        assert.equal(add!.code, 1, add!.out);
        assert.match(
          add!.out,
          /Error while executing ACL command: .*ClusterAuthorizationException: .* needs \w+ permission/,
        );
        assert.equal(list!.code, 1, list!.out);
        assert.match(
          list!.out,
          /Error while executing ACL command: .*ClusterAuthorizationException: .* needs DESCRIBE permission/,
        );
        // Both brokers log the denial at INFO (Kafka: kafka.authorizer.logger).
        assert.match(
          target.log(),
          /Principal = User:alice is Denied operation = DESCRIBE from host = 127\.0\.0\.1 on resource = Cluster:LITERAL:kafka-cluster/,
        );
      },
    );
  });

  test("the ACL APIs answer invalid ACLs as Kafka does", async () => {
    await withLog(
      () => target,
      async () => {
        const admin = await rawAs(target.port, ACL_USERS.admin);
        const alice = await rawAs(target.port, ACL_USERS.alice);
        try {
          const creation = (c: Partial<CreateAclsRequestAclCreation>): CreateAclsRequestAclCreation => ({
            resourceType: 2,
            resourceName: "raw-t",
            resourcePatternType: 3,
            principal: "User:bob",
            host: "*",
            operation: 3,
            permissionType: 3,
            ...c,
          });
          const checks = await admin.request(
            ApiKey.CreateAcls,
            3,
            createCreateAclsRequest({
              creations: [
                creation({}),
                creation({ principal: "bob" }),
                creation({ resourceName: "" }),
                creation({ resourceType: 4, resourceName: "my-cluster" }),
                creation({ resourceType: 42 }),
                creation({ host: "" }),
                creation({ host: "10.0.0.0/33" }),
                creation({ host: "10.0.0/8" }),
                creation({ host: "300.0.0.0/8" }),
                creation({ host: "fd00::/8" }),
              ],
            }),
          );
          const invalid = (errorMessage: string) => ({ errorCode: 42, errorMessage });
          assert.deepEqual(
            checks.results.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorMessage })),
            [
              { errorCode: 0, errorMessage: "" },
              invalid(
                "Could not parse principal from `bob` (no colon is present separating the principal type from the principal name)",
              ),
              invalid("Invalid empty resource name"),
              invalid("The only valid name for the CLUSTER resource is kafka-cluster"),
              invalid("Invalid resourceType UNKNOWN"),
              invalid("Host pattern cannot be null or empty"),
              // Kafka 4.4 takes CIDR blocks as hosts (KIP-1166).
              invalid("Invalid CIDR notation '10.0.0.0/33': Value [33] not in range [0,32]"),
              invalid("Invalid CIDR notation '10.0.0/8': Could not parse [10.0.0/8]"),
              invalid("Invalid CIDR notation '300.0.0.0/8': Value [300] not in range [0,255]"),
              { errorCode: 0, errorMessage: "" },
            ],
          );
          // An ANY operation cannot make a binding: the whole request fails, the valid ACL too.
          const anyOp = await admin.request(
            ApiKey.CreateAcls,
            3,
            createCreateAclsRequest({ creations: [creation({ resourceName: "raw-u" }), creation({ operation: 1 })] }),
          );
          assert.deepEqual(
            anyOp.results.map((r) => [r.errorCode, r.errorMessage]),
            [
              [-1, null],
              [-1, null],
            ],
          );
          const filter = (f: Partial<DeleteAclsRequestDeleteAclsFilter>): DeleteAclsRequestDeleteAclsFilter => ({
            resourceTypeFilter: 1,
            resourceNameFilter: "raw-",
            patternTypeFilter: 2,
            principalFilter: null,
            hostFilter: null,
            operation: 1,
            permissionType: 1,
            ...f,
          });
          const described = await admin.request(
            ApiKey.DescribeAcls,
            1,
            createDescribeAclsRequest({ ...filter({ resourceNameFilter: "raw-t", patternTypeFilter: 3 }) }),
          );
          assert.equal(described.errorCode, 0);
          assert.equal(described.errorMessage, "");
          // A code Kafka does not know (not 0) reads as UNKNOWN and selects nothing.
          const unknownType = await admin.request(
            ApiKey.DescribeAcls,
            2,
            createDescribeAclsRequest(filter({ resourceTypeFilter: 42, resourceNameFilter: null })),
          );
          assert.deepEqual([unknownType.errorCode, unknownType.resources.length], [0, 0]);
          assert.deepEqual(
            described.resources.map((r) => [r.resourceType, r.resourceName, r.patternType, r.acls.length]),
            [[2, "raw-t", 3, 2]],
          );
          const deleted = await admin.request(
            ApiKey.DeleteAcls,
            3,
            createDeleteAclsRequest({
              filters: [
                filter({ resourceTypeFilter: 42 }),
                filter({ operation: 42 }),
                filter({ resourceNameFilter: "raw-t" }),
                filter({ resourceNameFilter: "raw-t" }),
              ],
            }),
          );
          assert.deepEqual(
            deleted.filterResults.map((r) => [
              r.errorCode,
              r.errorMessage,
              r.matchingAcls.map((a) => `${a.resourceName} ${a.principal} ${a.host}`).sort(),
            ]),
            [
              [42, "Unknown patternFilter.", []],
              [42, "Unknown entryFilter.", []],
              [0, null, ["raw-t User:bob *", "raw-t User:bob fd00::/8"]],
              [0, null, ["raw-t User:bob *", "raw-t User:bob fd00::/8"]],
            ],
          );
          // Without ALTER (or DESCRIBE) on the cluster: CLUSTER_AUTHORIZATION_FAILED for the whole request.
          const deniedCreate = await alice.request(
            ApiKey.CreateAcls,
            3,
            createCreateAclsRequest({ creations: [creation({})] }),
          );
          assert.deepEqual(
            deniedCreate.results.map((r) => r.errorCode),
            [31],
          );
          const deniedDescribe = await alice.request(ApiKey.DescribeAcls, 3, createDescribeAclsRequest(filter({})));
          assert.equal(deniedDescribe.errorCode, 31);
          assert.match(deniedDescribe.errorMessage ?? "", /needs DESCRIBE permission/);
          const deniedDelete = await alice.request(
            ApiKey.DeleteAcls,
            3,
            createDeleteAclsRequest({ filters: [filter({})] }),
          );
          assert.deepEqual(
            deniedDelete.filterResults.map((r) => r.errorCode),
            [31],
          );
          assert.match(deniedDelete.filterResults[0]!.errorMessage ?? "", /needs ALTER permission/);
          // A code 0 (UNKNOWN) is a request Kafka cannot parse: it closes the connection.
          admin.send(ApiKey.CreateAcls, 3, createCreateAclsRequest({ creations: [creation({ resourceType: 0 })] }));
          await admin.waitClosed(10_000);
        } finally {
          admin.close();
          alice.close();
        }
      },
    );
  });

  test("the --producer and --consumer shortcuts; --list by principal; removal by resource", async () => {
    await withLog(
      () => target,
      async () => {
        const runs = await acls(target, ACL_USERS.admin, [
          ["--add", "--allow-principal", "User:bob", "--producer", "--topic", "p1", "--transactional-id", "tx1"],
          ["--add", "--allow-principal", "User:bob", "--consumer", "--topic", "p1", "--group", "cg"],
          ["--list", "--principal", "User:bob"],
          ["--remove", "--force", "--topic", "p1"],
          ["--remove", "--force", "--group", "cg"],
          ["--remove", "--force", "--transactional-id", "tx1"],
          ["--list", "--principal", "User:bob"],
        ]);
        runs.forEach(ok);
        assert.deepEqual(listed(runs[2]!.out), [
          "GROUP:LITERAL:cg User:bob * READ ALLOW",
          "TOPIC:LITERAL:p1 User:bob * CREATE ALLOW",
          "TOPIC:LITERAL:p1 User:bob * DESCRIBE ALLOW",
          "TOPIC:LITERAL:p1 User:bob * READ ALLOW",
          "TOPIC:LITERAL:p1 User:bob * WRITE ALLOW",
          "TRANSACTIONAL_ID:LITERAL:tx1 User:bob * DESCRIBE ALLOW",
          "TRANSACTIONAL_ID:LITERAL:tx1 User:bob * WRITE ALLOW",
        ]);
        assert.deepEqual(listed(runs[6]!.out), []);
      },
    );
  });

  test("the ACLs outlive a restart; remove --force takes them away", async () => {
    await withLog(
      () => target,
      async () => {
        await target.restart();
        const runs = await acls(target, ACL_USERS.admin, [
          ["--list"],
          ["--remove", "--force", "--topic", "t1"],
          ["--list", "--topic", "t1"],
          [
            "--remove",
            "--force",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Describe",
            "--topic",
            "app-",
            "--resource-pattern-type",
            "prefixed",
          ],
          ["--list"],
        ]);
        runs.forEach(ok);
        const [before, , t1, , rest] = runs.map((r) => listed(r.out));
        assert.deepEqual(before, EVERYTHING);
        assert.deepEqual(t1, []);
        assert.deepEqual(rest, GROUP);
      },
    );
  });

  test("without an authorizer the tool reports that security is disabled", async () => {
    const plain = await startAclTarget({ authorizer: false });
    try {
      await withLog(
        () => plain,
        async () => {
          const [list, add] = await acls(plain, ACL_USERS.alice, [
            ["--list"],
            ["--add", "--allow-principal", "User:alice", "--operation", "Read", "--topic", "t1"],
          ]);
          assert.equal(list!.code, 1, list!.out);
          assert.equal(add!.code, 1, add!.out);
          assert.match(list!.out, /SecurityDisabledException: No Authorizer is configured on the broker/);
          assert.match(add!.out, /SecurityDisabledException: No Authorizer is configured/);
        },
      );
    } finally {
      await plain.cleanup();
    }
  });
});
