/**
 * Numbered keyed records on one partition, for the topics the log cleaner and retention work on: a
 * compacted topic (the newest acknowledged value of every key must survive compaction and kill -9) and a
 * topic kept small by retention.bytes (what is left must be a whole suffix of what was acknowledged).
 */
import type { Producer } from "kafkajs";
import { between, kafka, run, sleep, violation, type Read } from "./common.ts";

export class NumberedTopic {
  /** seq -> key, of the acknowledged and of the uncertain sends. */
  private readonly acked = new Map<number, string>();
  private readonly uncertain = new Map<number, string>();
  private readonly newestAcked = new Map<string, number>();
  private lastAcked = -1;

  constructor(
    readonly topic: string,
    private readonly keys: number,
    /** Bytes of padding per record, so segments roll. */
    private readonly padding: number,
  ) {}

  get sent(): number {
    return this.acked.size + this.uncertain.size;
  }

  async produce(): Promise<void> {
    let seq = 0;
    let producer: Producer | undefined;
    while (!run.stopping) {
      try {
        if (producer === undefined) {
          producer = kafka(`soak-${this.topic}`).producer({ idempotent: true, maxInFlightRequests: 1 });
          await producer.connect();
        }
        const batch = Array.from({ length: between(1, 10) }, () => ({
          seq: seq++,
          key: `k${between(0, this.keys - 1)}`,
        }));
        for (const r of batch) this.uncertain.set(r.seq, r.key);
        await producer.send({
          topic: this.topic,
          acks: -1,
          messages: batch.map((r) => ({ partition: 0, key: r.key, value: `${r.seq}-${"p".repeat(this.padding)}` })),
        });
        for (const r of batch) {
          this.uncertain.delete(r.seq);
          this.acked.set(r.seq, r.key);
          this.newestAcked.set(r.key, r.seq);
          this.lastAcked = r.seq;
        }
      } catch {
        await producer?.disconnect().catch(() => {});
        producer = undefined;
        await sleep(500);
      }
      await sleep(between(10, 50));
    }
    await producer?.disconnect().catch(() => {});
  }

  /** Each record read was sent with that key, in send order: answers the sequence numbers read. */
  private checkRead(records: readonly Read[]): number[] {
    const seqs: number[] = [];
    let prev = -1;
    for (const r of records) {
      const seq = Number(/^(\d+)-p*$/.exec(r.value)?.[1] ?? NaN);
      const key = this.acked.get(seq) ?? this.uncertain.get(seq);
      if (key === undefined) violation(`${this.topic}@${r.offset}: a record nobody sent (${r.value.slice(0, 20)})`);
      else if (key !== r.key) violation(`${this.topic}@${r.offset}: record ${seq} under key ${r.key}, sent as ${key}`);
      if (seq <= prev) violation(`${this.topic}@${r.offset}: record ${seq} after ${prev}`);
      prev = seq;
      seqs.push(seq);
    }
    return seqs;
  }

  /** Compaction: the newest acknowledged value of every key is there, or a newer one sent after it. */
  checkCompacted(records: readonly Read[]): string {
    this.checkRead(records);
    const newestRead = new Map<string, number>();
    for (const r of records) newestRead.set(r.key, Number(/^(\d+)-/.exec(r.value)?.[1] ?? -1));
    for (const [key, seq] of this.newestAcked) {
      const got = newestRead.get(key);
      if (got === undefined || got < seq)
        violation(`${this.topic}: key ${key}'s newest acknowledged record ${seq} is gone (newest left: ${got})`);
    }
    return `${this.topic}: ${records.length} of ${this.sent} records left after compaction`;
  }

  /** Retention: what is left is every acknowledged record from the first one left to the last acknowledged. */
  checkSuffix(records: readonly Read[]): string {
    const seqs = new Set(this.checkRead(records));
    const first = Math.min(...seqs);
    let missing = 0;
    for (const seq of this.acked.keys()) if (seq >= first && !seqs.has(seq)) missing++;
    if (missing > 0) violation(`${this.topic}: ${missing} acknowledged records after the first one kept are gone`);
    if (this.lastAcked >= 0 && !seqs.has(this.lastAcked))
      violation(`${this.topic}: the last acknowledged record ${this.lastAcked} is gone`);
    const start = records[0]?.offset ?? 0;
    return `${this.topic}: log starts at offset ${start} after retention, ${records.length} of ${this.sent} records left`;
  }
}
