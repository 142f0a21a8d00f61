import { bool, string } from "./config-def.js";
import { STANDARD_AUTHORIZER_CLASS, superUsersProblem } from "./security/standard-authorizer.js";

/** Only Kafka's KRaft authorizer has an implementation here; any other class stops start-up. */
function authorizerClass(value: string): string | undefined {
  if (value === "" || value === STANDARD_AUTHORIZER_CLASS) return undefined;
  return `Class ${value} cannot be found: the only authorizer served is ${STANDARD_AUTHORIZER_CLASS} (empty for none)`;
}

const authz = { importance: "medium", dynamic: "read-only", appliedIn: "authorizer" } as const;

/** The authorizer keys of server.properties (Kafka's names and defaults). */
export const AUTHORIZER_KEYS = {
  "authorizer.class.name": string({
    default: "",
    check: authorizerClass,
    importance: "low",
    doc: `The authorizer: ${STANDARD_AUTHORIZER_CLASS} checks ACLs; empty allows every request and refuses the ACL APIs.`,
    dynamic: "read-only",
    appliedIn: "authorizer",
  }),
  "super.users": string({
    default: "",
    check: superUsersProblem,
    doc: "Principals (Type:name, separated by semicolons) the authorizer allows everything, whatever the ACLs.",
    ...authz,
  }),
  "allow.everyone.if.no.acl.found": bool({
    default: "false",
    doc: "Whether the authorizer allows a request on a resource that no ACL names at all.",
    ...authz,
  }),
} as const;
