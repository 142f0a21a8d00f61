import { EARLIEST, LATEST, ResourceType, type KafkaAdmin } from "./kafka-admin.js";
import { formatBytes, table } from "./table.js";

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
  const [{ topics }, sizes] = await Promise.all([admin.cluster(), admin.sizes()]);
  const rows = topics
    .filter((t) => internal || !t.internal)
    .map((t) => {
      const size = t.partitions.reduce((s, p) => s + (sizes.get(`${t.name}/${p.partition}`) ?? 0n), 0n);
      return [t.name, t.partitions.length, t.partitions[0]?.replicas.length ?? 0, formatBytes(size), t.topicId];
    });
  return table(["TOPIC", "PARTITIONS", "REPLICAS", "SIZE", "TOPIC ID"], rows);
}

async function describeTopic(admin: KafkaAdmin, name: string): Promise<string> {
  const t = await admin.topic(name);
  const parts = t.partitions.map((p) => p.partition);
  const [earliest, latest, sizes, configs] = await Promise.all([
    admin.offsets(name, parts, EARLIEST),
    admin.offsets(name, parts, LATEST),
    admin.sizes(),
    admin.configs(ResourceType.topic, name),
  ]);
  let s = `Topic ${t.name}  id ${t.topicId}  partitions ${t.partitions.length}\n\n`;
  s += table(
    ["PARTITION", "LEADER", "REPLICAS", "ISR", "EARLIEST", "LATEST", "SIZE"],
    t.partitions.map((p) => [
      p.partition,
      p.leader,
      p.replicas.join(","),
      p.isr.join(","),
      earliest.get(p.partition),
      latest.get(p.partition),
      formatBytes(sizes.get(`${name}/${p.partition}`) ?? 0n),
    ]),
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
