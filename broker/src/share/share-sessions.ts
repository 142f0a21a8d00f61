/**
 * Share sessions (KIP-932), the share-group form of fetch sessions: one per group member on this broker,
 * keyed by group and member id. ShareSessionEpoch 0 opens one (replacing the member's previous one),
 * each later request carries the next epoch and adds or forgets partitions, -1 closes it. The session
 * holds the partitions the member fetches from; `group.share.max.share.sessions` bounds how many are open.
 */

/** A partition of a session: the topic id and the partition index. */
export interface SessionPartition {
  readonly topicId: string;
  readonly partition: number;
}

export class ShareSession {
  epoch = 1;
  readonly partitions = new Map<string, SessionPartition>();

  constructor(
    readonly groupId: string,
    readonly memberId: string,
  ) {}

  add(topicId: string, partition: number): void {
    this.partitions.set(`${topicId}:${partition}`, { topicId, partition });
  }

  forget(topicId: string, partition: number): void {
    this.partitions.delete(`${topicId}:${partition}`);
  }

  /** Moves to the epoch the next request must carry (wrapping past the int32 maximum to 1). */
  advance(): void {
    this.epoch = this.epoch === 2147483647 ? 1 : this.epoch + 1;
  }
}

export const INITIAL_SHARE_EPOCH = 0;
export const FINAL_SHARE_EPOCH = -1;

export class ShareSessions {
  private readonly sessions = new Map<string, ShareSession>();

  get size(): number {
    return this.sessions.size;
  }

  get(groupId: string, memberId: string): ShareSession | undefined {
    return this.sessions.get(`${groupId}\u0000${memberId}`);
  }

  /** A new session of the member, replacing the one it had. */
  open(groupId: string, memberId: string): ShareSession {
    const s = new ShareSession(groupId, memberId);
    this.sessions.set(`${groupId}\u0000${memberId}`, s);
    return s;
  }

  close(groupId: string, memberId: string): ShareSession | undefined {
    const key = `${groupId}\u0000${memberId}`;
    const s = this.sessions.get(key);
    this.sessions.delete(key);
    return s;
  }
}
