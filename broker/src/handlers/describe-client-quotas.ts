import { ApiKey, createDescribeClientQuotasResponse, type DescribeClientQuotasRequest } from "@tskafka/protocol";
import type { QuotaEntity, QuotaEntityType } from "../cluster/metadata.js";
import { ErrorCode } from "../errors.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

const ENTITY_TYPES = new Set(["user", "client-id", "ip"]);
const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_SPECIFIED = 2;

/**
 * DescribeClientQuotas v0-1 (KIP-546), answered from the cluster's client quotas as Kafka 4.4's metadata
 * image answers it: each filter component matches an entity type exactly (a name), its default (null
 * name) or any name it has (specified); the entities matching every component are listed, and with
 * `strict` only those that have no other type. No component: every entity (none when strict). A filter
 * Kafka refuses (an empty or repeated entity type, a match string where the match type takes none or
 * none where it takes one, an unknown match type, ip with user or client-id) is INVALID_REQUEST, another
 * entity type UNSUPPORTED_VERSION, at the top level with no entries. It needs DESCRIBE_CONFIGS on the
 * cluster (CLUSTER_AUTHORIZATION_FAILED otherwise). Kafka's tools ask it before they describe a user's
 * SCRAM credentials too (`kafka-configs.sh --describe --entity-type users`).
 */
export const describeClientQuotasHandler = defineHandler({
  apiKey: ApiKey.DescribeClientQuotas,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE_CONFIGS)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return createDescribeClientQuotasResponse({
        errorCode,
        errorMessage: AUTHORIZATION_MESSAGE[errorCode]!,
        entries: null,
      });
    }
    const refusal = invalidFilter(request);
    if (refusal !== undefined) return createDescribeClientQuotasResponse({ ...refusal, entries: null });
    const entries = ctx.services.metadata
      .clientQuotas()
      .filter((e) => matches(e.entity, request))
      .map((e) => ({
        entity: Object.entries(e.entity).map(([entityType, entityName]) => ({ entityType, entityName })),
        values: Object.entries(e.values).map(([key, value]) => ({ key, value })),
      }));
    return createDescribeClientQuotasResponse({ errorCode: ErrorCode.NONE, errorMessage: null, entries });
  },
});

/** Whether an entity passes every component of a valid filter. */
function matches(entity: QuotaEntity, request: DescribeClientQuotasRequest): boolean {
  const types = Object.keys(entity);
  if (request.strict && types.length !== request.components.length) return false;
  if (!request.strict && request.components.length === 0) return true;
  return request.components.every((c) => {
    if (!types.includes(c.entityType)) return false;
    const name = entity[c.entityType as QuotaEntityType];
    if (c.matchType === MATCH_EXACT) return name === c.match;
    if (c.matchType === MATCH_DEFAULT) return name === null;
    return true;
  });
}

function invalidFilter(request: DescribeClientQuotasRequest): { errorCode: number; errorMessage: string } | undefined {
  const invalid = (errorMessage: string) => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage });
  const seen = new Set<string>();
  for (const c of request.components) {
    if (c.entityType === "") return invalid("Invalid empty entity type.");
    if (seen.has(c.entityType))
      return invalid(`Entity type ${c.entityType} cannot appear more than once in the filter.`);
    seen.add(c.entityType);
    if (!ENTITY_TYPES.has(c.entityType)) {
      return {
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        errorMessage: `Unsupported entity type ${c.entityType}`,
      };
    }
    if (c.matchType === MATCH_EXACT && c.match === null) {
      return invalid("Request specified MATCH_TYPE_EXACT, but set match string to null.");
    }
    if (c.matchType === MATCH_DEFAULT && c.match !== null) {
      return invalid("Request specified MATCH_TYPE_DEFAULT, but also specified a match string.");
    }
    if (c.matchType === MATCH_SPECIFIED && c.match !== null) {
      return invalid("Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.");
    }
    if (c.matchType < MATCH_EXACT || c.matchType > MATCH_SPECIFIED) return invalid(`Unknown match type ${c.matchType}`);
  }
  if (seen.has("ip") && (seen.has("user") || seen.has("client-id"))) {
    return invalid(
      "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.",
    );
  }
  return undefined;
}
