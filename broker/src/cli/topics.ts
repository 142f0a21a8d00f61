import type { KafkaAdmin } from "./kafka-admin.js";
import { formatBytes, table } from "./table.js";
import { PARTITION_HEADER, topicDetails, topicSummaries } from "./topic-rows.js";

/** `tskafka topics list|create|describe|delete`. */
export interface TopicsArgs {
  action: string;
  name?: string | undefined;
  partitions: number;
  replicationFactor: number;
  config: string[];
  internal: boolean;
}

export async function runTopics(admin: KafkaAdmin, a: TopicsArgs, out: (s: string) => void): Promise<void> {
  if (a.action === "list") return out(await listTopics(admin, a.internal));
  const name = a.name;
  if (name === undefined || name === "") throw new Error(`topics ${a.action} needs a topic name`);
  if (a.action === "create") {
    await admin.createTopic(name, a.partitions, a.replicationFactor, parseAssignments(a.config, "--config"));
    return out(`created topic ${name} (${a.partitions} partitions)\n`);
  }
  if (a.action === "delete") {
    await admin.deleteTopic(name);
    return out(`deleted topic ${name}\n`);
  }
  if (a.action === "describe") return out(await describeTopic(admin, name));
  throw new Error(`unknown topics action ${a.action} (list, create, describe, delete)`);
}

async function listTopics(admin: KafkaAdmin, internal: boolean): Promise<string> {
  const rows = (await topicSummaries(admin, internal)).map((t) => [
    t.name,
    t.partitionIds.length,
    t.replicas,
    formatBytes(t.size),
    t.topicId,
  ]);
  return table(["TOPIC", "PARTITIONS", "REPLICAS", "SIZE", "TOPIC ID"], rows);
}

async function describeTopic(admin: KafkaAdmin, name: string): Promise<string> {
  const { topic: t, partitions, configs } = await topicDetails(admin, name);
  let s = `Topic ${t.name}  id ${t.topicId}  partitions ${t.partitions.length}\n\n`;
  s += table(
    PARTITION_HEADER.map((h) => h.toUpperCase()),
    partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr, p.earliest, p.latest, formatBytes(p.size)]),
  );
  // Source 5 is DEFAULT_CONFIG: show only what was set on the topic or the broker.
  const set = configs.filter((c) => c.source !== 5);
  if (set.length > 0)
    s += `\n${table(
      ["CONFIG", "VALUE"],
      set.map((c) => [c.name, c.sensitive ? "(sensitive)" : c.value]),
    )}`;
  return s;
}

/** `k=v` flags into an object; the flag name is for the message. */
export function parseAssignments(items: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf("=");
    if (i <= 0) throw new Error(`${flag} ${item}: expected KEY=VALUE`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}
