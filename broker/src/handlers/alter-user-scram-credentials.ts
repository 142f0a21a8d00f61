import {
  ApiKey,
  createAlterUserScramCredentialsResponse,
  type AlterUserScramCredentialsRequestScramCredentialDeletion as Deletion,
  type AlterUserScramCredentialsRequestScramCredentialUpsertion as Upsertion,
} from "@tskafka/protocol";
import type { ClusterMetadata, ScramCredentialDeletion, UserScramCredential } from "../cluster/metadata.js";
import { ErrorCode } from "../errors.js";
import {
  credentialFromSaltedPassword,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  scramMechanismOfType,
} from "../security/scram.js";
import { AclOperation } from "../security/acl.js";
import { AUTHORIZATION_MESSAGE, clusterAllowed } from "./authz.js";
import { defineHandler } from "./handler.js";

interface Failure {
  readonly errorCode: number;
  readonly errorMessage: string;
}

const DUPLICATE: Failure = {
  errorCode: ErrorCode.DUPLICATE_RESOURCE,
  errorMessage: "A user credential cannot be altered twice in the same request",
};

/**
 * AlterUserScramCredentials v0 (KIP-554, `kafka-configs.sh --alter --add-config|--delete-config
 * 'SCRAM-SHA-256=[...]' --entity-type users`), as Kafka's controller decides it: a user may appear once
 * in the whole request (else DUPLICATE_RESOURCE); an empty name, an empty salt or salted password, or an
 * iteration count outside 4096..16384 is UNACCEPTABLE_CREDENTIAL; a mechanism other than SCRAM-SHA-256/512
 * is UNSUPPORTED_SASL_MECHANISM; deleting a credential that does not exist is RESOURCE_NOT_FOUND. The
 * client sends the salted password; the stored and server keys are derived from it and kept, the salted
 * password is not. Accepted changes are written at once; the answer lists them first, then the failures.
 * ALTER on the cluster is needed, else every user named is CLUSTER_AUTHORIZATION_FAILED.
 */
export const alterUserScramCredentialsHandler = defineHandler({
  apiKey: ApiKey.AlterUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    if (!clusterAllowed(ctx, AclOperation.ALTER)) {
      const users = [...new Set([...request.deletions, ...request.upsertions].map((u) => u.name))].sort();
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return createAlterUserScramCredentialsResponse({
        results: users.map((user) => ({
          user,
          errorCode,
          errorMessage: AUTHORIZATION_MESSAGE[ErrorCode.CLUSTER_AUTHORIZATION_FAILED]!,
        })),
      });
    }
    const metadata = ctx.services.metadata;
    const failures = new Map<string, Failure>();
    const deletions = new Map<string, Deletion>();
    const upserts = new Map<string, Upsertion>();
    for (const d of request.deletions) {
      if (failures.has(d.name)) continue;
      if (deletions.delete(d.name)) failures.set(d.name, DUPLICATE);
      else record(failures, deletions, d, invalidDeletion(metadata, d));
    }
    for (const u of request.upsertions) {
      if (failures.has(u.name)) continue;
      if (deletions.delete(u.name) || upserts.delete(u.name)) failures.set(u.name, DUPLICATE);
      else record(failures, upserts, u, invalidUpsertion(u));
    }
    const toDelete: ScramCredentialDeletion[] = [...deletions.values()].map((d) => ({
      user: d.name,
      mechanism: scramMechanismOfType(d.mechanism)!,
    }));
    const toUpsert: UserScramCredential[] = [...upserts.values()].map((u) => ({
      user: u.name,
      credential: credentialFromSaltedPassword(
        scramMechanismOfType(u.mechanism)!,
        u.saltedPassword,
        u.salt,
        u.iterations,
      ),
    }));
    if (toDelete.length > 0 || toUpsert.length > 0) {
      await metadata.alterScramCredentials(toUpsert, toDelete);
      const changed = [
        ...toDelete.map((d) => `-${d.user}/${d.mechanism}`),
        ...toUpsert.map((u) => `+${u.user}/${u.credential.mechanism}`),
      ];
      ctx.services.log.info(`SCRAM credentials altered: ${changed.join(", ")}`);
    }
    const ok = [...deletions.keys(), ...upserts.keys()].map((user) => ({
      user,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
    }));
    const failed = [...failures].map(([user, f]) => ({ user, ...f }));
    return createAlterUserScramCredentialsResponse({ results: [...ok, ...failed] });
  },
});

function record<T>(
  failures: Map<string, Failure>,
  accepted: Map<string, T>,
  item: T & { name: string },
  failure?: Failure,
): void {
  if (failure !== undefined) failures.set(item.name, failure);
  else accepted.set(item.name, item);
}

function invalidNameOrMechanism(name: string, mechanism: number): Failure | undefined {
  if (name === "") return { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: "Username must not be empty" };
  if (scramMechanismOfType(mechanism) === undefined) {
    return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: "Unknown SCRAM mechanism" };
  }
  return undefined;
}

function invalidDeletion(metadata: ClusterMetadata, d: Deletion): Failure | undefined {
  const invalid = invalidNameOrMechanism(d.name, d.mechanism);
  if (invalid !== undefined) return invalid;
  const mechanism = scramMechanismOfType(d.mechanism);
  if (!metadata.scramCredentials(d.name).some((c) => c.credential.mechanism === mechanism)) {
    return {
      errorCode: ErrorCode.RESOURCE_NOT_FOUND,
      errorMessage: "Attempt to delete a user credential that does not exist",
    };
  }
  return undefined;
}

function invalidUpsertion(u: Upsertion): Failure | undefined {
  const invalid = invalidNameOrMechanism(u.name, u.mechanism);
  if (invalid !== undefined) return invalid;
  const unacceptable = (errorMessage: string): Failure => ({
    errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL,
    errorMessage,
  });
  if (u.iterations < SCRAM_MIN_ITERATIONS) return unacceptable("Too few iterations");
  if (u.iterations > SCRAM_MAX_ITERATIONS) return unacceptable("Too many iterations");
  if (u.salt.length === 0) return unacceptable("Salt must not be empty");
  if (u.saltedPassword.length === 0) return unacceptable("Salted password must not be empty");
  return undefined;
}
