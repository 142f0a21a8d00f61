import { EARLIEST, LATEST, type KafkaAdmin } from "./kafka-admin.js";
import { table } from "./table.js";

/** `tskafka groups list|describe|reset-offsets`. */
export interface GroupsArgs {
  action: string;
  group?: string | undefined;
  topic?: string | undefined;
  toEarliest: boolean;
  toLatest: boolean;
  toOffset?: number | undefined;
  execute: boolean;
}

export async function runGroups(admin: KafkaAdmin, a: GroupsArgs, out: (s: string) => void): Promise<void> {
  if (a.action === "list") {
    const groups = await admin.groups();
    return out(
      table(
        ["GROUP", "TYPE", "STATE", "PROTOCOL TYPE"],
        groups.map((g) => [g.groupId, g.type, g.state, g.protocolType]),
      ),
    );
  }
  const group = a.group;
  if (group === undefined || group === "") throw new Error(`groups ${a.action} needs a group id`);
  if (a.action === "describe") return out(await describeGroup(admin, group));
  if (a.action === "reset-offsets") return out(await resetOffsets(admin, group, a));
  throw new Error(`unknown groups action ${a.action} (list, describe, reset-offsets)`);
}

async function describeGroup(admin: KafkaAdmin, group: string): Promise<string> {
  const g = await admin.describeGroup(group);
  const lag = await admin.lag(
    group,
    g.members.flatMap((m) => m.assignment),
  );
  const owner = (topic: string, partition: number): string =>
    g.members.find((m) => m.assignment.some((x) => x.topic === topic && x.partitions.includes(partition)))?.memberId ??
    "-";
  let s = `Group ${g.groupId}  type ${g.type}  state ${g.state}  protocol ${g.protocol || "-"}  members ${g.members.length}\n\n`;
  s += table(
    ["TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "MEMBER"],
    lag.map((l) => [l.topic, l.partition, l.committed, l.end, l.lag, owner(l.topic, l.partition)]),
  );
  if (g.members.length > 0)
    s += `\n${table(
      ["MEMBER", "CLIENT", "HOST", "ASSIGNMENT"],
      g.members.map((m) => [
        m.memberId,
        m.clientId,
        m.clientHost,
        m.assignment.map((x) => `${x.topic}:${x.partitions.join(",")}`).join(" "),
      ]),
    )}`;
  return s;
}

/** Kafka's tool shape: a dry run that prints the plan, applied with --execute. */
async function resetOffsets(admin: KafkaAdmin, group: string, a: GroupsArgs): Promise<string> {
  if (a.topic === undefined) throw new Error("groups reset-offsets needs --topic");
  const targets = [a.toEarliest, a.toLatest, a.toOffset !== undefined].filter(Boolean).length;
  if (targets !== 1) throw new Error("groups reset-offsets needs one of --to-earliest, --to-latest, --to-offset N");
  const plan = await planReset(admin, a.topic, a.toEarliest ? "earliest" : a.toLatest ? "latest" : BigInt(a.toOffset!));
  if (a.execute) await admin.commit(group, a.topic, plan);
  const s = table(
    ["TOPIC", "PARTITION", "NEW OFFSET"],
    [...plan].map(([p, o]) => [a.topic, p, o]),
  );
  return a.execute ? s : `${s}(dry run: add --execute to apply)\n`;
}

/** The offsets a reset sets, per partition; a fixed offset is clamped into [earliest, latest]. */
export async function planReset(
  admin: KafkaAdmin,
  topic: string,
  to: "earliest" | "latest" | bigint,
): Promise<Map<number, bigint>> {
  const parts = (await admin.topic(topic)).partitions.map((p) => p.partition);
  const [low, high] = await Promise.all([admin.offsets(topic, parts, EARLIEST), admin.offsets(topic, parts, LATEST)]);
  const plan = new Map<number, bigint>();
  for (const p of parts) {
    const lo = low.get(p)!;
    const hi = high.get(p)!;
    plan.set(p, to === "earliest" ? lo : to === "latest" ? hi : to < lo ? lo : to > hi ? hi : to);
  }
  return plan;
}
