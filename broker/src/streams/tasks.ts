/**
 * Tasks of a streams group: a task is a subtopology and a partition; a member holds active, standby and
 * warm-up tasks. Sets of tasks are kept as subtopology id -> sorted partitions, as the protocol carries them.
 */

export type TaskMap = Map<string, number[]>;

export interface Tasks {
  active: TaskMap;
  standby: TaskMap;
  warmup: TaskMap;
}

export const KINDS = ["active", "standby", "warmup"] as const;

export const noTasks = (): Tasks => ({ active: new Map(), standby: new Map(), warmup: new Map() });

export function taskKey(subtopologyId: string, partition: number): string {
  return `${subtopologyId}\u0000${partition}`;
}

export function* eachTask(m: TaskMap): Generator<[string, number]> {
  for (const [s, parts] of m) for (const p of parts) yield [s, p];
}

export function taskMapOf(list: Iterable<[string, number]>): TaskMap {
  const out: TaskMap = new Map();
  for (const [s, p] of list) {
    const parts = out.get(s);
    if (parts === undefined) out.set(s, [p]);
    else if (!parts.includes(p)) parts.push(p);
  }
  for (const parts of out.values()) parts.sort((a, b) => a - b);
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

export function fromWire(list: readonly { subtopologyId: string; partitions: readonly number[] }[]): TaskMap {
  const pairs: [string, number][] = [];
  for (const t of list) for (const p of t.partitions) pairs.push([t.subtopologyId, p]);
  return taskMapOf(pairs);
}

export const toWire = (m: TaskMap): { subtopologyId: string; partitions: number[] }[] =>
  [...m].map(([subtopologyId, partitions]) => ({ subtopologyId, partitions: [...partitions] }));

export function has(m: TaskMap, s: string, p: number): boolean {
  return m.get(s)?.includes(p) ?? false;
}

export function minus(a: TaskMap, b: TaskMap): TaskMap {
  return taskMapOf([...eachTask(a)].filter(([s, p]) => !has(b, s, p)));
}

export function intersect(a: TaskMap, b: TaskMap): TaskMap {
  return taskMapOf([...eachTask(a)].filter(([s, p]) => has(b, s, p)));
}

export function size(m: TaskMap): number {
  let n = 0;
  for (const parts of m.values()) n += parts.length;
  return n;
}

export function sameMap(a: TaskMap, b: TaskMap): boolean {
  return size(a) === size(b) && size(minus(a, b)) === 0;
}

export function sameTasks(a: Tasks, b: Tasks): boolean {
  return KINDS.every((k) => sameMap(a[k], b[k]));
}

export function isEmpty(t: Tasks): boolean {
  return KINDS.every((k) => t[k].size === 0);
}

/** Whether every task of `a` is in `b` (each kind). */
export function subsetOf(a: Tasks, b: Tasks): boolean {
  return KINDS.every((k) => size(minus(a[k], b[k])) === 0);
}
