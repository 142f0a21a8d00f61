import { eachTask, has, taskMapOf, type Tasks } from "./tasks.js";

/**
 * The streams groups' task assignment, with the semantics of Kafka's sticky task assignor: every task
 * is active on exactly one member, balanced (no member has more than ceil(tasks / members) active
 * tasks), and an active task stays with the member that had it when that member still has room, else
 * goes preferably to a member that had it as standby (its state is there); the rest go to the least
 * loaded process (a Streams instance, which may run several members), to its least loaded member.
 * Tasks of stateful subtopologies then get `numStandbys` standby tasks each, on processes other than the
 * active one's and each other's, preferring previous holders, as long as there are processes for them.
 * Members and tasks are taken in a fixed order, so the result depends only on the inputs.
 */

export interface AssignorMember {
  readonly memberId: string;
  readonly processId: string;
  /** What the member has now (its current assignment), for stickiness. */
  readonly previous: Tasks;
}

export interface AssignorInput {
  readonly members: readonly AssignorMember[];
  /** Task count per subtopology. */
  readonly tasks: ReadonlyMap<string, number>;
  /** Subtopologies with state: their tasks get standbys. */
  readonly stateful: ReadonlySet<string>;
  readonly numStandbys: number;
}

type Task = [string, number];

interface Load {
  memberId: string;
  processId: string;
  active: Task[];
  standby: Task[];
}

export function assignTasks(input: AssignorInput): Map<string, Tasks> {
  const members = [...input.members].sort((a, b) => a.memberId.localeCompare(b.memberId));
  const out = new Map<string, Tasks>();
  if (members.length === 0) return out;
  const loads = new Map<string, Load>(
    members.map((m) => [m.memberId, { memberId: m.memberId, processId: m.processId, active: [], standby: [] }]),
  );
  const tasks: Task[] = [];
  for (const [s, n] of [...input.tasks].sort(([a], [b]) => a.localeCompare(b)))
    for (let p = 0; p < n; p++) tasks.push([s, p]);
  const quota = Math.ceil(tasks.length / members.length);
  const processLoad = (processId: string) => {
    let n = 0;
    let size = 0;
    for (const l of loads.values())
      if (l.processId === processId) {
        n += l.active.length + l.standby.length;
        size++;
      }
    return n / size;
  };
  const leastLoaded = (candidates: Load[]): Load | undefined =>
    candidates.sort(
      (a, b) =>
        processLoad(a.processId) - processLoad(b.processId) ||
        a.active.length + a.standby.length - (b.active.length + b.standby.length) ||
        a.memberId.localeCompare(b.memberId),
    )[0];

  // Active tasks: to a previous owner with room, else a previous standby holder with room, else least loaded.
  const unassigned: Task[] = [];
  for (const task of tasks) {
    const [s, p] = task;
    const owners = members.filter((m) => has(m.previous.active, s, p)).map((m) => loads.get(m.memberId)!);
    const standbys = members.filter((m) => has(m.previous.standby, s, p) || has(m.previous.warmup, s, p));
    const pick =
      leastLoaded(owners.filter((l) => l.active.length < quota)) ??
      leastLoaded(standbys.map((m) => loads.get(m.memberId)!).filter((l) => l.active.length < quota));
    if (pick !== undefined) pick.active.push(task);
    else unassigned.push(task);
  }
  for (const task of unassigned) {
    const pick =
      leastLoaded([...loads.values()].filter((l) => l.active.length < quota)) ?? leastLoaded([...loads.values()]);
    pick!.active.push(task);
  }

  // Standby tasks of stateful subtopologies, each replica on a process that has the task in no other form.
  if (input.numStandbys > 0) {
    for (const task of tasks) {
      const [s, p] = task;
      if (!input.stateful.has(s)) continue;
      for (let r = 0; r < input.numStandbys; r++) {
        const taken = new Set(
          [...loads.values()]
            .filter(
              (l) =>
                l.active.some(([ts, tp]) => ts === s && tp === p) || l.standby.some(([ts, tp]) => ts === s && tp === p),
            )
            .map((l) => l.processId),
        );
        const free = [...loads.values()].filter((l) => !taken.has(l.processId));
        if (free.length === 0) break;
        const previous = free.filter((l) => {
          const m = members.find((x) => x.memberId === l.memberId)!;
          return has(m.previous.standby, s, p) || has(m.previous.active, s, p);
        });
        (leastLoaded(previous) ?? leastLoaded(free))!.standby.push(task);
      }
    }
  }

  for (const l of loads.values())
    out.set(l.memberId, { active: taskMapOf(l.active), standby: taskMapOf(l.standby), warmup: new Map() });
  return out;
}

/** Every task of a member's assignment, for checks. */
export function activeTaskList(t: Tasks): string[] {
  return [...eachTask(t.active)].map(([s, p]) => `${s}_${p}`);
}
