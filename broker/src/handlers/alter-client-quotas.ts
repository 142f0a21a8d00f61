import {
  ApiKey,
  createAlterClientQuotasResponse,
  type AlterClientQuotasRequest,
  type AlterClientQuotasResponseEntryData,
} from "@tskafka/protocol";
import type { ClientQuotaChange, QuotaEntity } from "../cluster/metadata.js";
import { ErrorCode } from "../errors.js";
import { quotaChangeProblem } from "../quota/quota-keys.js";
import { AclOperation, CLUSTER_RESOURCE, ResourceType } from "../security/acl.js";
import { defineHandler } from "./handler.js";

/** One entity of the request: its ops by key (null: remove; none: not to be applied) and its answer. */
interface Alteration {
  readonly entity: Record<string, string | null>;
  ops: Map<string, number | null> | undefined;
  problem: string | undefined;
  /** The answer whatever the checks say: the entity was named twice. */
  duplicate?: string;
}

/**
 * AlterClientQuotas v0-1 (KIP-546): sets and removes quota values of user, client-id (alone or together)
 * and ip entities, a null name being the type's default. Each entity is checked as Kafka 4.4's controller
 * checks it (ClientQuotaControlManager): its types and their combination, each key against the keys of
 * its kind and each value against the key's type (whole numbers for the byte rates and
 * connection_creation_rate, above 0); a removal is never checked. A refused entity is answered
 * INVALID_REQUEST with Kafka's message and nothing of it changes; the others are applied together. An
 * entity named twice, or a key named twice for one entity, is refused as "Ignoring duplicate entity".
 * validate_only answers without changing anything. It needs ALTER_CONFIGS on the cluster; otherwise
 * every entity is answered CLUSTER_AUTHORIZATION_FAILED.
 */
export const alterClientQuotasHandler = defineHandler({
  apiKey: ApiKey.AlterClientQuotas,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const services = ctx.services;
    if (
      !services.authorizer.authorize(ctx.session, AclOperation.ALTER_CONFIGS, ResourceType.CLUSTER, CLUSTER_RESOURCE)
    ) {
      // Kafka's getErrorResponse: every entry of the request as it came, with the error.
      return createAlterClientQuotasResponse({
        entries: request.entries.map((e) => ({
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: "Cluster authorization failed.",
          entity: e.entity.map(({ entityType, entityName }) => ({ entityType, entityName })),
        })),
      });
    }
    const alterations = parse(request);
    const changes = [...alterations.values()].flatMap((a) => decide(a) ?? []);
    if (!request.validateOnly && changes.length > 0) await services.metadata.alterClientQuotas(changes);
    return respond(alterations);
  },
});

/** Checks one entity's ops and sets its answer; its change when it is to be applied. */
function decide(a: Alteration): ClientQuotaChange | undefined {
  const ops = a.ops;
  let change: ClientQuotaChange | undefined;
  if (ops !== undefined) {
    const set = [...ops].flatMap(([key, value]) => (value === null ? [] : [{ key, value }]));
    a.problem = quotaChangeProblem(a.entity, set);
    const remove = [...ops].flatMap(([key, value]) => (value === null ? [key] : []));
    const values = Object.fromEntries(set.map((s) => [s.key, s.value]));
    if (a.problem === undefined) change = { entity: a.entity as QuotaEntity, set: values, remove };
  }
  a.problem = a.duplicate ?? a.problem;
  return change;
}

/** Kafka's ClientQuotaEntity.toString, for its duplicate messages. */
const describe = (entity: Record<string, string | null>): string =>
  `ClientQuotaEntity(entries={${Object.entries(entity)
    .map(([t, n]) => `${t}=${n}`)
    .join(", ")}})`;

/** The request's entities (a type named twice in one entity: the last name), duplicates marked. */
function parse(request: AlterClientQuotasRequest): Map<string, Alteration> {
  const out = new Map<string, Alteration>();
  for (const entry of request.entries) {
    const entity: Record<string, string | null> = {};
    for (const e of entry.entity) entity[e.entityType] = e.entityName;
    const key = JSON.stringify(Object.entries(entity).sort(([a], [b]) => (a < b ? -1 : 1)));
    const ops = new Map<string, number | null>();
    let duplicateKey = false;
    for (const op of entry.ops) {
      if (ops.has(op.key)) duplicateKey = true;
      else ops.set(op.key, op.remove ? null : op.value);
    }
    const seen = out.get(key);
    const duplicate = `Ignoring duplicate entity ${describe(entity)}`;
    // As Kafka: a repeated entity is not applied again and both are answered with this refusal (the first
    // one's changes still apply); an entity with a key named twice is refused whole.
    if (seen !== undefined) seen.duplicate = duplicate;
    else if (duplicateKey) out.set(key, { entity, ops: undefined, problem: undefined, duplicate });
    else out.set(key, { entity, ops, problem: undefined });
  }
  return out;
}

function respond(alterations: Map<string, Alteration>) {
  const entries: AlterClientQuotasResponseEntryData[] = [...alterations.values()].map((a) => ({
    errorCode: a.problem === undefined ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST,
    errorMessage: a.problem ?? null,
    entity: Object.entries(a.entity).map(([entityType, entityName]) => ({ entityType, entityName })),
  }));
  return createAlterClientQuotasResponse({ entries });
}
