import { ZERO_UUID } from "@tskafka/protocol";
import { ErrorCode } from "../errors.js";
import { allowed, allowedNames } from "../handlers/authz.js";
import type { RequestContext } from "../handlers/handler.js";
import { AclOperation, ResourceType } from "../security/acl.js";
import type { TopicPartitionErrors } from "./offset-store.js";

/**
 * What OffsetCommit and TxnOffsetCommit share: the authorization of a commit as Kafka's handlers split
 * it (READ on the group for the whole request, READ on each topic for its partitions) and the answers
 * that name every partition with one error.
 */

/** A topic of a commit request: by name, or by id from the version that names topics by id. */
export interface CommitTopic {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: readonly { readonly partitionIndex: number }[];
}

/** A topic of a commit answer. */
export interface CommitTopicResult {
  name: string;
  topicId: string;
  partitions: { partitionIndex: number; errorCode: number }[];
}

/** A topic left to commit after authorization, with its name ("" for an id this cluster does not know). */
export interface KeptTopic<T extends CommitTopic> {
  readonly topic: T;
  readonly name: string;
}

/** Kafka's getErrorResponse for a commit: every partition named, with the error (ids only when `byId`). */
export function everyPartition(topics: readonly CommitTopic[], errorCode: number, byId: boolean): CommitTopicResult[] {
  return topics.map((t) => ({
    name: t.name,
    topicId: byId ? t.topicId : ZERO_UUID,
    partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
  }));
}

/**
 * A commit under READ on the group (else every partition is GROUP_AUTHORIZATION_FAILED) and on each
 * topic (TOPIC_AUTHORIZATION_FAILED, not committed; `commit` is not called when no topic is left). A
 * topic id this cluster does not know is committed under "" and answered UNKNOWN_TOPIC_ID. Refused
 * topics come first in the answer, then `commit`'s, one per kept topic in order.
 */
export async function authorizedCommit<T extends CommitTopic>(
  ctx: RequestContext,
  groupId: string,
  topics: readonly T[],
  byId: boolean,
  commit: (kept: readonly KeptTopic<T>[]) => Promise<TopicPartitionErrors[]>,
): Promise<CommitTopicResult[]> {
  if (!allowed(ctx, AclOperation.READ, ResourceType.GROUP, groupId))
    return everyPartition(topics, ErrorCode.GROUP_AUTHORIZATION_FAILED, byId);
  const metadata = ctx.services.metadata;
  const readable = allowedNames(ctx, AclOperation.READ);
  const asked = topics.map((t) => ({ t, name: byId ? metadata.topicById(t.topicId)?.name : t.name }));
  const refused = asked.filter((a) => a.name !== undefined && !readable(a.name));
  const kept = refused.length === 0 ? asked : asked.filter((a) => !refused.includes(a));
  const denied = everyPartition(
    refused.map((a) => a.t),
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    byId,
  );
  if (kept.length === 0) return denied;
  const results = await commit(kept.map((a) => ({ topic: a.t, name: a.name ?? "" })));
  const committed = results.map((r, i) => {
    const partitions =
      kept[i]!.name === undefined
        ? r.partitions.map((p) => ({ ...p, errorCode: ErrorCode.UNKNOWN_TOPIC_ID }))
        : r.partitions;
    return { name: r.name, topicId: byId ? kept[i]!.t.topicId : ZERO_UUID, partitions };
  });
  return [...denied, ...committed];
}
