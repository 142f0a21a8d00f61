import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FileClusterMetadata } from "../src/cluster/file-metadata.js";
import { ConfigError, buildConfig } from "../src/config.js";
import { Logger, type LogLevel } from "../src/logger.js";
import {
  AclOperation as Op,
  AclPermission,
  PatternType,
  ResourceType as RT,
  SUPPORTED_OPERATIONS,
  filterMatches,
  type AclBinding,
  type AclBindingFilter,
  type AclOperationCode,
  type ResourceTypeCode,
} from "../src/security/acl.js";
import { InvalidAcl, validateCreation, type AclCreation } from "../src/security/acl-validation.js";
import { StandardAuthorizer, superUsersProblem } from "../src/security/standard-authorizer.js";
import { withTempDir } from "./temp.js";

/** Kafka's StandardAuthorizer rules, the ACL filters and the create checks, over a real file store. */

const ALICE = { principal: "User:alice", host: "10.0.0.1" };
const BOB = { principal: "User:bob", host: "10.0.0.2" };
const quiet = new Logger("error");

type Perm = "allow" | "deny";
/** An ACL: pattern `name` literal, `name*` prefixed (not the lone wildcard `*`). */
function acl(
  type: ResourceTypeCode,
  pattern: string,
  principal: string,
  op: AclOperationCode,
  perm: Perm,
  host = "*",
): AclBinding {
  const prefixed = pattern.length > 1 && pattern.endsWith("*");
  return {
    resourceType: type,
    resourceName: prefixed ? pattern.slice(0, -1) : pattern,
    patternType: prefixed ? PatternType.PREFIXED : PatternType.LITERAL,
    principal,
    host,
    operation: op,
    permission: perm === "allow" ? AclPermission.ALLOW : AclPermission.DENY,
  };
}

async function withAuthorizer<T>(
  acls: readonly AclBinding[],
  options: { superUsers?: string; allowIfNoAcl?: boolean },
  fn: (a: StandardAuthorizer, m: FileClusterMetadata) => Promise<T> | T,
): Promise<T> {
  return withTempDir("tskafka-authz-", async (dir) => {
    const metadata = await FileClusterMetadata.open(dir);
    await metadata.createAcls(acls);
    const a = new StandardAuthorizer(metadata, {
      superUsers: options.superUsers,
      allowIfNoAcl: options.allowIfNoAcl ?? false,
      log: quiet,
    });
    try {
      return await fn(a, metadata);
    } finally {
      a.close();
      await metadata.close();
    }
  });
}

interface Case {
  readonly name: string;
  readonly acls: readonly AclBinding[];
  readonly superUsers?: string;
  readonly allowIfNoAcl?: boolean;
  readonly who?: typeof ALICE;
  readonly op: AclOperationCode;
  readonly type?: ResourceTypeCode;
  readonly resource: string;
  readonly allowed: boolean;
}

const T = RT.TOPIC;
const AUTHORIZE: readonly Case[] = [
  { name: "no ACLs: denied by default", acls: [], op: Op.READ, resource: "t", allowed: false },
  {
    name: "no ACLs, allow.everyone.if.no.acl.found",
    acls: [],
    allowIfNoAcl: true,
    op: Op.READ,
    resource: "t",
    allowed: true,
  },
  {
    name: "ACLs on other topics only, allow.everyone.if.no.acl.found",
    acls: [acl(T, "other", "User:bob", Op.READ, "allow")],
    allowIfNoAcl: true,
    op: Op.READ,
    resource: "t",
    allowed: true,
  },
  {
    name: "an ACL of another principal names the topic: allow.everyone does not apply",
    acls: [acl(T, "t", "User:bob", Op.READ, "allow")],
    allowIfNoAcl: true,
    op: Op.READ,
    resource: "t",
    allowed: false,
  },
  {
    name: "literal allow",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow")],
    op: Op.READ,
    resource: "t",
    allowed: true,
  },
  {
    name: "literal allow of another operation",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow")],
    op: Op.WRITE,
    resource: "t",
    allowed: false,
  },
  {
    name: "literal allow of another principal",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow")],
    who: BOB,
    op: Op.READ,
    resource: "t",
    allowed: false,
  },
  {
    name: "User:* matches every principal",
    acls: [acl(T, "t", "User:*", Op.READ, "allow")],
    who: BOB,
    op: Op.READ,
    resource: "t",
    allowed: true,
  },
  {
    name: "host: another IP",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow", "10.0.0.9")],
    op: Op.READ,
    resource: "t",
    allowed: false,
  },
  {
    name: "host: the client's IP",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow", "10.0.0.1")],
    op: Op.READ,
    resource: "t",
    allowed: true,
  },
  {
    name: "host: a CIDR block holding the client",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow", "10.0.0.0/24")],
    op: Op.READ,
    resource: "t",
    allowed: true,
  },
  {
    name: "host: a CIDR block without the client",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow", "10.0.1.0/24")],
    op: Op.READ,
    resource: "t",
    allowed: false,
  },
  {
    name: "host: an IPv6 block",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow", "fd00::/8")],
    who: { principal: "User:alice", host: "fd00::1" },
    op: Op.READ,
    resource: "t",
    allowed: true,
  },
  {
    name: "a deny for a CIDR block wins",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow"), acl(T, "t", "User:*", Op.READ, "deny", "10.0.0.0/8")],
    op: Op.READ,
    resource: "t",
    allowed: false,
  },
  {
    name: "wildcard resource",
    acls: [acl(T, "*", "User:alice", Op.READ, "allow")],
    op: Op.READ,
    resource: "anything",
    allowed: true,
  },
  {
    name: "prefixed: a longer name",
    acls: [acl(T, "foo*", "User:alice", Op.READ, "allow")],
    op: Op.READ,
    resource: "foobar",
    allowed: true,
  },
  {
    name: "prefixed: the prefix itself",
    acls: [acl(T, "foo*", "User:alice", Op.READ, "allow")],
    op: Op.READ,
    resource: "foo",
    allowed: true,
  },
  {
    name: "prefixed: a shorter name",
    acls: [acl(T, "foo*", "User:alice", Op.READ, "allow")],
    op: Op.READ,
    resource: "fo",
    allowed: false,
  },
  {
    name: "a literal ACL is not a prefix",
    acls: [acl(T, "foo", "User:alice", Op.READ, "allow")],
    op: Op.READ,
    resource: "foobar",
    allowed: false,
  },
  {
    name: "another resource type",
    acls: [acl(T, "g", "User:alice", Op.READ, "allow")],
    type: RT.GROUP,
    op: Op.READ,
    resource: "g",
    allowed: false,
  },
  {
    name: "ALL allows every operation",
    acls: [acl(T, "t", "User:alice", Op.ALL, "allow")],
    op: Op.ALTER_CONFIGS,
    resource: "t",
    allowed: true,
  },
  {
    name: "deny wins over allow ALL",
    acls: [acl(T, "t", "User:alice", Op.ALL, "allow"), acl(T, "t", "User:alice", Op.WRITE, "deny")],
    op: Op.WRITE,
    resource: "t",
    allowed: false,
  },
  {
    name: "a deny of WRITE leaves READ allowed",
    acls: [acl(T, "t", "User:alice", Op.ALL, "allow"), acl(T, "t", "User:alice", Op.WRITE, "deny")],
    op: Op.READ,
    resource: "t",
    allowed: true,
  },
  {
    name: "a prefixed deny wins over a literal allow",
    acls: [acl(T, "t1", "User:alice", Op.READ, "allow"), acl(T, "t*", "User:alice", Op.READ, "deny")],
    op: Op.READ,
    resource: "t1",
    allowed: false,
  },
  {
    name: "a deny for User:* wins over an allow for the principal",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow"), acl(T, "*", "User:*", Op.READ, "deny")],
    op: Op.READ,
    resource: "t",
    allowed: false,
  },
  {
    name: "a deny from another host does not apply",
    acls: [acl(T, "t", "User:alice", Op.READ, "allow"), acl(T, "t", "User:alice", Op.READ, "deny", "10.0.0.9")],
    op: Op.READ,
    resource: "t",
    allowed: true,
  },
  {
    name: "DENY ALL denies DESCRIBE",
    acls: [acl(T, "t", "User:alice", Op.ALL, "deny")],
    op: Op.DESCRIBE,
    resource: "t",
    allowed: false,
  },
  ...([Op.READ, Op.WRITE, Op.DELETE, Op.ALTER] as const).map((op) => ({
    name: `allow ${op} implies DESCRIBE`,
    acls: [acl(T, "t", "User:alice", op, "allow")],
    op: Op.DESCRIBE,
    resource: "t",
    allowed: true,
  })),
  {
    name: "allow CREATE does not imply DESCRIBE",
    acls: [acl(T, "t", "User:alice", Op.CREATE, "allow")],
    op: Op.DESCRIBE,
    resource: "t",
    allowed: false,
  },
  {
    name: "allow ALTER_CONFIGS implies DESCRIBE_CONFIGS",
    acls: [acl(T, "t", "User:alice", Op.ALTER_CONFIGS, "allow")],
    op: Op.DESCRIBE_CONFIGS,
    resource: "t",
    allowed: true,
  },
  {
    name: "allow ALTER does not imply DESCRIBE_CONFIGS",
    acls: [acl(T, "t", "User:alice", Op.ALTER, "allow")],
    op: Op.DESCRIBE_CONFIGS,
    resource: "t",
    allowed: false,
  },
  {
    name: "deny READ does not deny DESCRIBE",
    acls: [acl(T, "t", "User:alice", Op.DESCRIBE, "allow"), acl(T, "t", "User:alice", Op.READ, "deny")],
    op: Op.DESCRIBE,
    resource: "t",
    allowed: true,
  },
  {
    name: "super users pass every deny",
    acls: [acl(T, "*", "User:*", Op.ALL, "deny")],
    superUsers: " User:admin ; User:alice ",
    op: Op.DELETE,
    resource: "t",
    allowed: true,
  },
  {
    name: "super.users names other principals",
    acls: [],
    superUsers: "User:admin;User:root",
    op: Op.READ,
    resource: "t",
    allowed: false,
  },
  {
    name: "the cluster resource",
    acls: [acl(RT.CLUSTER, "kafka-cluster", "User:alice", Op.ALTER, "allow")],
    type: RT.CLUSTER,
    op: Op.ALTER,
    resource: "kafka-cluster",
    allowed: true,
  },
];

describe("StandardAuthorizer.authorize", () => {
  for (const c of AUTHORIZE) {
    test(c.name, async () => {
      const options = {
        allowIfNoAcl: c.allowIfNoAcl ?? false,
        ...(c.superUsers !== undefined ? { superUsers: c.superUsers } : {}),
      };
      const allowed = await withAuthorizer(c.acls, options, (a) =>
        a.authorize(c.who ?? ALICE, c.op, c.type ?? T, c.resource),
      );
      assert.equal(allowed, c.allowed);
    });
  }
});

const BY_TYPE: readonly Omit<Case, "resource">[] = [
  { name: "no ACLs", acls: [], op: Op.WRITE, allowed: false },
  { name: "no ACLs, allow.everyone.if.no.acl.found", acls: [], allowIfNoAcl: true, op: Op.WRITE, allowed: true },
  { name: "a literal allow", acls: [acl(T, "t1", "User:alice", Op.WRITE, "allow")], op: Op.WRITE, allowed: true },
  { name: "an allow of ALL", acls: [acl(T, "t1", "User:alice", Op.ALL, "allow")], op: Op.WRITE, allowed: true },
  {
    name: "implied operations do not count",
    acls: [acl(T, "t1", "User:alice", Op.READ, "allow")],
    op: Op.DESCRIBE,
    allowed: false,
  },
  {
    name: "another principal's allow",
    acls: [acl(T, "t1", "User:bob", Op.WRITE, "allow")],
    op: Op.WRITE,
    allowed: false,
  },
  {
    name: "a literal allow under a literal deny of the same name",
    acls: [acl(T, "t1", "User:alice", Op.WRITE, "allow"), acl(T, "t1", "User:alice", Op.WRITE, "deny")],
    op: Op.WRITE,
    allowed: false,
  },
  {
    name: "a literal allow under a prefixed deny",
    acls: [acl(T, "abc", "User:alice", Op.WRITE, "allow"), acl(T, "ab*", "User:alice", Op.WRITE, "deny")],
    op: Op.WRITE,
    allowed: false,
  },
  {
    name: "a prefixed allow under a shorter prefixed deny",
    acls: [acl(T, "abc*", "User:alice", Op.WRITE, "allow"), acl(T, "a*", "User:*", Op.WRITE, "deny")],
    op: Op.WRITE,
    allowed: false,
  },
  {
    name: "a prefixed allow beside a literal deny of the same name",
    acls: [acl(T, "ab*", "User:alice", Op.WRITE, "allow"), acl(T, "ab", "User:alice", Op.WRITE, "deny")],
    op: Op.WRITE,
    allowed: true,
  },
  {
    name: "a prefixed allow beside a longer prefixed deny",
    acls: [acl(T, "ab*", "User:alice", Op.WRITE, "allow"), acl(T, "abc*", "User:alice", Op.WRITE, "deny")],
    op: Op.WRITE,
    allowed: true,
  },
  {
    name: "a wildcard deny",
    acls: [acl(T, "t1", "User:alice", Op.WRITE, "allow"), acl(T, "*", "User:alice", Op.WRITE, "deny")],
    op: Op.WRITE,
    allowed: false,
  },
  { name: "a wildcard allow", acls: [acl(T, "*", "User:*", Op.WRITE, "allow")], op: Op.WRITE, allowed: true },
  {
    name: "a super user",
    acls: [acl(T, "*", "User:*", Op.ALL, "deny")],
    superUsers: "User:alice",
    op: Op.WRITE,
    allowed: true,
  },
];

describe("StandardAuthorizer.authorizeByResourceType (Kafka's Authorizer default)", () => {
  for (const c of BY_TYPE) {
    test(c.name, async () => {
      const options = {
        allowIfNoAcl: c.allowIfNoAcl ?? false,
        ...(c.superUsers !== undefined ? { superUsers: c.superUsers } : {}),
      };
      const allowed = await withAuthorizer(c.acls, options, (a) =>
        a.authorizeByResourceType(c.who ?? ALICE, c.op, c.type ?? T),
      );
      assert.equal(allowed, c.allowed);
    });
  }
});

const bits = (...ops: number[]): number => ops.reduce((s, op) => s | (1 << op), 0);

describe("StandardAuthorizer.authorizedOperations and the store", () => {
  test("the bit set: allowed operations with implied ones; all supported ones for a super user or ALL", async () => {
    const acls = [acl(T, "t", "User:alice", Op.READ, "allow"), acl(T, "u", "User:alice", Op.ALL, "allow")];
    await withAuthorizer(acls, { superUsers: "User:bob" }, (a) => {
      assert.equal(a.authorizedOperations(ALICE, T, "t"), bits(Op.READ, Op.DESCRIBE));
      assert.equal(a.authorizedOperations(ALICE, T, "u"), SUPPORTED_OPERATIONS[T]);
      assert.equal(a.authorizedOperations(BOB, RT.CLUSTER, "kafka-cluster"), SUPPORTED_OPERATIONS[RT.CLUSTER]);
      assert.equal(a.authorizedOperations(ALICE, T, "v"), 0);
    });
  });

  test("follows the store: created and deleted ACLs apply at once; a create is idempotent; ACLs survive a reopen", async () => {
    await withTempDir("tskafka-authz-", async (dir) => {
      const metadata = await FileClusterMetadata.open(dir);
      const a = new StandardAuthorizer(metadata, { superUsers: undefined, allowIfNoAcl: false, log: quiet });
      const read = acl(T, "t", "User:alice", Op.READ, "allow");
      assert.equal(a.authorize(ALICE, Op.READ, T, "t"), false);
      await metadata.createAcls([read, read]);
      await metadata.createAcls([read, acl(T, "t", "User:bob", Op.READ, "allow")]);
      assert.equal(metadata.acls().length, 2);
      assert.equal(a.authorize(ALICE, Op.READ, T, "t"), true);
      const byAlice: AclBindingFilter = { ...ANY_FILTER, principal: "User:alice" };
      const deleted = await metadata.deleteAcls([byAlice, ANY_FILTER]);
      assert.deepEqual(
        deleted.map((d) => d.length),
        [1, 2],
      );
      assert.equal(a.authorize(ALICE, Op.READ, T, "t"), false);
      await metadata.createAcls([read]);
      a.close();
      await metadata.close();
      const reopened = await FileClusterMetadata.open(dir);
      assert.deepEqual(reopened.acls(), [read]);
      await reopened.close();
    });
  });

  test("authorizer.class.name: empty or Kafka's StandardAuthorizer; any other class stops start-up naming the key", () => {
    const config = (props: Record<string, string>) => buildConfig({ file: new Map(Object.entries(props)) });
    assert.equal(config({}).props["authorizer.class.name"], "");
    const on = config({
      "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      "super.users": "User:admin;User:ops",
      "allow.everyone.if.no.acl.found": "true",
    });
    assert.equal(on.props["allow.everyone.if.no.acl.found"], true);
    assert.throws(
      () => config({ "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer" }),
      (e) =>
        e instanceof ConfigError &&
        /^config: authorizer\.class\.name=.*AclAuthorizer.* cannot be found/.test(e.message),
    );
    assert.throws(
      () => config({ "super.users": "User:admin;ops" }),
      (e) =>
        e instanceof ConfigError && /^config: super\.users=.*principalType:principalName but got ops/.test(e.message),
    );
  });

  test("denials are logged at INFO in Kafka's words, unless the check is a filter (logIfDenied false)", async () => {
    const lines: string[] = [];
    const log = new (class extends Logger {
      override log(level: LogLevel, message: string): void {
        if (this.enabled(level)) lines.push(`${level} ${message}`);
      }
    })("info");
    await withTempDir("tskafka-authz-", async (dir) => {
      const metadata = await FileClusterMetadata.open(dir);
      await metadata.createAcls([acl(T, "t", "User:alice", Op.READ, "allow")]);
      const a = new StandardAuthorizer(metadata, { superUsers: undefined, allowIfNoAcl: false, log });
      lines.length = 0;
      assert.equal(a.authorize(ALICE, Op.READ, T, "t"), true);
      assert.equal(a.authorize(ALICE, Op.WRITE, T, "t", false), false);
      assert.deepEqual(lines, []);
      assert.equal(a.authorize(ALICE, Op.WRITE, T, "t"), false);
      assert.deepEqual(lines, [
        "info authorizer: Principal = User:alice is Denied operation = WRITE from host = 10.0.0.1 on resource = Topic:LITERAL:t based on rule DefaultDeny",
      ]);
      a.close();
      await metadata.close();
    });
  });

  test("super.users entries must be Type:name", () => {
    assert.equal(superUsersProblem("User:a;User:b"), undefined);
    assert.match(superUsersProblem("User:a;admin") ?? "", /principalType:principalName but got admin/);
  });
});

const ANY_FILTER: AclBindingFilter = {
  resourceType: RT.ANY,
  resourceName: null,
  patternType: PatternType.ANY,
  principal: null,
  host: null,
  operation: Op.ANY,
  permission: AclPermission.ANY,
};

describe("ACL filters (Kafka's AclBindingFilter.matches)", () => {
  const lit = acl(T, "foobar", "User:alice", Op.READ, "allow");
  const pre = acl(T, "foo*", "User:alice", Op.READ, "allow");
  const wild = acl(T, "*", "User:alice", Op.READ, "allow");
  const rows: [string, Partial<AclBindingFilter>, boolean[]][] = [
    ["everything", {}, [true, true, true]],
    [
      "MATCH foobar: literal, prefix and wildcard",
      { resourceName: "foobar", patternType: PatternType.MATCH },
      [true, true, true],
    ],
    [
      "MATCH foo: the prefix and the wildcard",
      { resourceName: "foo", patternType: PatternType.MATCH },
      [false, true, true],
    ],
    [
      "ANY foo: the exact name of any pattern type",
      { resourceName: "foo", patternType: PatternType.ANY },
      [false, true, false],
    ],
    ["PREFIXED without a name", { patternType: PatternType.PREFIXED }, [false, true, false]],
    ["LITERAL *", { resourceName: "*", patternType: PatternType.LITERAL }, [false, false, true]],
    ["a group filter", { resourceType: RT.GROUP }, [false, false, false]],
    ["another principal", { principal: "User:bob" }, [false, false, false]],
    ["another host", { host: "10.0.0.1" }, [false, false, false]],
    ["DENY", { permission: AclPermission.DENY }, [false, false, false]],
    ["READ", { operation: Op.READ }, [true, true, true]],
  ];
  for (const [name, f, expected] of rows) {
    test(name, () => {
      const filter = { ...ANY_FILTER, ...f };
      assert.deepEqual(
        [lit, pre, wild].map((b) => filterMatches(filter, b)),
        expected,
      );
    });
  }
});

describe("CreateAcls checks (Kafka's AclApis and AclControlManager)", () => {
  const good: AclCreation = {
    resourceType: RT.TOPIC,
    resourceName: "t",
    resourcePatternType: PatternType.LITERAL,
    principal: "User:alice",
    host: "*",
    operation: Op.READ,
    permissionType: AclPermission.ALLOW,
  };
  const rows: [Partial<AclCreation>, string | undefined][] = [
    [{}, undefined],
    [{ resourceType: RT.CLUSTER }, "The only valid name for the CLUSTER resource is kafka-cluster"],
    [{ resourceType: RT.CLUSTER, resourceName: "kafka-cluster" }, undefined],
    [{ resourceName: "" }, "Invalid empty resource name"],
    [{ resourceType: 42 }, "Invalid resourceType UNKNOWN"],
    [{ resourcePatternType: 42 }, "Invalid patternType UNKNOWN"],
    [{ operation: 42 }, "Invalid operation UNKNOWN"],
    [{ permissionType: 42 }, "Invalid permissionType UNKNOWN"],
    [
      { principal: "alice" },
      "Could not parse principal from `alice` (no colon is present separating the principal type from the principal name)",
    ],
    [{ host: "" }, "Host pattern cannot be null or empty"],
    [{ host: "10.0.0.0/8" }, undefined],
    [{ host: "fd00::/8" }, undefined],
    [{ host: "10.0.0.0/33" }, "Invalid CIDR notation '10.0.0.0/33': Value [33] not in range [0,32]"],
    [{ host: "10.0.0/8" }, "Invalid CIDR notation '10.0.0/8': Could not parse [10.0.0/8]"],
  ];
  for (const [change, message] of rows) {
    test(JSON.stringify(change), () => {
      const r = validateCreation({ ...good, ...change });
      assert.equal(r instanceof InvalidAcl ? r.message : undefined, message);
    });
  }
});
