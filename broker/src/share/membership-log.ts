import { replayPartition } from "../log/replay.js";
import { OFFSETS_TOPIC, OffsetsTopic, type OffsetsTopicHost } from "../group/offsets-topic.js";
import { decodeMembership, type DecodedMembership, type MembershipRecord } from "./membership-records.js";

const LOAD_READ_BYTES = 1024 * 1024;

/**
 * Share group membership in `__consumer_offsets`, on the partition that owns the group id (as the group
 * coordinator's records are): writes one after another, and the replay at start-up. The group
 * coordinator's own loading skips these record types.
 */
export class MembershipLog {
  private readonly topic: OffsetsTopic;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly host: OffsetsTopicHost) {
    this.topic = new OffsetsTopic(host);
  }

  /** Appends a group's records after those queued before; resolves to an error code. */
  write(groupId: string, records: readonly MembershipRecord[]): Promise<number> {
    if (records.length === 0) return Promise.resolve(0);
    const run = (): Promise<number> => this.topic.append(groupId, records);
    const next = this.queue.then(run, run);
    this.queue = next;
    return next;
  }

  async flush(): Promise<void> {
    await this.queue.catch(() => undefined);
  }

  /** The `__consumer_offsets` partition of a group's records. */
  partitionFor(groupId: string): number {
    return this.topic.partitionFor(groupId);
  }

  /** Every share group record of the partitions given, in log order per partition. */
  async load(partitions: ReadonlySet<number>, visit: (r: DecodedMembership) => void): Promise<void> {
    const info = this.host.metadata.topic(OFFSETS_TOPIC);
    if (info === undefined) return;
    for (let p = 0; p < info.partitions; p++) {
      if (!partitions.has(p)) continue;
      const log = this.host.logs.get(OFFSETS_TOPIC, p);
      if (log === undefined) continue;
      await replayPartition(log, LOAD_READ_BYTES, (batch) => {
        for (const r of batch.records) {
          if (r.key === null) continue;
          const decoded = decodeMembership(r.key, r.value);
          if (decoded !== undefined) visit(decoded);
        }
      });
    }
  }
}
