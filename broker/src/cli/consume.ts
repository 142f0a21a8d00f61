import { EARLIEST, KafkaAdmin, LATEST, type FetchedRecord } from "./kafka-admin.js";
import { jsonValue, showBytes, type RecordFormat } from "./record-format.js";

/** `tskafka consume TOPIC`: prints records as they arrive, alone or as a member of a consumer group. */
export interface ConsumeArgs {
  topic: string;
  fromBeginning: boolean;
  group?: string | undefined;
  maxMessages?: number | undefined;
  partition?: number | undefined;
  format: RecordFormat;
  printKey: boolean;
  /** Stop after this long without a record (undefined: never). */
  timeoutMs?: number | undefined;
}

/** The KIP-848 membership of `tskafka consume --group`: the broker assigns, we heartbeat and commit. */
class Membership {
  readonly memberId = KafkaAdmin.memberId();
  epoch = 0;
  private nextBeat = 0;
  assigned: number[] = [];

  constructor(
    private readonly admin: KafkaAdmin,
    private readonly group: string,
    private readonly topic: string,
    private readonly topicId: string,
  ) {}

  /** Heartbeats when due; answers the partitions assigned now. */
  async beat(): Promise<number[]> {
    if (Date.now() < this.nextBeat) return this.assigned;
    const r = await this.admin.heartbeat(this.group, this.memberId, this.epoch, this.epoch === 0 ? [this.topic] : null);
    this.epoch = r.epoch;
    this.nextBeat = Date.now() + Math.min(r.intervalMs, 1000);
    if (r.assignment !== null) this.assigned = [...(r.assignment.get(this.topicId) ?? [])].sort((a, b) => a - b);
    return this.assigned;
  }

  async commit(positions: ReadonlyMap<number, bigint>): Promise<void> {
    const mine = new Map([...positions].filter(([p]) => this.assigned.includes(p)));
    if (mine.size > 0) await this.admin.commit(this.group, this.topic, mine, { id: this.memberId, epoch: this.epoch });
  }

  async leave(): Promise<void> {
    await this.admin.heartbeat(this.group, this.memberId, -1, null).catch(() => undefined);
  }
}

export async function runConsume(admin: KafkaAdmin, a: ConsumeArgs, out: (s: string) => void): Promise<number> {
  const info = await admin.topic(a.topic);
  const all = info.partitions.map((p) => p.partition);
  const member = a.group === undefined ? undefined : new Membership(admin, a.group, a.topic, info.topicId);
  const committed =
    a.group === undefined ? new Map<number, bigint>() : ((await admin.committed(a.group)).get(a.topic) ?? new Map());
  const positions = new Map<number, bigint>();
  const start = async (parts: number[]): Promise<void> => {
    const fresh = parts.filter((p) => !positions.has(p));
    if (fresh.length === 0) return;
    const reset = await admin.offsets(a.topic, fresh, a.fromBeginning ? EARLIEST : LATEST);
    for (const p of fresh) positions.set(p, committed.get(p) ?? reset.get(p)!);
  };
  let count = 0;
  let lastRecord = Date.now();
  try {
    for (;;) {
      const parts = member !== undefined ? await member.beat() : a.partition !== undefined ? [a.partition] : all;
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
