/**
 * The share groups' server-side assignment, with the semantics of Kafka's simple assignor: every member
 * gets partitions of each topic it subscribes to, and every partition of a subscribed topic goes to at
 * least one member. With fewer members than partitions each partition has one member; with more
 * members than partitions the partitions are shared. Members are taken in id order, so the result
 * depends only on the members and their subscriptions.
 */

export interface AssignableMember {
  readonly memberId: string;
  readonly subscribedTopics: readonly string[];
}

/** A topic to assign: its id and partition count. */
export interface AssignableTopic {
  readonly id: string;
  readonly partitions: number;
}

/** By member id: topic id to the sorted partitions it gets. */
export type ShareAssignment = Map<string, Map<string, number[]>>;

export function assignShare(
  members: readonly AssignableMember[],
  topic: (name: string) => AssignableTopic | undefined,
): ShareAssignment {
  const out: ShareAssignment = new Map(members.map((m) => [m.memberId, new Map()]));
  const subscribers = new Map<string, string[]>();
  for (const m of members)
    for (const name of m.subscribedTopics) {
      const list = subscribers.get(name);
      if (list === undefined) subscribers.set(name, [m.memberId]);
      else list.push(m.memberId);
    }
  for (const [name, ids] of subscribers) {
    const t = topic(name);
    if (t === undefined || t.partitions === 0) continue;
    ids.sort();
    const give = (memberId: string, partition: number): void => {
      const byTopic = out.get(memberId)!;
      const list = byTopic.get(t.id);
      if (list === undefined) byTopic.set(t.id, [partition]);
      else if (!list.includes(partition)) list.push(partition);
    };
    if (ids.length <= t.partitions) for (let p = 0; p < t.partitions; p++) give(ids[p % ids.length]!, p);
    else ids.forEach((id, i) => give(id, i % t.partitions));
  }
  for (const byTopic of out.values()) for (const list of byTopic.values()) list.sort((a, b) => a - b);
  return out;
}

/** Whether two assignments of one member are the same. */
export function sameAssignment(a: ReadonlyMap<string, number[]>, b: ReadonlyMap<string, number[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [topicId, parts] of a) {
    const other = b.get(topicId);
    if (other === undefined || other.length !== parts.length || other.some((p, i) => p !== parts[i])) return false;
  }
  return true;
}
