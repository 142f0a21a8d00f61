import type { ShareStateKey } from "./state-records.js";

/**
 * What the share coordinator's five inter-broker requests (Initialize/Read/Write/Delete ShareGroupState,
 * ReadShareGroupStateSummary) share: a group, topics by id, and per partition one answer, listed as asked.
 */

interface StateTopic<P extends { partition: number }> {
  readonly topicId: string;
  readonly partitions: readonly P[];
}

/** Each share-partition a request names, answered by `answer`, by topic in the request's order. */
export async function perSharePartition<P extends { partition: number }, R>(
  groupId: string,
  topics: readonly StateTopic<P>[],
  answer: (key: ShareStateKey, p: P) => R | Promise<R>,
): Promise<{ topicId: string; partitions: R[] }[]> {
  return Promise.all(
    topics.map(async (t) => ({
      topicId: t.topicId,
      partitions: await Promise.all(
        t.partitions.map(async (p) => answer({ groupId, topicId: t.topicId, partition: p.partition }, p)),
      ),
    })),
  );
}

/** The same answer for every share-partition a request names (a request refused as a whole). */
export function everySharePartition<P extends { partition: number }, R>(
  topics: readonly StateTopic<P>[],
  failed: (partition: number) => R,
): { topicId: string; partitions: R[] }[] {
  return topics.map((t) => ({ topicId: t.topicId, partitions: t.partitions.map((p) => failed(p.partition)) }));
}
