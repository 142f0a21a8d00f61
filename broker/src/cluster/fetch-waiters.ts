/**
 * Wakes long-polling fetches when data arrives: a fetch waits on the partitions it reads, an append
 * notifies its partition. Waiters are plain callbacks held in per-partition sets.
 */
export class FetchWaiters {
  private readonly byPartition = new Map<string, Set<() => void>>();

  static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  notify(topic: string, partition: number): void {
    const set = this.byPartition.get(FetchWaiters.key(topic, partition));
    if (set === undefined) return;
    for (const wake of [...set]) wake();
  }

  wakeAll(): void {
    for (const set of this.byPartition.values()) for (const wake of [...set]) wake();
  }

  /** Resolves on the first append to any of `keys`, after `timeoutMs`, or when `cancel` settles. */
  wait(keys: readonly string[], timeoutMs: number, cancel: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const k of keys) {
          const set = this.byPartition.get(k);
          if (set === undefined) continue;
          set.delete(finish);
          if (set.size === 0) this.byPartition.delete(k);
        }
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, timeoutMs));
      for (const k of keys) {
        let set = this.byPartition.get(k);
        if (set === undefined) this.byPartition.set(k, (set = new Set()));
        set.add(finish);
      }
      void cancel.then(finish);
    });
  }
}
