import { ClassicMembership } from "./consume-classic.js";
import { ConsumerMembership, type GroupMembership } from "./consume-member.js";
import { EARLIEST, LATEST, type FetchedRecord, type KafkaAdmin } from "./kafka-admin.js";
import { jsonValue, showBytes, type RecordFormat } from "./record-format.js";

/** `tskafka consume TOPIC`: prints records as they arrive, alone or as a member of a consumer group. */
export interface ConsumeArgs {
  topic: string;
  fromBeginning: boolean;
  group?: string | undefined;
  /** classic: JoinGroup/SyncGroup with the range assignor; consumer: KIP-848 heartbeats (the broker assigns). */
  groupProtocol: "classic" | "consumer";
  maxMessages?: number | undefined;
  partition?: number | undefined;
  format: RecordFormat;
  printKey: boolean;
  /** Stop after this long without a record (undefined: never). */
  timeoutMs?: number | undefined;
}

export async function runConsume(
  admin: KafkaAdmin,
  a: ConsumeArgs,
  out: (s: string) => void,
  signal?: AbortSignal,
): Promise<number> {
  const info = await admin.topic(a.topic);
  const all = info.partitions.map((p) => p.partition);
  const member: GroupMembership | undefined =
    a.group === undefined
      ? undefined
      : a.groupProtocol === "classic"
        ? new ClassicMembership(admin, a.group, a.topic)
        : new ConsumerMembership(admin, a.group, a.topic, info.topicId);
  const positions = new Map<number, bigint>();
  /** Positions of newly owned partitions: the group's committed offset (read now: another member may have moved it), else the reset. */
  const start = async (parts: number[]): Promise<void> => {
    for (const p of [...positions.keys()]) if (!parts.includes(p)) positions.delete(p);
    const fresh = parts.filter((p) => !positions.has(p));
    if (fresh.length === 0) return;
    const committed =
      a.group === undefined ? new Map<number, bigint>() : ((await admin.committed(a.group)).get(a.topic) ?? new Map());
    const reset = await admin.offsets(a.topic, fresh, a.fromBeginning ? EARLIEST : LATEST);
    for (const p of fresh) positions.set(p, committed.get(p) ?? reset.get(p)!);
  };
  let count = 0;
  let lastRecord = Date.now();
  try {
    while (signal?.aborted !== true) {
      const parts =
        member !== undefined ? await member.poll(positions) : a.partition !== undefined ? [a.partition] : all;
      await start(parts);
      let got = 0;
      for (const p of parts) {
        const { records } = await admin.fetch(a.topic, p, positions.get(p)!);
        for (const r of records) {
          out(render(a.topic, r, a));
          positions.set(p, r.offset + 1n);
          got++;
          if (a.maxMessages !== undefined && ++count >= a.maxMessages) return count;
        }
      }
      if (got > 0) {
        lastRecord = Date.now();
        await member?.commit(positions);
      } else {
        if (a.timeoutMs !== undefined && Date.now() - lastRecord > a.timeoutMs) return count;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return count;
  } finally {
    if (member !== undefined) {
      await member.commit(positions).catch(() => undefined);
      await member.leave();
    }
  }
}

function render(topic: string, r: FetchedRecord, a: ConsumeArgs): string {
  if (a.format === "json")
    return (
      JSON.stringify({
        topic,
        partition: r.partition,
        offset: Number(r.offset),
        timestamp: Number(r.timestamp),
        key: r.key === null ? null : r.key.toString("utf8"),
        headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString("utf8")])),
        value: jsonValue(r.value),
      }) + "\n"
    );
  const value = a.format === "hex" ? showBytes(r.value, "hex") : showBytes(r.value, "text");
  if (!a.printKey) return `${value}\n`;
  return `${showBytes(r.key, a.format === "hex" ? "hex" : "text")}\t${value}\n`;
}
