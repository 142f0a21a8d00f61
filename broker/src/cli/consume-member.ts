import { KafkaAdmin, KafkaError } from "./kafka-admin.js";
import { RETRIABLE_COORDINATOR } from "./kafka-client.js";

/**
 * What `tskafka consume --group` asks of its membership, whichever protocol: the partitions of the topic
 * it owns now, commits of its positions, and leaving at the end.
 */
export interface GroupMembership {
  /**
   * Heartbeats when due and follows the group's rebalances; before giving partitions up it commits
   * their `positions`. Answers the partitions owned now, sorted.
   */
  poll(positions: ReadonlyMap<number, bigint>): Promise<number[]>;
  commit(positions: ReadonlyMap<number, bigint>): Promise<void>;
  leave(): Promise<void>;
}

/** The positions of `partitions` only. */
export function only(positions: ReadonlyMap<number, bigint>, partitions: readonly number[]): Map<number, bigint> {
  return new Map([...positions].filter(([p]) => partitions.includes(p)));
}

/**
 * A KIP-848 consumer member: the broker assigns; each heartbeat says what the member owns, so a
 * partition taken away (after its offsets are committed) is acknowledged and can go to another member.
 */
export class ConsumerMembership implements GroupMembership {
  private readonly memberId = KafkaAdmin.memberId();
  private epoch = 0;
  private nextBeat = 0;
  private assigned: number[] = [];

  constructor(
    private readonly admin: KafkaAdmin,
    private readonly group: string,
    private readonly topic: string,
    private readonly topicId: string,
  ) {}

  async poll(positions: ReadonlyMap<number, bigint>): Promise<number[]> {
    if (Date.now() < this.nextBeat) return this.assigned;
    const joining = this.epoch === 0;
    const owned = joining ? null : new Map([[this.topicId, this.assigned]]);
    let r: Awaited<ReturnType<KafkaAdmin["heartbeat"]>>;
    try {
      r = await this.admin.heartbeat(this.group, this.memberId, this.epoch, joining ? [this.topic] : null, owned);
    } catch (e) {
      // The coordinator moves or still loads the group: Kafka's consumers try again, and so do we.
      if (!(e instanceof KafkaError && RETRIABLE_COORDINATOR.has(e.code))) throw e;
      this.nextBeat = Date.now() + 200;
      return this.assigned;
    }
    this.epoch = r.epoch;
    this.nextBeat = Date.now() + Math.min(r.intervalMs, 1000);
    if (r.assignment === null) return this.assigned;
    const next = [...(r.assignment.get(this.topicId) ?? [])].sort((a, b) => a - b);
    const revoked = this.assigned.filter((p) => !next.includes(p));
    if (revoked.length > 0) {
      await this.commitOf(positions, revoked);
      this.nextBeat = 0; // acknowledge the revocation now
    }
    this.assigned = next;
    return this.assigned;
  }

  commit(positions: ReadonlyMap<number, bigint>): Promise<void> {
    return this.commitOf(positions, this.assigned);
  }

  async leave(): Promise<void> {
    await this.admin.heartbeat(this.group, this.memberId, -1, null).catch(() => undefined);
  }

  private async commitOf(positions: ReadonlyMap<number, bigint>, partitions: readonly number[]): Promise<void> {
    const mine = only(positions, partitions);
    if (mine.size > 0) await this.admin.commit(this.group, this.topic, mine, { id: this.memberId, epoch: this.epoch });
  }
}
