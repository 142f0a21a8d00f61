/**
 * Server-side assignors of the KIP-848 consumer protocol: `uniform` (balanced and sticky: members keep
 * what they had up to their fair share) and `range` (per topic, contiguous ranges over the members
 * subscribed to it, in member id order). Assignments map a topic id to sorted partition numbers.
 */

export type Assignment = Map<string, number[]>;

export interface AssignorMember {
  readonly memberId: string;
  readonly subscribedTopicNames: readonly string[];
  /** The member's previous target, for stickiness. */
  readonly current: Assignment;
}

export interface AssignorTopic {
  readonly id: string;
  readonly partitions: number;
}

export type Assignor = (
  members: readonly AssignorMember[],
  topics: ReadonlyMap<string, AssignorTopic>,
) => Map<string, Assignment>;

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map<string, Assignor>([
  ["uniform", uniformAssignor],
  ["range", rangeAssignor],
]);
/** Kafka's group.consumer.assignors default: the first one is used when a member names none. */
export const DEFAULT_ASSIGNOR = "uniform";

function add(a: Assignment, topicId: string, partition: number): void {
  const list = a.get(topicId);
  if (list === undefined) a.set(topicId, [partition]);
  else list.push(partition);
}

function sortAssignment(a: Assignment): Assignment {
  for (const list of a.values()) list.sort((x, y) => x - y);
  return a;
}

export function uniformAssignor(
  members: readonly AssignorMember[],
  topics: ReadonlyMap<string, AssignorTopic>,
): Map<string, Assignment> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const result = new Map<string, Assignment>(sorted.map((m) => [m.memberId, new Map()]));
  const counts = new Map<string, number>(sorted.map((m) => [m.memberId, 0]));
  const subscribers = new Map<string, string[]>();
  for (const m of sorted) {
    for (const name of new Set(m.subscribedTopicNames)) {
      if (!topics.has(name)) continue;
      const list = subscribers.get(name);
      if (list === undefined) subscribers.set(name, [m.memberId]);
      else list.push(m.memberId);
    }
  }
  // Fair share of each member: its part of every topic it subscribes to, rounded up.
  const quota = new Map<string, number>();
  for (const m of sorted) {
    let share = 0;
    for (const name of new Set(m.subscribedTopicNames)) {
      const t = topics.get(name);
      if (t !== undefined) share += t.partitions / subscribers.get(name)!.length;
    }
    quota.set(m.memberId, Math.ceil(share - 1e-9));
  }
  const taken = new Set<string>();
  const byId = new Map([...topics.values()].map((t) => [t.id, t]));
  const eligible = new Map<string, Set<string>>();
  for (const [name, ids] of subscribers) eligible.set(topics.get(name)!.id, new Set(ids));
  // Sticky pass: previous partitions that are still valid, up to the quota.
  for (const m of sorted) {
    for (const [topicId, partitions] of m.current) {
      const t = byId.get(topicId);
      if (t === undefined || !eligible.get(topicId)?.has(m.memberId)) continue;
      for (const p of partitions) {
        const key = `${topicId}:${p}`;
        if (p >= t.partitions || taken.has(key) || counts.get(m.memberId)! >= quota.get(m.memberId)!) continue;
        taken.add(key);
        add(result.get(m.memberId)!, topicId, p);
        counts.set(m.memberId, counts.get(m.memberId)! + 1);
      }
    }
  }
  // The rest, each to the eligible member with the fewest partitions.
  const names = [...subscribers.keys()].sort();
  for (const name of names) {
    const t = topics.get(name)!;
    const ids = subscribers.get(name)!;
    for (let p = 0; p < t.partitions; p++) {
      if (taken.has(`${t.id}:${p}`)) continue;
      let best = ids[0]!;
      for (const id of ids) if (counts.get(id)! < counts.get(best)!) best = id;
      add(result.get(best)!, t.id, p);
      counts.set(best, counts.get(best)! + 1);
    }
  }
  for (const a of result.values()) sortAssignment(a);
  return result;
}

export function rangeAssignor(
  members: readonly AssignorMember[],
  topics: ReadonlyMap<string, AssignorTopic>,
): Map<string, Assignment> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const result = new Map<string, Assignment>(sorted.map((m) => [m.memberId, new Map()]));
  for (const [name, t] of [...topics].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const subs = sorted.filter((m) => m.subscribedTopicNames.includes(name));
    if (subs.length === 0) continue;
    const per = Math.floor(t.partitions / subs.length);
    const extra = t.partitions % subs.length;
    let next = 0;
    subs.forEach((m, i) => {
      const n = per + (i < extra ? 1 : 0);
      for (let k = 0; k < n; k++) add(result.get(m.memberId)!, t.id, next++);
    });
  }
  return result;
}
